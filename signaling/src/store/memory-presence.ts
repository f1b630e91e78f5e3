/**
 * Presence in memory, with the semantics of the Redis store: a lease per connection, a status
 * aggregated per user (online if any connection is online, away if all are away, offline if none),
 * and a change reported only when the aggregate moves. Each operation runs synchronously to the
 * end, which makes it atomic in one process.
 */
import type {
  ConnectionStatus,
  PresenceChange,
  PresenceLease,
  PresenceOperations,
  PresenceStatus,
} from './store.js';

interface LiveConnection {
  status: ConnectionStatus;
  /** Lease expiry, ms since the epoch. */
  expiresAt: number;
}

/** Creates the in-memory presence operations. */
export function createMemoryPresence(): PresenceOperations {
  const connections = new Map<string, Map<string, LiveConnection>>();
  const lastSeen = new Map<string, number>();

  const aggregate = (userId: string): PresenceStatus => {
    const live = connections.get(userId);
    if (!live || live.size === 0) return 'offline';
    for (const connection of live.values()) if (connection.status === 'online') return 'online';
    return 'away';
  };

  /** The change since `before`, if any; going offline records `now` (when given) as lastSeen. */
  const settle = (userId: string, before: PresenceStatus, now: number | null): PresenceChange | null => {
    const status = aggregate(userId);
    if (status === before) return null;
    if (status === 'offline' && now !== null) lastSeen.set(userId, now);
    return { userId, status, lastSeen: lastSeen.get(userId) ?? null };
  };

  const settleAll = (before: Map<string, PresenceStatus>, now: number | null): PresenceChange[] => {
    const changes: PresenceChange[] = [];
    for (const [userId, status] of before) {
      const change = settle(userId, status, now);
      if (change) changes.push(change);
    }
    return changes;
  };

  /** Writes (or re-creates) each lease; reports each user's net change once. */
  const upsert = (leases: readonly PresenceLease[], expiresAt: number): PresenceChange[] => {
    const before = new Map<string, PresenceStatus>();
    for (const { userId, connectionId, status } of leases) {
      if (!before.has(userId)) before.set(userId, aggregate(userId));
      let live = connections.get(userId);
      if (!live) {
        live = new Map();
        connections.set(userId, live);
      }
      live.set(connectionId, { status, expiresAt });
    }
    return settleAll(before, null);
  };

  return {
    async presenceConnect(lease, expiresAt) {
      return upsert([lease], expiresAt)[0] ?? null;
    },

    async presenceSetStatus(lease, expiresAt) {
      // As on Redis: an unknown connection is simply (re-)created.
      return upsert([lease], expiresAt)[0] ?? null;
    },

    async presenceDisconnect(userId, connectionId, now) {
      const before = aggregate(userId);
      const live = connections.get(userId);
      live?.delete(connectionId);
      if (live?.size === 0) connections.delete(userId);
      return settle(userId, before, now);
    },

    async presenceRefresh(leases, expiresAt) {
      return upsert(leases, expiresAt);
    },

    async presenceSweep(now, limit) {
      // A linear scan of every connection rather than an expiry-ordered index: the memory store
      // serves a single process, whose own connections these are, so it finds expired leases only
      // after that process stalled, and its size stays far from where O(n) every few seconds hurts.
      const before = new Map<string, PresenceStatus>();
      let taken = 0;
      for (const [userId, live] of connections) {
        if (taken >= limit) break;
        for (const [connectionId, connection] of live) {
          if (taken >= limit) break;
          if (connection.expiresAt > now) continue;
          if (!before.has(userId)) before.set(userId, aggregate(userId));
          live.delete(connectionId);
          taken++;
        }
        if (live.size === 0) connections.delete(userId);
      }
      return settleAll(before, now);
    },

    async getPresence(userIds) {
      return userIds.map((userId) => ({ status: aggregate(userId), lastSeen: lastSeen.get(userId) ?? null }));
    },

    async isConnectionLive(userId, connectionId) {
      return connections.get(userId)?.has(connectionId) ?? false;
    },
  };
}
