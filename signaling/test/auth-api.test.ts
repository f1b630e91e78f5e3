/** The accounts and sessions API against the real server on port 0 and a real Redis. */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startServer, type RunningServer } from '../src/server.js';
import { PASSWORD, TestClient, uniqueUsername } from './http-client.js';
import { testConfig } from './test-config.js';

let server: RunningServer;
const redisUrl = inject('redisUrl');

beforeAll(async () => {
  server = await startServer(testConfig({ redisUrl }));
});
afterAll(() => server.close());

async function register(client = new TestClient(server.url), username = uniqueUsername()) {
  const res = await client.post('/api/auth/register', { username, password: PASSWORD });
  expect(res.status).toBe(201);
  return { client, username, user: res.body.user as { id: string; username: string } };
}

describe('register', () => {
  it('creates the account, signs it in with an HttpOnly SameSite=Lax cookie and keeps it', async () => {
    const client = new TestClient(server.url);
    const name = uniqueUsername();
    const res = await client.post('/api/auth/register', { username: name.toUpperCase(), password: PASSWORD });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ user: { id: expect.any(String), username: name } });
    const setCookie = res.headers.getSetCookie().join('\n');
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    expect(setCookie).not.toMatch(/Secure/i);
    const me = await client.get('/api/me');
    expect(me.status).toBe(200);
    expect(me.body).toEqual(res.body);
  });

  it('rejects a username taken in any letter case with 409', async () => {
    const { username } = await register();
    const res = await new TestClient(server.url).post('/api/auth/register', {
      username: username.toUpperCase(),
      password: PASSWORD,
    });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'username_taken', field: 'username' });
  });

  it.each([
    [{ password: PASSWORD }, 'username', /required/],
    [{ username: 'ab', password: PASSWORD }, 'username', /at least 3/],
    [{ username: 'a'.repeat(33), password: PASSWORD }, 'username', /at most 32/],
    [{ username: 'bad name!', password: PASSWORD }, 'username', /may contain only/],
    [{ username: 42, password: PASSWORD }, 'username', /must be a string/],
    [{ username: uniqueUsername() }, 'password', /required/],
    [{ username: uniqueUsername(), password: 'short' }, 'password', /at least 8/],
    [{ username: uniqueUsername(), password: 'x'.repeat(257) }, 'password', /at most 256/],
    [{ username: uniqueUsername(), password: ['not', 'a', 'string'] }, 'password', /must be a string/],
  ])('answers %j with 400 naming the field', async (body, field, message) => {
    const res = await new TestClient(server.url).post('/api/auth/register', body);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_body', field });
    expect(res.body.error.message).toMatch(message);
  });
});

describe('bad requests', () => {
  const client = () => new TestClient(server.url);

  it('answers malformed JSON with 400 invalid_json', async () => {
    const res = await client().request('POST', '/api/auth/login', { rawBody: '{"username": "a",' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_json');
  });

  it('answers a JSON body that is not an object with 400', async () => {
    for (const raw of ['[1,2]', '"text"', 'null']) {
      const res = await client().request('POST', '/api/auth/login', { rawBody: raw });
      expect(res.status).toBe(400);
      expect(['invalid_body', 'invalid_json']).toContain(res.body.error.code);
    }
  });

  it('answers a body over 16 KiB with 413', async () => {
    const res = await client().post('/api/auth/register', {
      username: 'abc',
      password: 'x'.repeat(17 * 1024),
    });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
  });

  it('answers a non-JSON body with 415', async () => {
    const res = await client().request('POST', '/api/auth/login', {
      rawBody: 'username=a&password=b',
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('unsupported_media_type');
  });

  it('answers unknown routes with 404 and wrong methods with 405, as JSON', async () => {
    const missing = await client().get('/api/nope');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found');
    const wrongMethod = await client().get('/api/auth/login');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.body.error.code).toBe('method_not_allowed');
  });

  it('answers GET /api/me without a session, or with a forged one, with 401', async () => {
    expect((await client().get('/api/me')).status).toBe(401);
    const forged = client();
    forged.cookie = 'parley_session=abcdefghijklmnopqrstuvwxyz234567abcdefgh';
    const res = await forged.get('/api/me');
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthenticated');
  });
});

describe('login', () => {
  it('signs in with the right password, in any letter case of the username', async () => {
    const { username, user } = await register();
    const client = new TestClient(server.url);
    const res = await client.post('/api/auth/login', {
      username: username.toUpperCase(),
      password: PASSWORD,
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ user });
    expect((await client.get('/api/me')).body).toEqual({ user });
  });

  it('answers a wrong password and an unknown username alike, in about the same time', async () => {
    const { username } = await register();
    const wrong = () =>
      new TestClient(server.url).post('/api/auth/login', { username, password: 'wrong password' });
    const unknown = () =>
      new TestClient(server.url).post('/api/auth/login', {
        username: uniqueUsername('nobody'),
        password: 'x'.repeat(12),
      });
    const a = await wrong();
    const b = await unknown();
    expect(a.status).toBe(401);
    expect(b.status).toBe(401);
    expect(a.body).toEqual(b.body);
    expect(a.body.error.code).toBe('invalid_credentials');

    // Without the dummy hash an unknown user would answer in well under a tenth of the time.
    const median = async (fn: () => Promise<unknown>) => {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t = performance.now();
        await fn();
        times.push(performance.now() - t);
      }
      return times.sort((x, y) => x - y)[2]!;
    };
    const wrongMs = await median(wrong);
    const unknownMs = await median(unknown);
    expect(unknownMs).toBeGreaterThan(wrongMs * 0.3);
  });
});

describe('sessions', () => {
  it('stores only a SHA-256 of the session id', async () => {
    const { client } = await register();
    const sessionId = client.cookie!.split('=')[1]!;
    const idHash = createHash('sha256').update(sessionId).digest('hex');
    expect(await server.store.getSession(idHash)).not.toBeNull();
    expect(await server.store.getSession(sessionId)).toBeNull();
  });

  it('signs out: 204, the cookie is cleared, the old session no longer works', async () => {
    const { client } = await register();
    const oldCookie = client.cookie;
    const res = await client.post('/api/auth/logout');
    expect(res.status).toBe(204);
    expect(res.headers.getSetCookie().join('')).toMatch(/Max-Age=0/i);
    expect(client.cookie).toBeUndefined();
    const stale = new TestClient(server.url);
    stale.cookie = oldCookie;
    expect((await stale.get('/api/me')).status).toBe(401);
    // Signing out again, without a session, is harmless.
    expect((await client.post('/api/auth/logout')).status).toBe(204);
  });

  it('marks the cookie Secure when served over https (behind a trusted proxy)', async () => {
    const proxied = await startServer(testConfig({ redisUrl, trustProxy: 1 }));
    try {
      const res = await new TestClient(proxied.url).post(
        '/api/auth/register',
        { username: uniqueUsername(), password: PASSWORD },
        { headers: { 'x-forwarded-proto': 'https' } },
      );
      expect(res.status).toBe(201);
      expect(res.headers.getSetCookie().join('')).toMatch(/Secure/);
    } finally {
      await proxied.close();
    }
  });

  it('slides: a session used after half its lifetime is extended, an unused one expires', async () => {
    const short = await startServer(testConfig({ redisUrl, sessionTtlMs: 2_000 }));
    try {
      const { client } = await register(new TestClient(short.url));
      const { client: idle } = await register(new TestClient(short.url));
      await new Promise((r) => setTimeout(r, 1_200));
      const refreshed = await client.get('/api/me');
      expect(refreshed.status).toBe(200);
      expect(refreshed.headers.getSetCookie().join('')).toMatch(/parley_session=/);
      await new Promise((r) => setTimeout(r, 1_200));
      // 2.4 s after creation: alive only because it was extended at 1.2 s.
      expect((await client.get('/api/me')).status).toBe(200);
      const expired = await idle.get('/api/me');
      expect(expired.status).toBe(401);
      // The dead cookie is cleared.
      expect(expired.headers.getSetCookie().join('')).toMatch(/Max-Age=0/i);
    } finally {
      await short.close();
    }
  });
});

describe('CSRF', () => {
  it('refuses state-changing requests from a foreign Origin with 403', async () => {
    const res = await new TestClient(server.url).post(
      '/api/auth/register',
      { username: uniqueUsername(), password: PASSWORD },
      { headers: { origin: 'http://evil.example' } },
    );
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forbidden_origin');
    const crossSite = await new TestClient(server.url).post('/api/auth/logout', undefined, {
      headers: { 'sec-fetch-site': 'cross-site' },
    });
    expect(crossSite.status).toBe(403);
  });

  it('accepts the same origin, and only the configured origins when PUBLIC_ORIGIN is set', async () => {
    const same = await new TestClient(server.url).post(
      '/api/auth/register',
      { username: uniqueUsername(), password: PASSWORD },
      { headers: { origin: server.url } },
    );
    expect(same.status).toBe(201);
    const configured = await startServer(
      testConfig({ redisUrl, publicOrigins: ['https://chat.example.com'] }),
    );
    try {
      const ok = await new TestClient(configured.url).post(
        '/api/auth/register',
        { username: uniqueUsername(), password: PASSWORD },
        { headers: { origin: 'https://chat.example.com' } },
      );
      expect(ok.status).toBe(201);
      const other = await new TestClient(configured.url).post(
        '/api/auth/register',
        { username: uniqueUsername(), password: PASSWORD },
        { headers: { origin: configured.url } },
      );
      expect(other.status).toBe(403);
    } finally {
      await configured.close();
    }
  });
});
