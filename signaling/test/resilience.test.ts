/** Health and Redis outages: 503 while Redis is down, recovery by itself, no crash. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../src/server.js';
import { PASSWORD, TestClient, uniqueUsername } from './http-client.js';
import { startRedisServer, type RedisServerHandle } from './redis-server.js';
import { testConfig } from './test-config.js';

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

describe('with the memory store (embedded default)', () => {
  it('reports healthy on the memory store and serves the API', async () => {
    const server = await startServer(testConfig());
    try {
      const client = new TestClient(server.url);
      expect((await client.get('/healthz')).body).toEqual({ status: 'ok', store: 'memory' });
      expect(
        (await client.post('/api/auth/register', { username: uniqueUsername(), password: PASSWORD })).status,
      ).toBe(201);
      expect((await client.get('/api/me')).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});

describe('when Redis restarts', () => {
  let redis: RedisServerHandle;
  let server: RunningServer;
  beforeAll(async () => {
    redis = await startRedisServer();
    server = await startServer(testConfig({ redisUrl: redis.url }));
  });
  afterAll(async () => {
    await server?.close();
    await redis?.stop();
  });

  it('answers 503 while Redis is down and recovers by itself', async () => {
    const client = new TestClient(server.url);
    expect((await client.get('/healthz')).body).toEqual({ status: 'ok', store: 'redis' });
    const username = uniqueUsername();
    expect((await client.post('/api/auth/register', { username, password: PASSWORD })).status).toBe(201);

    await redis.stop();
    const down = await client.get('/healthz');
    expect(down.status).toBe(503);
    expect(down.body).toEqual({ status: 'unavailable', store: 'redis' });
    const me = await client.get('/api/me');
    expect(me.status).toBe(503);
    expect(me.body.error.code).toBe('store_unavailable');
    const login = await new TestClient(server.url).post('/api/auth/login', { username, password: PASSWORD });
    expect(login.status).toBe(503);

    await redis.restart();
    await waitFor(async () => (await client.get('/healthz')).status === 200, 10_000);
    // Redis keeps nothing on disk in tests: the account is gone, but the node works again.
    const again = await new TestClient(server.url).post('/api/auth/register', {
      username,
      password: PASSWORD,
    });
    expect(again.status).toBe(201);
  });
});
