import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PresenceStatus } from '../../../../shared/api.js';
import { PEER_PROTOCOL_VERSION } from '../../../../shared/peer-protocol.js';
import type { PeerFactory } from './peer-factory.js';
import { PeerMesh, type PeerMeshOptions } from './peer-mesh.js';
import type { PeerNetworkEvents } from './peer-network.js';
import { ANSWER, CANDIDATE, FakeGateway, fakePeerFactory, OFFER, statsWith } from './test/fakes.js';

/** Captured before the fake timers: WebCrypto (the relay's keys) finishes in real time. */
const realSetImmediate = setImmediate;

// Our connection is `m5`. Bob's `b1` sorts before it (b1 dials us); his `z9` after (we dial z9).
const ME = 'm5';
const CHAT = {
  type: 'chat_message',
  id: '0b6a3c52-3f1e-4a8e-9a59-2f3a4c9b8d01',
  seq: 1,
  ts: 1,
  text: 'hi',
} as const;

interface SetupOptions {
  friends?: Record<string, PresenceStatus>;
  loadFactory?: PeerMeshOptions['loadFactory'];
  hello?: boolean;
}

function setup(options: SetupOptions = {}) {
  const gateway = new FakeGateway();
  const fakes = fakePeerFactory();
  const marks: string[] = [];
  const debug = vi.fn();
  let linkIds = 0;
  const mesh = new PeerMesh({
    gateway,
    loadFactory: options.loadFactory ?? (() => fakes.factory),
    random: () => 0.5,
    newLinkId: () => `L${++linkIds}`,
    mark: (name) => marks.push(name),
    log: { debug, warn: vi.fn() },
  });
  const events: { [K in keyof PeerNetworkEvents]: Array<PeerNetworkEvents[K]> } = {
    link: [],
    path: [],
    message: [],
    chunk: [],
    instance: [],
  };
  mesh.on('link', (e) => events.link.push(e));
  mesh.on('path', (e) => events.path.push(e));
  mesh.on('message', (e) => events.message.push(e));
  mesh.on('chunk', (e) => events.chunk.push(e));
  mesh.on('instance', (e) => events.instance.push(e));
  if (options.hello ?? true) gateway.hello(ME, options.friends ?? { bob: 'online' });
  gateway.take();

  const knock = (remote: string) => gateway.signal('bob', remote, { kind: 'knock' });
  const offer = (remote: string, link: string) =>
    gateway.signal('bob', remote, { kind: 'signal', link, signal: OFFER });
  /** Bob's `remote` dials us with `link` and the channel opens. */
  const openFrom = (remote: string, link: string) => {
    offer(remote, link);
    const peer = fakes.last();
    peer.open();
    return peer;
  };
  /** We dial Bob's `remote` (which must sort after ME) and the channel opens. */
  const openTo = (remote: string) => {
    knock(remote);
    const peer = fakes.last();
    peer.open();
    return peer;
  };
  return { mesh, gateway, fakes, marks, events, debug, knock, offer, openFrom, openTo };
}

const broadcastKnock = { type: 'signal', to: { userId: 'bob' }, data: { kind: 'knock' } };
const knockTo = (connectionId: string) => ({
  type: 'signal',
  to: { userId: 'bob', connectionId },
  data: { kind: 'knock' },
});
const byeTo = (connectionId: string, link: string) => ({
  type: 'signal',
  to: { userId: 'bob', connectionId },
  data: { kind: 'bye', link },
});

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('connect and the initiator rule', () => {
  it('knocks on all the friend’s connections once, and marks the start', () => {
    const { mesh, gateway, marks } = setup();
    mesh.connect('bob');
    mesh.connect('bob');
    expect(gateway.take()).toEqual([broadcastKnock]);
    expect(mesh.path('bob')).toBe('connecting');
    expect(marks).toEqual(['parley:connect:bob']);
  });

  it('sends nothing for an offline or unknown friend, and knocks once they come online', () => {
    const { mesh, gateway } = setup({ friends: { bob: 'offline' } });
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
    const { gateway, fakes, knock } = setup();
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
    const { gateway, fakes, knock } = setup();
    knock('b1');
    expect(fakes.peers).toHaveLength(0);
    expect(gateway.take()).toEqual([knockTo('b1')]);
  });

  it('makes one attempt when knocks cross', () => {
    const { mesh, gateway, fakes, knock } = setup();
    mesh.connect('bob');
    knock('z9'); // z9's own knock: we should dial, so we do
    knock('z9'); // z9's answer to our knock: an attempt is already under way
    expect(fakes.peers).toHaveLength(1);
    expect(gateway.take()).toEqual([broadcastKnock]);
  });

  it('answers an offer with a responder peer under the offer’s link id', () => {
    const { gateway, fakes, offer } = setup();
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
    const { fakes, knock, offer } = setup();
    knock('z9'); // we dial z9
    offer('z9', 'X1'); // z9 should not offer; dropped
    expect(fakes.peers).toHaveLength(1);
    expect(fakes.last().destroyed).toBe(false);
  });
});

describe('stale links', () => {
  it('drops signals for links it does not hold, and from the wrong connection', () => {
    const { gateway, fakes, offer, debug } = setup();
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
    const { gateway, fakes, offer } = setup();
    offer('b1', 'X1');
    offer('b1', 'X2');
    const [old, current] = fakes.peers;
    expect(old?.destroyed).toBe(true);
    gateway.signal('bob', 'b1', { kind: 'signal', link: 'X1', signal: CANDIDATE });
    expect(current?.received).toEqual([OFFER]);
    expect(old?.received).toEqual([OFFER]);
  });

  it('drops signals from someone not known as a friend', () => {
    const { gateway, fakes } = setup();
    gateway.signal('mallory', 'x1', { kind: 'signal', link: 'X1', signal: OFFER });
    gateway.signal('mallory', 'x1', { kind: 'knock' });
    expect(fakes.peers).toHaveLength(0);
    expect(gateway.take()).toEqual([]);
  });
});

describe('open links', () => {
  it('reports the link, marks the first open, says peer_hello and reads the path', async () => {
    const { mesh, events, marks, openFrom } = setup();
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
    const { events, openFrom } = setup();
    const peer = openFrom('b1', 'X1');
    peer.data('{"type":"chat_message"}');
    peer.data(JSON.stringify(CHAT));
    expect(events.message).toEqual([{ friendId: 'bob', connectionId: 'b1', message: CHAT }]);
  });

  it('sends to every open link of the friend, or to one', () => {
    const { mesh, openFrom, openTo } = setup();
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
    const { mesh, fakes, openFrom, openTo } = setup();
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

describe('cleanup', () => {
  it('closes a link on bye, without answering bye', () => {
    const { mesh, gateway, events, openFrom } = setup();
    const peer = openFrom('b1', 'X1');
    gateway.take();
    gateway.signal('bob', 'b1', { kind: 'bye', link: 'other' });
    expect(peer.destroyed).toBe(false);
    gateway.signal('bob', 'b1', { kind: 'bye', link: 'X1' });
    expect(peer.destroyed).toBe(true);
    expect(events.link.at(-1)).toEqual({ friendId: 'bob', connectionId: 'b1', open: false });
    expect(mesh.openLinks('bob')).toEqual([]);
    expect(mesh.path('bob')).toBe('none');
    expect(gateway.take()).toEqual([]);
  });

  it('closes attempts at once when the friend goes offline, open links after a grace', () => {
    const { mesh, gateway, fakes, offer, openFrom } = setup();
    const open = openFrom('b1', 'X1');
    offer('b2', 'X2');
    const attempt = fakes.last();
    gateway.take();
    gateway.presence('bob', 'offline');
    expect(attempt.destroyed).toBe(true);
    expect(open.destroyed).toBe(false);
    vi.advanceTimersByTime(15_000);
    expect(open.destroyed).toBe(true);
    expect(mesh.openLinks('bob')).toEqual([]);
    expect(gateway.take()).toEqual([]); // nobody there to say bye to
  });

  it('keeps open links when the friend is back within the grace (their signaling reconnected)', () => {
    const { mesh, gateway, openFrom } = setup();
    const open = openFrom('b1', 'X1');
    gateway.presence('bob', 'offline');
    vi.advanceTimersByTime(1_000);
    gateway.presence('bob', 'online');
    vi.advanceTimersByTime(60_000);
    expect(open.destroyed).toBe(false);
    expect(mesh.openLinks('bob')).toEqual(['b1']);
  });

  it('looks for the friend’s connections again when they come back while wanted (a reopened tab)', () => {
    const { mesh, gateway, openFrom } = setup();
    mesh.connect('bob');
    const open = openFrom('b1', 'X1');
    gateway.take();
    gateway.presence('bob', 'offline');
    vi.advanceTimersByTime(1_000);
    gateway.presence('bob', 'online');
    expect(gateway.take()).toEqual([broadcastKnock]);
    expect(open.destroyed).toBe(false);
  });

  it('closes everything at once when unfriended, and then ignores them', () => {
    const { mesh, gateway, fakes, events, offer, openFrom } = setup();
    mesh.connect('bob');
    const open = openFrom('b1', 'X1');
    offer('b2', 'X2');
    gateway.take();
    gateway.friendRemoved('bob');
    expect(fakes.peers.every((peer) => peer.destroyed)).toBe(true);
    expect(mesh.path('bob')).toBe('none');
    expect(events.path.at(-1)).toEqual({ friendId: 'bob', path: 'none' });
    expect(gateway.take()).toEqual([]);
    offer('b1', 'X3');
    expect(fakes.peers).toHaveLength(2);
    vi.advanceTimersByTime(60_000);
    expect(gateway.take()).toEqual([]);
    expect(open.destroyed).toBe(true);
  });

  it('disconnect says bye and stops wanting the friend', () => {
    const { mesh, gateway, openFrom } = setup();
    mesh.connect('bob');
    const peer = openFrom('b1', 'X1');
    gateway.take();
    mesh.disconnect('bob');
    expect(peer.destroyed).toBe(true);
    expect(gateway.take()).toEqual([byeTo('b1', 'X1')]);
    vi.advanceTimersByTime(60_000);
    expect(gateway.take()).toEqual([]);
  });

  it('close() (sign-out) destroys every peer and forgets everything until the next hello', () => {
    const { mesh, gateway, fakes, offer, openFrom, knock } = setup();
    mesh.connect('bob');
    openFrom('b1', 'X1');
    offer('b2', 'X2');
    mesh.close();
    expect(fakes.peers.every((peer) => peer.destroyed)).toBe(true);
    expect(mesh.path('bob')).toBe('none');
    gateway.take();
    knock('z9');
    vi.advanceTimersByTime(60_000);
    expect(fakes.peers).toHaveLength(2);
    expect(gateway.take()).toEqual([]);
  });

  it('leaves no peer behind after ICE failure or the channel closing', () => {
    const { mesh, fakes, openFrom } = setup();
    openFrom('b1', 'X1').ice('failed');
    openFrom('b2', 'X2').closeByItself();
    expect(fakes.peers.every((peer) => peer.destroyed)).toBe(true);
    expect(mesh.openLinks('bob')).toEqual([]);
    expect(mesh.path('bob')).toBe('none');
  });
});

describe('dialing again', () => {
  it('redials a dropped link with jittered backoff while the friend is wanted', () => {
    const { mesh, gateway, openFrom } = setup();
    mesh.connect('bob');
    openFrom('b1', 'X1').closeByItself();
    gateway.take();
    expect(mesh.path('bob')).toBe('connecting');
    vi.advanceTimersByTime(249); // random 0.5 of the first 500 ms ceiling
    expect(gateway.take()).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(gateway.take()).toEqual([broadcastKnock]);
  });

  it('grows the delay while attempts fail and starts over after an open', () => {
    const { mesh, gateway, fakes, knock } = setup();
    mesh.connect('bob');
    gateway.take();
    const knockTimes: number[] = [];
    const start = Date.now();
    for (let round = 0; round < 3; round += 1) {
      knock('z9'); // an answer arrives, we dial, the attempt times out
      vi.advanceTimersByTime(15_000);
      expect(gateway.take()).toContainEqual(byeTo('z9', `L${round + 1}`));
      while (gateway.sent.length === 0) vi.advanceTimersByTime(10);
      knockTimes.push(Date.now() - start);
      expect(gateway.take()).toEqual([broadcastKnock]);
    }
    const waits = knockTimes.map((t, i) => t - (i === 0 ? 0 : knockTimes[i - 1]!) - 15_000);
    expect(waits).toEqual([250, 500, 1000]);
    knock('z9');
    fakes.last().open();
    fakes.last().closeByItself();
    vi.advanceTimersByTime(250);
    expect(gateway.take()).toEqual([broadcastKnock]);
  });

  it('knocks again when a knock gets no answer in time', () => {
    const { mesh, gateway } = setup();
    mesh.connect('bob');
    gateway.take();
    vi.advanceTimersByTime(15_000 + 250);
    expect(gateway.take()).toEqual([broadcastKnock]);
  });

  it('does not redial a friend the app does not want, or no longer wants', () => {
    const unwanted = setup();
    unwanted.openFrom('b1', 'X1').closeByItself();
    vi.advanceTimersByTime(60_000);
    expect(unwanted.gateway.take()).toEqual([]);

    const expired = setup();
    expired.mesh.connect('bob');
    const peer = expired.openFrom('b1', 'X1');
    vi.advanceTimersByTime(10 * 60_000);
    peer.closeByItself();
    expired.gateway.take();
    vi.advanceTimersByTime(60_000);
    expect(expired.gateway.take()).toEqual([]);
  });

  it('redials after a bye while wanted (the other side may have given up on a failure)', () => {
    const { mesh, gateway, openFrom } = setup();
    mesh.connect('bob');
    openFrom('b1', 'X1');
    gateway.signal('bob', 'b1', { kind: 'bye', link: 'X1' });
    gateway.take();
    vi.advanceTimersByTime(250);
    expect(gateway.take()).toEqual([broadcastKnock]);
  });

  it('stops redialing while the friend is offline and knocks again when they return', () => {
    const { mesh, gateway, openFrom } = setup();
    mesh.connect('bob');
    openFrom('b1', 'X1').closeByItself();
    gateway.presence('bob', 'offline');
    gateway.take();
    vi.advanceTimersByTime(60_000);
    expect(gateway.take()).toEqual([]);
    gateway.presence('bob', 'online');
    expect(gateway.take()).toEqual([broadcastKnock]);
  });

  it('answers a knock that came while the link looked open once that link drops', () => {
    const { fakes, knock, openTo } = setup();
    openTo('z9');
    knock('z9'); // z9 lost the link before we noticed
    expect(fakes.peers).toHaveLength(1);
    fakes.last().ice('failed');
    expect(fakes.peers).toHaveLength(2);
    expect(fakes.last().options.initiator).toBe(true);
  });
});

describe('our signaling connection reconnects', () => {
  it('keeps open links, closes attempts, and uses the new connection id from then on', () => {
    const { mesh, gateway, fakes, knock, openFrom } = setup();
    mesh.connect('bob');
    const open = openFrom('b1', 'X1');
    knock('z9');
    const attempt = fakes.last();
    gateway.take();
    expect(mesh.connectionId).toBe(ME);
    gateway.hello('a0', { bob: 'online' }); // a0 sorts before b1 now
    expect(mesh.connectionId).toBe('a0');
    expect(open.destroyed).toBe(false);
    expect(attempt.destroyed).toBe(true);
    expect(gateway.take()).toEqual([byeTo('z9', 'L1')]);
    expect(mesh.openLinks('bob')).toEqual(['b1']);
    knock('b2');
    expect(fakes.last().options.initiator).toBe(true); // a0 < b2: we dial
  });

  it('knocks from the new id for a wanted friend without an open link', () => {
    const { mesh, gateway } = setup();
    mesh.connect('bob');
    gateway.take();
    gateway.hello('n1', { bob: 'online' });
    expect(gateway.take()).toEqual([broadcastKnock]);
    gateway.hello('n1', { bob: 'online' }); // a resync on the same connection changes nothing
    expect(gateway.take()).toEqual([]);
  });

  it('accepts a new link from the friend’s new connection id while holding the old open link', () => {
    const { mesh, fakes, events, openFrom } = setup();
    const old = openFrom('b1', 'X1');
    const renewed = openFrom('a7', 'X2'); // Bob's page reconnected as a7
    expect(renewed.options.initiator).toBe(false);
    expect(mesh.openLinks('bob').sort()).toEqual(['a7', 'b1']);
    old.closeByItself();
    expect(fakes.peers.filter((peer) => !peer.destroyed)).toEqual([renewed]);
    expect(events.link.at(-1)).toEqual({ friendId: 'bob', connectionId: 'b1', open: false });
  });

  it('tells the page behind each open link from its hello: one instance across its connections', () => {
    const { mesh, events, fakes, offer, openFrom } = setup();
    const BOB_PAGE = '3c9a1f7e-2b4d-4e6f-8a0b-1c2d3e4f5a6b';
    const hello = (instance?: string) =>
      JSON.stringify({
        type: 'peer_hello',
        version: PEER_PROTOCOL_VERSION,
        ...(instance ? { instance } : {}),
      });
    expect(mesh.instance).toMatch(/^[0-9a-f-]{36}$/);
    const first = openFrom('b1', 'X1');
    expect(mesh.instanceOf('bob', 'b1')).toBeNull(); // open, its hello not here yet
    first.data(hello(BOB_PAGE));
    expect(mesh.instanceOf('bob', 'b1')).toBe(BOB_PAGE);
    expect(events.instance).toEqual([{ friendId: 'bob', connectionId: 'b1', instance: BOB_PAGE }]);

    // Bob's page reconnected to the server as a7; its hello beats the open here: read on `link`.
    offer('a7', 'X2');
    const renewed = fakes.last();
    renewed.fileData(hello(BOB_PAGE));
    expect(mesh.instanceOf('bob', 'a7')).toBeNull();
    renewed.open();
    expect(events.link.at(-1)).toEqual({ friendId: 'bob', connectionId: 'a7', open: true });
    expect(mesh.instanceOf('bob', 'a7')).toBe(BOB_PAGE);
    expect(events.instance).toHaveLength(1);

    // A client that does not say its instance: its connection stands for it.
    openFrom('z9', 'X3').data(hello());
    expect(mesh.instanceOf('bob', 'z9')).toBe('z9');
    first.closeByItself();
    expect(mesh.instanceOf('bob', 'b1')).toBeNull();
    expect(mesh.instanceOf('carol', 'a7')).toBeNull();
  });

  it('replaces the old link to the same connection when the new one opens', () => {
    const { mesh, gateway, fakes, events, offer, openFrom } = setup();
    const old = openFrom('b1', 'X1');
    gateway.take();
    offer('b1', 'X2'); // b1 dials again (it saw our new id, or lost its side)
    expect(old.destroyed).toBe(false);
    expect(mesh.openLinks('bob')).toEqual(['b1']);
    fakes.last().open();
    expect(old.destroyed).toBe(true);
    expect(gateway.take()).toEqual([byeTo('b1', 'X1')]);
    expect(mesh.openLinks('bob')).toEqual(['b1']);
    expect(events.link).toEqual([
      { friendId: 'bob', connectionId: 'b1', open: true },
      { friendId: 'bob', connectionId: 'b1', open: true },
    ]);
  });
});

describe('the WebRTC library', () => {
  it('feeds an offer that arrived while the library was loading once it is loaded', async () => {
    const fakes = fakePeerFactory();
    let resolve!: (factory: PeerFactory) => void;
    const loading = new Promise<PeerFactory>((r) => (resolve = r));
    const { offer } = setup({ loadFactory: () => loading });
    offer('b1', 'X1');
    resolve(fakes.factory);
    await vi.advanceTimersByTimeAsync(0);
    expect(fakes.last().received).toEqual([OFFER]);
  });

  it('without WebRTC, still knocks, and answers knocks and offers with the server relay', async () => {
    const { mesh, gateway, fakes, knock, offer } = setup({ loadFactory: () => Promise.resolve(null) });
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
    const { mesh, fakes, offer, openFrom } = setup();
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
    const { mesh, events, openFrom } = setup();
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
