/**
 * Dialing (knocks, the initiator rule, offers), signals for stale links, open links, the WebRTC
 * library, ICE settings and file channels. Links closing and being dialed again:
 * `peer-mesh-recovery.test.ts`.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PEER_PROTOCOL_VERSION } from '../../../../shared/peer-protocol.js';
import type { PeerFactory } from './peer-factory.js';
import { PeerMesh } from './peer-mesh.js';
import { ANSWER, CANDIDATE, FakeGateway, fakePeerFactory, OFFER, statsWith } from './test/fakes.js';
import { broadcastKnock, CHAT, knockTo, ME, setupMesh } from './test/mesh-harness.js';

/** Captured before the fake timers: WebCrypto (the relay's keys) finishes in real time. */
const realSetImmediate = setImmediate;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('connect and the initiator rule', () => {
  it('knocks on all the friend’s connections once, and marks the start', () => {
    const { mesh, gateway, marks } = setupMesh();
    mesh.connect('bob');
    mesh.connect('bob');
    expect(gateway.take()).toEqual([broadcastKnock]);
    expect(mesh.path('bob')).toBe('connecting');
    expect(marks).toEqual(['parley:connect:bob']);
  });

  it('sends nothing for an offline or unknown friend, and knocks once they come online', () => {
    const { mesh, gateway } = setupMesh({ friends: { bob: 'offline' } });
    mesh.connect('bob');
    mesh.connect('carol');
    expect(gateway.take()).toEqual([]);
    expect(mesh.path('bob')).toBe('none');
    gateway.presence('bob', 'away');
    expect(gateway.take()).toEqual([broadcastKnock]);
    gateway.friendAccepted('carol', 'online');
    expect(gateway.take()).toEqual([{ ...broadcastKnock, to: { userId: 'carol' } }]);
  });

  it('dials a knocking connection it should dial, with a fresh link id per attempt', () => {
    const { gateway, fakes, knock } = setupMesh();
    knock('z9');
    expect(fakes.peers).toHaveLength(1);
    expect(fakes.last().options.initiator).toBe(true);
    fakes.last().emitSignal(OFFER);
    expect(gateway.take()).toEqual([
      {
        type: 'signal',
        to: { userId: 'bob', connectionId: 'z9' },
        data: { kind: 'signal', link: 'L1', signal: OFFER },
      },
    ]);
  });

  it('answers a knock from a connection that should dial with a knock aimed at it', () => {
    const { gateway, fakes, knock } = setupMesh();
    knock('b1');
    expect(fakes.peers).toHaveLength(0);
    expect(gateway.take()).toEqual([knockTo('b1')]);
  });

  it('makes one attempt when knocks cross', () => {
    const { mesh, gateway, fakes, knock } = setupMesh();
    mesh.connect('bob');
    knock('z9'); // z9's own knock: we should dial, so we do
    knock('z9'); // z9's answer to our knock: an attempt is already under way
    expect(fakes.peers).toHaveLength(1);
    expect(gateway.take()).toEqual([broadcastKnock]);
  });

  it('answers an offer with a responder peer under the offer’s link id', () => {
    const { gateway, fakes, offer } = setupMesh();
    offer('b1', 'X1');
    const peer = fakes.last();
    expect(peer.options).toEqual({ initiator: false, config: { iceServers: [] } });
    expect(peer.received).toEqual([OFFER]);
    peer.emitSignal(ANSWER);
    expect(gateway.take()).toEqual([
      {
        type: 'signal',
        to: { userId: 'bob', connectionId: 'b1' },
        data: { kind: 'signal', link: 'X1', signal: ANSWER },
      },
    ]);
    gateway.signal('bob', 'b1', { kind: 'signal', link: 'X1', signal: CANDIDATE });
    expect(fakes.peers).toHaveLength(1);
    expect(peer.received).toEqual([OFFER, CANDIDATE]);
  });

  it('passes injected ICE settings to each new peer', () => {
    const gateway = new FakeGateway();
    const fakes = fakePeerFactory();
    new PeerMesh({
      gateway,
      loadFactory: () => fakes.factory,
      iceSettings: () => ({ iceServers: [{ urls: 'turn:127.0.0.1:3478' }], iceTransportPolicy: 'relay' }),
    });
    gateway.hello(ME, { bob: 'online' });
    gateway.signal('bob', 'b1', { kind: 'signal', link: 'X1', signal: OFFER });
    expect(fakes.last().options.config).toEqual({
      iceServers: [{ urls: 'turn:127.0.0.1:3478' }],
      iceTransportPolicy: 'relay',
    });
  });

  it('settles an offer against its own attempt by the rule: the smaller id’s offer wins', () => {
    const { fakes, knock, offer } = setupMesh();
    knock('z9'); // we dial z9
    offer('z9', 'X1'); // z9 should not offer; dropped
    expect(fakes.peers).toHaveLength(1);
    expect(fakes.last().destroyed).toBe(false);
  });
});

describe('stale links', () => {
  it('drops signals for links it does not hold, and from the wrong connection', () => {
    const { gateway, fakes, offer, debug } = setupMesh();
    gateway.signal('bob', 'b1', { kind: 'signal', link: 'nope', signal: CANDIDATE });
    expect(fakes.peers).toHaveLength(0);
    expect(debug).toHaveBeenCalledWith('peer: dropped a signal for a link not held', {
      link: 'nope',
      type: 'candidate',
    });
    offer('b1', 'X1');
    gateway.signal('bob', 'b2', { kind: 'signal', link: 'X1', signal: CANDIDATE });
    expect(fakes.last().received).toEqual([OFFER]);
  });

  it('replaces an attempt by the other side’s newer one and drops the old one’s signals', () => {
    const { gateway, fakes, offer } = setupMesh();
    offer('b1', 'X1');
    offer('b1', 'X2');
    const [old, current] = fakes.peers;
    expect(old?.destroyed).toBe(true);
    gateway.signal('bob', 'b1', { kind: 'signal', link: 'X1', signal: CANDIDATE });
    expect(current?.received).toEqual([OFFER]);
    expect(old?.received).toEqual([OFFER]);
  });

  it('drops signals from someone not known as a friend', () => {
    const { gateway, fakes } = setupMesh();
    gateway.signal('mallory', 'x1', { kind: 'signal', link: 'X1', signal: OFFER });
    gateway.signal('mallory', 'x1', { kind: 'knock' });
    expect(fakes.peers).toHaveLength(0);
    expect(gateway.take()).toEqual([]);
  });
});

describe('open links', () => {
  it('reports the link, marks the first open, says peer_hello and reads the path', async () => {
    const { mesh, events, marks, openFrom } = setupMesh();
    mesh.connect('bob');
    const peer = openFrom('b1', 'X1');
    expect(events.link).toEqual([{ friendId: 'bob', connectionId: 'b1', open: true }]);
    expect(mesh.openLinks('bob')).toEqual(['b1']);
    expect(marks).toEqual(['parley:connect:bob', 'parley:open:bob']);
    const hello = { type: 'peer_hello', version: PEER_PROTOCOL_VERSION, instance: mesh.instance };
    expect(peer.sentMessages()).toEqual([hello]);
    expect(peer.files.sent).toEqual([JSON.stringify(hello)]);
    expect(mesh.path('bob')).toBe('connecting');
    await vi.advanceTimersByTimeAsync(0);
    expect(mesh.path('bob')).toBe('direct');
    expect(events.path).toEqual([
      { friendId: 'bob', path: 'connecting' },
      { friendId: 'bob', path: 'direct' },
    ]);
  });

  it('delivers validated messages with their connection, and drops bad ones', () => {
    const { events, openFrom } = setupMesh();
    const peer = openFrom('b1', 'X1');
    peer.data('{"type":"chat_message"}');
    peer.data(JSON.stringify(CHAT));
    expect(events.message).toEqual([{ friendId: 'bob', connectionId: 'b1', message: CHAT }]);
  });

  it('sends to every open link of the friend, or to one', () => {
    const { mesh, openFrom, openTo } = setupMesh();
    expect(mesh.send('bob', CHAT)).toBe(0);
    const fromB1 = openFrom('b1', 'X1');
    const toZ9 = openTo('z9');
    expect(mesh.openLinks('bob').sort()).toEqual(['b1', 'z9']);
    expect(mesh.send('bob', CHAT)).toBe(2);
    expect(mesh.sendTo('bob', 'z9', CHAT)).toBe(true);
    expect(mesh.sendTo('bob', 'nope', CHAT)).toBe(false);
    expect(fromB1.sentMessages()).toHaveLength(2);
    expect(toZ9.sentMessages()).toHaveLength(3);
  });

  it('shows the best path of the friend’s links', async () => {
    const { mesh, fakes, openFrom, openTo } = setupMesh();
    const relayed = openFrom('b1', 'X1');
    relayed.report = statsWith('relay');
    relayed.ice('connected'); // re-read
    await vi.advanceTimersByTimeAsync(0);
    expect(mesh.path('bob')).toBe('turn');
    const direct = openTo('z9');
    await vi.advanceTimersByTimeAsync(0);
    expect(mesh.path('bob')).toBe('direct');
    direct.closeByItself();
    expect(mesh.path('bob')).toBe('turn');
    expect(fakes.peers).toHaveLength(2);
  });
});

describe('the WebRTC library', () => {
  it('feeds an offer that arrived while the library was loading once it is loaded', async () => {
    const fakes = fakePeerFactory();
    let resolve!: (factory: PeerFactory) => void;
    const loading = new Promise<PeerFactory>((r) => (resolve = r));
    const { offer } = setupMesh({ loadFactory: () => loading });
    offer('b1', 'X1');
    resolve(fakes.factory);
    await vi.advanceTimersByTimeAsync(0);
    expect(fakes.last().received).toEqual([OFFER]);
  });

  it('without WebRTC, still knocks, and answers knocks and offers with the server relay', async () => {
    const { mesh, gateway, fakes, knock, offer } = setupMesh({ loadFactory: () => Promise.resolve(null) });
    await vi.advanceTimersByTimeAsync(0);
    mesh.connect('bob');
    expect(gateway.take()).toEqual([broadcastKnock]);
    knock('z9');
    offer('b1', 'X1');
    expect(gateway.take()).toEqual([]); // neither dials nor knocks back
    expect(fakes.peers).toEqual([]);
    expect(mesh.path('bob')).toBe('connecting');
    // Key generation is real WebCrypto on the thread pool: wait on the real clock, not a tick count
    // (a loaded machine takes longer).
    const deadline = process.hrtime.bigint() + 10_000_000_000n;
    while (gateway.relayed.length < 2 && process.hrtime.bigint() < deadline) {
      await new Promise((resolve) => realSetImmediate(resolve));
    }
    // Two independent key generations: either may finish first.
    expect(gateway.relayed.map((frame) => [frame.to.connectionId, frame.data.kind]).sort()).toEqual([
      ['b1', 'key'],
      ['z9', 'key'],
    ]);
  });
});

describe('ICE settings', () => {
  it('hands refreshed settings to the live peer connections, not to closed ones', () => {
    const { mesh, fakes, offer, openFrom } = setupMesh();
    const open = openFrom('b1', 'X1');
    offer('b2', 'X2');
    const attempt = fakes.last();
    openFrom('b3', 'X3').closeByItself();
    const closed = fakes.last();
    const turn = { urls: 'turn:127.0.0.1:3478', username: '2:u', credential: 'c' };
    mesh.applyIceSettings({ iceServers: [turn], iceTransportPolicy: 'relay' });
    const expected = [{ iceServers: [turn], iceTransportPolicy: 'relay' }];
    expect(open.configured).toEqual(expected);
    expect(attempt.configured).toEqual(expected);
    expect(closed.configured).toEqual([]);
  });
});

describe('file channels', () => {
  it('gives the open link’s file channel and reports its frames as chunks', () => {
    const { mesh, events, openFrom } = setupMesh();
    expect(mesh.fileChannel('bob', 'b1')).toBeNull();
    const peer = openFrom('b1', 'X1');
    const channel = mesh.fileChannel('bob', 'b1');
    expect(channel?.send(new ArrayBuffer(2))).toBe(true);
    expect(peer.files.sent).toHaveLength(2); // the hello, then the frame
    const frame = new ArrayBuffer(3);
    peer.fileData(frame);
    expect(events.chunk).toEqual([{ friendId: 'bob', connectionId: 'b1', frame }]);
    expect(mesh.fileChannel('carol', 'b1')).toBeNull();
  });
});
