/** A node dying without cleanup, and Redis restarting under live sessions. */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { presenceSettings } from '../src/config.js';
import { startServer, type RunningServer } from '../src/server.js';
import { startNodeProcess } from './node-process.js';
import { startRedisServer, type RedisServerHandle } from './redis-server.js';
import { testConfig } from './test-config.js';
import { befriend, signUp } from './test-users.js';

const LEASE_MS = 2_000;

describe('a node killed hard', () => {
  const redisUrl = inject('redisUrl');
  let survivor: RunningServer;
  beforeAll(async () => {
    survivor = await startServer(testConfig({ redisUrl, presence: presenceSettings(LEASE_MS) }));
  });
  afterAll(() => survivor.close());

  it('turns its users offline for their friends within the lease', async () => {
    const doomed = await startNodeProcess({
      REDIS_URL: redisUrl,
      PRESENCE_LEASE_SECONDS: String(LEASE_MS / 1000),
    });
    const a = await signUp(survivor.url);
    const b = await signUp(survivor.url);
    await befriend(a, b);
    const { ws: wsA } = await a.connect(survivor.url);
    const { ws: wsB } = await b.connect(doomed.url);
    expect(await wsA.waitFor('presence')).toMatchObject({ userId: b.user.id, status: 'online' });

    const killedAt = Date.now();
    await doomed.kill();
    await wsB.closed;
    const offline = await wsA.waitFor('presence', (f) => f.status === 'offline', LEASE_MS * 3);
    expect(offline.userId).toBe(b.user.id);
    expect(Date.now() - killedAt).toBeLessThan(LEASE_MS + 1_500);
    expect((await a.http.get('/api/friends')).body.friends[0]).toMatchObject({ status: 'offline' });
    wsA.close();
  });
});

describe('a Redis restart mid-session', () => {
  let redis: RedisServerHandle;
  let node1: RunningServer;
  let node2: RunningServer;
  beforeAll(async () => {
    redis = await startRedisServer({ persist: true });
    const config = testConfig({ redisUrl: redis.url, presence: presenceSettings(LEASE_MS) });
    [node1, node2] = await Promise.all([startServer(config), startServer(config)]);
  });
  afterAll(async () => {
    await Promise.all([node1?.close(), node2?.close()]);
    await redis?.stop();
  });

  it('reconnects, resends hello, and events flow again', async () => {
    const a = await signUp(node1.url);
    const b = await signUp(node1.url);
    await befriend(a, b);
    const { ws: wsA } = await a.connect(node1.url);
    const { ws: wsB } = await b.connect(node2.url);
    await wsA.waitFor('presence', (f) => f.status === 'online');

    await redis.restart();
    // Each client gets a fresh hello with current statuses once its node is back.
    const helloA = await wsA.waitFor('hello', () => true, 10_000);
    expect(helloA.friends).toEqual([expect.objectContaining({ id: b.user.id, status: 'online' })]);
    await wsB.waitFor('hello', () => true, 10_000);

    wsB.send({ type: 'set_status', status: 'away' });
    expect(await wsA.waitFor('presence', (f) => f.status === 'away')).toMatchObject({ userId: b.user.id });
    const c = await signUp(node2.url);
    await c.http.post('/api/friends/requests', { username: a.user.username });
    expect(await wsA.waitFor('friend_request')).toMatchObject({ direction: 'incoming', user: c.user });
    wsA.close();
    wsB.close();
  });
});
