/** Peer-connection signaling through the server: friends only, real sender, bounded, across nodes. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startServer, type RunningServer } from '../src/server.js';
import { testConfig } from './test-config.js';
import { befriend, signUp, sleep } from './test-users.js';

const redisUrl = inject('redisUrl');
let node1: RunningServer;
let node2: RunningServer;

beforeAll(async () => {
  const config = testConfig({ redisUrl, ws: { signalsPerWindow: 20, windowMs: 10_000 } });
  [node1, node2] = await Promise.all([startServer(config), startServer(config)]);
});
afterAll(() => Promise.all([node1.close(), node2.close()]));

const offer = (link = 'l1') => ({
  kind: 'signal',
  link,
  signal: { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n' },
});

async function friendsOnTwoNodes() {
  const a = await signUp(node1.url);
  const b = await signUp(node2.url);
  await befriend(a, b);
  const { ws: wsA, hello: helloA } = await a.connect(node1.url);
  const { ws: tab1, hello: hello1 } = await b.connect(node2.url);
  const { ws: tab2, hello: hello2 } = await b.connect(node1.url);
  return {
    a,
    b,
    wsA,
    tab1,
    tab2,
    idA: helloA.connectionId,
    id1: hello1.connectionId,
    id2: hello2.connectionId,
  };
}

describe('routing', () => {
  it("delivers a knock to every connection of the friend, from the sender's real connection", async () => {
    const { a, b, wsA, tab1, tab2, idA } = await friendsOnTwoNodes();
    // A forged `from` is ignored: the server says who sent it.
    wsA.send({
      type: 'signal',
      to: { userId: b.user.id },
      from: { userId: 'x', connectionId: 'y' },
      data: { kind: 'knock' },
    });
    const expected = {
      type: 'signal',
      from: { userId: a.user.id, connectionId: idA },
      data: { kind: 'knock' },
    };
    expect(await tab1.waitFor('signal')).toEqual(expected);
    expect(await tab2.waitFor('signal')).toEqual(expected);
    for (const ws of [wsA, tab1, tab2]) ws.close();
  });

  it('delivers a directed signal to that connection only, across nodes', async () => {
    const { a, b, wsA, tab1, tab2, idA, id1 } = await friendsOnTwoNodes();
    wsA.send({ type: 'signal', to: { userId: b.user.id, connectionId: id1 }, data: offer() });
    expect(await tab1.waitFor('signal')).toEqual({
      type: 'signal',
      from: { userId: a.user.id, connectionId: idA },
      data: offer(),
    });
    // And back, with ICE.
    const candidate = {
      kind: 'signal',
      link: 'l1',
      signal: {
        type: 'candidate',
        candidate: {
          candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host',
          sdpMid: '0',
          sdpMLineIndex: 0,
        },
      },
    };
    tab1.send({ type: 'signal', to: { userId: a.user.id, connectionId: idA }, data: candidate });
    expect((await wsA.waitFor('signal')).data).toEqual(candidate);
    await sleep(200);
    expect(tab2.pending().filter((f) => f.type === 'signal')).toEqual([]);
    for (const ws of [wsA, tab1, tab2]) ws.close();
  });
});

describe('refusals', () => {
  it('refuses signals to non-friends and to yourself', async () => {
    const a = await signUp(node1.url);
    const stranger = await signUp(node2.url);
    const { ws: wsS } = await stranger.connect(node2.url);
    const { ws: wsA } = await a.connect(node1.url);
    wsA.send({ type: 'signal', to: { userId: stranger.user.id }, data: { kind: 'knock' } });
    expect(await wsA.waitFor('error')).toMatchObject({ code: 'not_friends', ref: 'signal' });
    wsA.send({ type: 'signal', to: { userId: a.user.id }, data: { kind: 'knock' } });
    expect(await wsA.waitFor('error')).toMatchObject({ code: 'not_friends' });
    await sleep(200);
    expect(wsS.pending()).toEqual([]);
    wsA.close();
    wsS.close();
  });

  it('answers an offline friend or an unknown connection with peer_offline', async () => {
    const a = await signUp(node1.url);
    const b = await signUp(node1.url);
    await befriend(a, b);
    const { ws: wsA } = await a.connect(node1.url);
    wsA.send({ type: 'signal', to: { userId: b.user.id }, data: { kind: 'knock' } });
    expect(await wsA.waitFor('error')).toMatchObject({ code: 'peer_offline' });
    const { ws: wsB } = await b.connect(node2.url);
    wsA.send({ type: 'signal', to: { userId: b.user.id, connectionId: randomUUID() }, data: offer() });
    expect(await wsA.waitFor('error')).toMatchObject({ code: 'peer_offline' });
    wsA.close();
    wsB.close();
  });

  it('refuses malformed and oversized signals, and only knocks may go to all connections', async () => {
    const { b, wsA, tab1, tab2, id1 } = await friendsOnTwoNodes();
    const to = { userId: b.user.id, connectionId: id1 };
    const bad = [
      { type: 'signal', to: { userId: b.user.id }, data: offer() },
      {
        type: 'signal',
        to,
        data: { kind: 'signal', link: 'l', signal: { type: 'offer', sdp: 'x'.repeat(40_000) } },
      },
      { type: 'signal', to, data: { kind: 'signal', link: 'l', signal: { type: 'rollback' } } },
      { type: 'signal', to, data: { kind: 'shout' } },
      { type: 'signal', to: { userId: '' }, data: { kind: 'knock' } },
      { type: 'signal', data: { kind: 'knock' } },
    ];
    for (const frame of bad) {
      wsA.send(frame);
      expect(await wsA.waitFor('error')).toMatchObject({ code: 'bad_frame', ref: 'signal' });
    }
    await sleep(200);
    expect(tab1.pending().filter((f) => f.type === 'signal')).toEqual([]);
    // Past 64 KiB the frame itself is refused and the socket closed.
    wsA.send({
      type: 'signal',
      to,
      data: { kind: 'signal', link: 'l', signal: { type: 'offer', sdp: 'x'.repeat(70_000) } },
    });
    expect((await wsA.closed).code).toBe(1009);
    tab1.close();
    tab2.close();
  });

  it('limits the signal rate per connection with an error frame, and the connection goes on', async () => {
    const { b, wsA, tab1, tab2, id1 } = await friendsOnTwoNodes();
    for (let i = 0; i < 25; i++)
      wsA.send({ type: 'signal', to: { userId: b.user.id, connectionId: id1 }, data: offer(`l${i}`) });
    expect(await wsA.waitFor('error')).toMatchObject({ code: 'rate_limited', ref: 'signal' });
    await sleep(300);
    expect(tab1.pending().filter((f) => f.type === 'signal').length).toBe(20);
    wsA.send({ type: 'ping', id: 'still' });
    expect(await wsA.waitFor('pong')).toEqual({ type: 'pong', id: 'still' });
    for (const ws of [wsA, tab1, tab2]) ws.close();
  });
});
