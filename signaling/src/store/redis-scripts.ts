/**
 * Redis key layout, the Lua scripts of users and sessions, and how scripts run. Lua keeps each change
 * that touches several keys atomic (a name and its account, a session and its user's index). The
 * friends and presence scripts live beside their operations (`redis-friends.ts`,
 * `redis-presence.ts`).
 */
import { createHash } from 'node:crypto';
import { ErrorReply } from 'redis';
import type { RedisClient } from './redis-connection.js';

export const PREFIX = 'parley:';
export const USER = `${PREFIX}user:`;
export const USERNAME = `${PREFIX}username:`;
export const SESSION = `${PREFIX}session:`;
export const USER_SESSIONS = `${PREFIX}user-sessions:`;
export const RATE_LIMIT = `${PREFIX}rl:`;
/** SET of a user's friends' ids. */
export const FRIENDS = `${PREFIX}friends:`;
/** SET of the ids of users who asked this user. */
export const REQUESTS_IN = `${PREFIX}req-in:`;
/** SET of the ids of users this user asked. */
export const REQUESTS_OUT = `${PREFIX}req-out:`;
/** HASH of a user's live connections: connection id -> 'online' | 'away'. */
export const PRESENCE = `${PREFIX}presence:`;
/** STRING, the user's aggregated status, 'online' or 'away'; absent while offline. */
export const PRESENCE_STATUS = `${PREFIX}status:`;
/** STRING, ms since the epoch when the user last went offline. */
export const LAST_SEEN = `${PREFIX}last-seen:`;
/** ZSET of every live connection's lease, member `{userId} {connectionId}`, score its expiry (ms). */
export const PRESENCE_LEASES = `${PREFIX}presence-leases`;

// Scripts derive session keys from set members, which is fine on a single Redis (or Sentinel) but
// would need hash tags on Redis Cluster.
const NOW_MS = `local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000)`;
// The per-user set lives as long as its longest-lived session, so it cannot outlive them all.
const EXTEND_SET = `local function extendSet(key, at)
  local pttl = redis.call('PTTL', key)
  if pttl < 0 or now + pttl < at then redis.call('PEXPIREAT', key, at) end
end`;

/** A script and its SHA-1, for EVALSHA. */
export interface LuaScript {
  source: string;
  sha: string;
}

/** Wraps Lua source with its SHA-1. */
export function lua(source: string): LuaScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

export const CREATE_USER = lua(`
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
if not redis.call('SET', KEYS[1], ARGV[1], 'NX') then return 0 end
redis.call('HSET', KEYS[2], 'id', ARGV[1], 'username', ARGV[2], 'passwordHash', ARGV[3], 'createdAt', ARGV[4])
return 1`);

// KEYS: session, user-sessions. ARGV: userId, expiresAt, idHash.
export const SET_SESSION = lua(`${NOW_MS}
${EXTEND_SET}
local at = tonumber(ARGV[2])
local previous = redis.call('HGET', KEYS[1], 'userId')
if previous and previous ~= ARGV[1] then redis.call('SREM', '${USER_SESSIONS}' .. previous, ARGV[3]) end
if at <= now then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[2], ARGV[3])
  return 0
end
redis.call('HSET', KEYS[1], 'userId', ARGV[1], 'expiresAt', ARGV[2])
redis.call('PEXPIREAT', KEYS[1], at)
redis.call('SADD', KEYS[2], ARGV[3])
extendSet(KEYS[2], at)
return 1`);

// KEYS: session. ARGV: expiresAt, idHash. Never creates a session that is gone.
export const UPDATE_SESSION_EXPIRY = lua(`${NOW_MS}
${EXTEND_SET}
local userId = redis.call('HGET', KEYS[1], 'userId')
if not userId then return 0 end
local at = tonumber(ARGV[1])
if at <= now then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', '${USER_SESSIONS}' .. userId, ARGV[2])
  return 0
end
redis.call('HSET', KEYS[1], 'expiresAt', ARGV[1])
redis.call('PEXPIREAT', KEYS[1], at)
extendSet('${USER_SESSIONS}' .. userId, at)
return 1`);

// KEYS: session. ARGV: idHash.
export const DELETE_SESSION = lua(`
local userId = redis.call('HGET', KEYS[1], 'userId')
redis.call('DEL', KEYS[1])
if userId then redis.call('SREM', '${USER_SESSIONS}' .. userId, ARGV[1]) end
return 1`);

// KEYS: user-sessions. ARGV: userId. Returns idHash, expiresAt pairs; prunes members that expired.
export const GET_USER_SESSIONS = lua(`
local out = {}
for _, h in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local s = redis.call('HMGET', '${SESSION}' .. h, 'userId', 'expiresAt')
  if s[1] == ARGV[1] and s[2] then
    out[#out + 1] = h
    out[#out + 1] = s[2]
  else
    redis.call('SREM', KEYS[1], h)
  end
end
return out`);

// KEYS: user-sessions. ARGV: userId. Returns the id hashes of the sessions that were still live.
export const DELETE_USER_SESSIONS = lua(`
local out = {}
for _, h in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = '${SESSION}' .. h
  if redis.call('HGET', key, 'userId') == ARGV[1] then
    redis.call('DEL', key)
    out[#out + 1] = h
  end
end
redis.call('DEL', KEYS[1])
return out`);

/** Runs a script by SHA, loading it with EVAL when Redis does not know it (first use, or after a
 * restart, since the script cache is not persisted). */
export async function runScript(
  client: RedisClient,
  script: LuaScript,
  keys: string[],
  args: string[],
): Promise<unknown> {
  const options = { keys, arguments: args };
  try {
    return await client.evalSha(script.sha, options);
  } catch (error) {
    if (error instanceof ErrorReply && error.message.startsWith('NOSCRIPT')) {
      return client.eval(script.source, options);
    }
    throw error;
  }
}
