/**
 * Connection plumbing of the Redis store: reconnect backoff, rate-limited connection logs, which
 * errors mean "Redis is unavailable", and closing without hanging.
 */
import { ErrorReply, type createClient } from 'redis';
import type { Logger } from '../logger.js';

/** A node-redis client as `createClient` makes it. */
export type RedisClient = ReturnType<typeof createClient>;

const CLOSE_TIMEOUT_MS = 2_000;
const MAX_BACKOFF_MS = 2_000;
const STILL_DOWN_LOG_INTERVAL_MS = 30_000;

/** Reply errors that mean "Redis cannot serve right now", not "the command is wrong". */
const TRANSIENT_REPLY = /^(LOADING|BUSY|MASTERDOWN|READONLY|OOM|MISCONF|TRYAGAIN|CLUSTERDOWN|NOREPLICAS)\b/;

/** host:port only: a REDIS_URL may carry a password. */
export function describeUrl(url: string): string {
  try {
    const { hostname, port } = new URL(url);
    return `${hostname}:${port || '6379'}`;
  } catch {
    return '(unparseable REDIS_URL)';
  }
}

/** The message of whatever was thrown. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Jittered exponential backoff, capped, so a fleet of nodes does not reconnect in lockstep. */
export function backoff(retries: number): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, 100 * 2 ** Math.min(retries, 10));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/** Runs one Redis call, turning connection failures into `StoreUnavailableError`. */
export type Guard = <T>(operation: string, call: () => Promise<T>) => Promise<T>;

/** What `watchConnection` reports about one connection. */
export interface ConnectionWatch {
  /** The last error the connection emitted, if any. */
  lastError(): unknown;
  /**
   * Calls `listener` each time the connection is ready again after it was lost; never for the
   * first connect. Returns a function that removes the listener.
   */
  onReconnect(listener: () => void): () => void;
}

/**
 * Logs a connection's life without flooding: the loss once, then at most one "still down" line per
 * interval (node-redis emits 'error' on every failed retry), and the recovery with its duration.
 * Also tells listeners about each recovery.
 */
export function watchConnection(client: RedisClient, name: string, logger: Logger): ConnectionWatch {
  let state: 'starting' | 'up' | 'down' = 'starting';
  let downSince = 0;
  let lastLoggedAt = 0;
  let failures = 0;
  let lastError: unknown;
  // One entry per onReconnect call, so the same function added twice is called twice.
  const listeners = new Set<{ listener: () => void }>();
  const log = logger.child({ redis: name });

  // Without an 'error' listener, node-redis's 'error' event would crash the process.
  client.on('error', (error: unknown) => {
    lastError = error;
    const now = Date.now();
    if (state === 'starting') {
      log.debug({ err: errorMessage(error) }, 'redis not reachable yet');
    } else if (state === 'up') {
      state = 'down';
      downSince = lastLoggedAt = now;
      failures = 0;
      log.warn({ err: errorMessage(error) }, 'redis connection lost; reconnecting');
    } else if (now - lastLoggedAt >= STILL_DOWN_LOG_INTERVAL_MS) {
      lastLoggedAt = now;
      log.warn({ err: errorMessage(error), failures, downForMs: now - downSince }, 'redis still unreachable');
    }
    failures++;
  });
  client.on('ready', () => {
    const recovered = state === 'down';
    if (recovered) {
      log.info({ downForMs: Date.now() - downSince, failures }, 'redis reconnected');
    } else if (state === 'starting') {
      log.debug('redis connected');
    }
    state = 'up';
    if (!recovered) return;
    // The client is ready by now (node-redis sets isReady before emitting), so listeners can
    // re-assert what the outage may have wiped straight away.
    for (const entry of [...listeners]) {
      try {
        entry.listener();
      } catch (error) {
        log.error({ err: error }, 'reconnect listener threw');
      }
    }
  });
  return {
    lastError: () => lastError,
    onReconnect(listener) {
      const entry = { listener };
      listeners.add(entry);
      return () => {
        listeners.delete(entry);
      };
    },
  };
}

/** `true` when an error means Redis cannot be reached or cannot serve, not that a command is wrong. */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof ErrorReply) return TRANSIENT_REPLY.test(error.message);
  // Everything else node-redis throws is about the connection: offline, closed, timed out.
  return true;
}

/** Closes gracefully, or forcibly after a short wait; tolerates a client that is already closed. */
export async function closeClient(client: RedisClient): Promise<void> {
  if (!client.isOpen) return;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.close(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
      }),
    ]);
  } catch {
    // Already closing or closed: nothing left to do gracefully.
  } finally {
    clearTimeout(timer);
    // Idempotent; makes sure a close that timed out does not leave the socket open.
    client.destroy();
  }
}
