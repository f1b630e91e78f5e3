/**
 * The buddy list: friends with live presence, and pending requests both ways. The `hello` snapshot
 * replaces it on every (re)connect; server events and confirmed API calls update it in between.
 * Owned by the session (one per sign-in); components read it and call its actions.
 */
import type { ApiErrorCode, Friend, FriendsSnapshot, PublicUser } from '../../../shared/api.js';
import type { FriendEventFrame, HelloFrame } from '../../../shared/protocol.js';
import { toApiError } from './api-error.js';
import type { FriendsApi } from './friends-api.js';
import { describeFriendActionError, type FriendAction } from './friends-feedback.js';
import {
  applyFriendEvent,
  EMPTY_SNAPSHOT,
  normalizeSnapshot,
  withFriend,
  withoutFriend,
  withoutRequest,
  withRequest,
} from './friends-snapshot.js';
import type { Gateway } from './gateway.js';

export interface FriendsDeps {
  api: FriendsApi;
  /** Where `hello` and the friend events come from. */
  gateway: Pick<Gateway, 'on'>;
}

/** What "Add friend" did: a request is out, or that person had already asked and you are friends. */
export type AddFriendResult = { kind: 'requested'; user: PublicUser } | { kind: 'friends'; friend: Friend };

type Update = (snapshot: FriendsSnapshot) => FriendsSnapshot;

interface ActionPlan {
  /** Calls the API; resolves with how the snapshot changes. */
  call(): Promise<Update>;
  /** The error code that means "already done or gone", and how the snapshot changes then. */
  gone: { code: ApiErrorCode; update: Update; notice?: string };
}

export class FriendsState {
  readonly #api: FriendsApi;

  #snapshot = $state.raw<FriendsSnapshot>(EMPTY_SNAPSHOT);
  #loaded = $state(false);
  #busy = $state.raw<Partial<Record<string, FriendAction>>>({});
  #errors = $state.raw<Partial<Record<string, string>>>({});
  #notice = $state<string | null>(null);
  #onlineCount = $derived(this.#snapshot.friends.filter((friend) => friend.status === 'online').length);

  // An API answer is older news than an event about the same user that arrived while it was in flight
  // (the server sends every change to all of the user's connections): count events to tell.
  #eventCount = 0;
  // Bookkeeping, never rendered: a plain Map on purpose.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  readonly #lastEventAbout = new Map<string, number>();
  /** Bumped by reset(): answers to calls made before it are dropped. */
  #generation = 0;

  constructor(deps: FriendsDeps) {
    this.#api = deps.api;
    const { gateway } = deps;
    gateway.on('hello', (frame) => this.#replace(frame));
    gateway.on('presence', (frame) => this.#apply(frame));
    gateway.on('friend_request', (frame) => this.#apply(frame));
    gateway.on('friend_request_removed', (frame) => this.#apply(frame));
    gateway.on('friend_accepted', (frame) => this.#apply(frame));
    gateway.on('friend_removed', (frame) => this.#apply(frame));
  }

  /** Friends: online, then away, then offline; by username within each. */
  get friends(): readonly Friend[] {
    return this.#snapshot.friends;
  }

  /** Requests others sent you, by username. */
  get incoming(): readonly PublicUser[] {
    return this.#snapshot.incoming;
  }

  /** Requests you sent, by username. */
  get outgoing(): readonly PublicUser[] {
    return this.#snapshot.outgoing;
  }

  /** Whether a snapshot has arrived since sign-in (until then the lists are just empty). */
  get loaded(): boolean {
    return this.#loaded;
  }

  /** Friends who are online (not away, not offline). */
  get onlineCount(): number {
    return this.#onlineCount;
  }

  /** A message about something that vanished from the list (e.g. a request withdrawn meanwhile). */
  get notice(): string | null {
    return this.#notice;
  }

  /** The action in flight on `userId`'s row. */
  busy(userId: string): FriendAction | undefined {
    return this.#busy[userId];
  }

  /** The inline error of the last failed action on `userId`'s row. */
  error(userId: string): string | undefined {
    return this.#errors[userId];
  }

  /**
   * Asks `username` (already checked and folded) to be friends. Rejects with the `ApiError`, which
   * the form shows inline.
   */
  async addFriend(username: string): Promise<AddFriendResult> {
    const generation = this.#generation;
    const since = this.#eventCount;
    const response = await this.#api.sendRequest(username);
    const result: AddFriendResult =
      'friend' in response
        ? { kind: 'friends', friend: response.friend }
        : { kind: 'requested', user: response.outgoing };
    const userId = result.kind === 'friends' ? result.friend.id : result.user.id;
    if (this.#isCurrent(userId, since, generation)) {
      this.#snapshot =
        result.kind === 'friends'
          ? withFriend(this.#snapshot, result.friend)
          : withRequest(this.#snapshot, 'outgoing', result.user);
    }
    return result;
  }

  /** Accepts `userId`'s request. */
  accept(userId: string): Promise<void> {
    const username = this.#usernameOf(userId);
    return this.#perform(userId, 'accept', {
      call: async () => {
        const friend = await this.#api.accept(userId);
        return (snapshot) => withFriend(snapshot, friend);
      },
      gone: {
        code: 'request_not_found',
        update: (snapshot) => withoutRequest(snapshot, 'incoming', userId),
        notice: `${username ? `${username}'s` : 'That'} request was withdrawn before you could accept it.`,
      },
    });
  }

  /** Declines `userId`'s request. */
  decline(userId: string): Promise<void> {
    const update: Update = (snapshot) => withoutRequest(snapshot, 'incoming', userId);
    return this.#perform(userId, 'decline', {
      call: async () => {
        await this.#api.decline(userId);
        return update;
      },
      gone: { code: 'request_not_found', update },
    });
  }

  /** Withdraws your request to `userId`. */
  cancel(userId: string): Promise<void> {
    const update: Update = (snapshot) => withoutRequest(snapshot, 'outgoing', userId);
    return this.#perform(userId, 'cancel', {
      call: async () => {
        await this.#api.cancel(userId);
        return update;
      },
      gone: { code: 'request_not_found', update },
    });
  }

  /** Ends the friendship with `userId`. */
  remove(userId: string): Promise<void> {
    const update: Update = (snapshot) => withoutFriend(snapshot, userId);
    return this.#perform(userId, 'remove', {
      call: async () => {
        await this.#api.remove(userId);
        return update;
      },
      gone: { code: 'not_friends', update },
    });
  }

  dismissError(userId: string): void {
    if (this.#errors[userId] !== undefined) this.#errors = { ...this.#errors, [userId]: undefined };
  }

  dismissNotice(): void {
    this.#notice = null;
  }

  /** Forgets everything (signed out): the next sign-in starts empty until its `hello`. */
  reset(): void {
    this.#generation += 1;
    this.#snapshot = EMPTY_SNAPSHOT;
    this.#loaded = false;
    this.#busy = {};
    this.#errors = {};
    this.#notice = null;
    this.#lastEventAbout.clear();
  }

  #replace(frame: HelloFrame): void {
    this.#snapshot = normalizeSnapshot(frame);
    this.#loaded = true;
  }

  #apply(event: FriendEventFrame): void {
    if (event.type !== 'presence') {
      const userId =
        event.type === 'friend_request'
          ? event.user.id
          : event.type === 'friend_accepted'
            ? event.friend.id
            : event.userId;
      this.#eventCount += 1;
      this.#lastEventAbout.set(userId, this.#eventCount);
      // The row changed under any error shown on it.
      this.dismissError(userId);
    }
    this.#snapshot = applyFriendEvent(this.#snapshot, event);
  }

  #isCurrent(userId: string, since: number, generation: number): boolean {
    return generation === this.#generation && (this.#lastEventAbout.get(userId) ?? 0) <= since;
  }

  #usernameOf(userId: string): string | undefined {
    const { friends, incoming, outgoing } = this.#snapshot;
    return [...friends, ...incoming, ...outgoing].find((user) => user.id === userId)?.username;
  }

  async #perform(userId: string, action: FriendAction, plan: ActionPlan): Promise<void> {
    if (this.#busy[userId] !== undefined) return;
    const generation = this.#generation;
    const since = this.#eventCount;
    this.#busy = { ...this.#busy, [userId]: action };
    this.dismissError(userId);
    try {
      const update = await plan.call();
      if (this.#isCurrent(userId, since, generation)) this.#snapshot = update(this.#snapshot);
    } catch (caught) {
      if (generation !== this.#generation) return;
      const error = toApiError(caught);
      if (error.code === plan.gone.code) {
        if (this.#isCurrent(userId, since, generation)) this.#snapshot = plan.gone.update(this.#snapshot);
        if (plan.gone.notice) this.#notice = plan.gone.notice;
      } else {
        this.#errors = { ...this.#errors, [userId]: describeFriendActionError(error) };
      }
    } finally {
      if (generation === this.#generation) this.#busy = { ...this.#busy, [userId]: undefined };
    }
  }
}
