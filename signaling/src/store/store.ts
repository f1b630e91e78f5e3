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

  /** A rate limiter backed by this store (shared by every node on Redis). */
  rateLimiter(options: RateLimitOptions): RateLimiterAbstract;

  /** `true` while the store answers. Never throws, answers within about a second. */
  isHealthy(): Promise<boolean>;
  close(): Promise<void>;
}
