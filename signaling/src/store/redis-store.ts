/**
 * The Redis store, the store of record. Two connections: one for commands, one in subscriber mode
 * for the bus. A Redis outage after startup is survived: operations fail fast with
 * `StoreUnavailableError` while it lasts, and both connections come back by themselves.
 */
import { createClient } from 'redis';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Logger } from '../logger.js';
import { createRedisBus } from './redis-bus.js';
import { createRedisFriends } from './redis-friends.js';
import { createRedisPresence } from './redis-presence.js';
import {
  backoff,
  closeClient,
  describeUrl,
  errorMessage,
  isUnavailable,
  watchConnection,
  type RedisClient,
} from './redis-connection.js';
import {
  CREATE_USER,
  DELETE_SESSION,
  DELETE_USER_SESSIONS,
  GET_USER_SESSIONS,
  RATE_LIMIT,
  SESSION,
  SET_SESSION,
  UPDATE_SESSION_EXPIRY,
  USER,
  USERNAME,
  USER_SESSIONS,
  runScript,
} from './redis-scripts.js';
import {
  StoreUnavailableError,
  type RateLimitOptions,
  type SessionRecord,
  type Store,
  type UserRecord,
} from './store.js';

/** Tuning for `createRedisStore`; the defaults suit production. */
export interface RedisStoreOptions {
  /** How long startup waits for Redis before giving up. Default 5 s. */
  startupTimeoutMs?: number;
}

const COMMAND_TIMEOUT_MS = 2_000;
const HEALTH_TIMEOUT_MS = 1_000;

function toRecordMap(reply: unknown): Record<string, string> {
  return reply && typeof reply === 'object' ? (reply as Record<string, string>) : {};
}

function parseUser(reply: unknown): UserRecord | null {
  const hash = toRecordMap(reply);
  const { id, username, passwordHash, createdAt } = hash;
  if (id === undefined || username === undefined || passwordHash === undefined) return null;
  return { id, username, passwordHash, createdAt: Number(createdAt) };
}

function asStrings(reply: unknown): string[] {
  return Array.isArray(reply) ? reply.map(String) : [];
}

/**
 * Connects to Redis at `url` and resolves once both connections are ready. Rejects with a clear
 * error if Redis is not reachable within `startupTimeoutMs`, so a wrong REDIS_URL fails at startup;
 * later outages are survived.
 */
export async function createRedisStore(
  url: string,
  logger: Logger,
  options: RedisStoreOptions = {},
): Promise<Store> {
  const startupTimeoutMs = options.startupTimeoutMs ?? 5_000;
  const where = describeUrl(url);

  let client: RedisClient;
  try {
    client = createClient({
      url,
      // Fail fast while disconnected rather than queueing: callers answer 503 instead of hanging.
      disableOfflineQueue: true,
      commandOptions: { timeout: COMMAND_TIMEOUT_MS },
      socket: {
        connectTimeout: Math.min(startupTimeoutMs, 2_000),
        reconnectStrategy: (retries: number) => backoff(retries),
      },
    });
  } catch (error) {
    throw new Error(`invalid REDIS_URL (${where}): ${errorMessage(error)}`, { cause: error });
  }
  const subscriber = client.duplicate();
  const watchers = [
    watchConnection(client, 'commands', logger),
    watchConnection(subscriber, 'subscriber', logger),
  ];

  const connecting = Promise.all([client.connect(), subscriber.connect()]);
  let timer: NodeJS.Timeout | undefined;
  // node-redis retries forever by itself; startup alone is bounded. connect() only rejects once
  // destroy() has been called below, which is expected.
  const connected = await Promise.race([
    connecting.then(
      () => true,
      () => false,
    ),
    new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), startupTimeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (!connected) {
    client.destroy();
    subscriber.destroy();
    const last = watchers.map((w) => w.lastError()).find((e) => e !== undefined);
    throw new Error(
      `Redis at ${where} is not reachable (waited ${startupTimeoutMs} ms; last error: ` +
        `${last === undefined ? 'none' : errorMessage(last)}). Check REDIS_URL and that Redis is running.`,
      { cause: last },
    );
  }
  logger.info({ redis: where }, 'connected to redis');

  /** Runs one Redis call, turning connection failures into `StoreUnavailableError`. */
  async function guard<T>(operation: string, call: () => Promise<T>): Promise<T> {
    // Checked up front too: MULTI and pub/sub commands bypass disableOfflineQueue and would wait.
    if (!client.isReady) {
      throw new StoreUnavailableError(`redis unavailable (${operation})`, {
        cause: new Error(`not connected to ${where}`),
      });
    }
    try {
      return await call();
    } catch (error) {
      if (isUnavailable(error)) {
        throw new StoreUnavailableError(`redis unavailable (${operation})`, { cause: error });
      }
      throw error;
    }
  }

  const limiters = new Map<string, RateLimiterAbstract>();

  return {
    kind: 'redis',
    bus: createRedisBus(client, subscriber, guard, logger),

    async createUser(user) {
      const reply = await guard('createUser', () =>
        runScript(
          client,
          CREATE_USER,
          [USERNAME + user.username, USER + user.id],
          [user.id, user.username, user.passwordHash, String(user.createdAt)],
        ),
      );
      return Number(reply) === 1;
    },

    async getUserById(id) {
      return parseUser(await guard('getUserById', () => client.hGetAll(USER + id)));
    },

    async getUserByUsername(username) {
      const id = await guard('getUserByUsername', () => client.get(USERNAME + username));
      if (id === null) return null;
      return parseUser(await guard('getUserByUsername', () => client.hGetAll(USER + id)));
    },

    async getUsersByIds(ids) {
      // Issued in one tick, node-redis writes the reads out together: one pipelined round trip,
      // while each read keeps the command timeout (an explicit MULTI pipeline would not have one).
      const replies = await guard('getUsersByIds', () =>
        Promise.all(ids.map((id) => client.hGetAll(USER + id))),
      );
      return replies.map(parseUser).filter((user): user is UserRecord => user !== null);
    },

    ...createRedisFriends(client, guard),
    ...createRedisPresence(client, guard),

    onReconnect(listener) {
      // Once both connections are back: the command one may have seen data vanish, the subscriber
      // one missed events, and its 'ready' comes only after node-redis resubscribed. A listener
      // run before the subscriber is back would resync clients that then miss events again.
      const whenBothReady = () => {
        if (client.isReady && subscriber.isReady) listener();
      };
      const removers = watchers.map((watch) => watch.onReconnect(whenBothReady));
      return () => {
        for (const remove of removers) remove();
      };
    },

    async setSession(session) {
      await guard('setSession', () =>
        runScript(
          client,
          SET_SESSION,
          [SESSION + session.idHash, USER_SESSIONS + session.userId],
          [session.userId, String(session.expiresAt), session.idHash],
        ),
      );
    },

    async getSession(idHash) {
      const hash = toRecordMap(await guard('getSession', () => client.hGetAll(SESSION + idHash)));
      const { userId, expiresAt } = hash;
      if (userId === undefined || expiresAt === undefined) return null;
      const session: SessionRecord = { idHash, userId, expiresAt: Number(expiresAt) };
      // Redis expires by its own clock; also honour ours, so both stores agree at the boundary.
      return session.expiresAt <= Date.now() ? null : session;
    },

    async updateSessionExpiry(idHash, expiresAt) {
      await guard('updateSessionExpiry', () =>
        runScript(client, UPDATE_SESSION_EXPIRY, [SESSION + idHash], [String(expiresAt), idHash]),
      );
    },

    async deleteSession(idHash) {
      await guard('deleteSession', () => runScript(client, DELETE_SESSION, [SESSION + idHash], [idHash]));
    },

    async getUserSessions(userId) {
      const flat = asStrings(
        await guard('getUserSessions', () =>
          runScript(client, GET_USER_SESSIONS, [USER_SESSIONS + userId], [userId]),
        ),
      );
      const now = Date.now();
      const sessions: SessionRecord[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const expiresAt = Number(flat[i + 1]);
        if (expiresAt > now) sessions.push({ idHash: flat[i] as string, userId, expiresAt });
      }
      return sessions;
    },

    async deleteUserSessions(userId) {
      return asStrings(
        await guard('deleteUserSessions', () =>
          runScript(client, DELETE_USER_SESSIONS, [USER_SESSIONS + userId], [userId]),
        ),
      );
    },

    async deleteExpiredSessions() {
      // Nothing to sweep: session keys carry PEXPIREAT, stale set members are pruned when the set
      // is read, and each set expires with its longest-lived session. A sweep would need SCAN.
    },

    rateLimiter(options) {
      const key = JSON.stringify([
        options.keyPrefix,
        options.points,
        options.duration,
        options.blockDuration ?? 0,
      ]);
      let limiter = limiters.get(key);
      if (!limiter) {
        limiter = createRedisRateLimiter(client, options);
        limiters.set(key, limiter);
      }
      return limiter;
    },

    async isHealthy() {
      if (!client.isReady || !subscriber.isReady) return false;
      let timer: NodeJS.Timeout | undefined;
      try {
        const reply = await Promise.race([
          client.ping(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error('ping timeout')), HEALTH_TIMEOUT_MS);
          }),
        ]);
        return reply === 'PONG';
      } catch {
        return false;
      } finally {
        clearTimeout(timer);
      }
    },

    async close() {
      await Promise.all([closeClient(client), closeClient(subscriber)]);
    },
  };
}

/** Rate limiting shared by every node, with an in-memory fallback so throttling holds during an
 * outage (each node then counts on its own, which is the best available). */
function createRedisRateLimiter(client: RedisClient, options: RateLimitOptions): RateLimiterAbstract {
  const common = {
    keyPrefix: RATE_LIMIT + options.keyPrefix,
    points: options.points,
    duration: options.duration,
    blockDuration: options.blockDuration ?? 0,
  };
  return new RateLimiterRedis({
    ...common,
    storeClient: client,
    useRedisPackage: true,
    // Go straight to the insurance limiter while disconnected instead of waiting on the socket.
    rejectIfRedisNotReady: true,
    insuranceLimiter: new RateLimiterMemory(common),
  });
}
