import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PEER_MESSAGE_MAX_BYTES, PEER_PROTOCOL_VERSION } from '../../../../shared/peer-protocol.js';
import type { PeerSetup } from './peer-factory.js';
import { PeerLink, SEND_BUFFER_LIMIT, type PeerLinkCallbacks } from './peer-link.js';
import { silentPeerLog } from './peer-log.js';
import { CANDIDATE, fakePeerFactory, OFFER, statsWith } from './test/fakes.js';

const CHAT = {
  type: 'chat_message',
  id: '0b6a3c52-3f1e-4a8e-9a59-2f3a4c9b8d01',
  seq: 1,
  ts: 1,
  text: 'hi',
} as const;

/** This page's instance, and the other side's. */
const OURS = '5f0c2f9e-8a1d-4c3b-9e7f-1a2b3c4d5e6f';
const THEIRS = '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a';
const HELLO = { type: 'peer_hello', version: PEER_PROTOCOL_VERSION, instance: OURS } as const;

const DECLINE = { type: 'file_decline', transferId: '7d3f3d0e-7c6b-4b8e-8d55-9c0a1b2c3d4e' } as const;

function setup(options: { initiator?: boolean } = {}) {
  const fakes = fakePeerFactory();
  const callbacks = {
    signal: vi.fn<PeerLinkCallbacks['signal']>(),
    open: vi.fn<PeerLinkCallbacks['open']>(),
    hello: vi.fn<PeerLinkCallbacks['hello']>(),
    message: vi.fn<PeerLinkCallbacks['message']>(),
    chunk: vi.fn<PeerLinkCallbacks['chunk']>(),
    path: vi.fn<PeerLinkCallbacks['path']>(),
    close: vi.fn<PeerLinkCallbacks['close']>(),
  };
  const debug = vi.fn();
  const link = new PeerLink({
    id: 'L1',
    friendId: 'bob',
    remote: 'b1',
    instance: OURS,
    initiator: options.initiator ?? true,
    connectTimeoutMs: 15_000,
    iceDisconnectedMs: 4_000,
    callbacks,
    log: { ...silentPeerLog, debug },
  });
  const ready: PeerSetup = { factory: fakes.factory, config: { iceServers: [] } };
  return { link, fakes, callbacks, ready, debug };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('PeerLink', () => {
  it('creates the peer with the role and ICE config, and passes its signals on', () => {
    const { link, fakes, callbacks, ready } = setup({ initiator: false });
    link.start(ready);
    expect(fakes.last().options).toEqual({ initiator: false, config: { iceServers: [] } });
    fakes.last().emitSignal(CANDIDATE);
    expect(callbacks.signal).toHaveBeenCalledWith(CANDIDATE);
  });

  it('queues signals until an asynchronous setup is ready, then feeds them in order', async () => {
    const { link, fakes, ready } = setup({ initiator: false });
    let resolve!: (setup: PeerSetup) => void;
    link.start(new Promise<PeerSetup>((r) => (resolve = r)));
    link.signal(OFFER);
    link.signal(CANDIDATE);
    expect(fakes.peers).toHaveLength(0);
    resolve(ready);
    await vi.advanceTimersByTimeAsync(0);
    expect(fakes.last().received).toEqual([OFFER, CANDIDATE]);
  });

  it('closes with `error` when the setup fails', async () => {
    const { link, callbacks } = setup();
    link.start(Promise.reject(new Error('no WebRTC')));
    await vi.advanceTimersByTimeAsync(0);
    expect(callbacks.close).toHaveBeenCalledWith('error', false);
    expect(link.state).toBe('closed');
  });

  it('says peer_hello on open, reports open, and reads the path', async () => {
    const { link, fakes, callbacks, ready } = setup();
    link.start(ready);
    fakes.last().report = statsWith('relay');
    fakes.last().open();
    expect(link.state).toBe('open');
    expect(callbacks.open).toHaveBeenCalledOnce();
    expect(fakes.last().sentMessages()).toEqual([HELLO]);
    expect(fakes.last().files.sent).toEqual([JSON.stringify(HELLO)]);
    await vi.advanceTimersByTimeAsync(0);
    expect(callbacks.path).toHaveBeenCalledWith('turn');
    expect(link.path).toBe('turn');
  });

  it('re-reads the path when ICE reconnects and reports only changes', async () => {
    const { link, fakes, callbacks, ready } = setup();
    link.start(ready);
    fakes.last().open();
    await vi.advanceTimersByTimeAsync(0);
    expect(callbacks.path).toHaveBeenLastCalledWith('direct');
    fakes.last().ice('completed');
    await vi.advanceTimersByTimeAsync(0);
    expect(callbacks.path).toHaveBeenCalledTimes(1);
    fakes.last().report = statsWith('host', 'relay');
    fakes.last().ice('connected');
    await vi.advanceTimersByTimeAsync(0);
    expect(callbacks.path).toHaveBeenLastCalledWith('turn');
  });

  it('times out an attempt that does not open, destroying the peer', () => {
    const { link, fakes, callbacks, ready } = setup();
    link.start(ready);
    vi.advanceTimersByTime(14_999);
    expect(callbacks.close).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(callbacks.close).toHaveBeenCalledWith('timeout', false);
    expect(fakes.last().destroyed).toBe(true);
  });

  it('does not time out once open', () => {
    const { link, fakes, callbacks, ready } = setup();
    link.start(ready);
    fakes.last().open();
    vi.advanceTimersByTime(60_000);
    expect(callbacks.close).not.toHaveBeenCalled();
    expect(link.state).toBe('open');
  });

  it('gives ICE `disconnected` a grace, closes after it, and closes at once on `failed`', () => {
    const first = setup();
    first.link.start(first.ready);
    first.fakes.last().open();
    first.fakes.last().ice('disconnected');
    vi.advanceTimersByTime(3_000);
    first.fakes.last().ice('connected');
    vi.advanceTimersByTime(10_000);
    expect(first.link.state).toBe('open');
    first.fakes.last().ice('disconnected');
    vi.advanceTimersByTime(4_000);
    expect(first.callbacks.close).toHaveBeenCalledWith('ice_disconnected', true);

    const second = setup();
    second.link.start(second.ready);
    second.fakes.last().open();
    second.fakes.last().ice('failed');
    expect(second.callbacks.close).toHaveBeenCalledWith('ice_failed', true);
  });

  it('reports a close by the peer itself once, as channel_closed or error', () => {
    const { link, fakes, callbacks, ready } = setup();
    link.start(ready);
    fakes.last().open();
    fakes.last().closeByItself();
    fakes.last().closeByItself(new Error('again'));
    link.close('local');
    expect(callbacks.close).toHaveBeenCalledOnce();
    expect(callbacks.close).toHaveBeenCalledWith('channel_closed', true);

    const failing = setup();
    failing.link.start(failing.ready);
    failing.fakes.last().closeByItself(new Error('Connection failed.'));
    expect(failing.callbacks.close).toHaveBeenCalledWith('error', false);
  });

  it('delivers valid messages and drops bad input without throwing', () => {
    const { link, fakes, callbacks, ready, debug } = setup();
    link.start(ready);
    fakes.last().open();
    const peer = fakes.last();
    const bad: unknown[] = [
      'not json',
      JSON.stringify({ type: 'chat_message', id: 'x' }),
      JSON.stringify({ type: 'unknown' }),
      JSON.stringify({ ...CHAT, text: 'x'.repeat(PEER_MESSAGE_MAX_BYTES) }),
      new Uint8Array([1, 2, 3]),
      null,
    ];
    for (const raw of bad) expect(() => peer.data(raw)).not.toThrow();
    expect(callbacks.message).not.toHaveBeenCalled();
    expect(debug).toHaveBeenCalledWith(
      'peer: dropped a bad message',
      expect.objectContaining({ reason: 'too large', link: 'L1' }),
    );
    peer.data(JSON.stringify(CHAT));
    expect(callbacks.message).toHaveBeenCalledWith(CHAT);
  });

  it('keeps peer_hello to itself, and closes on another protocol version', () => {
    const { link, fakes, callbacks, ready } = setup();
    link.start(ready);
    fakes.last().open();
    fakes.last().data(JSON.stringify({ type: 'peer_hello', version: PEER_PROTOCOL_VERSION }));
    expect(callbacks.message).not.toHaveBeenCalled();
    expect(link.state).toBe('open');
    // A peer that does not say its instance: its connection stands for it.
    expect(callbacks.hello).toHaveBeenCalledWith('b1');
    fakes.last().data(JSON.stringify({ type: 'peer_hello', version: PEER_PROTOCOL_VERSION + 1 }));
    expect(callbacks.close).toHaveBeenCalledWith('incompatible', true);
  });

  it('sends only while open, within the size limit and while the channel is not full', () => {
    const { link, fakes, ready } = setup();
    link.start(ready);
    expect(link.send(CHAT)).toBe(false);
    const peer = fakes.last();
    peer.open();
    expect(link.send(CHAT)).toBe(true);
    expect(link.send({ ...CHAT, text: 'x'.repeat(PEER_MESSAGE_MAX_BYTES) })).toBe(false);
    peer.bufferedAmount = SEND_BUFFER_LIMIT + 1;
    expect(link.send(CHAT)).toBe(false);
    expect(peer.sentMessages()).toEqual([HELLO, CHAT]);
    link.close('local');
    expect(link.send(CHAT)).toBe(false);
  });

  it('offers the file channel while open: frames, control text, buffered amount and drain', () => {
    const { link, fakes, ready } = setup();
    link.start(ready);
    expect(link.fileChannel()).toBeNull();
    const peer = fakes.last();
    peer.open();
    const channel = link.fileChannel();
    if (!channel) throw new Error('no file channel');
    const frame = new Uint8Array([1, 2, 3]).buffer;
    expect(channel.send(frame)).toBe(true);
    expect(channel.sendControl(DECLINE)).toBe(true);
    expect(peer.files.sent).toEqual([JSON.stringify(HELLO), frame, JSON.stringify(DECLINE)]);
    peer.files.bufferedAmount = 5;
    expect(channel.bufferedAmount).toBe(5);
    const drained = vi.fn();
    const off = channel.onDrain(drained);
    peer.files.drain();
    off();
    peer.files.drain();
    expect(drained).toHaveBeenCalledOnce();
    link.close('local');
    expect(channel.send(frame)).toBe(false);
    expect(channel.sendControl(DECLINE)).toBe(false);
    expect(link.fileChannel()).toBeNull();
  });

  it('passes file channel frames on as chunks and transfer control text as messages, drops the rest', () => {
    const { link, fakes, callbacks, ready, debug } = setup();
    link.start(ready);
    const peer = fakes.last();
    peer.fileData(new ArrayBuffer(4));
    expect(callbacks.chunk).not.toHaveBeenCalled();
    peer.open();
    const frame = new ArrayBuffer(8);
    peer.fileData(frame);
    expect(callbacks.chunk).toHaveBeenCalledWith(frame);
    peer.fileData(JSON.stringify(DECLINE));
    expect(callbacks.message).toHaveBeenCalledWith(DECLINE);
    for (const raw of [JSON.stringify(CHAT), 'nope', new Uint8Array([1]), 42]) {
      expect(() => peer.fileData(raw)).not.toThrow();
    }
    expect(callbacks.message).toHaveBeenCalledOnce();
    expect(debug).toHaveBeenCalledWith(
      'peer: dropped a bad file channel message',
      expect.objectContaining({ reason: 'unexpected chat_message' }),
    );
  });

  it("learns the other side's instance from the first hello on either channel, even before open", () => {
    const { link, fakes, callbacks, ready } = setup();
    link.start(ready);
    const peer = fakes.last();
    expect(link.remoteInstance).toBeNull();
    // The other side saw the channels open first: its file channel hello beats our open.
    peer.fileData(JSON.stringify({ type: 'peer_hello', version: PEER_PROTOCOL_VERSION, instance: THEIRS }));
    expect(link.remoteInstance).toBe(THEIRS);
    expect(callbacks.hello).toHaveBeenCalledWith(THEIRS);
    peer.open();
    // The same hello on the chat channel, and a later one claiming another page, change nothing.
    peer.data(JSON.stringify({ type: 'peer_hello', version: PEER_PROTOCOL_VERSION, instance: THEIRS }));
    peer.data(JSON.stringify({ type: 'peer_hello', version: PEER_PROTOCOL_VERSION, instance: OURS }));
    expect(callbacks.hello).toHaveBeenCalledOnce();
    expect(link.remoteInstance).toBe(THEIRS);
    expect(callbacks.message).not.toHaveBeenCalled();
    // A bad instance is bad input: dropped, the link stays.
    peer.fileData(JSON.stringify({ type: 'peer_hello', version: PEER_PROTOCOL_VERSION, instance: 'x' }));
    expect(link.state).toBe('open');
  });

  it('drops signals after close and never creates a peer for a closed link', async () => {
    const { link, fakes, ready } = setup();
    let resolve!: (setup: PeerSetup) => void;
    link.start(new Promise<PeerSetup>((r) => (resolve = r)));
    link.close('local');
    link.signal(OFFER);
    resolve(ready);
    await vi.advanceTimersByTimeAsync(0);
    expect(fakes.peers).toHaveLength(0);
  });
});
