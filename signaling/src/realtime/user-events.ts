/**
 * Routes frames to every connection of a user, whatever node it is on: each node subscribes to the
 * channel of each user connected to it, and publishers send to the users concerned only.
 */
import type { RoutedFrame } from '../../../shared/protocol.js';
import { toError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Bus } from '../store/store.js';

/** The bus channel of one user. */
export function userChannel(userId: string): string {
  return `parley:user:${userId}`;
}

/** What travels on a user channel: a frame, for one connection of the user or (no `to`) for all. */
export interface UserEnvelope {
  to?: string;
  frame: RoutedFrame;
}

export class UserEvents {
  readonly #bus: Bus;
  readonly #logger: Logger;

  constructor(bus: Bus, logger: Logger) {
    this.#bus = bus;
    this.#logger = logger;
  }

  /**
   * Sends a frame to every connection of each user. Fire-and-forget like the bus itself: a failure is
   * logged, and clients catch up from the next `hello` (sent again after a store outage).
   */
  async publish(userIds: readonly string[], frame: RoutedFrame): Promise<void> {
    const message = JSON.stringify({ frame } satisfies UserEnvelope);
    await Promise.all(
      userIds.map((userId) =>
        this.#bus.publish(userChannel(userId), message).catch((err: unknown) => {
          this.#logger.warn({ err: toError(err), userId, frame: frame.type }, 'event not published');
        }),
      ),
    );
  }

  /** Sends a frame to one connection of a user, on whatever node it is. Rejects if the bus fails. */
  async publishTo(userId: string, connectionId: string, frame: RoutedFrame): Promise<void> {
    await this.#bus.publish(
      userChannel(userId),
      JSON.stringify({ to: connectionId, frame } satisfies UserEnvelope),
    );
  }

  /** Like `publish` for one user, but rejects if the bus fails (the caller answers the sender). */
  async publishStrict(userId: string, frame: RoutedFrame): Promise<void> {
    await this.#bus.publish(userChannel(userId), JSON.stringify({ frame } satisfies UserEnvelope));
  }
}
