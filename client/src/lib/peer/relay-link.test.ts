import { describe, expect, it, vi } from 'vitest';
import { PEER_PROTOCOL_VERSION, type PeerMessage } from '../../../../shared/peer-protocol.js';
import type { RelayPayload } from '../../../../shared/protocol.js';
import { fromBase64, toBase64 } from '../relay/relay-crypto.js';
import { RELAY_DATA_MAX_CHARS } from '../../../../shared/protocol.js';
import {
  RELAY_CHUNK_FRAME_MAX,
  RELAY_CHUNK_QUEUE_MAX_BYTES,
  RELAY_PLAINTEXT_MAX_BYTES,
  RELAY_QUEUE_MAX_MESSAGES,
} from './relay-link.js';
import { openPair, relayPair, until } from './test/relay-pair.js';

/** A chunk-like frame: `size` bytes of a pattern that starts at `seed`. */
const frame = (size: number, seed = 1): ArrayBuffer => {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (seed + i * 7) & 0xff;
  return bytes.buffer;
};
const bytesOf = (buffer: ArrayBuffer) => [...new Uint8Array(buffer)];

const chat = (text: string, seq = 1): PeerMessage => ({
  type: 'chat_message',
  id: `0b6a3c52-3f1e-4a8e-9a59-${seq.toString().padStart(12, '0')}`,
  seq,
  ts: 1,
  text,
});

describe('RelayLink', () => {
  it('agrees on keys with key then key reply, and says peer_hello first', async () => {
    const { ada, bob } = relayPair();
    expect(ada.link.send(chat('too early'))).toBe(false);
    await openPair(ada, bob);
    expect(ada.sent[0]).toMatchObject({ kind: 'key', session: 's1' });
    expect(bob.sent[0]).toMatchObject({ kind: 'key', session: 's1', reply: true });
    expect(ada.sent[0]).not.toHaveProperty('reply');
    expect(ada.opened).toBe(1);
    expect(bob.opened).toBe(1);
    // Each side's first box is peer_hello: it does not reach the owner.
    await until(() => ada.sent.length === 2 && bob.sent.length === 2, 'the hellos');
    expect(ada.sent[1]?.kind).toBe('box');
    expect(ada.received).toEqual([]);
    expect(bob.received).toEqual([]);
  });

  it('carries messages both ways, in order, and only ciphertext travels', async () => {
    const { ada, bob } = relayPair();
    await openPair(ada, bob);
    const texts = Array.from({ length: 20 }, (_, i) => `relay secret number ${i}`);
    texts.forEach((text, i) => expect(ada.link.send(chat(text, i + 1))).toBe(true));
    expect(bob.link.send(chat('and back again'))).toBe(true);
    await until(() => bob.received.length === 20 && ada.received.length === 1, 'all messages');
    expect(bob.received.map((m) => (m.type === 'chat_message' ? m.text : m.type))).toEqual(texts);
    expect(ada.received).toEqual([chat('and back again')]);
    const wire = JSON.stringify([...ada.sent, ...bob.sent]);
    expect(wire).not.toContain('relay secret');
    expect(wire).not.toContain(toBase64(new TextEncoder().encode('relay secret')).slice(0, 12));
  });

  it('drops and logs a box that was tampered with, replayed or reordered; later boxes still open', async () => {
    const { ada, bob, deliver } = relayPair();
    await openPair(ada, bob);
    await until(() => ada.sent.length === 2, 'the hello');
    ada.hold = true;
    ada.link.send(chat('first', 1));
    ada.link.send(chat('second', 2));
    ada.link.send(chat('third', 3));
    await until(() => ada.held.length === 3, 'three boxes');
    const [first, second, third] = ada.held as Array<Extract<RelayPayload, { kind: 'box' }>>;
    const bytes = fromBase64(first!.data);
    bytes[3] = bytes[3]! ^ 0x40;
    deliver(ada, { ...first!, data: toBase64(bytes) });
    deliver(ada, second!);
    deliver(ada, second!); // replayed
    deliver(ada, first!); // late: its counter is behind
    deliver(ada, third!);
    await until(() => bob.warn.mock.calls.length === 3, 'three drops');
    await until(() => bob.received.length === 2, 'the good boxes');
    expect(bob.received.map((m) => (m.type === 'chat_message' ? m.text : ''))).toEqual(['second', 'third']);
    expect(bob.warn).toHaveBeenCalledWith(
      'peer: dropped a relay box that did not open (tampered, replayed or other keys)',
      { friendId: 'ada', connectionId: 'ca' },
    );
    expect(bob.link.state).toBe('open');
  });

  it('drops invalid messages like a data channel does', async () => {
    const { ada, bob } = relayPair();
    await openPair(ada, bob);
    // A valid box whose plaintext is not a valid peer message: sealed through the link's own queue.
    expect(
      ada.link.send({ type: 'chat_message', id: 'not-a-uuid', seq: 0, ts: 1, text: '' } as PeerMessage),
    ).toBe(true);
    ada.link.send(chat('fine'));
    await until(() => bob.received.length === 1, 'the valid message');
    expect(bob.received).toEqual([chat('fine')]);
  });

  it('closes on another peer protocol version', async () => {
    const { ada, bob } = relayPair();
    await openPair(ada, bob);
    ada.link.send({ type: 'peer_hello', version: PEER_PROTOCOL_VERSION + 1 });
    await until(() => bob.link.state === 'closed', 'bob closing');
    expect(bob.closed).toEqual([{ reason: 'incompatible', wasOpen: true }]);
    // Bob said close: Ada's end closes too.
    await until(() => ada.link.state === 'closed', 'ada closing');
    expect(ada.closed).toEqual([{ reason: 'peer_closed', wasOpen: true }]);
  });

  it('refuses what does not fit a box, and bounds its queue', async () => {
    let now = 0;
    const pace = { framesPerSecond: 1, frameBurst: 1, bytesPerSecond: 1e9, byteBurst: 1e9 };
    const { ada, bob } = relayPair({ pace, now: () => now });
    await openPair(ada, bob);
    expect(ada.link.send(chat('€'.repeat(Math.ceil(RELAY_PLAINTEXT_MAX_BYTES / 3))))).toBe(false);
    expect(ada.warn).toHaveBeenCalledWith('peer: message too large for the server relay', expect.anything());
    // The pacer lets nothing more through: the queue fills up to its bound.
    let accepted = 0;
    while (ada.link.send(chat(`queued ${accepted}`, accepted + 1))) accepted += 1;
    expect(accepted).toBeGreaterThanOrEqual(RELAY_QUEUE_MAX_MESSAGES - 1);
    expect(accepted).toBeLessThanOrEqual(RELAY_QUEUE_MAX_MESSAGES);
    pace.framesPerSecond = pace.frameBurst = 1e6;
    now += 1_000;
    await until(() => bob.received.length === accepted, 'the queue to drain');
    expect(ada.link.send(chat('room again'))).toBe(true);
  });

  it('paces boxes under the connection’s budget', async () => {
    let now = 0;
    const { ada, bob } = relayPair({
      pace: { framesPerSecond: 10, frameBurst: 3, bytesPerSecond: 1e9, byteBurst: 1e9 },
      now: () => now,
    });
    await openPair(ada, bob);
    for (let i = 1; i <= 5; i++) ada.link.send(chat(`paced ${i}`, i));
    // The burst of three: the key, the hello and the first message.
    await until(() => bob.received.length === 1, 'the first message');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(bob.received).toHaveLength(1);
    now += 200; // two frames' worth
    await until(() => bob.received.length === 3, 'two more messages');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(bob.received).toHaveLength(3);
    now += 1_000;
    await until(() => bob.received.length === 5, 'the rest');
  });

  it('carries chunk frames in boxes, in order and byte for byte; only ciphertext travels', async () => {
    const { ada, bob } = relayPair();
    await openPair(ada, bob);
    const frames = [frame(RELAY_CHUNK_FRAME_MAX, 1), frame(100, 2), frame(5000, 3)];
    for (const f of frames) expect(ada.link.sendChunk(f)).toBe(true);
    expect(ada.link.send(chat('and a message'))).toBe(true);
    await until(() => bob.chunks.length === 3 && bob.received.length === 1, 'the chunks');
    expect(bob.chunks.map(bytesOf)).toEqual(frames.map(bytesOf));
    expect(bob.received).toEqual([chat('and a message')]);
    // One box per frame, and the file's bytes are nowhere in what the server sees.
    const boxes = ada.sent.filter((p) => p.kind === 'box');
    expect(boxes).toHaveLength(5); // the hello, three chunks, the message
    const wire = JSON.stringify(ada.sent);
    const slice = new Uint8Array(frames[0]!).subarray(300, 330);
    expect(wire).not.toContain(toBase64(slice));
    for (const payload of boxes)
      expect((payload as { data: string }).data.length).toBeLessThanOrEqual(RELAY_DATA_MAX_CHARS);
  });

  it('sends messages before queued chunks, and keeps a reserve of the pace for them', async () => {
    let now = 0;
    const pace = { framesPerSecond: 10, frameBurst: 5, bytesPerSecond: 1e9, byteBurst: 1e9 };
    const { ada, bob } = relayPair({ pace: { ...pace, bulkReserveFrames: 2 }, now: () => now });
    await openPair(ada, bob);
    await until(() => ada.sent.length === 2, 'the hello');
    const order: string[] = [];
    bob.onChunk = (f) => order.push(`chunk ${new Uint8Array(f)[0]}`);
    bob.onMessage = (m) => order.push(m.type === 'chat_message' ? m.text : m.type);
    // Three frames left after the key and the hello: one chunk may go, two stay for messages.
    for (let i = 1; i <= 4; i++) ada.link.sendChunk(frame(1000, i));
    await until(() => order.length === 1, 'the first chunk');
    ada.link.send(chat('not behind the file', 1));
    ada.link.send(chat('nor this', 2));
    await until(() => order.length === 3, 'the messages');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(order).toEqual(['chunk 1', 'not behind the file', 'nor this']);
    expect(ada.link.chunkBacklog).toBe(3 * 1001);
    now += 1_000;
    await until(() => order.length === 6, 'the other chunks');
    expect(order.slice(3)).toEqual(['chunk 2', 'chunk 3', 'chunk 4']);
    expect(ada.link.chunkBacklog).toBe(0);
  });

  it('counts the chunk bytes not yet sent and says when each chunk box went out', async () => {
    let now = 0;
    const pace = { framesPerSecond: 1, frameBurst: 2, bytesPerSecond: 1e9, byteBurst: 1e9 };
    const { ada, bob } = relayPair({ pace, now: () => now });
    await openPair(ada, bob);
    await until(() => bob.sent.length === 2 && ada.sent.length === 2, 'the hellos');
    let sent = 0;
    const stop = ada.link.onChunkSent(() => (sent += 1));
    now += 1_000; // one frame
    ada.link.sendChunk(frame(999));
    ada.link.sendChunk(frame(499));
    await until(() => sent === 1, 'a chunk box');
    expect(ada.link.chunkBacklog).toBe(500);
    now += 1_000;
    await until(() => sent === 2, 'the other chunk box');
    expect(ada.link.chunkBacklog).toBe(0);
    stop();
    now += 1_000;
    ada.link.sendChunk(frame(100));
    await until(() => bob.chunks.length === 3, 'the last chunk');
    expect(sent).toBe(2);
  });

  it('refuses a chunk larger than a box, and bounds its chunk queue', async () => {
    let now = 0;
    const pace = { framesPerSecond: 1, frameBurst: 1, bytesPerSecond: 1e9, byteBurst: 1e9 };
    const { ada, bob } = relayPair({ pace, now: () => now });
    await openPair(ada, bob);
    expect(ada.link.sendChunk(frame(RELAY_CHUNK_FRAME_MAX + 1))).toBe(false);
    expect(ada.warn).toHaveBeenCalledWith('peer: chunk too large for the server relay', expect.anything());
    let queued = 0;
    while (ada.link.sendChunk(frame(RELAY_CHUNK_FRAME_MAX))) queued += 1;
    expect(queued).toBe(Math.floor(RELAY_CHUNK_QUEUE_MAX_BYTES / (RELAY_CHUNK_FRAME_MAX + 1)));
    expect(ada.link.chunkBacklog).toBeLessThanOrEqual(RELAY_CHUNK_QUEUE_MAX_BYTES);
    // Messages have their own queue: they still go.
    expect(ada.link.send(chat('still fine'))).toBe(true);
    pace.framesPerSecond = pace.frameBurst = 1e6;
    now += 1_000;
    await until(() => bob.chunks.length === queued && bob.received.length === 1, 'everything');
  });

  it('drops chunk boxes that were tampered with, are larger than a frame or hold no chunk, with a log', async () => {
    const { ada, bob, deliver } = relayPair();
    await openPair(ada, bob);
    await until(() => ada.sent.length === 2, 'the hello');
    ada.hold = true;
    ada.link.sendChunk(frame(2000, 1));
    ada.link.sendChunk(frame(24, 2)); // a header and no payload
    ada.link.sendChunk(frame(2000, 3));
    await until(() => ada.held.length === 3, 'three boxes');
    const [tampered, empty, good] = ada.held as Array<Extract<RelayPayload, { kind: 'box' }>>;
    const bytes = fromBase64(tampered!.data);
    bytes[100] = bytes[100]! ^ 0x01;
    deliver(ada, { ...tampered!, data: toBase64(bytes) });
    deliver(ada, empty!);
    deliver(ada, { ...good!, data: good!.data + 'A'.repeat(RELAY_DATA_MAX_CHARS) });
    deliver(ada, good!);
    await until(() => bob.chunks.length === 1, 'the good chunk');
    expect(bytesOf(bob.chunks[0]!)).toEqual(bytesOf(frame(2000, 3)));
    expect(bob.warn.mock.calls.map(([message]) => message)).toEqual([
      'peer: dropped a relay box that did not open (tampered, replayed or other keys)',
      'peer: dropped a relay chunk with no payload',
      'peer: dropped a relay box larger than a frame',
    ]);
    expect(bob.link.state).toBe('open');
  });

  it('times out a key exchange nobody answers, and says close', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { ada } = relayPair();
      ada.hold = true; // nothing reaches Bob
      void ada.link.start();
      await until(() => ada.sent.length === 1, 'the key');
      vi.advanceTimersByTime(10_000);
      expect(ada.closed).toEqual([{ reason: 'timeout', wasOpen: false }]);
      expect(ada.sent.at(-1)).toEqual({ kind: 'close', session: 's1' });
    } finally {
      vi.useRealTimers();
    }
  });

  it('closes when there is no signaling connection to send on', async () => {
    let online = true;
    const { ada, bob } = relayPair({ online: () => online });
    await openPair(ada, bob);
    await until(() => ada.sent.length === 2, 'the hello');
    online = false;
    expect(ada.link.send(chat('lost'))).toBe(true);
    await until(() => ada.link.state === 'closed', 'closing');
    expect(ada.closed).toEqual([{ reason: 'no_signaling', wasOpen: true }]);
  });

  it('refuses a bad public key', async () => {
    const { bob } = relayPair();
    await bob.link.keyReceived('AAAA');
    expect(bob.closed).toEqual([{ reason: 'error', wasOpen: false }]);
    expect(bob.sent).toEqual([{ kind: 'close', session: 's1' }]);
  });
});
