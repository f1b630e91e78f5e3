/**
 * The store contract, run against both implementations. The Redis one uses the shared test Redis,
 * so every test works with fresh random ids and names and never flushes.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { RateLimiterRes } from 'rate-limiter-flexible';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { silentLogger } from '../logger.js';
import { createMemoryStore } from './memory-store.js';
import { createRedisStore } from './redis-store.js';
import type { SessionRecord, Store, UserRecord } from './store.js';

const factories: { kind: Store['kind']; create: () => Promise<Store> }[] = [
  { kind: 'memory', create: async () => createMemoryStore() },
  { kind: 'redis', create: () => createRedisStore(inject('redisUrl'), silentLogger) },
];

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function newUser(overrides: Partial<UserRecord> = {}): UserRecord {
  return {
    id: randomUUID(),
    username: `user-${randomUUID()}`,
    passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
    createdAt: Date.now(),
    ...overrides,
  };
}

function newSession(userId: string, ttlMs = 60 * 60 * 1000): SessionRecord {
  return { idHash: randomBytes(32).toString('hex'), userId, expiresAt: Date.now() + ttlMs };
}

/** Resolves once `predicate` holds, polling; fails the test after `timeoutMs`. */
async function eventually(predicate: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

const byIdHash = (a: SessionRecord, b: SessionRecord): number => a.idHash.localeCompare(b.idHash);

describe.each(factories)('$kind store', ({ kind, create }) => {
  let store: Store;

  beforeAll(async () => {
    store = await create();
  });

  afterAll(async () => {
    await store.close();
  });

  it(`reports kind ${kind} and is healthy`, async () => {
    expect(store.kind).toBe(kind);
    expect(await store.isHealthy()).toBe(true);
  });

  describe('users', () => {
    it('creates a user and finds it by id and by name', async () => {
      const user = newUser();
      expect(await store.createUser(user)).toBe(true);
      expect(await store.getUserById(user.id)).toEqual(user);
      expect(await store.getUserByUsername(user.username)).toEqual(user);
    });

    it('answers null for unknown users', async () => {
      expect(await store.getUserById(randomUUID())).toBeNull();
      expect(await store.getUserByUsername(`nobody-${randomUUID()}`)).toBeNull();
    });

    it('rejects a taken username and keeps the first account', async () => {
      const first = newUser();
      const second = newUser({ username: first.username });
      expect(await store.createUser(first)).toBe(true);
      expect(await store.createUser(second)).toBe(false);
      expect(await store.getUserByUsername(first.username)).toEqual(first);
      expect(await store.getUserById(second.id)).toBeNull();
    });

    it('lets exactly one of many concurrent registrations of a name win', async () => {
      const username = `race-${randomUUID()}`;
      const contenders = Array.from({ length: 10 }, () => newUser({ username }));
      const results = await Promise.all(contenders.map((user) => store.createUser(user)));
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = contenders[results.indexOf(true)];
      expect(await store.getUserByUsername(username)).toEqual(winner);
    });

    it('reads several users by id in the order asked, leaving unknown ids out', async () => {
      const [a, b, c] = [newUser(), newUser(), newUser()];
      for (const user of [a, b, c]) expect(await store.createUser(user)).toBe(true);
      expect(await store.getUsersByIds([c.id, randomUUID(), a.id, b.id])).toEqual([c, a, b]);
      expect(await store.getUsersByIds([randomUUID()])).toEqual([]);
      expect(await store.getUsersByIds([])).toEqual([]);
    });
  });

  describe('sessions', () => {
    it('stores, reads, extends and deletes a session', async () => {
      const session = newSession(randomUUID());
      await store.setSession(session);
      expect(await store.getSession(session.idHash)).toEqual(session);

      const later = session.expiresAt + 60_000;
      await store.updateSessionExpiry(session.idHash, later);
      expect(await store.getSession(session.idHash)).toEqual({ ...session, expiresAt: later });

      await store.deleteSession(session.idHash);
      expect(await store.getSession(session.idHash)).toBeNull();
      expect(await store.getUserSessions(session.userId)).toEqual([]);
    });

    it('answers null for an unknown session and does not create one on update', async () => {
      const idHash = randomBytes(32).toString('hex');
      expect(await store.getSession(idHash)).toBeNull();
      await store.updateSessionExpiry(idHash, Date.now() + 60_000);
      expect(await store.getSession(idHash)).toBeNull();
      await store.deleteSession(idHash);
    });

    it('forgets a session once it expires', async () => {
      const userId = randomUUID();
      const shortLived = newSession(userId, 200);
      const longLived = newSession(userId);
      await store.setSession(shortLived);
      await store.setSession(longLived);
      expect((await store.getUserSessions(userId)).sort(byIdHash)).toEqual(
        [shortLived, longLived].sort(byIdHash),
      );

      await sleep(400);
      expect(await store.getSession(shortLived.idHash)).toBeNull();
      expect(await store.getUserSessions(userId)).toEqual([longLived]);
      await store.deleteExpiredSessions();
      expect(await store.getSession(longLived.idHash)).toEqual(longLived);
    });

    it('keeps a session alive when its expiry is extended', async () => {
      const session = newSession(randomUUID(), 200);
      await store.setSession(session);
      const later = Date.now() + 60_000;
      await store.updateSessionExpiry(session.idHash, later);
      await sleep(400);
      expect(await store.getSession(session.idHash)).toEqual({ ...session, expiresAt: later });
      expect(await store.getUserSessions(session.userId)).toEqual([{ ...session, expiresAt: later }]);
    });

    it('ends a session whose expiry is moved into the past', async () => {
      const session = newSession(randomUUID());
      await store.setSession(session);
      await store.updateSessionExpiry(session.idHash, Date.now() - 1);
      expect(await store.getSession(session.idHash)).toBeNull();
      expect(await store.getUserSessions(session.userId)).toEqual([]);
    });

    it("deletes all of a user's sessions and returns their hashes", async () => {
      const userId = randomUUID();
      const sessions = [newSession(userId), newSession(userId), newSession(userId)];
      const bystander = newSession(randomUUID());
      for (const session of [...sessions, bystander]) await store.setSession(session);

      const deleted = await store.deleteUserSessions(userId);
      expect(deleted.sort()).toEqual(sessions.map((s) => s.idHash).sort());
      for (const session of sessions) expect(await store.getSession(session.idHash)).toBeNull();
      expect(await store.getUserSessions(userId)).toEqual([]);
      expect(await store.deleteUserSessions(userId)).toEqual([]);
      expect(await store.getSession(bystander.idHash)).toEqual(bystander);
    });

    it('does not return expired sessions from deleteUserSessions', async () => {
      const userId = randomUUID();
      const live = newSession(userId);
      await store.setSession(newSession(userId, 100));
      await store.setSession(live);
      await sleep(300);
      expect(await store.deleteUserSessions(userId)).toEqual([live.idHash]);
    });
  });

  describe('bus', () => {
    it('delivers to every subscriber of a channel and only that channel', async () => {
      const channel = `chan-${randomUUID()}`;
      const other = `chan-${randomUUID()}`;
      const first: string[] = [];
      const second: string[] = [];
      const elsewhere: string[] = [];
      const unsubscribers = [
        await store.bus.subscribe(channel, (m) => first.push(m)),
        await store.bus.subscribe(channel, (m) => second.push(m)),
        await store.bus.subscribe(other, (m) => elsewhere.push(m)),
      ];

      await store.bus.publish(channel, 'hello');
      await store.bus.publish(other, 'marker');
      await eventually(() => first.length === 1 && second.length === 1 && elsewhere.length === 1);
      expect(first).toEqual(['hello']);
      expect(second).toEqual(['hello']);
      expect(elsewhere).toEqual(['marker']);

      for (const unsubscribe of unsubscribers) await unsubscribe();
    });

    it('stops delivering to a handler once it unsubscribes', async () => {
      const channel = `chan-${randomUUID()}`;
      const leaving: string[] = [];
      const staying: string[] = [];
      const unsubscribeLeaving = await store.bus.subscribe(channel, (m) => leaving.push(m));
      const unsubscribeStaying = await store.bus.subscribe(channel, (m) => staying.push(m));

      await store.bus.publish(channel, 'one');
      await eventually(() => leaving.length === 1 && staying.length === 1);

      await unsubscribeLeaving();
      await unsubscribeLeaving(); // idempotent
      await store.bus.publish(channel, 'two');
      await eventually(() => staying.length === 2);
      expect(leaving).toEqual(['one']);
      expect(staying).toEqual(['one', 'two']);

      await unsubscribeStaying();
      // With nobody left, a new subscription on the channel works from scratch.
      const again: string[] = [];
      const unsubscribeAgain = await store.bus.subscribe(channel, (m) => again.push(m));
      await store.bus.publish(channel, 'three');
      await eventually(() => again.length === 1);
      expect(staying).toEqual(['one', 'two']);
      await unsubscribeAgain();
    });

    it('keeps delivering when a handler throws', async () => {
      const channel = `chan-${randomUUID()}`;
      const received: string[] = [];
      const unsubscribers = [
        await store.bus.subscribe(channel, () => {
          throw new Error('handler failure');
        }),
        await store.bus.subscribe(channel, (m) => received.push(m)),
      ];
      await store.bus.publish(channel, 'a');
      await store.bus.publish(channel, 'b');
      await eventually(() => received.length === 2);
      expect(received).toEqual(['a', 'b']);
      for (const unsubscribe of unsubscribers) await unsubscribe();
    });

    it('publishes to a channel nobody listens on without error', async () => {
      await expect(store.bus.publish(`chan-${randomUUID()}`, 'void')).resolves.toBeUndefined();
    });
  });

  describe('reconnect listeners', () => {
    it('are not called without an outage and can be removed', async () => {
      let calls = 0;
      const remove = store.onReconnect(() => calls++);
      expect(await store.isHealthy()).toBe(true);
      remove();
      remove(); // idempotent
      expect(calls).toBe(0);
    });
  });

  describe('rate limiter', () => {
    it('allows the configured points and then rejects with the wait', async () => {
      const limiter = store.rateLimiter({ keyPrefix: `test-${randomUUID()}`, points: 2, duration: 60 });
      const key = 'client-1';
      expect((await limiter.consume(key)).remainingPoints).toBe(1);
      expect((await limiter.consume(key)).remainingPoints).toBe(0);

      const rejection: unknown = await limiter.consume(key).catch((error: unknown) => error);
      expect(rejection).toBeInstanceOf(RateLimiterRes);
      const res = rejection as RateLimiterRes;
      expect(res.remainingPoints).toBe(0);
      expect(res.msBeforeNext).toBeGreaterThan(0);
      expect(res.msBeforeNext).toBeLessThanOrEqual(60_000);

      // Other keys have their own budget.
      expect((await limiter.consume('client-2')).remainingPoints).toBe(1);
    });

    it('shares counters between limiters created with the same options', async () => {
      const options = { keyPrefix: `test-${randomUUID()}`, points: 1, duration: 60 };
      await store.rateLimiter(options).consume('k');
      await expect(store.rateLimiter(options).consume('k')).rejects.toBeInstanceOf(RateLimiterRes);
    });
  });
});
