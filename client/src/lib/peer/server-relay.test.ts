import { describe, expect, it, vi } from 'vitest';
import { generateRelayKeyPair, RelayCipher } from '../relay/relay-crypto.js';
import type { RelayCloseReason, RelayLink } from './relay-link.js';
import { ServerRelay } from './server-relay.js';
import { FakeGateway } from './test/fakes.js';

async function until(condition: () => boolean, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function setup(options: { friends?: string[]; now?: () => number } = {}) {
  const gateway = new FakeGateway();
  const friends = new Set(options.friends ?? ['bob']);
  const opened: RelayLink[] = [];
  const closed: Array<{ remote: string; reason: RelayCloseReason }> = [];
  const debug = vi.fn();
  const warn = vi.fn();
  const relay = new ServerRelay({
    gateway,
    log: { debug, warn },
    now: options.now ?? Date.now,
    keyTimeoutMs: 10_000,
    newSessionId: () => 'mine',
    callbacks: {
      accepts: (friendId) => friends.has(friendId),
      open: (link) => opened.push(link),
      message: () => {},
      chunk: () => {},
      close: (link, reason) => closed.push({ remote: link.remote, reason }),
    },
  });
  relay.setSelf('m5');
  return { gateway, relay, opened, closed, debug, warn };
}

/** Bob's connection `remote` starts a session: a real key, so it opens. */
async function bobStarts(t: ReturnType<typeof setup>, remote: string, session = `s-${remote}`) {
  const keys = await generateRelayKeyPair();
  t.gateway.relay('bob', remote, { kind: 'key', session, publicKey: keys.publicKey });
  await until(() => t.opened.some((link) => link.remote === remote), 'the session to open');
  return keys;
}

describe('ServerRelay', () => {
  it('answers a friend’s key with a reply on the same session, and ignores strangers', async () => {
    const t = setup();
    const mallory = await generateRelayKeyPair();
    t.gateway.relay('mallory', 'x1', { kind: 'key', session: 's1', publicKey: mallory.publicKey });
    await bobStarts(t, 'b1');
    const replies = t.gateway.relayed.filter((f) => f.data.kind === 'key');
    expect(replies).toEqual([
      {
        type: 'relay',
        to: { userId: 'bob', connectionId: 'b1' },
        data: { kind: 'key', session: 's-b1', publicKey: expect.any(String), reply: true },
      },
    ]);
    expect(t.debug).toHaveBeenCalledWith('peer: dropped a relay frame from someone not known as a friend', {
      kind: 'key',
    });
  });

  it('derives the keys the other side derives: its boxes open here', async () => {
    const gateway = new FakeGateway();
    const received: string[] = [];
    const relay = new ServerRelay({
      gateway,
      log: { debug() {}, warn() {} },
      now: Date.now,
      keyTimeoutMs: 10_000,
      callbacks: {
        accepts: () => true,
        open() {},
        message: (_link, message) => received.push(message.type === 'typing' ? 'typing' : message.type),
        chunk: () => {},
        close() {},
      },
    });
    relay.setSelf('m6');
    const keys = await generateRelayKeyPair();
    gateway.relay('bob', 'b1', { kind: 'key', session: 'sx', publicKey: keys.publicKey });
    await until(() => relay.openLinkTo('bob', 'b1') !== undefined, 'open');
    const reply = gateway.relayed.find(
      (f) => f.data.kind === 'key' && f.data.reply && f.data.session === 'sx',
    )?.data;
    if (reply?.kind !== 'key') throw new Error('no reply');
    const bob = await RelayCipher.derive(keys, reply.publicKey, { session: 'sx', self: 'b1', peer: 'm6' });
    const box = await bob.seal('{"type":"typing","active":true}');
    gateway.relay('bob', 'b1', { kind: 'box', session: 'sx', ...box });
    await until(() => received.length === 1, 'the message');
    expect(received).toEqual(['typing']);
  });

  it('answers a box for a session it does not hold with close, once', async () => {
    const t = setup();
    const box = { kind: 'box' as const, session: 'gone', iv: 'AAAAAAAAAAAAAAAA', data: 'AAAA' };
    t.gateway.relay('bob', 'b1', box);
    t.gateway.relay('bob', 'b1', box);
    await until(() => t.gateway.relayed.length > 0, 'the close');
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(t.gateway.relayed).toEqual([
      { type: 'relay', to: { userId: 'bob', connectionId: 'b1' }, data: { kind: 'close', session: 'gone' } },
    ]);
  });

  it('ignores a close or a key reply for another session', async () => {
    const t = setup();
    await bobStarts(t, 'b1');
    t.gateway.relay('bob', 'b1', { kind: 'close', session: 'other' });
    t.gateway.relay('bob', 'b2', { kind: 'close', session: 's-b1' });
    t.gateway.relay('bob', 'b1', { kind: 'key', session: 'other', publicKey: 'AAAA', reply: true });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(t.closed).toEqual([]);
    t.gateway.relay('bob', 'b1', { kind: 'close', session: 's-b1' });
    await until(() => t.closed.length === 1, 'the close');
    expect(t.closed).toEqual([{ remote: 'b1', reason: 'peer_closed' }]);
  });

  it('replaces a session when the friend’s connection starts a new one', async () => {
    const t = setup();
    await bobStarts(t, 'b1', 'first');
    t.opened.length = 0;
    await bobStarts(t, 'b1', 'second');
    expect(t.closed).toEqual([{ remote: 'b1', reason: 'replaced' }]);
    expect(t.relay.openLinkTo('bob', 'b1')?.session).toBe('second');
  });

  it('ends the sessions that just sent when the server refuses a relay frame', async () => {
    let now = 1_000_000;
    const t = setup({ now: () => now });
    await bobStarts(t, 'b1');
    await bobStarts(t, 'b2');
    now += 5_000;
    // b2's session sends; then the server says that connection is gone.
    t.relay.openLinkTo('bob', 'b2')?.send({ type: 'typing', active: true });
    await until(() => t.gateway.relayed.filter((f) => f.data.kind === 'box').length >= 3, 'the box');
    t.gateway.errorFrame('peer_offline', 'relay');
    expect(t.closed).toEqual([{ remote: 'b2', reason: 'unreachable' }]);
    // Errors about signals are not the relay's.
    t.gateway.errorFrame('peer_offline', 'signal');
    expect(t.closed).toHaveLength(1);
  });

  it('ends exactly the session the server names in a refusal, even if others just sent', async () => {
    const t = setup();
    await bobStarts(t, 'b1');
    await bobStarts(t, 'b2');
    t.relay.openLinkTo('bob', 'b1')?.send({ type: 'typing', active: true });
    t.relay.openLinkTo('bob', 'b2')?.send({ type: 'typing', active: true });
    t.gateway.errorFrame('peer_offline', 'relay', { userId: 'bob', connectionId: 'b1' });
    expect(t.closed).toEqual([{ remote: 'b1', reason: 'unreachable' }]);
    expect(t.relay.openLinkTo('bob', 'b2')).toBeDefined();
  });

  it('ends a session the server rate-limited, telling the other side', async () => {
    const t = setup();
    await bobStarts(t, 'b1');
    await until(() => t.gateway.relayed.some((f) => f.data.kind === 'box'), 'the hello');
    t.gateway.errorFrame('rate_limited', 'relay');
    expect(t.closed).toEqual([{ remote: 'b1', reason: 'rate_limited' }]);
    expect(t.gateway.relayed.at(-1)?.data).toEqual({ kind: 'close', session: 's-b1' });
  });

  it('ends every session when this connection’s id changes', async () => {
    const t = setup();
    await bobStarts(t, 'b1');
    t.relay.setSelf('m9');
    expect(t.closed).toEqual([{ remote: 'b1', reason: 'identity_changed' }]);
    expect(t.relay.linksOf('bob')).toEqual([]);
  });

  it('bounds the backlog of frames waiting to be handled', async () => {
    const t = setup();
    const box = { kind: 'box' as const, iv: 'AAAAAAAAAAAAAAAA', data: 'AAAA' };
    for (let i = 0; i < 300; i++) t.gateway.relay('bob', 'b1', { ...box, session: `s${i}` });
    expect(t.warn).toHaveBeenCalledTimes(44);
    expect(t.warn).toHaveBeenCalledWith('peer: relay backlog full; dropped a frame', { friendId: 'bob' });
  });
});
