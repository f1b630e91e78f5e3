/**
 * The store contract. Redis is the store of record; the in-process memory store is the embedded
 * default for a quick try on one machine. One contract test suite (`store.contract.test.ts`) runs
 * against both implementations.
 */
import type { RateLimiterAbstract } from 'rate-limiter-flexible';

/** A stored account. `username` is already folded to lower case (unique case-insensitively). */
export interface UserRecord {
  id: string;
  username: string;
  /** argon2id PHC string; never leaves the server. */
  passwordHash: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
}

/**
 * A stored session. Only the SHA-256 (hex) of the session id is ever stored, so a leaked dump
 * cannot sign anyone in.
 */
export interface SessionRecord {
  idHash: string;
  userId: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

/** Options of a fixed-window rate limiter (see rate-limiter-flexible). */
export interface RateLimitOptions {
  /** Distinguishes limiters sharing one store. */
  keyPrefix: string;
  /** Allowed consumptions per window. */
  points: number;
  /** Window length in seconds. */
  duration: number;
  /** Seconds a key stays blocked once over the limit (0: until the window ends). */
  blockDuration?: number;
}

/** A user's aggregated presence: online if any connection is online, away if all are away. */
export type PresenceStatus = 'online' | 'away' | 'offline';
/** What one connection reports. */
export type ConnectionStatus = 'online' | 'away';

/** A change of a user's aggregated presence, returned by presence operations that caused one. */
export interface PresenceChange {
  userId: string;
  status: PresenceStatus;
  /** When the user was last connected (set when they go offline); `null` if never recorded. */
  lastSeen: number | null;
}

/** A user's presence as read. */
export interface PresenceRecord {
  status: PresenceStatus;
  lastSeen: number | null;
}

/** One live connection's lease, as a node re-asserts it. */
export interface PresenceLease {
  userId: string;
  connectionId: string;
  status: ConnectionStatus;
}

/** Limits checked atomically with the friendship writes. */
export interface FriendLimits {
  maxFriends: number;
  maxPendingOutgoing: number;
  maxPendingIncoming: number;
}

/** Outcome of `sendFriendRequest`. */
export type SendRequestResult =
  | 'requested'
  /** The target had already asked the sender: they are friends now. */
  | 'accepted'
  | 'already_friends'
  | 'already_requested'
  /** Either side would pass `maxFriends` (only when the request would make them friends). */
  | 'friend_limit'
  /** The sender has `maxPendingOutgoing` requests out, or the target `maxPendingIncoming` in. */
  | 'pending_limit';

/** Outcome of `acceptFriendRequest`. */
export type AcceptRequestResult = 'accepted' | 'no_request' | 'friend_limit';

/** Called with each message published on a channel this node subscribed to. */
export type BusHandler = (message: string) => void;

/**
 * Cross-node publish/subscribe. Fire-and-forget, like Redis pub/sub: delivery guarantees come from
 * the protocol above it, not from the bus.
 */
export interface Bus {
  publish(channel: string, message: string): Promise<void>;
  /** Subscribes; the returned function unsubscribes this handler. */
  subscribe(channel: string, handler: BusHandler): Promise<() => Promise<void>>;
}

/** Thrown by a store operation when the backing store cannot be reached. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  constructor(message = 'store unavailable', options?: { cause?: unknown }) {
    super(message, options);
  }
}

export interface Store {
  readonly kind: 'redis' | 'memory';
  readonly bus: Bus;

  /** Creates a user; `false` when the username is taken (atomic: no two users share a name). */
  createUser(user: UserRecord): Promise<boolean>;
  getUserById(id: string): Promise<UserRecord | null>;
  /** Looks a user up by the folded username. */
  getUserByUsername(username: string): Promise<UserRecord | null>;

  setSession(session: SessionRecord): Promise<void>;
  /** The session, or `null` when unknown or expired. */
  getSession(idHash: string): Promise<SessionRecord | null>;
  updateSessionExpiry(idHash: string, expiresAt: number): Promise<void>;
  deleteSession(idHash: string): Promise<void>;
  /** The user's sessions that have not expired. */
  getUserSessions(userId: string): Promise<SessionRecord[]>;
  /** Deletes every session of the user; returns the deleted id hashes. */
  deleteUserSessions(userId: string): Promise<string[]>;
  /** Removes expired sessions that expiry did not already remove. */
  deleteExpiredSessions(): Promise<void>;

  /** Users by id, in the order asked; unknown ids are left out. */
  getUsersByIds(ids: readonly string[]): Promise<UserRecord[]>;

  // ---- friends: every write is atomic, so concurrent requests cannot corrupt the relation ----

  /**
   * `fromId` asks `toId` to be friends. If `toId` had already asked `fromId`, they become friends at
   * once (both pending requests removed). Limits are checked in the same atomic step.
   */
  sendFriendRequest(fromId: string, toId: string, limits: FriendLimits): Promise<SendRequestResult>;
  /** `userId` accepts the pending request from `fromId`. */
  acceptFriendRequest(userId: string, fromId: string, limits: FriendLimits): Promise<AcceptRequestResult>;
  /** `userId` declines the request from `fromId`; `false` when there was none. */
  declineFriendRequest(userId: string, fromId: string): Promise<boolean>;
  /** `userId` withdraws their own request to `toId`; `false` when there was none. */
  cancelFriendRequest(userId: string, toId: string): Promise<boolean>;
  /** Ends the friendship both ways; `false` when they were not friends. */
  removeFriend(userId: string, friendId: string): Promise<boolean>;
  areFriends(a: string, b: string): Promise<boolean>;
  getFriendIds(userId: string): Promise<string[]>;
  /** Ids of users who asked `userId`. */
  getIncomingRequestIds(userId: string): Promise<string[]>;
  /** Ids of users `userId` asked. */
  getOutgoingRequestIds(userId: string): Promise<string[]>;

  // ---- presence: leases per connection, aggregated per user ----
  // Each operation returns the user's new aggregated presence when it changed, else `null`.

  /** A connection came up (or re-asserts itself) with a lease until `leaseExpiresAt`. */
  presenceConnect(lease: PresenceLease, leaseExpiresAt: number): Promise<PresenceChange | null>;
  /** A connection reports a new status (also renews its lease). */
  presenceSetStatus(lease: PresenceLease, leaseExpiresAt: number): Promise<PresenceChange | null>;
  /** A connection went away cleanly; `now` becomes lastSeen if the user is offline after it. */
  presenceDisconnect(userId: string, connectionId: string, now: number): Promise<PresenceChange | null>;
  /**
   * Renews the leases of a node's live connections, re-creating any that were lost (a Redis restart
   * or a lease that expired while the node stalled). Returns the users whose presence changed.
   */
  presenceRefresh(leases: readonly PresenceLease[], leaseExpiresAt: number): Promise<PresenceChange[]>;
  /**
   * Removes up to `limit` leases that expired before `now` (their node died without cleanup) and
   * returns the users whose presence changed. Safe to run on every node at once: each expired lease
   * is removed exactly once. Reads an index, never scans all keys.
   */
  presenceSweep(now: number, limit: number): Promise<PresenceChange[]>;
  /** Presence of several users, in the order asked. */
  getPresence(userIds: readonly string[]): Promise<PresenceRecord[]>;
  /** Whether that connection of the user holds a lease (is connected to some node). */
  isConnectionLive(userId: string, connectionId: string): Promise<boolean>;

  /**
   * Calls `listener` each time the store's connection comes back after an outage (data may have been
   * lost, events missed); never for the memory store. Returns a function that removes the listener.
   */
  onReconnect(listener: () => void): () => void;

  /** A rate limiter backed by this store (shared by every node on Redis). */
  rateLimiter(options: RateLimitOptions): RateLimiterAbstract;

  /** `true` while the store answers. Never throws, answers within about a second. */
  isHealthy(): Promise<boolean>;
  close(): Promise<void>;
}

/** The friends part of the contract, which each store builds in a module of its own. */
export type FriendOperations = Pick<
  Store,
  | 'sendFriendRequest'
  | 'acceptFriendRequest'
  | 'declineFriendRequest'
  | 'cancelFriendRequest'
  | 'removeFriend'
  | 'areFriends'
  | 'getFriendIds'
  | 'getIncomingRequestIds'
  | 'getOutgoingRequestIds'
>;

/** The presence part of the contract, which each store builds in a module of its own. */
export type PresenceOperations = Pick<
  Store,
  | 'presenceConnect'
  | 'presenceSetStatus'
  | 'presenceDisconnect'
  | 'presenceRefresh'
  | 'presenceSweep'
  | 'getPresence'
  | 'isConnectionLive'
>;
