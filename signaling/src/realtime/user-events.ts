/**
 * Routes frames to every connection of a user, whatever node it is on: each node subscribes to the
 * channel of each user connected to it, and publishers send to the users concerned only.
 */
import type { FriendEventFrame } from '../../../shared/protocol.js';
import { toError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Bus } from '../store/store.js';

/** The bus channel of one user. */
export function userChannel(userId: string): string {
  return `parley:user:${userId}`;
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
  async publish(userIds: readonly string[], frame: FriendEventFrame): Promise<void> {
    const message = JSON.stringify(frame);
    await Promise.all(
      userIds.map((userId) =>
        this.#bus.publish(userChannel(userId), message).catch((err: unknown) => {
          this.#logger.warn({ err: toError(err), userId, frame: frame.type }, 'event not published');
        }),
      ),
    );
  }
}
