/** Test helper: a signed-in device with chat, on a `FakePeerHub`, and a way to wait for quiet. */
import { ChatState } from '../chat.svelte.js';
import type { ChatStore } from '../chat-store.js';
import { MemoryChatStore } from '../memory-chat-store.js';
import type { FakePeerHub, FakePeerNetwork } from './fake-peer-network.js';

export interface ChatDevice {
  net: FakePeerNetwork;
  chat: ChatState;
  store: ChatStore;
  /** The page reloads: a new chat on the same store and connection id (links must be reopened). */
  reload(): ChatDevice;
}

let ids = 0;

/** Ids that read well in failures and sort in creation order, as v4 UUIDs. */
export function testId(): string {
  ids += 1;
  return `00000000-0000-4000-8000-${ids.toString().padStart(12, '0')}`;
}

export function chatDevice(
  hub: FakePeerHub,
  userId: string,
  options: { store?: ChatStore; net?: FakePeerNetwork; now?: () => number } = {},
): ChatDevice {
  const net = options.net ?? hub.device(userId);
  const store = options.store ?? new MemoryChatStore();
  const chat = new ChatState({ peers: net, store, ackDelayMs: 0, newId: testId, now: options.now });
  return {
    net,
    chat,
    store,
    reload() {
      hub.leave(net);
      chat.dispose();
      net.online = true;
      return chatDevice(hub, userId, { ...options, store, net: freshNetwork(hub, net) });
    },
  };
}

/** A reloaded page's peer network: same user and connection id, no links, no listeners. */
function freshNetwork(hub: FakePeerHub, old: FakePeerNetwork): FakePeerNetwork {
  hub.devices.splice(hub.devices.indexOf(old), 1);
  return hub.device(old.userId, old.connectionId);
}

/** Lets frames cross links and stores settle, until nothing is left moving. */
export async function settle(...chats: ChatState[]): Promise<void> {
  for (let round = 0; round < 12; round += 1) {
    await Promise.all(chats.map((chat) => chat.idle()));
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}
