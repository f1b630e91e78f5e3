/**
 * The presence part of the store contract, run against both implementations.
 *
 * The Redis store keeps every lease in one global index, and a sweep takes whatever expired in it,
 * whoever created it. Servers in other test files share the test Redis and sweep on their own
 * clock, so this file works in a logical database of its own: their sweeps cannot take its leases,
 * nor its sweeps theirs. Within it, ids are random and nothing is flushed, and assertions only look
 * at changes of the test's own users.
 */
import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { silentLogger } from '../logger.js';
import { createMemoryStore } from './memory-store.js';
import { LAST_SEEN, PRESENCE, PRESENCE_LEASES, PRESENCE_STATUS } from './redis-scripts.js';
import { createRedisStore } from './redis-store.js';
import type { ConnectionStatus, PresenceChange, PresenceLease, Store } from './store.js';

/** The logical database this file owns on the shared test Redis (see above). */
const PRESENCE_TEST_DB = 9;
const redisUrl = (): string => `${inject('redisUrl')}/${PRESENCE_TEST_DB}`;

const factories: { kind: Store['kind']; create: () => Promise<Store> }[] = [
  { kind: 'memory', create: async () => createMemoryStore() },
  { kind: 'redis', create: () => createRedisStore(redisUrl(), silentLogger) },
];

function lease(userId: string, status: ConnectionStatus = 'online'): PresenceLease {
  return { userId, connectionId: randomUUID(), status };
}

/** The changes that concern `userIds`, sorted by user, so other tests' leftovers cannot interfere. */
function only(changes: readonly PresenceChange[], userIds: readonly string[]): PresenceChange[] {
  return changes.filter((c) => userIds.includes(c.userId)).sort((a, b) => a.userId.localeCompare(b.userId));
}

const online = (userId: string, lastSeen: number | null = null): PresenceChange => ({
  userId,
  status: 'online',
  lastSeen,
});
const away = (userId: string, lastSeen: number | null = null): PresenceChange => ({
  userId,
  status: 'away',
  lastSeen,
});
const offline = (userId: string, lastSeen: number): PresenceChange => ({
  userId,
  status: 'offline',
  lastSeen,
});

describe.each(factories)('$kind store: presence', ({ kind, create }) => {
  let store: Store;
  let raw: ReturnType<typeof createClient> | undefined;

  beforeAll(async () => {
    store = await create();
    if (kind === 'redis') {
      raw = createClient({ url: redisUrl() });
      await raw.connect();
    }
  });

  afterAll(async () => {
    await store.close();
    await raw?.close();
  });

  /** A lease expiry comfortably after the test ends. */
  const later = (): number => Date.now() + 60_000;

  it('goes online with the first connection and stays so with a second', async () => {
    const user = randomUUID();
    expect(await store.presenceConnect(lease(user), later())).toEqual(online(user));
    expect(await store.presenceConnect(lease(user), later())).toBeNull();
    expect(await store.presenceConnect(lease(user, 'away'), later())).toBeNull();
    expect(await store.getPresence([user])).toEqual([{ status: 'online', lastSeen: null }]);
  });

  it('is online while any connection is online and away once all are', async () => {
    const user = randomUUID();
    const first = lease(user);
    const second = lease(user);
    await store.presenceConnect(first, later());
    await store.presenceConnect(second, later());

    expect(await store.presenceSetStatus({ ...first, status: 'away' }, later())).toBeNull();
    expect(await store.getPresence([user])).toEqual([{ status: 'online', lastSeen: null }]);
    expect(await store.presenceSetStatus({ ...second, status: 'away' }, later())).toEqual(away(user));
    expect(await store.presenceSetStatus({ ...second, status: 'away' }, later())).toBeNull();
    expect(await store.getPresence([user])).toEqual([{ status: 'away', lastSeen: null }]);
    expect(await store.presenceSetStatus(first, later())).toEqual(online(user));
  });

  it('goes offline with the last disconnect, recording lastSeen, and keeps it when back', async () => {
    const user = randomUUID();
    const awayOne = lease(user, 'away');
    const onlineOne = lease(user);
    await store.presenceConnect(awayOne, later());
    await store.presenceConnect(onlineOne, later());

    const now = Date.now();
    expect(await store.presenceDisconnect(user, onlineOne.connectionId, now)).toEqual(away(user));
    expect(await store.presenceDisconnect(user, randomUUID(), now)).toBeNull();
    expect(await store.presenceDisconnect(user, awayOne.connectionId, now + 1)).toEqual(
      offline(user, now + 1),
    );
    expect(await store.presenceDisconnect(user, awayOne.connectionId, now + 2)).toBeNull();
    expect(await store.getPresence([user])).toEqual([{ status: 'offline', lastSeen: now + 1 }]);

    expect(await store.presenceConnect(lease(user), later())).toEqual(online(user, now + 1));
  });

  it('treats a status from an unknown connection as a connect', async () => {
    const user = randomUUID();
    expect(await store.presenceSetStatus(lease(user, 'away'), later())).toEqual(away(user));
    expect(await store.getPresence([user])).toEqual([{ status: 'away', lastSeen: null }]);
  });

  it('sweeps only expired leases and reports who changed', async () => {
    const now = Date.now();
    const [gone, halfGone, staying] = [randomUUID(), randomUUID(), randomUUID()];
    await store.presenceConnect(lease(gone), now - 1_000);
    await store.presenceConnect(lease(gone, 'away'), now);
    await store.presenceConnect(lease(halfGone), now - 1_000);
    await store.presenceConnect(lease(halfGone, 'away'), later());
    await store.presenceConnect(lease(staying), later());

    const changes = only(await store.presenceSweep(now, 10_000), [gone, halfGone, staying]);
    expect(changes).toEqual(only([offline(gone, now), away(halfGone)], [gone, halfGone]));
    expect(await store.getPresence([gone, halfGone, staying])).toEqual([
      { status: 'offline', lastSeen: now },
      { status: 'away', lastSeen: null },
      { status: 'online', lastSeen: null },
    ]);
    expect(only(await store.presenceSweep(now, 10_000), [gone, halfGone, staying])).toEqual([]);
  });

  it('sweeps at most `limit` leases per call and moves on to the next ones', async () => {
    const now = Date.now() - 10_000;
    const users = [randomUUID(), randomUUID(), randomUUID()];
    for (const user of users) await store.presenceConnect(lease(user), now - 1);

    // Swept leases must leave the index, or every call would return the same first ones.
    const seen: PresenceChange[] = [];
    for (let round = 0; round < 5 && seen.length < users.length; round++) {
      const changes = await store.presenceSweep(now, 2);
      expect(changes.length).toBeLessThanOrEqual(2);
      seen.push(...only(changes, users));
    }
    expect(only(seen, users)).toEqual(
      only(
        users.map((user) => offline(user, now)),
        users,
      ),
    );
  });

  it('reports each expired lease once when several sweeps run at the same time', async () => {
    const now = Date.now();
    const users = Array.from({ length: 12 }, () => randomUUID());
    for (const user of users) await store.presenceConnect(lease(user), now - 1);

    const rounds = await Promise.all([
      store.presenceSweep(now, 5),
      store.presenceSweep(now, 5),
      store.presenceSweep(now, 5),
      store.presenceSweep(now, 10_000),
    ]);
    expect(only(rounds.flat(), users)).toEqual(
      only(
        users.map((user) => offline(user, now)),
        users,
      ),
    );
  });

  it('renews leases on refresh, so a sweep leaves them alone', async () => {
    const now = Date.now();
    const user = randomUUID();
    const leases = [lease(user), lease(user, 'away')];
    expect(only(await store.presenceRefresh(leases, now - 1_000), [user])).toEqual([online(user)]);
    expect(await store.presenceRefresh(leases, later())).toEqual([]);
    expect(only(await store.presenceSweep(now, 10_000), [user])).toEqual([]);
    expect(await store.getPresence([user])).toEqual([{ status: 'online', lastSeen: null }]);
    expect(await store.presenceRefresh([], later())).toEqual([]);
  });

  it('re-creates lost presence on refresh and reports the users back', async () => {
    const now = Date.now();
    const user = randomUUID();
    const leases = [lease(user, 'away'), lease(user)];
    await store.presenceRefresh(leases, now - 1_000);

    let lastSeen: number | null;
    if (raw) {
      // What a Redis restart without persistence does to this user.
      await raw.del([PRESENCE + user, PRESENCE_STATUS + user, LAST_SEEN + user]);
      await raw.zRem(
        PRESENCE_LEASES,
        leases.map((l) => `${l.userId} ${l.connectionId}`),
      );
      lastSeen = null;
    } else {
      // Memory cannot lose data; the nearest thing is a sweep taking the leases of a stalled node.
      expect(only(await store.presenceSweep(now, 10_000), [user])).toEqual([offline(user, now)]);
      lastSeen = now;
    }
    expect(await store.getPresence([user])).toEqual([{ status: 'offline', lastSeen }]);

    expect(await store.presenceRefresh(leases, later())).toEqual([online(user, lastSeen)]);
    expect(await store.getPresence([user])).toEqual([{ status: 'online', lastSeen }]);
  });

  it('refreshes many leases at once, reporting each user once with their net status', async () => {
    const users = Array.from({ length: 700 }, () => randomUUID());
    // Each user's away lease comes first, so a per-lease recompute would report away, then online.
    const leases = users.flatMap((user) => [lease(user, 'away'), lease(user)]);
    const changes = await store.presenceRefresh(leases, later());
    expect(only(changes, users)).toEqual(
      only(
        users.map((user) => online(user)),
        users,
      ),
    );
    expect(changes).toHaveLength(users.length);
    const presence = await store.getPresence(users);
    expect(presence.every((p) => p.status === 'online')).toBe(true);
  });

  it('reads presence in the order asked, unknown users offline', async () => {
    const now = Date.now();
    const [here, gone, unknown] = [randomUUID(), randomUUID(), randomUUID()];
    await store.presenceConnect(lease(here, 'away'), later());
    const goneLease = lease(gone);
    await store.presenceConnect(goneLease, later());
    await store.presenceDisconnect(gone, goneLease.connectionId, now);

    expect(await store.getPresence([unknown, gone, here, gone])).toEqual([
      { status: 'offline', lastSeen: null },
      { status: 'offline', lastSeen: now },
      { status: 'away', lastSeen: null },
      { status: 'offline', lastSeen: now },
    ]);
    expect(await store.getPresence([])).toEqual([]);
  });

  it('knows which connections are live', async () => {
    const user = randomUUID();
    const a = lease(user);
    const b = lease(user);
    await store.presenceConnect(a, later());
    await store.presenceConnect(b, later());
    expect(await store.isConnectionLive(user, a.connectionId)).toBe(true);
    await store.presenceDisconnect(user, a.connectionId, Date.now());
    expect(await store.isConnectionLive(user, a.connectionId)).toBe(false);
    expect(await store.isConnectionLive(user, b.connectionId)).toBe(true);
    expect(await store.isConnectionLive(randomUUID(), b.connectionId)).toBe(false);
  });
});
