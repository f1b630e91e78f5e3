/** Test users: an account with its cookie, and WebSocket connections to any node. */
import { expect } from 'vitest';
import type { PublicUser } from '../../shared/api.js';
import type { HelloFrame } from '../../shared/protocol.js';
import { PASSWORD, TestClient, uniqueUsername } from './http-client.js';
import { WsTestClient } from './ws-client.js';

export interface TestUser {
  user: PublicUser;
  /** Signed-in HTTP client (against the node the user signed up on). */
  http: TestClient;
  /** HTTP client with the same session against another node. */
  httpOn(baseUrl: string): TestClient;
  /** Opens a WebSocket to a node and waits for `hello`. */
  connect(baseUrl: string): Promise<{ ws: WsTestClient; hello: HelloFrame }>;
}

export async function signUp(baseUrl: string, prefix = 'u'): Promise<TestUser> {
  const http = new TestClient(baseUrl);
  const res = await http.post('/api/auth/register', { username: uniqueUsername(prefix), password: PASSWORD });
  expect(res.status).toBe(201);
  const user = res.body.user as PublicUser;
  return {
    user,
    http,
    httpOn(url) {
      const client = new TestClient(url);
      client.cookie = http.cookie;
      return client;
    },
    async connect(url) {
      const ws = new WsTestClient(url, { cookie: http.cookie });
      await ws.opened;
      const hello = await ws.waitFor('hello');
      return { ws, hello };
    },
  };
}

/** Makes two users friends through the API. */
export async function befriend(a: TestUser, b: TestUser): Promise<void> {
  expect((await a.http.post('/api/friends/requests', { username: b.user.username })).status).toBe(201);
  expect((await b.http.post(`/api/friends/requests/${a.user.id}/accept`)).status).toBe(200);
}

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it holds or `timeoutMs` passes. */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}
