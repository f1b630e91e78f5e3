/**
 * The server relay as the mesh's last rung: two real meshes on a fake signaling server that routes
 * signals and relay frames, fake peer connections, real WebCrypto, fake timers for the ladder.
 */
import { afterEach, beforeEach, describe, expect, it, vi, type Mock } from 'vitest';
import type { PresenceStatus } from '../../../../shared/api.js';
import type { PeerMessage } from '../../../../shared/peer-protocol.js';
import { RELAY_FILE_MAX_BYTES } from '../../../../shared/transfer-protocol.js';
import { toBase64 } from '../relay/relay-crypto.js';
import { RELAY_CHUNK_SIZE } from '../transfer/relay-chunk-channel.js';
import type { PeerFactory } from './peer-factory.js';
import { PeerMesh } from './peer-mesh.js';
import type { PeerNetworkEvents } from './peer-network.js';
import { FakeSignalingServer } from './test/fake-signaling.js';
import { fakePeerFactory, OFFER, statsWith, type FakePeer } from './test/fakes.js';

const realSetImmediate = setImmediate;

/** Lets real asynchronous work (WebCrypto, microtasks) run until `condition` holds. */
// WebCrypto runs on the thread pool: wait on the real clock (fake timers do not cover it), so a
// loaded machine only makes these tests slower, not flaky.
const realMs = () => Number(process.hrtime.bigint() / 1_000_000n);

async function until(condition: () => boolean, what = 'the condition'): Promise<void> {
  const deadline = realMs() + 10_000;
  while (realMs() < deadline) {
    if (condition()) return;
    await new Promise((resolve) => realSetImmediate(resolve));
  }
  if (condition()) return;
  throw new Error(`timed out waiting for ${what}`);
}

/** Lets in-flight work finish without waiting for anything in particular. */
async function quiet(): Promise<void> {
  const until = realMs() + 50;
  for (let i = 0; i < 200 || realMs() < until; i++) await new Promise((resolve) => realSetImmediate(resolve));
}

let nextId = 0;
const chat = (text: string): PeerMessage => ({
  type: 'chat_message',
  id: `0b6a3c52-3f1e-4a8e-9a59-${(++nextId).toString().padStart(12, '0')}`,
  seq: nextId,
  ts: 1,
  text,
});

interface Side {
  userId: string;
  connectionId: string;
  mesh: PeerMesh;
  gateway: ReturnType<FakeSignalingServer['device']>;
  fakes: ReturnType<typeof fakePeerFactory>;
  events: { [K in keyof PeerNetworkEvents]: Array<PeerNetworkEvents[K]> };
  marks: string[];
  warn: Mock<(message: string, context?: Record<string, unknown>) => void>;
  texts(): string[];
}

function side(
  server: FakeSignalingServer,
  userId: string,
  connectionId: string,
  friends: Record<string, PresenceStatus>,
  options: { webrtc?: boolean } = {},
): Side {
  const gateway = server.device(userId, connectionId);
  const fakes = fakePeerFactory();
  const warn = vi.fn();
  const marks: string[] = [];
  let links = 0;
  const mesh = new PeerMesh({
    gateway,
    loadFactory: (): PeerFactory | null => ((options.webrtc ?? true) ? fakes.factory : null),
    random: () => 0.5,
    newLinkId: () => `${connectionId}-L${++links}`,
    mark: (name) => marks.push(name),
    log: { debug: vi.fn(), warn },
  });
  const events: Side['events'] = { link: [], path: [], message: [], chunk: [], instance: [] };
  mesh.on('link', (e) => events.link.push(e));
  mesh.on('path', (e) => events.path.push(e));
  mesh.on('message', (e) => events.message.push(e));
  mesh.on('chunk', (e) => events.chunk.push(e));
  gateway.hello(connectionId, friends);
  return {
    userId,
    connectionId,
    mesh,
    gateway,
    fakes,
    events,
    marks,
    warn,
    texts: () => events.message.map(({ message }) => (message.type === 'chat_message' ? message.text : '')),
  };
}

/** Ada (`a1`, the smaller id: she dials) and Bob (`b1`), friends and online. */
function pair(options: { adaWebrtc?: boolean; bobWebrtc?: boolean } = {}) {
  const server = new FakeSignalingServer();
  const ada = side(server, 'ada', 'a1', { bob: 'online' }, { webrtc: options.adaWebrtc ?? true });
  const bob = side(server, 'bob', 'b1', { ada: 'online' }, { webrtc: options.bobWebrtc ?? true });
  return { server, ada, bob };
}

const relayOpen = (a: Side, b: Side) =>
  a.mesh.path(b.userId) === 'server' && b.mesh.path(a.userId) === 'server';

/** Ada wants Bob, no data channel opens, and the ladder reaches the relay. */
async function relayed(options: Parameters<typeof pair>[0] = {}) {
  const t = pair(options);
  t.ada.mesh.connect('bob');
  await vi.advanceTimersByTimeAsync(6_000);
  await until(() => relayOpen(t.ada, t.bob), 'the relay to open');
  return t;
}

/** The current attempt's two fake peers open a data channel to each other. */
async function openDataChannel(ada: Side, bob: Side): Promise<{ adaPeer: FakePeer; bobPeer: FakePeer }> {
  const adaPeer = ada.fakes.last();
  adaPeer.emitSignal(OFFER);
  await until(() => bob.fakes.peers.length > 0, 'Bob to answer the offer');
  const bobPeer = bob.fakes.last();
  adaPeer.onSend = (data) => queueMicrotask(() => bobPeer.data(data));
  bobPeer.onSend = (data) => queueMicrotask(() => adaPeer.data(data));
  adaPeer.open();
  bobPeer.open();
  await vi.advanceTimersByTimeAsync(0);
  return { adaPeer, bobPeer };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('falling back to the server relay', () => {
  it('opens a relay session 6 s after the first attempt when no data channel opens', async () => {
    const { server, ada, bob } = pair();
    ada.mesh.connect('bob');
    await vi.advanceTimersByTimeAsync(5_999);
    await quiet();
    expect(server.relayed).toEqual([]);
    expect(ada.fakes.peers).toHaveLength(1); // the data channel attempt is under way
    expect(ada.mesh.path('bob')).toBe('connecting');
    await vi.advanceTimersByTimeAsync(1);
    await until(() => relayOpen(ada, bob), 'the relay to open');
    expect(server.relayedOf('key').map((k) => k.reply ?? false)).toEqual([false, true]);
    expect(server.relayed[0]?.from).toEqual({ userId: 'ada', connectionId: 'a1' });
    expect(ada.events.link).toEqual([{ friendId: 'bob', connectionId: 'b1', open: true }]);
    expect(bob.events.link).toEqual([{ friendId: 'ada', connectionId: 'a1', open: true }]);
    expect(ada.mesh.openLinks('bob')).toEqual(['b1']);
    expect(ada.events.path.at(-1)).toEqual({ friendId: 'bob', path: 'server' });
    expect(ada.marks).toContain('parley:relay:bob');
    expect(ada.marks).not.toContain('parley:open:bob');
  });

  it('carries messages both ways, validated, with only ciphertext through the server', async () => {
    const { server, ada, bob } = await relayed();
    expect(ada.mesh.send('bob', chat('the password is swordfish'))).toBe(1);
    expect(bob.mesh.sendTo('ada', 'a1', chat('got it, swordfish'))).toBe(true);
    expect(bob.mesh.sendTo('ada', 'nope', chat('nowhere'))).toBe(false);
    await until(() => bob.texts().length === 1 && ada.texts().length === 1, 'both messages');
    expect(bob.events.message[0]).toMatchObject({ friendId: 'ada', connectionId: 'a1' });
    expect(bob.texts()).toEqual(['the password is swordfish']);
    expect(ada.texts()).toEqual(['got it, swordfish']);
    // Each side's first box was its hello, with its page instance.
    expect(ada.mesh.instanceOf('bob', 'b1')).toBe(bob.mesh.instance);
    expect(bob.mesh.instanceOf('ada', 'a1')).toBe(ada.mesh.instance);
    const wire = JSON.stringify(server.relayed);
    for (const secret of ['swordfish', 'password']) {
      expect(wire).not.toContain(secret);
      for (let shift = 0; shift < 3; shift++) {
        const encoded = toBase64(new TextEncoder().encode(`${'x'.repeat(shift)}${secret}`)).slice(4, -4);
        expect(wire).not.toContain(encoded);
      }
    }
    // Nothing went over a data channel.
    expect(ada.fakes.peers.flatMap((peer) => peer.sent)).toEqual([]);
  });

  it('gives a file channel over the session, with the relay’s limits: chunks and control arrive', async () => {
    const { server, ada, bob } = await relayed();
    const channel = ada.mesh.fileChannel('bob', 'b1');
    expect(channel).toMatchObject({ chunkSize: RELAY_CHUNK_SIZE, maxFileSize: RELAY_FILE_MAX_BYTES });
    expect(ada.mesh.fileChannel('bob', 'nope')).toBeNull();
    const frame = new Uint8Array(1000).map((_, i) => (i * 13) & 0xff);
    const decline = { type: 'file_decline', transferId: '6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5f' } as const;
    expect(channel?.send(frame.slice().buffer)).toBe(true);
    expect(channel?.sendControl(decline)).toBe(true);
    await until(() => bob.events.chunk.length === 1 && bob.events.message.length === 1, 'both');
    expect(bob.events.chunk[0]).toMatchObject({ friendId: 'ada', connectionId: 'a1' });
    expect([...new Uint8Array(bob.events.chunk[0]!.frame)]).toEqual([...frame]);
    expect(bob.events.message[0]).toMatchObject({ friendId: 'ada', connectionId: 'a1', message: decline });
    expect(server.relayedOf('box').every((box) => !box.data.includes(toBase64(frame.subarray(0, 30))))).toBe(
      true,
    );
    expect(ada.fakes.peers.flatMap((peer) => peer.sent)).toEqual([]);
  });

  it('drops a box the server altered, logs it, and goes on with the next ones', async () => {
    const { server, ada, bob } = await relayed();
    await quiet(); // both hellos through
    // Pick the box to alter by its size (the server sees only ciphertext): the JSON of that message
    // plus the 16-byte GCM tag, in base64. Counting boxes instead would race the key exchange's own.
    const altered = chat('altered on the way');
    const boxLength = 4 * Math.ceil((new TextEncoder().encode(JSON.stringify(altered)).length + 16) / 3);
    let tampered = 0;
    server.alterRelay = (data, from) => {
      if (data.kind !== 'box' || from.userId !== 'ada' || tampered > 0 || data.data.length !== boxLength) {
        return data;
      }
      tampered += 1;
      const flipped = data.data.startsWith('A') ? `B${data.data.slice(1)}` : `A${data.data.slice(1)}`;
      return { ...data, data: flipped };
    };
    ada.mesh.send('bob', altered);
    ada.mesh.send('bob', chat('arrives intact'));
    await until(() => bob.texts().length === 1, 'the intact message');
    expect(bob.texts()).toEqual(['arrives intact']);
    expect(bob.warn).toHaveBeenCalledWith(
      'peer: dropped a relay box that did not open (tampered, replayed or other keys)',
      { friendId: 'ada', connectionId: 'a1' },
    );
    expect(bob.mesh.path('ada')).toBe('server');
  });

  it('goes to the relay at once after an ICE failure', async () => {
    const { server, ada, bob } = pair();
    const start = Date.now();
    ada.mesh.connect('bob');
    await until(() => ada.fakes.peers.length === 1, 'the attempt');
    ada.fakes.last().ice('failed');
    await until(() => relayOpen(ada, bob), 'the relay to open');
    expect(Date.now() - start).toBeLessThan(1_000);
    expect(server.relayedOf('key')).toHaveLength(2);
  });

  it('settles sessions started by both sides at once on one (the smaller connection id’s)', async () => {
    const { server, ada, bob } = pair();
    ada.mesh.connect('bob');
    bob.mesh.connect('ada');
    await vi.advanceTimersByTimeAsync(6_000);
    await until(() => relayOpen(ada, bob), 'the relay to open');
    await quiet();
    const replies = server.relayedOf('key').filter((key) => key.reply);
    expect(replies).toHaveLength(1);
    const adaSession = server.relayed.find((r) => r.from.userId === 'ada' && r.data.kind === 'key')?.data;
    expect(replies[0]?.session).toBe(adaSession?.session);
    expect(ada.events.link.filter((e) => e.open)).toHaveLength(1);
    expect(bob.events.link.filter((e) => e.open)).toHaveLength(1);
  });

  it('keeps dialing for a data channel while relayed', async () => {
    const { ada } = await relayed();
    const before = ada.fakes.peers.length;
    await vi.advanceTimersByTimeAsync(60_000);
    await quiet();
    expect(ada.fakes.peers.length).toBeGreaterThan(before);
    expect(ada.mesh.path('bob')).toBe('server');
  });
});

describe('switching to a data channel', () => {
  it('moves to the data channel when it opens and closes the relay session', async () => {
    const { server, ada, bob } = await relayed();
    const { adaPeer, bobPeer } = await openDataChannel(ada, bob);
    await until(() => ada.mesh.path('bob') === 'direct' && bob.mesh.path('ada') === 'direct', 'direct');
    // The chat layer sees the connection's link open again (a replaced link: it resends).
    expect(ada.events.link).toEqual([
      { friendId: 'bob', connectionId: 'b1', open: true },
      { friendId: 'bob', connectionId: 'b1', open: true },
    ]);
    expect(bob.events.link.filter((e) => !e.open)).toEqual([]);
    await until(() => server.relayedOf('close').length >= 1, 'close');
    expect(ada.mesh.openLinks('bob')).toEqual(['b1']);
    ada.mesh.send('bob', chat('over the channel'));
    await until(() => bob.texts().length === 1, 'the message');
    expect(adaPeer.sentMessages().at(-1)).toMatchObject({ text: 'over the channel' });
    const boxes = server.relayedOf('box').length;
    bob.mesh.send('ada', chat('back over the channel'));
    await until(() => ada.texts().length === 1, 'the answer');
    expect(bobPeer.sentMessages().at(-1)).toMatchObject({ text: 'back over the channel' });
    expect(server.relayedOf('box')).toHaveLength(boxes);
    // Files take the data channel now, without the relay's limits.
    const files = ada.mesh.fileChannel('bob', 'b1');
    expect(files).not.toBeNull();
    expect(files?.maxFileSize).toBeUndefined();
  });

  it('shows TURN when the data channel is relayed by TURN', async () => {
    const { ada, bob } = await relayed();
    const adaPeer = ada.fakes.last();
    adaPeer.report = statsWith('relay', 'relay');
    await openDataChannel(ada, bob);
    await until(() => ada.mesh.path('bob') === 'turn', 'turn');
  });

  it('falls back again when the data channel is lost later', async () => {
    const { ada, bob } = await relayed();
    const { adaPeer } = await openDataChannel(ada, bob);
    await until(() => ada.mesh.path('bob') === 'direct', 'direct');
    adaPeer.ice('failed');
    await until(() => ada.mesh.path('bob') === 'server' && bob.mesh.path('ada') === 'server', 'relay again');
    expect(ada.events.link.at(-1)).toEqual({ friendId: 'bob', connectionId: 'b1', open: true });
  });
});

describe('relay sessions end', () => {
  it('when the friend goes offline, without a word', async () => {
    const { server, ada } = await relayed();
    const sent = server.relayed.length;
    ada.gateway.presence('bob', 'offline');
    expect(ada.mesh.path('bob')).toBe('none');
    expect(ada.events.link.at(-1)).toEqual({ friendId: 'bob', connectionId: 'b1', open: false });
    await quiet();
    expect(server.relayed).toHaveLength(sent);
  });

  it('when unfriended', async () => {
    const { ada } = await relayed();
    ada.gateway.friendRemoved('bob');
    expect(ada.mesh.openLinks('bob')).toEqual([]);
    expect(ada.events.link.at(-1)).toEqual({ friendId: 'bob', connectionId: 'b1', open: false });
  });

  it('on sign-out and disconnect, telling the other side', async () => {
    const { ada, bob } = await relayed();
    ada.mesh.close();
    expect(ada.mesh.openLinks('bob')).toEqual([]);
    await until(() => bob.mesh.path('ada') === 'none', 'Bob to hear the close');
    expect(bob.events.link.at(-1)).toEqual({ friendId: 'ada', connectionId: 'a1', open: false });

    const again = await relayed();
    again.bob.mesh.disconnect('ada');
    await until(() => again.ada.mesh.openLinks('bob').length === 0, 'Ada to hear the close');
  });

  it('on close from the other side; then the ladder waits again before reopening', async () => {
    const { server, ada, bob } = await relayed();
    bob.mesh.disconnect('ada');
    await until(() => ada.mesh.path('bob') !== 'server', 'the close');
    const keys = server.relayedOf('key').length;
    await vi.advanceTimersByTimeAsync(5_000);
    await quiet();
    expect(server.relayedOf('key')).toHaveLength(keys);
    await vi.advanceTimersByTimeAsync(1_000);
    await until(() => relayOpen(ada, bob), 'the relay to reopen');
  });

  it('when the server says the connection is gone (peer_offline), and it is not relayed to again', async () => {
    const { server, ada, bob } = await relayed();
    server.leave(bob.gateway); // Bob's tab closed; his presence has not turned offline yet
    ada.mesh.send('bob', chat('anyone there?'));
    await until(() => ada.mesh.openLinks('bob').length === 0, 'the session to end');
    expect(ada.events.link.at(-1)).toEqual({ friendId: 'bob', connectionId: 'b1', open: false });
    const keys = server.relayedOf('key').length;
    await vi.advanceTimersByTimeAsync(30_000);
    await quiet();
    expect(server.relayedOf('key')).toHaveLength(keys);
  });

  it('when our connection id changes, and reopens at once from the new one', async () => {
    const { server, ada, bob } = await relayed();
    server.reconnect(ada.gateway, 'a2');
    ada.gateway.hello('a2', { bob: 'online' });
    expect(ada.mesh.path('bob')).not.toBe('server');
    await until(() => server.relayedOf('key').length === 4, 'a new key exchange');
    expect(new Set(server.relayedOf('key').map((k) => k.session)).size).toBe(2);
    await until(
      () => bob.mesh.openLinks('ada').includes('a2') && ada.mesh.path('bob') === 'server',
      'the new session to open',
    );
    ada.mesh.send('bob', chat('from my new connection'));
    await until(() => bob.texts().length === 1, 'the message');
    expect(bob.events.message[0]?.connectionId).toBe('a2');
  });

  it('stops relaying a friend the app no longer wants once the session ends', async () => {
    const { server, ada, bob } = await relayed();
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    bob.mesh.disconnect('ada');
    await until(() => ada.mesh.openLinks('bob').length === 0, 'the close');
    const keys = server.relayedOf('key').length;
    await vi.advanceTimersByTimeAsync(60_000);
    await quiet();
    expect(server.relayedOf('key')).toHaveLength(keys);
  });
});

describe('without WebRTC', () => {
  it('uses the relay at once when this browser has no RTCPeerConnection', async () => {
    const { server, ada, bob } = pair({ adaWebrtc: false });
    await vi.advanceTimersByTimeAsync(0);
    const start = Date.now();
    ada.mesh.connect('bob');
    await until(() => relayOpen(ada, bob), 'the relay to open');
    expect(Date.now() - start).toBeLessThan(1_000);
    ada.mesh.send('bob', chat('no webrtc here'));
    bob.mesh.send('ada', chat('fine by me'));
    await until(() => bob.texts().length === 1 && ada.texts().length === 1, 'both messages');
    // Ada stops knocking once the relay is up; Bob keeps looking for a data channel that cannot open.
    const knocks = ada.gateway.sent.length;
    await vi.advanceTimersByTimeAsync(120_000);
    await quiet();
    expect(ada.gateway.sent.filter((f) => f.data.kind === 'knock').length).toBe(
      ada.gateway.sent.slice(0, knocks).filter((f) => f.data.kind === 'knock').length,
    );
    expect(ada.fakes.peers).toEqual([]);
    expect(server.relayedOf('key')).toHaveLength(2);
  });

  it('answers a friend with WebRTC who wants it by relay too', async () => {
    const { ada, bob } = pair({ bobWebrtc: false });
    await vi.advanceTimersByTimeAsync(0);
    const start = Date.now();
    ada.mesh.connect('bob');
    await until(() => relayOpen(ada, bob), 'the relay to open');
    expect(Date.now() - start).toBeLessThan(1_000);
  });

  it('works with no WebRTC on either side', async () => {
    const { ada, bob } = pair({ adaWebrtc: false, bobWebrtc: false });
    await vi.advanceTimersByTimeAsync(0);
    bob.mesh.connect('ada');
    await until(() => relayOpen(ada, bob), 'the relay to open');
  });
});
