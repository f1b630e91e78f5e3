/** The WebSocket gateway: authentication at the upgrade, frames, limits, heartbeat, sign-out. */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startServer, type RunningServer } from '../src/server.js';
import { PASSWORD, TestClient, uniqueUsername } from './http-client.js';
import { testConfig } from './test-config.js';
import { UpgradeRefused, WsTestClient } from './ws-client.js';

const redisUrl = inject('redisUrl');
let server: RunningServer;

beforeAll(async () => {
  server = await startServer(
    testConfig({ redisUrl, ws: { heartbeatMs: 300, messagesPerWindow: 20, windowMs: 1_000 } }),
  );
});
afterAll(() => server.close());

async function signedIn(on = server) {
  const client = new TestClient(on.url);
  const username = uniqueUsername();
  const res = await client.post('/api/auth/register', { username, password: PASSWORD });
  expect(res.status).toBe(201);
  return { client, user: res.body.user as { id: string; username: string } };
}

async function connected(on = server) {
  const { client, user } = await signedIn(on);
  const ws = new WsTestClient(on.url, { cookie: client.cookie });
  await ws.opened;
  const hello = await ws.next();
  return { client, user, ws, hello };
}

async function refusal(ws: WsTestClient): Promise<number> {
  const err = await ws.opened.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UpgradeRefused);
  return (err as UpgradeRefused).status;
}

describe('upgrade', () => {
  it('refuses a socket without a valid session with 401', async () => {
    expect(await refusal(new WsTestClient(server.url))).toBe(401);
    expect(
      await refusal(new WsTestClient(server.url, { cookie: 'parley_session=forgedforgedforgedforged' })),
    ).toBe(401);
  });

  it('refuses a foreign Origin with 403, even with a valid session', async () => {
    const { client } = await signedIn();
    expect(
      await refusal(new WsTestClient(server.url, { cookie: client.cookie, origin: 'http://evil.example' })),
    ).toBe(403);
  });

  it('refuses other paths with 404', async () => {
    const { client } = await signedIn();
    expect(await refusal(new WsTestClient(server.url, { cookie: client.cookie, path: '/socket' }))).toBe(404);
  });

  it('greets with who you are, the connection id and the protocol version', async () => {
    const { user, ws, hello } = await connected();
    expect(hello).toEqual({
      type: 'hello',
      protocolVersion: 1,
      user,
      connectionId: expect.any(String),
      friends: [],
      incoming: [],
      outgoing: [],
    });
    ws.close();
  });

  it('gives each connection its own id', async () => {
    const { client, hello } = await connected();
    const second = new WsTestClient(server.url, { cookie: client.cookie });
    const hello2 = await second.next();
    expect(hello2.type).toBe('hello');
    expect(hello2.type === 'hello' && hello2.connectionId).not.toBe(
      hello.type === 'hello' && hello.connectionId,
    );
    second.close();
  });

  it('closes a client speaking another protocol version with 4000 after an error frame', async () => {
    const { client } = await signedIn();
    const ws = new WsTestClient(server.url, { cookie: client.cookie, path: '/ws?v=99' });
    const frame = await ws.next();
    expect(frame).toMatchObject({ type: 'error', code: 'bad_frame' });
    expect((await ws.closed).code).toBe(4000);
  });
});

describe('frames', () => {
  it('answers ping with pong', async () => {
    const { ws } = await connected();
    ws.send({ type: 'ping', id: 'p1' });
    expect(await ws.next()).toEqual({ type: 'pong', id: 'p1' });
    ws.close();
  });

  it('answers bad frames with an error frame and goes on', async () => {
    const { ws } = await connected();
    ws.send('not json {');
    expect(await ws.next()).toMatchObject({ type: 'error', code: 'bad_json' });
    ws.send({ type: 'launch_missiles' });
    expect(await ws.next()).toMatchObject({ type: 'error', code: 'bad_frame', ref: 'launch_missiles' });
    ws.send({ type: 'ping', id: 42 });
    expect(await ws.next()).toMatchObject({ type: 'error', code: 'bad_frame', ref: 'ping' });
    ws.send({ noType: true });
    expect(await ws.next()).toMatchObject({ type: 'error', code: 'bad_frame' });
    ws.send('[]');
    expect(await ws.next()).toMatchObject({ type: 'error', code: 'bad_frame' });
    ws.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await ws.next()).toMatchObject({ type: 'error', code: 'bad_frame' });
    ws.send({ type: 'ping', id: 'still-here' });
    expect(await ws.next()).toEqual({ type: 'pong', id: 'still-here' });
    ws.close();
  });

  it('closes with 1009 on a frame over 64 KiB', async () => {
    const { ws } = await connected();
    ws.send({ type: 'ping', id: 'x'.repeat(70 * 1024) });
    expect((await ws.closed).code).toBe(1009);
  });

  it('closes with 1008 past the per-connection message rate', async () => {
    const { ws } = await connected();
    for (let i = 0; i < 40; i++) ws.send({ type: 'ping' });
    expect((await ws.closed).code).toBe(1008);
  });
});

describe('liveness and sign-out', () => {
  it('terminates a socket that stops answering pings', async () => {
    const { client } = await signedIn();
    const ws = new WsTestClient(server.url, { cookie: client.cookie, autoPong: false });
    await ws.opened;
    const started = Date.now();
    const { code } = await ws.closed;
    expect(code).toBe(1006); // terminated, no close frame
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('keeps a socket that answers pings', async () => {
    const { ws } = await connected();
    await new Promise((r) => setTimeout(r, 1_000));
    ws.send({ type: 'ping', id: 'alive' });
    expect(await ws.next()).toEqual({ type: 'pong', id: 'alive' });
    ws.close();
  });

  it("closes the session's sockets within a second of signing out, on every node", async () => {
    const other = await startServer(testConfig({ redisUrl }));
    try {
      const { client, ws } = await connected();
      const remote = new WsTestClient(other.url, { cookie: client.cookie });
      await remote.next();
      const { ws: bystander } = await connected();
      const started = Date.now();
      expect((await client.post('/api/auth/logout')).status).toBe(204);
      const [local, far] = await Promise.all([ws.closed, remote.closed]);
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(local.code).toBe(4001);
      expect(far.code).toBe(4001);
      // Another user's socket stays open.
      bystander.send({ type: 'ping', id: 'b' });
      expect(await bystander.next()).toEqual({ type: 'pong', id: 'b' });
      bystander.close();
    } finally {
      await other.close();
    }
  });
});
