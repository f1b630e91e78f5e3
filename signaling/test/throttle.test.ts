/** Login and sign-up throttling (429 + Retry-After), on the real server and Redis. */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEFAULT_RATE_LIMITS } from '../src/config.js';
import { startServer, type RunningServer } from '../src/server.js';
import { PASSWORD, TestClient, uniqueUsername } from './http-client.js';
import { startRedisServer, type RedisServerHandle } from './redis-server.js';
import { testConfig } from './test-config.js';

const redisUrl = inject('redisUrl');

describe('login throttling per username', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(
      testConfig({
        redisUrl,
        limits: {
          ...DEFAULT_RATE_LIMITS,
          loginPerUsername: 3,
          loginPerIp: 1_000,
          registerPerIpPerHour: 1_000,
        },
      }),
    );
  });
  afterAll(() => server.close());

  it('answers 429 with Retry-After after too many failures, even with the right password', async () => {
    const username = uniqueUsername();
    expect(
      (await new TestClient(server.url).post('/api/auth/register', { username, password: PASSWORD })).status,
    ).toBe(201);
    for (let i = 0; i < 3; i++) {
      const res = await new TestClient(server.url).post('/api/auth/login', {
        username,
        password: 'wrong password',
      });
      expect(res.status).toBe(401);
    }
    const blocked = await new TestClient(server.url).post('/api/auth/login', {
      username,
      password: PASSWORD,
    });
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.code).toBe('rate_limited');
    const retryAfter = Number(blocked.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(blocked.body.error.retryAfterSeconds).toBe(retryAfter);
  });

  it('throttles unknown usernames the same way (no hint that the account does not exist)', async () => {
    const username = uniqueUsername('ghost');
    for (let i = 0; i < 3; i++) {
      expect(
        (await new TestClient(server.url).post('/api/auth/login', { username, password: 'wrong password' }))
          .status,
      ).toBe(401);
    }
    expect(
      (await new TestClient(server.url).post('/api/auth/login', { username, password: 'wrong password' }))
        .status,
    ).toBe(429);
  });

  it('clears the failure count after a successful login', async () => {
    const username = uniqueUsername();
    await new TestClient(server.url).post('/api/auth/register', { username, password: PASSWORD });
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 2; i++) {
        expect(
          (await new TestClient(server.url).post('/api/auth/login', { username, password: 'wrong password' }))
            .status,
        ).toBe(401);
      }
      expect(
        (await new TestClient(server.url).post('/api/auth/login', { username, password: PASSWORD })).status,
      ).toBe(200);
    }
  });
});

describe('throttling per IP', () => {
  // Every test reaches the server from 127.0.0.1: an own Redis keeps other suites' counts out.
  let redis: RedisServerHandle;
  let server: RunningServer;
  beforeAll(async () => {
    redis = await startRedisServer();
    server = await startServer(
      testConfig({
        redisUrl: redis.url,
        limits: { ...DEFAULT_RATE_LIMITS, loginPerIp: 4, registerPerIpPerHour: 2 },
      }),
    );
  });
  afterAll(async () => {
    await server?.close();
    await redis?.stop();
  });

  it('limits login attempts from one IP across usernames', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await new TestClient(server.url).post('/api/auth/login', {
        username: uniqueUsername(),
        password: PASSWORD,
      });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 429]);
  });

  it('limits account creation per IP', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await new TestClient(server.url).post('/api/auth/register', {
        username: uniqueUsername(),
        password: PASSWORD,
      });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([201, 201, 429]);
  });
});
