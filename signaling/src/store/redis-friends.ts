/**
 * Friends on Redis: three SETs per user (friends, requests in, requests out). Every write that
 * touches more than one set is one Lua script, so concurrent requests, accepts and removals cannot
 * leave the relation half-written or let a limit be passed.
 */
import type { Guard, RedisClient } from './redis-connection.js';
import { FRIENDS, REQUESTS_IN, REQUESTS_OUT, lua, runScript } from './redis-scripts.js';
import type { AcceptRequestResult, FriendLimits, FriendOperations, SendRequestResult } from './store.js';

// Every key is passed in KEYS, none is built in Lua. On Redis Cluster the keys of two users would
// still need a shared hash tag; this store targets a single Redis (or Sentinel).

// KEYS: friends:from, friends:to, req-out:from, req-in:from, req-out:to, req-in:to.
// ARGV: from, to, maxFriends, maxPendingOutgoing, maxPendingIncoming.
const SEND_REQUEST = lua(`
if redis.call('SISMEMBER', KEYS[1], ARGV[2]) == 1 then return 'already_friends' end
if redis.call('SISMEMBER', KEYS[3], ARGV[2]) == 1 then return 'already_requested' end
if redis.call('SISMEMBER', KEYS[5], ARGV[1]) == 1 then
  local maxFriends = tonumber(ARGV[3])
  if redis.call('SCARD', KEYS[1]) >= maxFriends or redis.call('SCARD', KEYS[2]) >= maxFriends then
    return 'friend_limit'
  end
  redis.call('SREM', KEYS[5], ARGV[1])
  redis.call('SREM', KEYS[4], ARGV[2])
  redis.call('SADD', KEYS[1], ARGV[2])
  redis.call('SADD', KEYS[2], ARGV[1])
  return 'accepted'
end
if redis.call('SCARD', KEYS[3]) >= tonumber(ARGV[4]) or redis.call('SCARD', KEYS[6]) >= tonumber(ARGV[5]) then
  return 'pending_limit'
end
redis.call('SADD', KEYS[3], ARGV[2])
redis.call('SADD', KEYS[6], ARGV[1])
return 'requested'`);

// KEYS: friends:user, friends:from, req-in:user, req-out:user, req-in:from, req-out:from.
// ARGV: user, from, maxFriends.
const ACCEPT_REQUEST = lua(`
if redis.call('SISMEMBER', KEYS[3], ARGV[2]) == 0 then return 'no_request' end
local maxFriends = tonumber(ARGV[3])
if redis.call('SCARD', KEYS[1]) >= maxFriends or redis.call('SCARD', KEYS[2]) >= maxFriends then
  return 'friend_limit'
end
redis.call('SREM', KEYS[3], ARGV[2])
redis.call('SREM', KEYS[6], ARGV[1])
redis.call('SREM', KEYS[4], ARGV[2])
redis.call('SREM', KEYS[5], ARGV[1])
redis.call('SADD', KEYS[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
return 'accepted'`);

// Removes one relation stored on both sides (a friendship, or a request's two entries).
// KEYS: the first side's set, the second side's set. ARGV: the member of each. 1 if either had it.
const REMOVE_PAIR = lua(`
local a = redis.call('SREM', KEYS[1], ARGV[1])
local b = redis.call('SREM', KEYS[2], ARGV[2])
if a + b > 0 then return 1 end
return 0`);

function asStrings(reply: unknown): string[] {
  return Array.isArray(reply) ? reply.map(String) : [];
}

/** Friend operations over `client`, each call guarded so outages surface as `StoreUnavailableError`. */
export function createRedisFriends(client: RedisClient, guard: Guard): FriendOperations {
  const removePair = async (
    operation: string,
    [firstKey, firstMember]: [string, string],
    [secondKey, secondMember]: [string, string],
  ): Promise<boolean> => {
    const reply = await guard(operation, () =>
      runScript(client, REMOVE_PAIR, [firstKey, secondKey], [firstMember, secondMember]),
    );
    return Number(reply) === 1;
  };

  return {
    async sendFriendRequest(fromId, toId, limits: FriendLimits) {
      const reply = await guard('sendFriendRequest', () =>
        runScript(
          client,
          SEND_REQUEST,
          [
            FRIENDS + fromId,
            FRIENDS + toId,
            REQUESTS_OUT + fromId,
            REQUESTS_IN + fromId,
            REQUESTS_OUT + toId,
            REQUESTS_IN + toId,
          ],
          [
            fromId,
            toId,
            String(limits.maxFriends),
            String(limits.maxPendingOutgoing),
            String(limits.maxPendingIncoming),
          ],
        ),
      );
      return String(reply) as SendRequestResult;
    },

    async acceptFriendRequest(userId, fromId, limits: FriendLimits) {
      const reply = await guard('acceptFriendRequest', () =>
        runScript(
          client,
          ACCEPT_REQUEST,
          [
            FRIENDS + userId,
            FRIENDS + fromId,
            REQUESTS_IN + userId,
            REQUESTS_OUT + userId,
            REQUESTS_IN + fromId,
            REQUESTS_OUT + fromId,
          ],
          [userId, fromId, String(limits.maxFriends)],
        ),
      );
      return String(reply) as AcceptRequestResult;
    },

    declineFriendRequest: (userId, fromId) =>
      removePair('declineFriendRequest', [REQUESTS_IN + userId, fromId], [REQUESTS_OUT + fromId, userId]),

    cancelFriendRequest: (userId, toId) =>
      removePair('cancelFriendRequest', [REQUESTS_OUT + userId, toId], [REQUESTS_IN + toId, userId]),

    removeFriend: (userId, friendId) =>
      removePair('removeFriend', [FRIENDS + userId, friendId], [FRIENDS + friendId, userId]),

    async areFriends(a, b) {
      return (await guard('areFriends', () => client.sIsMember(FRIENDS + a, b))) === 1;
    },

    async getFriendIds(userId) {
      return asStrings(await guard('getFriendIds', () => client.sMembers(FRIENDS + userId)));
    },

    async getIncomingRequestIds(userId) {
      return asStrings(await guard('getIncomingRequestIds', () => client.sMembers(REQUESTS_IN + userId)));
    },

    async getOutgoingRequestIds(userId) {
      return asStrings(await guard('getOutgoingRequestIds', () => client.sMembers(REQUESTS_OUT + userId)));
    },
  };
}
