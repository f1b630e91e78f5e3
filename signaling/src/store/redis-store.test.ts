/**
 * Redis store resilience against its own redis-server (the shared one must never go down): fail
 * fast during an outage, recover by itself afterwards, keep bus subscriptions across it, tell
 * reconnect listeners once per outage, and fail loudly when Redis is not there at startup.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import net from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServerHandle } from '../../test/redis-server.js';
import { createRedisStore } from './redis-store.js';
import {
  StoreUnavailableError,
  type FriendLimits,
  type PresenceChange,
  type PresenceLease,
  type Store,
  type UserRecord,
} from './store.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually(predicate: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(25);
  }
}

function newUser(): UserRecord {
  return {
    id: randomUUID(),
    username: `user-${randomUUID()}`,
    passwordHash: '$argon2id$fake',
    createdAt: Date.now(),
  };
}

/** A pino logger whose JSON lines land in `lines`, to check what an outage logs. */
function capturingLogger(): { logger: pino.Logger; lines: { level: number; msg: string }[] } {
  const lines: { level: number; msg: string }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        lines.push(JSON.parse(line) as { level: number; msg: string });
      }
      callback();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

const LIMITS: FriendLimits = { maxFriends: 10, maxPendingOutgoing: 10, maxPendingIncoming: 10 };

/** Every operation, each expected to reject with StoreUnavailableError while Redis is down. */
function operations(store: Store): [string, () => Promise<unknown>][] {
  const user = newUser();
  const other = randomUUID();
  const idHash = randomBytes(32).toString('hex');
  const lease: PresenceLease = { userId: user.id, connectionId: randomUUID(), status: 'online' };
  const expiresAt = Date.now() + 60_000;
  return [
    ['createUser', () => store.createUser(user)],
    ['getUserById', () => store.getUserById(user.id)],
    ['getUserByUsername', () => store.getUserByUsername(user.username)],
    ['setSession', () => store.setSession({ idHash, userId: user.id, expiresAt: Date.now() + 60_000 })],
    ['getSession', () => store.getSession(idHash)],
    ['updateSessionExpiry', () => store.updateSessionExpiry(idHash, Date.now() + 60_000)],
    ['deleteSession', () => store.deleteSession(idHash)],
    ['getUserSessions', () => store.getUserSessions(user.id)],
    ['deleteUserSessions', () => store.deleteUserSessions(user.id)],
    ['getUsersByIds', () => store.getUsersByIds([user.id, other])],
    ['sendFriendRequest', () => store.sendFriendRequest(user.id, other, LIMITS)],
    ['acceptFriendRequest', () => store.acceptFriendRequest(user.id, other, LIMITS)],
    ['declineFriendRequest', () => store.declineFriendRequest(user.id, other)],
    ['cancelFriendRequest', () => store.cancelFriendRequest(user.id, other)],
    ['removeFriend', () => store.removeFriend(user.id, other)],
    ['areFriends', () => store.areFriends(user.id, other)],
    ['getFriendIds', () => store.getFriendIds(user.id)],
    ['getIncomingRequestIds', () => store.getIncomingRequestIds(user.id)],
    ['getOutgoingRequestIds', () => store.getOutgoingRequestIds(user.id)],
    ['presenceConnect', () => store.presenceConnect(lease, expiresAt)],
    ['presenceSetStatus', () => store.presenceSetStatus(lease, expiresAt)],
    ['presenceDisconnect', () => store.presenceDisconnect(user.id, lease.connectionId, Date.now())],
    ['presenceRefresh', () => store.presenceRefresh([lease], expiresAt)],
    ['presenceSweep', () => store.presenceSweep(Date.now(), 100)],
    ['getPresence', () => store.getPresence([user.id])],
    ['publish', () => store.bus.publish('parley-test', 'x')],
    ['subscribe', () => store.bus.subscribe(`chan-${randomUUID()}`, () => undefined)],
  ];
}

describe('redis store through a Redis outage', () => {
  let redis: RedisServerHandle;
  let store: Store;
  const { logger, lines } = capturingLogger();
  // A connection this "node" keeps alive: a reconnect listener re-asserts it, as a node would.
  const live: PresenceLease = { userId: randomUUID(), connectionId: randomUUID(), status: 'online' };
  const refreshes: Promise<PresenceChange[]>[] = [];
  let removedListenerCalls = 0;

  beforeAll(async () => {
    redis = await startRedisServer();
    store = await createRedisStore(redis.url, logger);
    store.onReconnect(() => {
      refreshes.push(store.presenceRefresh([live], Date.now() + 60_000));
    });
    const remove = store.onReconnect(() => removedListenerCalls++);
    remove();
    await store.presenceConnect(live, Date.now() + 60_000);
  });

  it('does not call reconnect listeners for the first connect', async () => {
    await sleep(100);
    expect(refreshes).toHaveLength(0);
  });

  afterAll(async () => {
    await store?.close();
    await redis?.stop();
  });

  // The second outage is long enough for several failed reconnect attempts and a capped backoff.
  const outages = [
    ['stop', 0],
    ['kill', 3_000],
  ] as const;
  for (const [outage, [how, outageMs]] of outages.entries()) {
    it(`fails fast while Redis is down (${how}, ${outageMs} ms) and recovers`, async () => {
      const channel = `chan-${randomUUID()}`;
      const received: string[] = [];
      const unsubscribe = await store.bus.subscribe(channel, (m) => received.push(m));
      const limiter = store.rateLimiter({ keyPrefix: `rl-${randomUUID()}`, points: 2, duration: 60 });
      const before = newUser();
      expect(await store.createUser(before)).toBe(true);

      await redis[how]();
      await eventually(async () => !(await store.isHealthy()), 2_000);
      await sleep(outageMs);

      for (const [name, operation] of operations(store)) {
        const started = Date.now();
        const outcome = await operation().then(
          () => new Error(`${name} succeeded while Redis was down`),
          (error: unknown) => error,
        );
        expect(outcome, name).toBeInstanceOf(StoreUnavailableError);
        expect((outcome as StoreUnavailableError).cause, name).toBeDefined();
        expect(Date.now() - started, name).toBeLessThan(1_500);
      }
      // Throttling still holds during the outage, on the in-memory insurance limiter.
      await limiter.consume('ip');
      await limiter.consume('ip');
      await expect(limiter.consume('ip')).rejects.toMatchObject({ remainingPoints: 0 });

      await redis.restart();
      await eventually(() => store.isHealthy(), 5_000);

      // Exactly one reconnect call for this outage, however many retries it took, and the listener
      // could use the store at once: the restart had wiped the presence it re-asserted.
      await eventually(() => refreshes.length === outage + 1, 2_000);
      await sleep(200);
      expect(refreshes).toHaveLength(outage + 1);
      expect(await refreshes[outage]).toEqual([{ userId: live.userId, status: 'online', lastSeen: null }]);
      expect(await store.getPresence([live.userId])).toEqual([{ status: 'online', lastSeen: null }]);
      expect(removedListenerCalls).toBe(0);

      // Nothing persists in the test Redis, so the user from before is gone; the store works.
      const after = newUser();
      expect(await store.createUser(after)).toBe(true);
      expect(await store.getUserByUsername(after.username)).toEqual(after);

      // The subscription made before the outage was renewed by node-redis on reconnect.
      await store.bus.publish(channel, 'after-restart');
      await eventually(() => received.includes('after-restart'), 2_000);
      await unsubscribe();
    });
  }

  it('logged each loss and recovery once, not every retry', () => {
    const lost = lines.filter((l) => l.msg.includes('connection lost'));
    const back = lines.filter((l) => l.msg === 'redis reconnected');
    // Two outages, two connections (commands and subscriber).
    expect(lost).toHaveLength(4);
    expect(back).toHaveLength(4);
    expect(lines.filter((l) => l.msg === 'redis still unreachable')).toHaveLength(0);
  });
});

describe('redis store startup', () => {
  it('rejects with a clear error when nothing listens at REDIS_URL', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, '127.0.0.1', () => {
        const address = server.address() as net.AddressInfo;
        server.close(() => resolve(address.port));
      });
    });
    const { logger } = capturingLogger();
    const started = Date.now();
    await expect(
      createRedisStore(`redis://:secret@127.0.0.1:${port}`, logger, { startupTimeoutMs: 1_000 }),
    ).rejects.toThrow(new RegExp(`Redis at 127\\.0\\.0\\.1:${port} is not reachable.*ECONNREFUSED`));
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('does not put the password from REDIS_URL into the error', async () => {
    const error: unknown = await createRedisStore('redis://:hunter2@127.0.0.1:1', capturingLogger().logger, {
      startupTimeoutMs: 500,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).not.toContain('hunter2');
  });

  it('rejects an invalid REDIS_URL', async () => {
    await expect(createRedisStore('http://127.0.0.1:6379', capturingLogger().logger)).rejects.toThrow(
      /invalid REDIS_URL/,
    );
  });
});
