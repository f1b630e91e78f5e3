/**
 * Friends events and live presence across two signaling nodes sharing one real Redis: users on
 * different nodes see each other's changes within a second.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startServer, type RunningServer } from '../src/server.js';
import { testConfig } from './test-config.js';
import { befriend, signUp, sleep } from './test-users.js';

const redisUrl = inject('redisUrl');
let node1: RunningServer;
let node2: RunningServer;

beforeAll(async () => {
  [node1, node2] = await Promise.all([
    startServer(testConfig({ redisUrl })),
    startServer(testConfig({ redisUrl })),
  ]);
});
afterAll(() => Promise.all([node1.close(), node2.close()]));

describe('friend events across nodes', () => {
  it('pushes request, acceptance and presence to every connection concerned', async () => {
    const a = await signUp(node1.url);
    const b = await signUp(node2.url);
    const { ws: wsA } = await a.connect(node1.url);
    const { ws: wsB } = await b.connect(node2.url);
    const { ws: wsA2 } = await a.connect(node2.url); // A's second tab, on the other node

    const started = Date.now();
    expect((await a.http.post('/api/friends/requests', { username: b.user.username })).status).toBe(201);
    expect(await wsB.waitFor('friend_request')).toEqual({
      type: 'friend_request',
      direction: 'incoming',
      user: a.user,
    });
    expect(await wsA2.waitFor('friend_request')).toMatchObject({ direction: 'outgoing', user: b.user });
    expect(await wsA.waitFor('friend_request')).toMatchObject({ direction: 'outgoing', user: b.user });

    expect((await b.httpOn(node2.url).post(`/api/friends/requests/${a.user.id}/accept`)).status).toBe(200);
    expect(await wsA.waitFor('friend_accepted')).toEqual({
      type: 'friend_accepted',
      friend: { ...b.user, status: 'online', lastSeen: null },
    });
    expect((await wsB.waitFor('friend_accepted')).friend).toMatchObject({ ...a.user, status: 'online' });
    await wsA2.waitFor('friend_accepted');
    expect(Date.now() - started).toBeLessThan(1_000);

    for (const ws of [wsA, wsA2, wsB]) ws.close();
  });

  it('sends the friend list with statuses in hello', async () => {
    const a = await signUp(node1.url);
    const b = await signUp(node1.url);
    const c = await signUp(node1.url);
    await befriend(a, b);
    await c.http.post('/api/friends/requests', { username: a.user.username });
    const { ws: wsB } = await b.connect(node2.url);
    const { ws: wsA, hello } = await a.connect(node1.url);
    expect(hello).toMatchObject({
      user: a.user,
      friends: [{ ...b.user, status: 'online', lastSeen: null }],
      incoming: [c.user],
      outgoing: [],
    });
    wsA.close();
    wsB.close();
  });

  it('tells both sides of declines, cancellations and removals', async () => {
    const a = await signUp(node1.url);
    const b = await signUp(node2.url);
    const { ws: wsA } = await a.connect(node1.url);
    const { ws: wsB } = await b.connect(node2.url);

    await a.http.post('/api/friends/requests', { username: b.user.username });
    await b.httpOn(node2.url).post(`/api/friends/requests/${a.user.id}/decline`);
    expect(await wsA.waitFor('friend_request_removed')).toEqual({
      type: 'friend_request_removed',
      direction: 'outgoing',
      userId: b.user.id,
      reason: 'declined',
    });
    expect(await wsB.waitFor('friend_request_removed')).toMatchObject({
      direction: 'incoming',
      reason: 'declined',
    });

    await a.http.post('/api/friends/requests', { username: b.user.username });
    await a.http.request('DELETE', `/api/friends/requests/${b.user.id}`);
    expect(await wsB.waitFor('friend_request_removed', (f) => f.reason === 'cancelled')).toMatchObject({
      direction: 'incoming',
      userId: a.user.id,
    });

    await befriend(a, b);
    await a.http.request('DELETE', `/api/friends/${b.user.id}`);
    expect(await wsB.waitFor('friend_removed')).toEqual({ type: 'friend_removed', userId: a.user.id });
    expect(await wsA.waitFor('friend_removed')).toEqual({ type: 'friend_removed', userId: b.user.id });
    wsA.close();
    wsB.close();
  });
});

describe('presence', () => {
  it('goes online, away, back online and offline with lastSeen, across tabs and nodes', async () => {
    const a = await signUp(node1.url);
    const b = await signUp(node1.url);
    await befriend(a, b);
    const { ws: wsA } = await a.connect(node1.url);

    const { ws: tab1 } = await b.connect(node2.url);
    expect(await wsA.waitFor('presence')).toMatchObject({ userId: b.user.id, status: 'online' });
    const { ws: tab2 } = await b.connect(node1.url);

    tab1.send({ type: 'set_status', status: 'away' });
    await sleep(300);
    // One tab away, one online: still online, so nothing is pushed.
    expect(wsA.pending().filter((f) => f.type === 'presence')).toEqual([]);

    const t = Date.now();
    tab2.send({ type: 'set_status', status: 'away' });
    expect(await wsA.waitFor('presence')).toMatchObject({ userId: b.user.id, status: 'away' });
    expect(Date.now() - t).toBeLessThan(1_000);
    tab1.send({ type: 'set_status', status: 'online' });
    expect(await wsA.waitFor('presence')).toMatchObject({ status: 'online' });

    // The online tab closes: the one left is away, and so is the user.
    tab1.close();
    expect(await wsA.waitFor('presence')).toMatchObject({ status: 'away' });
    const closedAt = Date.now();
    tab2.close();
    const offline = await wsA.waitFor('presence');
    expect(offline).toMatchObject({ userId: b.user.id, status: 'offline' });
    expect(offline.lastSeen).toBeGreaterThanOrEqual(closedAt - 50);
    expect(Date.now() - closedAt).toBeLessThan(1_000);

    const { body } = await a.http.get('/api/friends');
    expect(body.friends).toEqual([{ ...b.user, status: 'offline', lastSeen: offline.lastSeen }]);
    wsA.close();
  });

  it('tells a non-friend nothing', async () => {
    const a = await signUp(node1.url);
    const stranger = await signUp(node2.url);
    const pending = await signUp(node2.url);
    await pending.http.post('/api/friends/requests', { username: a.user.username });
    const { ws: wsS } = await stranger.connect(node2.url);
    const { ws: wsP } = await pending.connect(node2.url);
    const { ws: wsA } = await a.connect(node1.url);
    wsA.send({ type: 'set_status', status: 'away' });
    await sleep(200);
    wsA.close();
    await sleep(500);
    expect(wsS.pending()).toEqual([]);
    expect(wsP.pending()).toEqual([]);
    wsS.close();
    wsP.close();
  });

  it('answers a bad set_status with an error frame', async () => {
    const a = await signUp(node1.url);
    const { ws } = await a.connect(node1.url);
    ws.send({ type: 'set_status', status: 'invisible' });
    expect(await ws.waitFor('error')).toMatchObject({ code: 'bad_frame', ref: 'set_status' });
    ws.close();
  });
});
