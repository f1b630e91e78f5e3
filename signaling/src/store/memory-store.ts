/**
 * The in-process store: the embedded default when no Redis is configured. Nothing persists and
 * nothing is shared between processes, so it suits a quick try on one machine and tests.
 */
import { RateLimiterMemory, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { silentLogger, type Logger } from '../logger.js';
import { createMemoryFriends } from './memory-friends.js';
import { createMemoryPresence } from './memory-presence.js';
import type { Bus, BusHandler, RateLimitOptions, SessionRecord, Store, UserRecord } from './store.js';

/** An in-process bus. Delivery is asynchronous, as over Redis, so callers cannot come to rely on
 * a handler having run by the time `publish` returns. */
function createMemoryBus(logger: Logger): Bus {
  // One entry per subscribe call (not per handler function), so subscribing the same function
  // twice needs two unsubscribes, as with the Redis bus.
  const channels = new Map<string, Set<{ handler: BusHandler }>>();

  return {
    async publish(channel, message) {
      const subscriptions = channels.get(channel);
      if (!subscriptions) return;
      // Snapshot: who receives a message is decided at publish time.
      for (const subscription of [...subscriptions]) {
        queueMicrotask(() => {
          try {
            subscription.handler(message);
          } catch (error) {
            logger.error({ err: error, channel }, 'bus handler threw');
          }
        });
      }
    },

    async subscribe(channel, handler) {
      const subscription = { handler };
      let subscriptions = channels.get(channel);
      if (!subscriptions) {
        subscriptions = new Set();
        channels.set(channel, subscriptions);
      }
      subscriptions.add(subscription);
      return async () => {
        const current = channels.get(channel);
        if (!current) return;
        current.delete(subscription);
        if (current.size === 0) channels.delete(channel);
      };
    },
  };
}

/** A stable key for limiter options, so equal options share one limiter (and its counters). */
function limiterKey(options: RateLimitOptions): string {
  return JSON.stringify([options.keyPrefix, options.points, options.duration, options.blockDuration ?? 0]);
}

/**
 * Creates the in-memory store. Expired sessions are dropped when read and by
 * `deleteExpiredSessions`; the bus delivers within this process only; `onReconnect` never fires.
 */
export function createMemoryStore(logger: Logger = silentLogger): Store {
  const users = new Map<string, UserRecord>();
  const userIdByName = new Map<string, string>();
  const sessions = new Map<string, SessionRecord>();
  const sessionsByUser = new Map<string, Set<string>>();
  const limiters = new Map<string, RateLimiterAbstract>();
  const bus = createMemoryBus(logger);

  const isExpired = (session: SessionRecord): boolean => session.expiresAt <= Date.now();

  const removeSession = (idHash: string): SessionRecord | undefined => {
    const session = sessions.get(idHash);
    if (!session) return undefined;
    sessions.delete(idHash);
    const owned = sessionsByUser.get(session.userId);
    owned?.delete(idHash);
    if (owned?.size === 0) sessionsByUser.delete(session.userId);
    return session;
  };

  /** The live session, dropping it if it has expired. */
  const liveSession = (idHash: string): SessionRecord | undefined => {
    const session = sessions.get(idHash);
    if (session && isExpired(session)) {
      removeSession(idHash);
      return undefined;
    }
    return session;
  };

  return {
    kind: 'memory',
    bus,

    async createUser(user) {
      if (userIdByName.has(user.username) || users.has(user.id)) return false;
      users.set(user.id, { ...user });
      userIdByName.set(user.username, user.id);
      return true;
    },

    async getUserById(id) {
      const user = users.get(id);
      return user ? { ...user } : null;
    },

    async getUserByUsername(username) {
      const id = userIdByName.get(username);
      const user = id === undefined ? undefined : users.get(id);
      return user ? { ...user } : null;
    },

    async getUsersByIds(ids) {
      const found: UserRecord[] = [];
      for (const id of ids) {
        const user = users.get(id);
        if (user) found.push({ ...user });
      }
      return found;
    },

    ...createMemoryFriends(),
    ...createMemoryPresence(),

    onReconnect() {
      // Nothing to reconnect to: the data lives in this process.
      return () => undefined;
    },

    async setSession(session) {
      // A session may be re-set for another user; keep the per-user index exact.
      removeSession(session.idHash);
      if (isExpired(session)) return;
      sessions.set(session.idHash, { ...session });
      let owned = sessionsByUser.get(session.userId);
      if (!owned) {
        owned = new Set();
        sessionsByUser.set(session.userId, owned);
      }
      owned.add(session.idHash);
    },

    async getSession(idHash) {
      const session = liveSession(idHash);
      return session ? { ...session } : null;
    },

    async updateSessionExpiry(idHash, expiresAt) {
      const session = liveSession(idHash);
      if (!session) return;
      if (expiresAt <= Date.now()) removeSession(idHash);
      else session.expiresAt = expiresAt;
    },

    async deleteSession(idHash) {
      removeSession(idHash);
    },

    async getUserSessions(userId) {
      const result: SessionRecord[] = [];
      for (const idHash of [...(sessionsByUser.get(userId) ?? [])]) {
        const session = liveSession(idHash);
        if (session) result.push({ ...session });
      }
      return result;
    },

    async deleteUserSessions(userId) {
      const deleted: string[] = [];
      for (const idHash of [...(sessionsByUser.get(userId) ?? [])]) {
        const session = removeSession(idHash);
        if (session && !isExpired(session)) deleted.push(idHash);
      }
      return deleted;
    },

    async deleteExpiredSessions() {
      for (const [idHash, session] of sessions) {
        if (isExpired(session)) removeSession(idHash);
      }
    },

    rateLimiter(options) {
      const key = limiterKey(options);
      let limiter = limiters.get(key);
      if (!limiter) {
        limiter = new RateLimiterMemory({ ...options });
        limiters.set(key, limiter);
      }
      return limiter;
    },

    async isHealthy() {
      return true;
    },

    async close() {
      // Nothing to release; the maps go with the process.
    },
  };
}
