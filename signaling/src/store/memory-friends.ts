/**
 * Friends in memory: the same three relations as on Redis (friends, requests in, requests out), as
 * maps of sets. Each operation runs synchronously to the end, which makes it atomic in one process.
 */
import type { FriendLimits, FriendOperations } from './store.js';

/** A directed relation between user ids; empty sets are dropped. */
class Relation {
  readonly #sets = new Map<string, Set<string>>();

  has(from: string, to: string): boolean {
    return this.#sets.get(from)?.has(to) ?? false;
  }

  count(from: string): number {
    return this.#sets.get(from)?.size ?? 0;
  }

  list(from: string): string[] {
    return [...(this.#sets.get(from) ?? [])];
  }

  add(from: string, to: string): void {
    let set = this.#sets.get(from);
    if (!set) {
      set = new Set();
      this.#sets.set(from, set);
    }
    set.add(to);
  }

  /** `true` when `to` was there. */
  delete(from: string, to: string): boolean {
    const set = this.#sets.get(from);
    if (!set?.delete(to)) return false;
    if (set.size === 0) this.#sets.delete(from);
    return true;
  }
}

/** Creates the in-memory friend operations. */
export function createMemoryFriends(): FriendOperations {
  const friends = new Relation();
  const incoming = new Relation();
  const outgoing = new Relation();

  const atFriendLimit = (a: string, b: string, limits: FriendLimits): boolean =>
    friends.count(a) >= limits.maxFriends || friends.count(b) >= limits.maxFriends;

  /** Makes them friends, dropping whatever requests stood between them. */
  const befriend = (a: string, b: string): void => {
    outgoing.delete(a, b);
    incoming.delete(b, a);
    outgoing.delete(b, a);
    incoming.delete(a, b);
    friends.add(a, b);
    friends.add(b, a);
  };

  /** Removes `a -> b` from `forward` and `b -> a` from `backward`; `true` if either had it. */
  const removePair = (forward: Relation, backward: Relation, a: string, b: string): boolean => {
    const first = forward.delete(a, b);
    const second = backward.delete(b, a);
    return first || second;
  };

  return {
    async sendFriendRequest(fromId, toId, limits) {
      if (friends.has(fromId, toId)) return 'already_friends';
      if (outgoing.has(fromId, toId)) return 'already_requested';
      if (outgoing.has(toId, fromId)) {
        if (atFriendLimit(fromId, toId, limits)) return 'friend_limit';
        befriend(fromId, toId);
        return 'accepted';
      }
      if (
        outgoing.count(fromId) >= limits.maxPendingOutgoing ||
        incoming.count(toId) >= limits.maxPendingIncoming
      ) {
        return 'pending_limit';
      }
      outgoing.add(fromId, toId);
      incoming.add(toId, fromId);
      return 'requested';
    },

    async acceptFriendRequest(userId, fromId, limits) {
      if (!incoming.has(userId, fromId)) return 'no_request';
      if (atFriendLimit(userId, fromId, limits)) return 'friend_limit';
      befriend(userId, fromId);
      return 'accepted';
    },

    async declineFriendRequest(userId, fromId) {
      return removePair(incoming, outgoing, userId, fromId);
    },

    async cancelFriendRequest(userId, toId) {
      return removePair(outgoing, incoming, userId, toId);
    },

    async removeFriend(userId, friendId) {
      return removePair(friends, friends, userId, friendId);
    },

    async areFriends(a, b) {
      return friends.has(a, b);
    },

    async getFriendIds(userId) {
      return friends.list(userId);
    },

    async getIncomingRequestIds(userId) {
      return incoming.list(userId);
    },

    async getOutgoingRequestIds(userId) {
      return outgoing.list(userId);
    },
  };
}
