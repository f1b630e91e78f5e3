/** The last-resort server relay: opaque payloads, friends only, live targets, bytes limited per user. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startServer, type RunningServer } from '../src/server.js';
import { testConfig } from './test-config.js';
import { befriend, signUp, sleep } from './test-users.js';

const redisUrl = inject('redisUrl');
let node1: RunningServer;
let node2: RunningServer;

beforeAll(async () => {
  const config = testConfig({ redisUrl, ws: { relayBytesPerWindow: 40_000, windowMs: 10_000 } });
  [node1, node2] = await Promise.all([startServer(config), startServer(config)]);
});
afterAll(() => Promise.all([node1.close(), node2.close()]));

const box = (data = 'c2VjcmV0') => ({ kind: 'box', session: 's1', iv: 'AAAAAAAAAAAAAAAA', data });

async function pair() {
  const a = await signUp(node1.url);
  const b = await signUp(node2.url);
  await befriend(a, b);
  const { ws: wsA, hello: helloA } = await a.connect(node1.url);
  const { ws: tab1, hello: hello1 } = await b.connect(node2.url);
  const { ws: tab2 } = await b.connect(node1.url);
  return { a, b, wsA, tab1, tab2, idA: helloA.connectionId, id1: hello1.connectionId };
}

describe('server relay', () => {
  it('forwards keys and boxes to one connection of a friend, across nodes, with the real sender', async () => {
    const { a, b, wsA, tab1, tab2, idA, id1 } = await pair();
    const key = { kind: 'key', session: 's1', publicKey: 'BPc5qzR3y2k=' };
    wsA.send({ type: 'relay', to: { userId: b.user.id, connectionId: id1 }, data: key });
    wsA.send({ type: 'relay', to: { userId: b.user.id, connectionId: id1 }, data: box() });
    const from = { userId: a.user.id, connectionId: idA };
    expect(await tab1.waitFor('relay')).toEqual({ type: 'relay', from, data: key });
    expect(await tab1.waitFor('relay')).toEqual({ type: 'relay', from, data: box() });
    await sleep(200);
    expect(tab2.pending().filter((f) => f.type === 'relay')).toEqual([]);
    for (const ws of [wsA, tab1, tab2]) ws.close();
  });

  it('refuses non-friends, yourself, offline connections and malformed payloads', async () => {
    const { a, b, wsA, tab1, tab2, idA, id1 } = await pair();
    const stranger = await signUp(node2.url);
    const { ws: wsS, hello } = await stranger.connect(node2.url);
    wsA.send({
      type: 'relay',
      to: { userId: stranger.user.id, connectionId: hello.connectionId },
      data: box(),
    });
    expect(await wsA.waitFor('error')).toMatchObject({ code: 'not_friends', ref: 'relay' });
    wsA.send({ type: 'relay', to: { userId: a.user.id, connectionId: idA }, data: box() });
    expect(await wsA.waitFor('error')).toMatchObject({ code: 'not_friends', ref: 'relay' });
    const gone = randomUUID();
    wsA.send({ type: 'relay', to: { userId: b.user.id, connectionId: gone }, data: box() });
    expect(await wsA.waitFor('error')).toMatchObject({
      code: 'peer_offline',
      ref: 'relay',
      to: { userId: b.user.id, connectionId: gone },
    });
    for (const data of [box('not base64!'), box('A'.repeat(50 * 1024)), { kind: 'plain', text: 'hi' }]) {
      wsA.send({ type: 'relay', to: { userId: b.user.id, connectionId: id1 }, data });
      expect(await wsA.waitFor('error')).toMatchObject({ code: 'bad_frame', ref: 'relay' });
    }
    await sleep(200);
    expect(wsS.pending()).toEqual([]);
    expect(tab1.pending().filter((f) => f.type === 'relay')).toEqual([]);
    for (const ws of [wsA, tab1, tab2, wsS]) ws.close();
  });

  it('limits relayed bytes per user across connections and nodes', async () => {
    const { a, b, wsA, tab1, tab2, id1 } = await pair();
    const { ws: wsA2 } = await a.connect(node2.url);
    const chunk = box('A'.repeat(8_000));
    for (let i = 0; i < 3; i++)
      wsA.send({ type: 'relay', to: { userId: b.user.id, connectionId: id1 }, data: chunk });
    for (let i = 0; i < 3; i++)
      wsA2.send({ type: 'relay', to: { userId: b.user.id, connectionId: id1 }, data: chunk });
    const limited = await Promise.race([
      wsA.waitFor('error', () => true, 2_000).catch(() => null),
      wsA2.waitFor('error', () => true, 2_000).catch(() => null),
    ]);
    expect(limited).toMatchObject({ code: 'rate_limited', ref: 'relay' });
    await sleep(300);
    // 40,000 bytes per window at ~8,100 bytes a frame: four got through.
    expect(tab1.pending().filter((f) => f.type === 'relay').length).toBe(4);
    for (const ws of [wsA, wsA2, tab1, tab2]) ws.close();
  });
});
