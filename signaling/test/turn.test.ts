/** TURN credentials from `/api/turn`, checked by a real coturn: accepted when fresh, refused when not. */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startServer, type RunningServer } from '../src/server.js';
import { turnPassword } from '../src/turn/turn-credentials.js';
import { startCoturn, type CoturnHandle } from './coturn.js';
import { TestClient } from './http-client.js';
import { testConfig } from './test-config.js';
import { signUp } from './test-users.js';
import { tryAllocate } from './turn-client.js';

const redisUrl = inject('redisUrl');
let coturn: CoturnHandle;
let server: RunningServer;

beforeAll(async () => {
  coturn = await startCoturn();
  server = await startServer(
    testConfig({
      redisUrl,
      turn: {
        stunUrls: [`stun:127.0.0.1:${coturn.port}`],
        turnUrls: [coturn.url],
        secret: coturn.secret,
        ttlSeconds: 600,
        transportPolicy: 'all',
      },
    }),
  );
});
afterAll(async () => {
  await server?.close();
  await coturn?.stop();
});

describe('GET /api/turn', () => {
  it('gives a signed-in user STUN and short-lived TURN credentials that coturn accepts', async () => {
    const a = await signUp(server.url);
    const before = Math.floor(Date.now() / 1000);
    const res = await a.http.get('/api/turn');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const { iceServers, ttl } = res.body;
    expect(ttl).toBe(600);
    expect(iceServers[0]).toEqual({ urls: [`stun:127.0.0.1:${coturn.port}`] });
    const turn = iceServers[1];
    expect(turn.urls).toEqual([coturn.url]);
    const [expiry, userId] = turn.username.split(':');
    expect(userId).toBe(a.user.id);
    expect(Number(expiry)).toBeGreaterThanOrEqual(before + 600);
    expect(Number(expiry)).toBeLessThanOrEqual(before + 602);
    expect(await tryAllocate(coturn.port, turn.username, turn.credential)).toEqual({ ok: true });
  });

  it('answers 401 without a session', async () => {
    const res = await new TestClient(server.url).get('/api/turn');
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthenticated');
  });

  it('gives an empty list when TURN is not configured (host candidates only)', async () => {
    const plain = await startServer(testConfig({ redisUrl }));
    try {
      const a = await signUp(plain.url);
      expect((await a.http.get('/api/turn')).body).toEqual({
        iceServers: [],
        iceTransportPolicy: 'all',
        ttl: 3600,
      });
    } finally {
      await plain.close();
    }
  });
});

describe('coturn refuses credentials it should', () => {
  it('refuses expired credentials', async () => {
    const username = `${Math.floor(Date.now() / 1000) - 60}:someone`;
    const result = await tryAllocate(coturn.port, username, turnPassword(coturn.secret, username));
    expect(result).toMatchObject({ ok: false, code: 401 });
  });

  it('refuses forged credentials (wrong secret, or a username edited after signing)', async () => {
    const username = `${Math.floor(Date.now() / 1000) + 600}:someone`;
    expect(
      await tryAllocate(coturn.port, username, turnPassword('not-the-secret-at-all', username)),
    ).toMatchObject({
      ok: false,
      code: 401,
    });
    const signed = turnPassword(coturn.secret, username);
    const extended = `${Math.floor(Date.now() / 1000) + 99_999}:someone`;
    expect(await tryAllocate(coturn.port, extended, signed)).toMatchObject({ ok: false, code: 401 });
  });
});
