/**
 * Presence on Redis. Each connection holds a lease in one global ZSET (score: expiry), and its status
 * in its user's HASH; the user's aggregated status is a STRING kept beside it, so every operation can
 * tell whether the aggregate changed and only then report it. Each operation is one Lua script, so
 * nodes sharing the Redis can connect, renew and sweep at once without double-reporting a change.
 */
import type { Guard, RedisClient } from './redis-connection.js';
import { LAST_SEEN, PRESENCE, PRESENCE_LEASES, PRESENCE_STATUS, lua, runScript } from './redis-scripts.js';
import type {
  PresenceChange,
  PresenceLease,
  PresenceOperations,
  PresenceRecord,
  PresenceStatus,
} from './store.js';

/** Leases renewed per script call: big enough to spare round trips, small enough not to stall Redis. */
const REFRESH_CHUNK = 500;

// Lease members are `{userId} {connectionId}`: ids are UUIDs, so a space cannot occur in them.
const LEASE_SEPARATOR = ' ';

// The scripts derive per-user keys from their arguments and from lease members (a sweep cannot know
// its users in advance), which is fine on a single Redis (or Sentinel) but not on Redis Cluster.
//
// recompute(u, now) aggregates u's connections (online if any is online, away if all are away,
// offline if none) and appends `u, status, lastSeen` to `out` when that differs from the stored
// aggregate. Going offline records `now` as lastSeen; otherwise lastSeen is the stored value (false,
// i.e. nil, when never recorded).
const RECOMPUTE = `local out = {}
local function recompute(u, now)
  local status = 'offline'
  for _, s in ipairs(redis.call('HVALS', '${PRESENCE}' .. u)) do
    if s == 'online' then
      status = 'online'
      break
    end
    status = 'away'
  end
  local previous = redis.call('GET', '${PRESENCE_STATUS}' .. u) or 'offline'
  if status == previous then return end
  local lastSeen
  if status == 'offline' then
    redis.call('DEL', '${PRESENCE_STATUS}' .. u)
    redis.call('SET', '${LAST_SEEN}' .. u, now)
    lastSeen = now
  else
    redis.call('SET', '${PRESENCE_STATUS}' .. u, status)
    lastSeen = redis.call('GET', '${LAST_SEEN}' .. u)
  end
  out[#out + 1] = u
  out[#out + 1] = status
  out[#out + 1] = lastSeen
end`;

// Connect, status change and renewal alike: (re)writes each connection and its lease, then
// recomputes each user once, so a batch reports only each user's net change.
// KEYS: leases. ARGV: expiresAt, then userId, connectionId, status for each lease.
const UPSERT = lua(`${RECOMPUTE}
local seen, users = {}, {}
for i = 2, #ARGV, 3 do
  local u, c = ARGV[i], ARGV[i + 1]
  redis.call('HSET', '${PRESENCE}' .. u, c, ARGV[i + 2])
  redis.call('ZADD', KEYS[1], ARGV[1], u .. '${LEASE_SEPARATOR}' .. c)
  if not seen[u] then
    seen[u] = true
    users[#users + 1] = u
  end
end
for _, u in ipairs(users) do recompute(u, false) end
return out`);

// KEYS: leases. ARGV: userId, connectionId, now.
const DISCONNECT = lua(`${RECOMPUTE}
redis.call('HDEL', '${PRESENCE}' .. ARGV[1], ARGV[2])
redis.call('ZREM', KEYS[1], ARGV[1] .. '${LEASE_SEPARATOR}' .. ARGV[2])
recompute(ARGV[1], ARGV[3])
return out`);

// Atomic, so when every node sweeps at once each expired lease is taken (and reported) once.
// KEYS: leases. ARGV: now, limit.
const SWEEP = lua(`${RECOMPUTE}
local seen, users = {}, {}
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])) do
  redis.call('ZREM', KEYS[1], m)
  local at = string.find(m, '${LEASE_SEPARATOR}', 1, true)
  if at then
    local u = string.sub(m, 1, at - 1)
    redis.call('HDEL', '${PRESENCE}' .. u, string.sub(m, at + 1))
    if not seen[u] then
      seen[u] = true
      users[#users + 1] = u
    end
  end
end
for _, u in ipairs(users) do recompute(u, ARGV[1]) end
return out`);

/** Rejects ids that would make a lease member ambiguous (ids are UUIDs, so this never fires). */
function assertLeaseIds(userId: string, connectionId: string): void {
  if (userId.includes(LEASE_SEPARATOR) || connectionId.includes(LEASE_SEPARATOR)) {
    throw new TypeError('presence ids must not contain a space');
  }
}

function parseStatus(value: unknown): PresenceStatus {
  return value === 'online' || value === 'away' ? value : 'offline';
}

function parseLastSeen(value: unknown): number | null {
  if (value === null || value === undefined || value === '') return null;
  const ms = Number(value);
  return Number.isFinite(ms) ? ms : null;
}

/** The flat `userId, status, lastSeen` triples a script returns, as changes. */
function parseChanges(reply: unknown): PresenceChange[] {
  if (!Array.isArray(reply)) return [];
  const changes: PresenceChange[] = [];
  for (let i = 0; i + 2 < reply.length; i += 3) {
    changes.push({
      userId: String(reply[i]),
      status: parseStatus(reply[i + 1]),
      lastSeen: parseLastSeen(reply[i + 2]),
    });
  }
  return changes;
}

/** Splits leases into script-sized batches, keeping a user's leases together where possible so one
 * call sees all of them and reports the user's net change only. */
function batchByUser(leases: readonly PresenceLease[]): PresenceLease[][] {
  const byUser = new Map<string, PresenceLease[]>();
  for (const lease of leases) {
    const group = byUser.get(lease.userId);
    if (group) group.push(lease);
    else byUser.set(lease.userId, [lease]);
  }
  const batches: PresenceLease[][] = [];
  let batch: PresenceLease[] = [];
  for (const group of byUser.values()) {
    if (batch.length > 0 && batch.length + group.length > REFRESH_CHUNK) {
      batches.push(batch);
      batch = [];
    }
    batch.push(...group);
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/** Presence operations over `client`, each call guarded so outages surface as `StoreUnavailableError`. */
export function createRedisPresence(client: RedisClient, guard: Guard): PresenceOperations {
  const upsert = async (
    operation: string,
    leases: readonly PresenceLease[],
    expiresAt: number,
  ): Promise<PresenceChange[]> => {
    const args = [String(expiresAt)];
    for (const { userId, connectionId, status } of leases) {
      assertLeaseIds(userId, connectionId);
      args.push(userId, connectionId, status);
    }
    return parseChanges(await guard(operation, () => runScript(client, UPSERT, [PRESENCE_LEASES], args)));
  };

  return {
    async presenceConnect(lease, expiresAt) {
      return (await upsert('presenceConnect', [lease], expiresAt))[0] ?? null;
    },

    async presenceSetStatus(lease, expiresAt) {
      // The same write as a connect: an unknown connection (its lease swept, or Redis restarted) is
      // simply re-created.
      return (await upsert('presenceSetStatus', [lease], expiresAt))[0] ?? null;
    },

    async presenceDisconnect(userId, connectionId, now) {
      assertLeaseIds(userId, connectionId);
      const reply = await guard('presenceDisconnect', () =>
        runScript(client, DISCONNECT, [PRESENCE_LEASES], [userId, connectionId, String(now)]),
      );
      return parseChanges(reply)[0] ?? null;
    },

    async presenceRefresh(leases, expiresAt) {
      // Sent together, the batches go out pipelined: one round trip, each batch atomic on its own.
      const results = await Promise.all(
        batchByUser(leases).map((batch) => upsert('presenceRefresh', batch, expiresAt)),
      );
      return results.flat();
    },

    async presenceSweep(now, limit) {
      if (limit <= 0) return [];
      const reply = await guard('presenceSweep', () =>
        runScript(client, SWEEP, [PRESENCE_LEASES], [String(now), String(Math.floor(limit))]),
      );
      return parseChanges(reply);
    },

    async getPresence(userIds): Promise<PresenceRecord[]> {
      if (userIds.length === 0) return [];
      const keys = [...userIds.map((id) => PRESENCE_STATUS + id), ...userIds.map((id) => LAST_SEEN + id)];
      const values = await guard('getPresence', () => client.mGet(keys));
      return userIds.map((_, i) => ({
        status: parseStatus(values[i]),
        lastSeen: parseLastSeen(values[userIds.length + i]),
      }));
    },

    async isConnectionLive(userId, connectionId) {
      return (await guard('isConnectionLive', () => client.hExists(PRESENCE + userId, connectionId))) === 1;
    },
  };
}
