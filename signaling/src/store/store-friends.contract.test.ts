/**
 * The friends part of the store contract, run against both implementations. The Redis one uses the
 * shared test Redis, so every test works with fresh random user ids and never flushes.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { silentLogger } from '../logger.js';
import { createMemoryStore } from './memory-store.js';
import { createRedisStore } from './redis-store.js';
import type { FriendLimits, Store } from './store.js';

const factories: { kind: Store['kind']; create: () => Promise<Store> }[] = [
  { kind: 'memory', create: async () => createMemoryStore() },
  { kind: 'redis', create: () => createRedisStore(inject('redisUrl'), silentLogger) },
];

const LIMITS: FriendLimits = { maxFriends: 10, maxPendingOutgoing: 10, maxPendingIncoming: 10 };

const ids = (count: number): string[] => Array.from({ length: count }, () => randomUUID());

describe.each(factories)('$kind store: friends', ({ create }) => {
  let store: Store;

  beforeAll(async () => {
    store = await create();
  });

  afterAll(async () => {
    await store.close();
  });

  /** Both users' friend and request lists, for asserting the whole relation at once. */
  async function relation(a: string, b: string) {
    return {
      friends: [await store.getFriendIds(a), await store.getFriendIds(b)],
      incoming: [await store.getIncomingRequestIds(a), await store.getIncomingRequestIds(b)],
      outgoing: [await store.getOutgoingRequestIds(a), await store.getOutgoingRequestIds(b)],
    };
  }

  const friendsOnly = (a: string, b: string) => ({
    friends: [[b], [a]],
    incoming: [[], []],
    outgoing: [[], []],
  });

  async function befriend(a: string, b: string, limits = LIMITS): Promise<void> {
    expect(await store.sendFriendRequest(a, b, limits)).toBe('requested');
    expect(await store.acceptFriendRequest(b, a, limits)).toBe('accepted');
  }

  it('sends a request, refuses a repeat, and accepting makes friends both ways', async () => {
    const [a, b] = ids(2) as [string, string];
    expect(await store.sendFriendRequest(a, b, LIMITS)).toBe('requested');
    expect(await relation(a, b)).toEqual({ friends: [[], []], incoming: [[], [a]], outgoing: [[b], []] });
    expect(await store.sendFriendRequest(a, b, LIMITS)).toBe('already_requested');
    expect(await store.areFriends(a, b)).toBe(false);

    expect(await store.acceptFriendRequest(b, a, LIMITS)).toBe('accepted');
    expect(await relation(a, b)).toEqual(friendsOnly(a, b));
    expect(await store.areFriends(a, b)).toBe(true);
    expect(await store.areFriends(b, a)).toBe(true);

    expect(await store.sendFriendRequest(a, b, LIMITS)).toBe('already_friends');
    expect(await store.sendFriendRequest(b, a, LIMITS)).toBe('already_friends');
    expect(await store.acceptFriendRequest(b, a, LIMITS)).toBe('no_request');
  });

  it('makes friends when the target had already asked the sender', async () => {
    const [a, b] = ids(2) as [string, string];
    expect(await store.sendFriendRequest(a, b, LIMITS)).toBe('requested');
    expect(await store.sendFriendRequest(b, a, LIMITS)).toBe('accepted');
    expect(await relation(a, b)).toEqual(friendsOnly(a, b));
  });

  it('accepts only a request that was made to the accepting user', async () => {
    const [a, b] = ids(2) as [string, string];
    expect(await store.acceptFriendRequest(a, b, LIMITS)).toBe('no_request');
    expect(await store.sendFriendRequest(a, b, LIMITS)).toBe('requested');
    // The sender cannot accept their own request.
    expect(await store.acceptFriendRequest(a, b, LIMITS)).toBe('no_request');
    expect(await relation(a, b)).toEqual({ friends: [[], []], incoming: [[], [a]], outgoing: [[b], []] });
  });

  it('declines a request once, on both sides, and lets the sender ask again', async () => {
    const [a, b] = ids(2) as [string, string];
    await store.sendFriendRequest(a, b, LIMITS);
    expect(await store.declineFriendRequest(a, b)).toBe(false); // a has no request from b
    expect(await store.declineFriendRequest(b, a)).toBe(true);
    expect(await store.declineFriendRequest(b, a)).toBe(false);
    expect(await relation(a, b)).toEqual({ friends: [[], []], incoming: [[], []], outgoing: [[], []] });
    expect(await store.sendFriendRequest(a, b, LIMITS)).toBe('requested');
  });

  it("cancels only the canceller's own request, on both sides", async () => {
    const [a, b] = ids(2) as [string, string];
    await store.sendFriendRequest(a, b, LIMITS);
    expect(await store.cancelFriendRequest(b, a)).toBe(false); // b never asked a
    expect(await store.getIncomingRequestIds(b)).toEqual([a]);
    expect(await store.cancelFriendRequest(a, b)).toBe(true);
    expect(await store.cancelFriendRequest(a, b)).toBe(false);
    expect(await relation(a, b)).toEqual({ friends: [[], []], incoming: [[], []], outgoing: [[], []] });
  });

  it('removes a friendship both ways', async () => {
    const [a, b, c] = ids(3) as [string, string, string];
    await befriend(a, b);
    await befriend(a, c);
    expect(await store.removeFriend(b, a)).toBe(true);
    expect(await store.areFriends(a, b)).toBe(false);
    expect(await store.areFriends(b, a)).toBe(false);
    expect(await store.getFriendIds(a)).toEqual([c]);
    expect(await store.getFriendIds(b)).toEqual([]);
    expect(await store.removeFriend(a, b)).toBe(false);
    expect(await store.removeFriend(b, a)).toBe(false);
  });

  it('refuses a request past maxPendingOutgoing until one is withdrawn', async () => {
    const limits = { ...LIMITS, maxPendingOutgoing: 2 };
    const [a, b, c, d] = ids(4) as [string, string, string, string];
    expect(await store.sendFriendRequest(a, b, limits)).toBe('requested');
    expect(await store.sendFriendRequest(a, c, limits)).toBe('requested');
    expect(await store.sendFriendRequest(a, d, limits)).toBe('pending_limit');
    expect(await store.getIncomingRequestIds(d)).toEqual([]);
    expect(await store.cancelFriendRequest(a, b)).toBe(true);
    expect(await store.sendFriendRequest(a, d, limits)).toBe('requested');
  });

  it("refuses a request past the target's maxPendingIncoming", async () => {
    const limits = { ...LIMITS, maxPendingIncoming: 1 };
    const [target, first, second] = ids(3) as [string, string, string];
    expect(await store.sendFriendRequest(first, target, limits)).toBe('requested');
    expect(await store.sendFriendRequest(second, target, limits)).toBe('pending_limit');
    expect(await store.getOutgoingRequestIds(second)).toEqual([]);
  });

  it('refuses to make friends past maxFriends on either side, keeping the request', async () => {
    const limits = { ...LIMITS, maxFriends: 1 };
    const [full, other, asker] = ids(3) as [string, string, string];
    await befriend(full, other, limits);

    // Pending requests do not count against maxFriends; the friendship they would make does.
    expect(await store.sendFriendRequest(asker, full, limits)).toBe('requested');
    expect(await store.acceptFriendRequest(full, asker, limits)).toBe('friend_limit');
    expect(await store.sendFriendRequest(full, asker, limits)).toBe('friend_limit');
    expect(await store.getIncomingRequestIds(full)).toEqual([asker]);
    expect(await store.areFriends(full, asker)).toBe(false);

    // The same when the one at the limit is the requester.
    const [target] = ids(1) as [string];
    expect(await store.sendFriendRequest(full, target, limits)).toBe('requested');
    expect(await store.acceptFriendRequest(target, full, limits)).toBe('friend_limit');
    expect(await store.sendFriendRequest(target, full, limits)).toBe('friend_limit');

    // Room again: the kept request can be accepted.
    expect(await store.removeFriend(full, other)).toBe(true);
    expect(await store.acceptFriendRequest(full, asker, limits)).toBe('accepted');
    expect(await store.getFriendIds(full)).toEqual([asker]);
  });

  it('makes friends exactly once when two users ask each other at the same time', async () => {
    const pairs = Array.from({ length: 10 }, () => ids(2) as [string, string]);
    const outcomes = await Promise.all(
      pairs.map(([a, b]) =>
        Promise.all([store.sendFriendRequest(a, b, LIMITS), store.sendFriendRequest(b, a, LIMITS)]),
      ),
    );
    for (const [i, [a, b]] of pairs.entries()) {
      expect([...outcomes[i]!].sort()).toEqual(['accepted', 'requested']);
      expect(await relation(a, b)).toEqual(friendsOnly(a, b));
    }
  });

  it('lets exactly maxPendingIncoming of many concurrent requests to one user through', async () => {
    const limits = { ...LIMITS, maxPendingIncoming: 5 };
    const [target] = ids(1) as [string];
    const senders = ids(20);
    const outcomes = await Promise.all(senders.map((from) => store.sendFriendRequest(from, target, limits)));
    expect(outcomes.filter((o) => o === 'requested')).toHaveLength(5);
    expect(outcomes.filter((o) => o === 'pending_limit')).toHaveLength(15);
    const accepted = senders.filter((_, i) => outcomes[i] === 'requested');
    expect((await store.getIncomingRequestIds(target)).sort()).toEqual(accepted.sort());
  });

  it('never passes maxFriends under concurrent accepts', async () => {
    const limits = { ...LIMITS, maxFriends: 3 };
    const [user] = ids(1) as [string];
    const askers = ids(8);
    for (const from of askers) expect(await store.sendFriendRequest(from, user, limits)).toBe('requested');
    const outcomes = await Promise.all(askers.map((from) => store.acceptFriendRequest(user, from, limits)));
    expect(outcomes.filter((o) => o === 'accepted')).toHaveLength(3);
    expect(outcomes.filter((o) => o === 'friend_limit')).toHaveLength(5);
    expect(await store.getFriendIds(user)).toHaveLength(3);
    expect(await store.getIncomingRequestIds(user)).toHaveLength(5);
  });
});
