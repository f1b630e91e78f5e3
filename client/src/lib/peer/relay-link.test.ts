import { describe, expect, it, vi, type Mock } from 'vitest';
import { PEER_PROTOCOL_VERSION, type PeerMessage } from '../../../../shared/peer-protocol.js';
import type { RelayPayload } from '../../../../shared/protocol.js';
import { fromBase64, toBase64 } from '../relay/relay-crypto.js';
import { RelayPacer, type RelayPace } from '../relay/relay-pacer.js';
import {
  RELAY_PLAINTEXT_MAX_BYTES,
  RELAY_QUEUE_MAX_MESSAGES,
  RelayLink,
  type RelayCloseReason,
} from './relay-link.js';

const chat = (text: string, seq = 1): PeerMessage => ({
  type: 'chat_message',
  id: `0b6a3c52-3f1e-4a8e-9a59-${seq.toString().padStart(12, '0')}`,
  seq,
  ts: 1,
  text,
});

/** Waits (in real time) until `condition` holds. */
async function until(condition: () => boolean, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

interface End {
  link: RelayLink;
  /** Payloads this end sent. */
  sent: RelayPayload[];
  received: PeerMessage[];
  opened: number;
  closed: Array<{ reason: RelayCloseReason; wasOpen: boolean }>;
  warn: Mock<(message: string, context?: Record<string, unknown>) => void>;
  /** Payloads to hold back instead of delivering (to tamper with or replay). */
  hold: boolean;
  held: RelayPayload[];
}

/**
 * Two ends of one session wired to each other in order, the way the server relays: `ca` starts it.
 * Boxes are handled one at a time, like `ServerRelay` does.
 */
function session(options: { pace?: RelayPace; now?: () => number; online?: () => boolean } = {}) {
  const make = (self: string, remote: string, initiator: boolean): End => {
    const end = {
      sent: [],
      received: [],
      opened: 0,
      closed: [],
      warn: vi.fn(),
      hold: false,
      held: [],
    } as unknown as End;
    end.link = new RelayLink({
      session: 's1',
      friendId: initiator ? 'bob' : 'ada',
      remote,
      self,
      initiator,
      pacer: new RelayPacer(options.pace, options.now),
      keyTimeoutMs: 10_000,
      log: { debug: vi.fn(), warn: end.warn },
      callbacks: {
        send: (payload) => {
          if (options.online && !options.online()) return false;
          end.sent.push(payload);
          if (end.hold) end.held.push(payload);
          else deliver(end, payload);
          return true;
        },
        open: () => (end.opened += 1),
        message: (message) => end.received.push(message),
        close: (reason, wasOpen) => end.closed.push({ reason, wasOpen }),
      },
    });
    return end;
  };
  const ada = make('ca', 'cb', true);
  const bob = make('cb', 'ca', false);
  let chain = Promise.resolve();
  const deliver = (from: End, payload: RelayPayload) => {
    const to = from === ada ? bob : ada;
    chain = chain.then(async () => {
      if (payload.kind === 'key') await to.link.keyReceived(payload.publicKey);
      else if (payload.kind === 'box') await to.link.boxReceived(payload);
      else to.link.close('peer_closed');
    });
  };
  return { ada, bob, deliver };
}

async function opened(ada: End, bob: End): Promise<void> {
  void ada.link.start();
  await until(() => ada.link.state === 'open' && bob.link.state === 'open', 'both ends open');
}

describe('RelayLink', () => {
  it('agrees on keys with key then key reply, and says peer_hello first', async () => {
    const { ada, bob } = session();
    expect(ada.link.send(chat('too early'))).toBe(false);
    await opened(ada, bob);
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
    const { ada, bob } = session();
    await opened(ada, bob);
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
    const { ada, bob, deliver } = session();
    await opened(ada, bob);
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
    const { ada, bob } = session();
    await opened(ada, bob);
    // A valid box whose plaintext is not a valid peer message: sealed through the link's own queue.
    expect(
      ada.link.send({ type: 'chat_message', id: 'not-a-uuid', seq: 0, ts: 1, text: '' } as PeerMessage),
    ).toBe(true);
    ada.link.send(chat('fine'));
    await until(() => bob.received.length === 1, 'the valid message');
    expect(bob.received).toEqual([chat('fine')]);
  });

  it('closes on another peer protocol version', async () => {
    const { ada, bob } = session();
    await opened(ada, bob);
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
    const { ada, bob } = session({ pace, now: () => now });
    await opened(ada, bob);
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
    const { ada, bob } = session({
      pace: { framesPerSecond: 10, frameBurst: 3, bytesPerSecond: 1e9, byteBurst: 1e9 },
      now: () => now,
    });
    await opened(ada, bob);
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

  it('times out a key exchange nobody answers, and says close', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { ada } = session();
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
    const { ada, bob } = session({ online: () => online });
    await opened(ada, bob);
    await until(() => ada.sent.length === 2, 'the hello');
    online = false;
    expect(ada.link.send(chat('lost'))).toBe(true);
    await until(() => ada.link.state === 'closed', 'closing');
    expect(ada.closed).toEqual([{ reason: 'no_signaling', wasOpen: true }]);
  });

  it('refuses a bad public key', async () => {
    const { bob } = session();
    await bob.link.keyReceived('AAAA');
    expect(bob.closed).toEqual([{ reason: 'error', wasOpen: false }]);
    expect(bob.sent).toEqual([{ kind: 'close', session: 's1' }]);
  });
});
