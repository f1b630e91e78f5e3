/** The friends API: requests, answers, removal, limits and bad input, on the real server and Redis. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEFAULT_RATE_LIMITS } from '../src/config.js';
import { startServer, type RunningServer } from '../src/server.js';
import { TestClient } from './http-client.js';
import { testConfig } from './test-config.js';
import { befriend, signUp } from './test-users.js';

const redisUrl = inject('redisUrl');
let server: RunningServer;

beforeAll(async () => {
  server = await startServer(testConfig({ redisUrl }));
});
afterAll(() => server.close());

describe('requests', () => {
  it('sends a request, shows it on both sides, and accepting makes friends with status', async () => {
    const a = await signUp(server.url);
    const b = await signUp(server.url);
    const sent = await a.http.post('/api/friends/requests', { username: b.user.username.toUpperCase() });
    expect(sent.status).toBe(201);
    expect(sent.body).toEqual({ outgoing: b.user });
    expect((await a.http.get('/api/friends')).body).toEqual({
      friends: [],
      incoming: [],
      outgoing: [b.user],
    });
    expect((await b.http.get('/api/friends')).body).toEqual({
      friends: [],
      incoming: [a.user],
      outgoing: [],
    });

    const accepted = await b.http.post(`/api/friends/requests/${a.user.id}/accept`);
    expect(accepted.status).toBe(200);
    expect(accepted.body).toEqual({ friend: { ...a.user, status: 'offline', lastSeen: null } });
    expect((await a.http.get('/api/friends')).body).toEqual({
      friends: [{ ...b.user, status: 'offline', lastSeen: null }],
      incoming: [],
      outgoing: [],
    });
  });

  it('makes friends at once when the other user had already asked', async () => {
    const a = await signUp(server.url);
    const b = await signUp(server.url);
    expect((await a.http.post('/api/friends/requests', { username: b.user.username })).status).toBe(201);
    const back = await b.http.post('/api/friends/requests', { username: a.user.username });
    expect(back.status).toBe(200);
    expect(back.body.friend).toMatchObject(a.user);
    expect((await a.http.get('/api/friends')).body.friends).toHaveLength(1);
    expect((await b.http.get('/api/friends')).body).toMatchObject({ incoming: [], outgoing: [] });
  });

  it('declines and cancels, each once', async () => {
    const a = await signUp(server.url);
    const b = await signUp(server.url);
    const c = await signUp(server.url);
    await a.http.post('/api/friends/requests', { username: b.user.username });
    await a.http.post('/api/friends/requests', { username: c.user.username });
    expect((await b.http.post(`/api/friends/requests/${a.user.id}/decline`)).status).toBe(204);
    expect((await b.http.post(`/api/friends/requests/${a.user.id}/decline`)).status).toBe(404);
    expect((await a.http.request('DELETE', `/api/friends/requests/${c.user.id}`)).status).toBe(204);
    const again = await a.http.request('DELETE', `/api/friends/requests/${c.user.id}`);
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe('request_not_found');
    // Accepting a cancelled request is refused.
    expect((await c.http.post(`/api/friends/requests/${a.user.id}/accept`)).status).toBe(404);
    expect((await a.http.get('/api/friends')).body).toEqual({ friends: [], incoming: [], outgoing: [] });
  });

  it('removes a friend on both sides', async () => {
    const a = await signUp(server.url);
    const b = await signUp(server.url);
    await befriend(a, b);
    expect((await b.http.request('DELETE', `/api/friends/${a.user.id}`)).status).toBe(204);
    expect((await a.http.get('/api/friends')).body.friends).toEqual([]);
    const again = await b.http.request('DELETE', `/api/friends/${a.user.id}`);
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe('not_friends');
  });
});

describe('bad input', () => {
  it('answers unknown users, yourself and duplicates clearly', async () => {
    const a = await signUp(server.url);
    const b = await signUp(server.url);
    const unknown = await a.http.post('/api/friends/requests', { username: 'nobody-here-ever' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: 'user_not_found', field: 'username' });
    const self = await a.http.post('/api/friends/requests', { username: a.user.username });
    expect(self.status).toBe(400);
    expect(self.body.error.code).toBe('cannot_add_self');
    await a.http.post('/api/friends/requests', { username: b.user.username });
    const dup = await a.http.post('/api/friends/requests', { username: b.user.username });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('already_requested');
    await b.http.post(`/api/friends/requests/${a.user.id}/accept`);
    const friends = await a.http.post('/api/friends/requests', { username: b.user.username });
    expect(friends.status).toBe(409);
    expect(friends.body.error.code).toBe('already_friends');
  });

  it('answers malformed bodies and ids with 400', async () => {
    const a = await signUp(server.url);
    for (const body of [{}, { username: 7 }, { username: 'x' }, { username: 'bad name' }]) {
      const res = await a.http.post('/api/friends/requests', body);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'invalid_body', field: 'username' });
    }
    const json = await a.http.request('POST', '/api/friends/requests', { rawBody: '{"username":' });
    expect(json.status).toBe(400);
    for (const path of ['/api/friends/requests/not-a-uuid/accept', '/api/friends/requests/1/decline']) {
      const res = await a.http.post(path);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_param');
    }
    expect((await a.http.post(`/api/friends/requests/${randomUUID()}/accept`)).status).toBe(404);
    expect((await a.http.request('DELETE', '/api/friends/%E0%A4%A')).status).toBe(400);
  });

  it('refuses every friends route without a session (401) and from a foreign origin (403)', async () => {
    const anon = new TestClient(server.url);
    const id = randomUUID();
    const calls: Array<[string, string]> = [
      ['GET', '/api/friends'],
      ['POST', '/api/friends/requests'],
      ['POST', `/api/friends/requests/${id}/accept`],
      ['POST', `/api/friends/requests/${id}/decline`],
      ['DELETE', `/api/friends/requests/${id}`],
      ['DELETE', `/api/friends/${id}`],
    ];
    for (const [method, path] of calls) {
      const res = await anon.request(method, path, method === 'POST' ? { body: { username: 'abc' } } : {});
      expect(res.status, `${method} ${path}`).toBe(401);
    }
    const a = await signUp(server.url);
    const foreign = await a.http.post(
      '/api/friends/requests',
      { username: 'abc' },
      { headers: { origin: 'http://evil.example' } },
    );
    expect(foreign.status).toBe(403);
  });

  it('shows non-friends no status: pending requests carry only id and username', async () => {
    const a = await signUp(server.url);
    const b = await signUp(server.url);
    await a.http.post('/api/friends/requests', { username: b.user.username });
    const { body } = await b.http.get('/api/friends');
    expect(body.incoming).toEqual([{ id: a.user.id, username: a.user.username }]);
  });
});

describe('limits', () => {
  let limited: RunningServer;
  beforeAll(async () => {
    limited = await startServer(
      testConfig({
        redisUrl,
        limits: {
          ...DEFAULT_RATE_LIMITS,
          registerPerIpPerHour: 10_000,
          loginPerIp: 10_000,
          friendRequestsPerHour: 4,
          maxPendingOutgoing: 2,
          maxPendingIncoming: 2,
          maxFriends: 1,
        },
      }),
    );
  });
  afterAll(() => limited.close());

  it('caps pending outgoing requests', async () => {
    const a = await signUp(limited.url);
    const others = [await signUp(limited.url), await signUp(limited.url), await signUp(limited.url)];
    const statuses = [];
    for (const o of others) {
      statuses.push((await a.http.post('/api/friends/requests', { username: o.user.username })).status);
    }
    expect(statuses).toEqual([201, 201, 409]);
  });

  it('caps pending incoming requests', async () => {
    const target = await signUp(limited.url);
    const senders = [await signUp(limited.url), await signUp(limited.url), await signUp(limited.url)];
    const results = [];
    for (const s of senders) {
      results.push(await s.http.post('/api/friends/requests', { username: target.user.username }));
    }
    expect(results.map((r) => r.status)).toEqual([201, 201, 409]);
    expect(results[2]!.body.error.code).toBe('pending_limit');
  });

  it('caps friends', async () => {
    const a = await signUp(limited.url);
    const b = await signUp(limited.url);
    const c = await signUp(limited.url);
    await befriend(a, b);
    await c.http.post('/api/friends/requests', { username: a.user.username });
    const res = await a.http.post(`/api/friends/requests/${c.user.id}/accept`);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('friend_limit');
  });

  it('limits requests per hour (every attempt counts) with 429 and Retry-After', async () => {
    const a = await signUp(limited.url);
    const statuses = [];
    let last;
    for (let i = 0; i < 5; i++) {
      last = await a.http.post('/api/friends/requests', { username: `nobody-${i}` });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([404, 404, 404, 404, 429]);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
