/** The store's bus over Redis pub/sub, on a connection of its own in subscriber mode. */
import type { Logger } from '../logger.js';
import { errorMessage, type Guard, type RedisClient } from './redis-connection.js';
import { StoreUnavailableError, type Bus, type BusHandler } from './store.js';

/**
 * The bus over Redis pub/sub. One SUBSCRIBE per channel however many local handlers; node-redis
 * re-subscribes by itself after a reconnect. Messages published during an outage are lost, as
 * pub/sub is fire-and-forget anyway.
 */
export function createRedisBus(
  client: RedisClient,
  subscriber: RedisClient,
  guard: Guard,
  logger: Logger,
): Bus {
  const handlers = new Map<string, Set<{ handler: BusHandler }>>();
  // Channels whose UNSUBSCRIBE failed (Redis was down); retried when the subscriber is back.
  const stale = new Set<string>();
  // Subscribe/unsubscribe of one channel run one after another, never interleaved.
  const queues = new Map<string, Promise<unknown>>();

  const serially = <T>(channel: string, task: () => Promise<T>): Promise<T> => {
    const run = (queues.get(channel) ?? Promise.resolve()).then(task, task);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    queues.set(channel, settled);
    void settled.then(() => {
      if (queues.get(channel) === settled) queues.delete(channel);
    });
    return run;
  };

  // One listener function for every channel, so node-redis never holds two for the same one.
  const dispatch = (message: string, channel: string): void => {
    for (const subscription of [...(handlers.get(channel) ?? [])]) {
      try {
        subscription.handler(message);
      } catch (error) {
        logger.error({ err: error, channel }, 'bus handler threw');
      }
    }
  };

  const unsubscribeRemote = async (channel: string): Promise<void> => {
    if (handlers.has(channel)) return;
    if (!subscriber.isReady) {
      stale.add(channel);
      return;
    }
    try {
      await subscriber.unsubscribe(channel, dispatch);
      stale.delete(channel);
    } catch (error) {
      stale.add(channel);
      logger.debug({ err: errorMessage(error), channel }, 'unsubscribe deferred');
    }
  };

  subscriber.on('ready', () => {
    for (const channel of [...stale]) {
      void serially(channel, () => unsubscribeRemote(channel));
    }
  });

  return {
    async publish(channel, message) {
      await guard('publish', () => client.publish(channel, message));
    },

    async subscribe(channel, handler) {
      const subscription = { handler };
      await serially(channel, async () => {
        const existing = handlers.get(channel);
        if (existing) {
          existing.add(subscription);
          return;
        }
        if (!subscriber.isReady) {
          throw new StoreUnavailableError('redis unavailable (subscribe)', {
            cause: new Error('subscriber connection not ready'),
          });
        }
        try {
          await subscriber.subscribe(channel, dispatch);
        } catch (error) {
          throw new StoreUnavailableError('redis unavailable (subscribe)', { cause: error });
        }
        stale.delete(channel);
        handlers.set(channel, new Set([subscription]));
      });

      let active = true;
      return async () => {
        if (!active) return;
        active = false;
        // Delivery to this handler stops now, not once Redis has answered.
        handlers.get(channel)?.delete(subscription);
        await serially(channel, async () => {
          const current = handlers.get(channel);
          if (!current || current.size > 0) return;
          handlers.delete(channel);
          await unsubscribeRemote(channel);
        });
      };
    },
  };
}
