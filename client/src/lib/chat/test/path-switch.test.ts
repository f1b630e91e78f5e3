/**
 * Exactly once across path switches: two `ChatState`s on two real `PeerMesh`es over a fake signaling
 * server (signals and relay frames), fake peer connections, real WebCrypto. The conversation starts
 * on the server relay, moves to a data channel with messages in flight (some lost on the way, some
 * arriving twice), and back to the relay when the channel fails; every message arrives once and is
 * acknowledged. Real timers with a short fallback wait: the ladder's timing is tested on its own.
 */
import { describe, expect, it } from 'vitest';
import type { PresenceStatus } from '../../../../../shared/api.js';
import { PeerMesh } from '../../peer/peer-mesh.js';
import { FakeSignalingServer } from '../../peer/test/fake-signaling.js';
import { fakePeerFactory, OFFER, type FakePeer } from '../../peer/test/fakes.js';
import { ChatState } from '../chat.svelte.js';
import { MemoryChatStore } from '../memory-chat-store.js';
import { testId } from './chat-device.js';

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

function device(server: FakeSignalingServer, userId: string, connectionId: string, friend: string) {
  const gateway = server.device(userId, connectionId);
  const fakes = fakePeerFactory();
  let links = 0;
  const peers = new PeerMesh({
    gateway,
    loadFactory: () => fakes.factory,
    random: () => 0.5,
    newLinkId: () => `${connectionId}-L${++links}`,
    timing: { relayAfterMs: 50 },
  });
  const store = new MemoryChatStore();
  const chat = new ChatState({ peers, store, ackDelayMs: 0, newId: testId });
  gateway.hello(connectionId, { [friend]: 'online' satisfies PresenceStatus });
  const texts = async () => (await store.history(friend, 1_000)).map((m) => m.text);
  const waiting = async () => (await store.outbox(friend)).map((m) => m.text);
  return { userId, peers, fakes, chat, store, texts, waiting };
}

type Device = ReturnType<typeof device>;

/** Pipes the current attempt's fake peers together and opens the data channel. */
async function openDataChannel(ada: Device, bob: Device): Promise<[FakePeer, FakePeer]> {
  const adaPeer = ada.fakes.last();
  const before = bob.fakes.peers.length;
  adaPeer.emitSignal(OFFER);
  await until(() => bob.fakes.peers.length > before, 'Bob to answer');
  const bobPeer = bob.fakes.last();
  adaPeer.onSend = (data) => queueMicrotask(() => bobPeer.data(data));
  bobPeer.onSend = (data) => queueMicrotask(() => adaPeer.data(data));
  adaPeer.open();
  bobPeer.open();
  return [adaPeer, bobPeer];
}

describe('chat across path switches', () => {
  it('delivers every message exactly once: relay, then data channel, then relay again', async () => {
    const server = new FakeSignalingServer();
    const ada = device(server, 'ada', 'a1', 'bob');
    const bob = device(server, 'bob', 'b1', 'ada');
    ada.chat.open('bob');
    bob.chat.open('ada');

    // Nothing opens: the messages wait, then go over the relay.
    ada.chat.send('bob', 'before any path');
    await until(async () => (await ada.waiting()).length === 1, 'the outbox');
    await until(() => ada.peers.path('bob') === 'server' && bob.peers.path('ada') === 'server', 'relay');
    expect(ada.chat.path('bob')).toBe('server');
    ada.chat.send('bob', 'over the relay 1');
    bob.chat.send('ada', 'answer over the relay');
    await until(async () => (await ada.waiting()).length === 0 && (await bob.waiting()).length === 0, 'acks');
    expect((await bob.texts()).sort()).toEqual([
      'answer over the relay',
      'before any path',
      'over the relay 1',
    ]);

    // Messages in flight when the data channel opens. On the relay the server loses Ada's first one
    // and everything Bob sends (his message and his acks): the second of Ada's arrives over the relay
    // unacknowledged, so it is sent again on the channel and arrives twice.
    let adaDropped = 0;
    let bobDropped = 0;
    server.alterRelay = (data, from) => {
      if (data.kind !== 'box') return data;
      if (from.userId === 'bob') {
        bobDropped += 1;
        return null;
      }
      if (adaDropped === 0) {
        adaDropped += 1;
        return null;
      }
      return data;
    };
    const arrivedAtBob: string[] = [];
    bob.peers.on('message', ({ message }) => {
      if (message.type === 'chat_message') arrivedAtBob.push(message.text);
    });
    ada.chat.send('bob', 'in flight, lost on the relay');
    ada.chat.send('bob', 'in flight, arrives twice');
    bob.chat.send('ada', 'in flight the other way');
    await until(
      () => arrivedAtBob.includes('in flight, arrives twice') && bobDropped >= 2,
      'the relay to lose',
    );
    expect(arrivedAtBob).not.toContain('in flight, lost on the relay');
    const [adaPeer] = await openDataChannel(ada, bob);
    server.alterRelay = undefined;
    ada.chat.send('bob', 'right after the switch');
    await until(() => ada.peers.path('bob') === 'direct' && bob.peers.path('ada') === 'direct', 'direct');
    await until(async () => (await ada.waiting()).length === 0 && (await bob.waiting()).length === 0, 'acks');
    expect(ada.chat.path('bob')).toBe('direct');
    expect(server.relayedOf('close').length).toBeGreaterThanOrEqual(1);

    // The channel fails: back to the relay at once, with messages sent meanwhile.
    adaPeer.ice('failed');
    ada.chat.send('bob', 'while falling back');
    await until(
      () => ada.peers.path('bob') === 'server' && bob.peers.path('ada') === 'server',
      'relay again',
    );
    bob.chat.send('ada', 'back on the relay');
    await until(async () => (await ada.waiting()).length === 0 && (await bob.waiting()).length === 0, 'acks');

    const fromAda = [
      'before any path',
      'over the relay 1',
      'in flight, lost on the relay',
      'in flight, arrives twice',
      'right after the switch',
      'while falling back',
    ];
    const fromBob = ['answer over the relay', 'in flight the other way', 'back on the relay'];
    for (const side of [ada, bob]) {
      const texts = await side.texts();
      expect(texts.filter((text) => fromAda.includes(text))).toEqual(fromAda);
      expect(texts.filter((text) => fromBob.includes(text))).toEqual(fromBob);
      expect(texts).toHaveLength(fromAda.length + fromBob.length);
    }
    const states = async (side: Device, friend: string) =>
      (await side.store.history(friend, 1_000)).filter((m) => m.direction === 'out').map((m) => m.state);
    expect(new Set(await states(ada, 'bob'))).toEqual(new Set(['delivered']));
    expect(new Set(await states(bob, 'ada'))).toEqual(new Set(['delivered']));
    // The duplicate really arrived, and was stored once.
    expect(arrivedAtBob.filter((text) => text === 'in flight, arrives twice')).toHaveLength(2);
    ada.chat.dispose();
    bob.chat.dispose();
  });
});
