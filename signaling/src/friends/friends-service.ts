/**
 * Friendships: requests, acceptance, removal. Every change is one atomic store operation, then the
 * users it concerns are told on all their connections, on any node.
 */
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Friend, FriendRequestResponse, FriendsSnapshot, PublicUser } from '../../../shared/api.js';
import type { RateLimits } from '../config.js';
import { rateLimited, ServerError } from '../errors.js';
import type { UserEvents } from '../realtime/user-events.js';
import type { FriendLimits, Store } from '../store/store.js';
import { friendsSnapshot, friendViews } from './friend-views.js';

export interface FriendsServiceDeps {
  store: Store;
  events: UserEvents;
  limits: RateLimits;
}

export class FriendsService {
  readonly #store: Store;
  readonly #events: UserEvents;
  readonly #limits: FriendLimits;
  readonly #requestsPerHour: RateLimiterAbstract;

  constructor({ store, events, limits }: FriendsServiceDeps) {
    this.#store = store;
    this.#events = events;
    this.#limits = {
      maxFriends: limits.maxFriends,
      maxPendingOutgoing: limits.maxPendingOutgoing,
      maxPendingIncoming: limits.maxPendingIncoming,
    };
    this.#requestsPerHour = store.rateLimiter({
      keyPrefix: 'friend-requests',
      points: limits.friendRequestsPerHour,
      duration: 60 * 60,
    });
  }

  snapshot(userId: string): Promise<FriendsSnapshot> {
    return friendsSnapshot(this.#store, userId);
  }

  /**
   * Asks `username` to be friends. Every attempt counts against the hourly limit, so the endpoint
   * cannot be used to probe usernames at speed.
   */
  async request(
    me: PublicUser,
    username: string,
  ): Promise<{ created: boolean; body: FriendRequestResponse }> {
    try {
      await this.#requestsPerHour.consume(me.id);
    } catch (err) {
      if (err instanceof RateLimiterRes)
        throw rateLimited(err.msBeforeNext, 'Too many friend requests; retry later');
      throw err;
    }
    const target = await this.#store.getUserByUsername(username);
    if (!target)
      throw new ServerError('user_not_found', `No user is called "${username}"`, { field: 'username' });
    if (target.id === me.id) throw new ServerError('cannot_add_self', undefined, { field: 'username' });
    const them: PublicUser = { id: target.id, username: target.username };

    const result = await this.#store.sendFriendRequest(me.id, them.id, this.#limits);
    switch (result) {
      case 'requested':
        await Promise.all([
          this.#events.publish([them.id], { type: 'friend_request', direction: 'incoming', user: me }),
          this.#events.publish([me.id], { type: 'friend_request', direction: 'outgoing', user: them }),
        ]);
        return { created: true, body: { outgoing: them } };
      case 'accepted':
        return { created: false, body: { friend: await this.#announceFriendship(me, them) } };
      case 'already_friends':
      case 'already_requested':
        throw new ServerError(result, undefined, { field: 'username' });
      case 'friend_limit':
        throw new ServerError('friend_limit', `One of you already has ${this.#limits.maxFriends} friends`);
      case 'pending_limit':
        throw new ServerError('pending_limit', 'Too many friend requests are pending; wait for some answers');
    }
  }

  /** Accepts the pending request from `fromId`. */
  async accept(me: PublicUser, fromId: string): Promise<Friend> {
    const result = await this.#store.acceptFriendRequest(me.id, fromId, this.#limits);
    if (result === 'no_request') throw new ServerError('request_not_found');
    if (result === 'friend_limit') {
      throw new ServerError('friend_limit', `One of you already has ${this.#limits.maxFriends} friends`);
    }
    const [from] = await this.#store.getUsersByIds([fromId]);
    if (!from) throw new ServerError('request_not_found');
    return this.#announceFriendship(me, { id: from.id, username: from.username });
  }

  async decline(me: PublicUser, fromId: string): Promise<void> {
    if (!(await this.#store.declineFriendRequest(me.id, fromId))) throw new ServerError('request_not_found');
    await this.#announceRequestRemoved(fromId, me.id, 'declined');
  }

  async cancel(me: PublicUser, toId: string): Promise<void> {
    if (!(await this.#store.cancelFriendRequest(me.id, toId))) throw new ServerError('request_not_found');
    await this.#announceRequestRemoved(me.id, toId, 'cancelled');
  }

  async remove(me: PublicUser, friendId: string): Promise<void> {
    if (!(await this.#store.removeFriend(me.id, friendId))) throw new ServerError('not_friends');
    await Promise.all([
      this.#events.publish([me.id], { type: 'friend_removed', userId: friendId }),
      this.#events.publish([friendId], { type: 'friend_removed', userId: me.id }),
    ]);
  }

  /** Tells the requester (outgoing) and the target (incoming) that a pending request is gone. */
  async #announceRequestRemoved(
    requesterId: string,
    targetId: string,
    reason: 'declined' | 'cancelled',
  ): Promise<void> {
    await Promise.all([
      this.#events.publish([requesterId], {
        type: 'friend_request_removed',
        direction: 'outgoing',
        userId: targetId,
        reason,
      }),
      this.#events.publish([targetId], {
        type: 'friend_request_removed',
        direction: 'incoming',
        userId: requesterId,
        reason,
      }),
    ]);
  }

  /** Tells both sides of a new friendship, each with the other's live presence; returns `them`. */
  async #announceFriendship(me: PublicUser, them: PublicUser): Promise<Friend> {
    const views = await friendViews(this.#store, [me.id, them.id]);
    const view = (u: PublicUser): Friend =>
      views.find((v) => v.id === u.id) ?? { ...u, status: 'offline', lastSeen: null };
    const friendOfMe = view(them);
    const friendOfThem = view(me);
    await Promise.all([
      this.#events.publish([me.id], { type: 'friend_accepted', friend: friendOfMe }),
      this.#events.publish([them.id], { type: 'friend_accepted', friend: friendOfThem }),
    ]);
    return friendOfMe;
  }
}
