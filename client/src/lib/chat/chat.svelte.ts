/**
 * Direct chat with friends, one per sign-in: messages go over the peer network (never the server),
 * are stored on this device before they are shown or acknowledged, and wait in an outbox until a
 * device of the friend acknowledges them.
 *
 * Delivery: each message has an id, this device's sequence number in the conversation and a
 * timestamp. The receiver stores it (dropping ids it already has), then acks. The sender resends
 * every unacknowledged message whenever a link to the friend opens, so a message survives reloads,
 * offline friends and broken links, and arrives exactly once.
 */
import type { PeerMessage } from '../../../../shared/peer-protocol.js';
import type { Gateway } from '../gateway.js';
import type { PeerNetwork, PeerNetworkEvents, PeerPath } from '../peer/peer-network.js';
import { AckBatcher } from './ack-batcher.js';
import {
  fileRecordId,
  type ChatStore,
  type MessageDirection,
  type StoredFile,
  type StoredMessage,
} from './chat-store.js';
import { prepareText } from './chat-text.js';
import { ConversationState } from './conversation.svelte.js';
import { IncomingQueue, type IncomingOutcome } from './incoming-queue.js';
import { TypingNotifier, TypingWatch } from './typing.js';

export { INCOMING_BATCH_MAX } from './incoming-queue.js';

/** Messages read from the store at a time (on open, and each time older ones are asked for). */
export const HISTORY_PAGE = 100;

export interface ChatDeps {
  peers: PeerNetwork;
  /** The account's store, or the promise of it while it opens. */
  store: ChatStore | Promise<ChatStore>;
  /** Presence: a friend with waiting messages who comes online is connected to, to deliver them. */
  gateway?: Pick<Gateway, 'on'>;
  now?: () => number;
  newId?: () => string;
  ackDelayMs?: number;
  /** Where failures of the store go (development builds log them). */
  warn?: (message: string, detail?: unknown) => void;
}

/** What `send` did with the text: queued it, or refused it. */
export type SendResult = 'queued' | 'empty' | 'too_long';

export class ChatState {
  readonly #peers: PeerNetwork;
  readonly #store: Promise<ChatStore>;
  readonly #now: () => number;
  readonly #newId: () => string;
  readonly #warn: NonNullable<ChatDeps['warn']>;
  readonly #acks: AckBatcher;
  readonly #notifier: TypingNotifier;
  readonly #typingWatch: TypingWatch;
  readonly #incoming: IncomingQueue;
  readonly #unsubscribe: (() => void)[] = [];
  /** Store work runs one task at a time, in the order events arrived. */
  #queue: Promise<void> = Promise.resolve();
  #disposed = false;
  // Looked up in methods only; the active one is exposed through reactive state.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  readonly #conversations = new Map<string, ConversationState>();

  #active = $state<ConversationState | null>(null);
  /** Whether the page is visible and focused: only then does an open chat count as read. */
  #attentive = $state(true);
  #unread = $state.raw<Readonly<Record<string, number>>>({});
  #paths = $state.raw<Readonly<Record<string, PeerPath>>>({});
  #typing = $state.raw<Readonly<Record<string, boolean>>>({});
  #unreadTotal = $derived(Object.values(this.#unread).reduce((sum, count) => sum + count, 0));

  constructor(deps: ChatDeps) {
    this.#peers = deps.peers;
    this.#store = Promise.resolve(deps.store);
    this.#now = deps.now ?? Date.now;
    this.#newId = deps.newId ?? (() => crypto.randomUUID());
    this.#warn = deps.warn ?? (() => {});
    this.#acks = new AckBatcher({
      delayMs: deps.ackDelayMs,
      send: (friendId, connectionId, ids) =>
        this.#peers.sendTo(friendId, connectionId, { type: 'chat_ack', ids }),
    });
    this.#notifier = new TypingNotifier({
      now: this.#now,
      send: (friendId, active) => this.#peers.send(friendId, { type: 'typing', active }) > 0,
    });
    this.#typingWatch = new TypingWatch({
      onChange: (friendId, typing) => (this.#typing = { ...this.#typing, [friendId]: typing }),
    });
    this.#incoming = new IncomingQueue({
      run: (task) => this.#run(task),
      isUnread: (friendId) => !(this.#active?.friendId === friendId && this.#attentive),
      isShown: (friendId, id) =>
        this.#conversations.get(friendId)?.messages.some((m) => m.id === id) ?? false,
      stored: (outcome) => this.#showIncoming(outcome),
    });

    this.#unsubscribe.push(
      this.#peers.on('message', (event) => this.#handleMessage(event)),
      this.#peers.on('link', (event) => this.#handleLink(event)),
      this.#peers.on('path', ({ friendId, path }) => (this.#paths = { ...this.#paths, [friendId]: path })),
    );
    if (deps.gateway) {
      this.#unsubscribe.push(
        deps.gateway.on('hello', (frame) =>
          this.#deliverTo(frame.friends.filter((f) => f.status !== 'offline').map((f) => f.id)),
        ),
        deps.gateway.on('presence', (frame) => {
          if (frame.status !== 'offline') this.#deliverTo([frame.userId]);
        }),
      );
    }

    this.#run(async (store) => {
      this.#unread = await store.unreadCounts();
      // A chat opened before the counts were read is read all the same.
      if (this.#active && this.#attentive) this.#markRead(this.#active.friendId);
      // "Sending" meant "on a link": after a reload there is none yet.
      const stale = (await store.outbox()).filter((message) => message.state === 'sending');
      for (const [friendId, ids] of Object.entries(idsByConversation(stale))) {
        if (this.#peers.openLinks(friendId).length === 0)
          await store.setOutboxState(friendId, ids, 'waiting');
      }
    });
  }

  /** The open conversation, or null. */
  get active(): ConversationState | null {
    return this.#active;
  }

  /** Unread incoming messages of all conversations (for the tab title). */
  get unreadTotal(): number {
    return this.#unreadTotal;
  }

  /** Messages from `friendId` that arrived while their chat was not open and in view. */
  unread(friendId: string): number {
    return this.#unread[friendId] ?? 0;
  }

  /** How `friendId` is reached now (the badge in the chat header). */
  path(friendId: string): PeerPath {
    return this.#paths[friendId] ?? 'none';
  }

  /** Whether `friendId` is typing to us right now. */
  isTyping(friendId: string): boolean {
    return this.#typing[friendId] ?? false;
  }

  /** Opens `friendId`'s chat: loads its history, marks it read, and connects to the friend. */
  open(friendId: string): ConversationState {
    if (this.#active?.friendId !== friendId) this.#notifier.stopped();
    const conversation = this.#conversation(friendId);
    this.#active = conversation;
    this.#paths = { ...this.#paths, [friendId]: this.#peers.path(friendId) };
    if (!conversation.loaded) {
      this.#run(async (store) => {
        const page = await store.history(friendId, HISTORY_PAGE);
        conversation.addPage(page, page.length === HISTORY_PAGE);
      });
    }
    this.#markRead(friendId);
    this.#peers.connect(friendId);
    return conversation;
  }

  /** Closes the open chat (back to the list on a phone). */
  close(): void {
    this.#notifier.stopped();
    this.#active = null;
  }

  /** The page became visible and focused, or stopped being either. */
  setAttentive(attentive: boolean): void {
    this.#attentive = attentive;
    if (attentive && this.#active) this.#markRead(this.#active.friendId);
  }

  /** Reads the page of history before the first loaded message of `friendId`'s chat. */
  loadOlder(friendId: string): void {
    const conversation = this.#conversations.get(friendId);
    if (!conversation?.beginLoadingOlder()) return;
    const first = conversation.messages[0];
    this.#run(async (store) => {
      const page = await store.history(friendId, HISTORY_PAGE, first);
      conversation.addPage(page, page.length === HISTORY_PAGE);
    });
  }

  /** A key was pressed in `friendId`'s message field. */
  typed(friendId: string): void {
    this.#notifier.typed(friendId);
  }

  /** Typing stopped without sending (the field lost focus or was emptied). */
  stoppedTyping(): void {
    this.#notifier.stopped();
  }

  /**
   * Sends `typed` to `friendId`: stored in the outbox first (shown as waiting), then out on every
   * open link of the friend; without one, it goes when a link opens.
   */
  send(friendId: string, typed: string): SendResult {
    const prepared = prepareText(typed);
    if (!prepared.ok) return prepared.reason;
    this.#notifier.stopped();
    const conversation = this.#conversation(friendId);
    const id = this.#newId();
    const now = this.#now();
    this.#run(async (store) => {
      const message = await store.addOutgoing(friendId, { id, text: prepared.text, now });
      conversation.merge([message]);
      this.#peers.connect(friendId);
      if (this.#peers.send(friendId, toWire(message)) > 0) {
        conversation.merge(await store.setOutboxState(friendId, [message.id], 'sending'));
      }
    });
    return 'queued';
  }

  /**
   * Keeps a verified file in the conversation's history: `out` when the friend verified a file sent
   * from here, `in` when one was received and verified here. Recording a file twice changes nothing.
   */
  recordFile(friendId: string, direction: MessageDirection, fileId: string, file: StoredFile): void {
    const ts = this.#now();
    this.#run(async (store) => {
      const message = await store.addFile(friendId, { id: fileRecordId(fileId), direction, ts, file });
      if (message) this.#conversations.get(friendId)?.merge([message]);
    });
  }

  /** Resolves once the store work queued so far is done (tests, and sign-out). */
  idle(): Promise<void> {
    return this.#queue;
  }

  /** Stops listening and closes the store (sign-out). Queued acks are dropped: senders resend. */
  dispose(): void {
    if (this.#disposed) return;
    this.#notifier.stopped();
    this.#disposed = true;
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
    this.#acks.dispose();
    this.#typingWatch.dispose();
    void this.#queue
      .then(() => this.#store)
      .then(
        (store) => store.close(),
        () => {},
      );
  }

  #conversation(friendId: string): ConversationState {
    let conversation = this.#conversations.get(friendId);
    if (!conversation) {
      conversation = new ConversationState(friendId);
      this.#conversations.set(friendId, conversation);
    }
    return conversation;
  }

  #handleMessage({ friendId, connectionId, message }: PeerNetworkEvents['message']): void {
    switch (message.type) {
      case 'chat_message':
        this.#typingWatch.clear(friendId);
        this.#incoming.push({ friendId, connectionId, message });
        return;
      case 'chat_ack':
        this.#run(async (store) => {
          const delivered = await store.markDelivered(friendId, message.ids);
          this.#conversations.get(friendId)?.merge(delivered);
        });
        return;
      case 'typing':
        this.#typingWatch.update(friendId, message.active);
        return;
      case 'peer_hello':
        return;
      case 'file_offer':
      case 'file_accept':
      case 'file_decline':
      case 'file_cancel':
      case 'file_progress':
      case 'file_complete':
      case 'file_error':
        return; // file transfers: `transfer/transfers.svelte.ts`
      default:
        exhaustive(message);
    }
  }

  /** Acknowledges and shows a stored batch: one update per conversation and one of the counts. */
  #showIncoming({ acks, shown, unread }: IncomingOutcome): void {
    for (const { friendId, connectionId, id } of acks) this.#acks.add(friendId, connectionId, id);
    for (const [friendId, messages] of Object.entries(shown)) {
      this.#conversations.get(friendId)?.merge(messages);
    }
    const counted = Object.entries(unread);
    if (counted.length === 0) return;
    const next = { ...this.#unread };
    for (const [friendId, count] of counted) next[friendId] = (next[friendId] ?? 0) + count;
    this.#unread = next;
    // Counted as unread when stored; the chat may have been opened (and marked read) meanwhile.
    if (this.#active && this.#attentive && this.#active.friendId in unread)
      this.#markRead(this.#active.friendId);
  }

  #handleLink({ friendId, connectionId, open }: PeerNetworkEvents['link']): void {
    if (open) {
      // Everything unacknowledged goes to the new link, oldest first; devices that have it already
      // drop it by id and ack again.
      this.#run(async (store) => {
        const sent: string[] = [];
        for (const message of await store.outbox(friendId)) {
          if (this.#peers.sendTo(friendId, connectionId, toWire(message))) sent.push(message.id);
        }
        this.#conversations.get(friendId)?.merge(await store.setOutboxState(friendId, sent, 'sending'));
      });
      return;
    }
    if (this.#peers.openLinks(friendId).length > 0) return;
    this.#typingWatch.clear(friendId);
    this.#run(async (store) => {
      if (this.#peers.openLinks(friendId).length > 0) return;
      const ids = (await store.outbox(friendId)).map((message) => message.id);
      this.#conversations.get(friendId)?.merge(await store.setOutboxState(friendId, ids, 'waiting'));
    });
  }

  /** Connects to those of `friendIds` who have messages waiting for them. */
  #deliverTo(friendIds: readonly string[]): void {
    if (friendIds.length === 0) return;
    this.#run(async (store) => {
      const waiting = (await store.outbox()).map((message) => message.conversation);
      for (const friendId of friendIds) {
        if (waiting.includes(friendId)) this.#peers.connect(friendId);
      }
    });
  }

  #markRead(friendId: string): void {
    if (this.unread(friendId) === 0) return;
    const { [friendId]: _read, ...rest } = this.#unread;
    this.#unread = rest;
    this.#run((store) => store.markRead(friendId));
  }

  #run(task: (store: ChatStore) => Promise<void>): void {
    this.#queue = this.#queue
      .then(async () => {
        if (this.#disposed) return;
        await task(await this.#store);
      })
      .catch((error: unknown) => this.#warn('chat: store task failed', error));
  }
}

function toWire(message: StoredMessage): PeerMessage {
  return { type: 'chat_message', id: message.id, seq: message.seq, ts: message.ts, text: message.text };
}

function idsByConversation(messages: readonly StoredMessage[]): Record<string, string[]> {
  const groups: Record<string, string[]> = {};
  for (const message of messages) (groups[message.conversation] ??= []).push(message.id);
  return groups;
}

function exhaustive(value: never): never {
  throw new Error(`unhandled peer message: ${JSON.stringify(value)}`);
}
