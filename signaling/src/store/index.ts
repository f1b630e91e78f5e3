/** Picks the store: Redis when configured, otherwise the in-process embedded default. */
import type { Logger } from '../logger.js';
import { createMemoryStore } from './memory-store.js';
import { createRedisStore } from './redis-store.js';
import type { Store } from './store.js';

export { StoreUnavailableError } from './store.js';
export type {
  AcceptRequestResult,
  Bus,
  BusHandler,
  ConnectionStatus,
  FriendLimits,
  PresenceChange,
  PresenceLease,
  PresenceRecord,
  PresenceStatus,
  RateLimitOptions,
  SendRequestResult,
  SessionRecord,
  Store,
  UserRecord,
} from './store.js';

/**
 * Creates the store: Redis at `redisUrl` when given (rejects if it is unreachable at startup),
 * otherwise the memory store, with a warning that nothing persists or spans processes.
 */
export async function createStore(redisUrl: string | undefined, logger: Logger): Promise<Store> {
  if (redisUrl) return createRedisStore(redisUrl, logger);
  logger.warn(
    'REDIS_URL not set: using the in-memory store. Accounts and sessions are lost on restart ' +
      'and only a single server process is supported.',
  );
  return createMemoryStore(logger);
}
