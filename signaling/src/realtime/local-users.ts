/**
 * This node's connections indexed by user, and each local user's event channel: subscribed when the
 * user's first connection arrives here, unsubscribed when the last leaves. An event for a user is
 * delivered by key lookup, never by a loop over all connections.
 */
import { z } from 'zod';
import { serverFrameSchema } from '../../../shared/protocol.js';
import { toError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Bus } from '../store/store.js';
import type { Connection } from './connection.js';
import { userChannel } from './user-events.js';

interface LocalUser {
  connections: Set<Connection>;
  /** Resolves to the unsubscribe function once the channel is subscribed. */
  subscribed: Promise<() => Promise<void>>;
}

export class LocalUsers {
  readonly #bus: Bus;
  readonly #logger: Logger;
  readonly #users = new Map<string, LocalUser>();

  constructor(bus: Bus, logger: Logger) {
    this.#bus = bus;
    this.#logger = logger;
  }

  /** Number of distinct users connected to this node. */
  get size(): number {
    return this.#users.size;
  }

  /** Adds a connection; resolves once its user's channel is subscribed (rejects if it cannot be). */
  async add(connection: Connection): Promise<void> {
    const userId = connection.user.id;
    let entry = this.#users.get(userId);
    if (!entry) {
      const subscribed = this.#bus.subscribe(userChannel(userId), (message) =>
        this.#deliver(userId, message),
      );
      entry = { connections: new Set(), subscribed };
      this.#users.set(userId, entry);
      subscribed.catch(() => {
        // Failed: forget it so the next connection tries again.
        if (this.#users.get(userId) === entry) this.#users.delete(userId);
      });
    }
    entry.connections.add(connection);
    await entry.subscribed;
  }

  remove(connection: Connection): void {
    const userId = connection.user.id;
    const entry = this.#users.get(userId);
    if (!entry?.connections.delete(connection) || entry.connections.size > 0) return;
    this.#users.delete(userId);
    entry.subscribed
      .then((unsubscribe) => unsubscribe())
      .catch((err: unknown) => this.#logger.debug({ err: toError(err), userId }, 'unsubscribe failed'));
  }

  connectionsOf(userId: string): ReadonlySet<Connection> {
    return this.#users.get(userId)?.connections ?? new Set();
  }

  /** Every local user with their connections (for renewal and resync, never per event). */
  *entries(): IterableIterator<[string, ReadonlySet<Connection>]> {
    for (const [userId, entry] of this.#users) yield [userId, entry.connections];
  }

  #deliver(userId: string, message: string): void {
    const parsed = envelopeSchema.safeParse(safeJson(message));
    if (!parsed.success) {
      this.#logger.error({ err: parsed.error, userId }, 'malformed event on the bus');
      return;
    }
    const { to, frame } = parsed.data;
    for (const connection of this.connectionsOf(userId)) {
      if (to === undefined || connection.id === to) connection.deliver(frame);
    }
  }
}

// Bus messages come from our own nodes, but a node of another version may share the Redis.
const envelopeSchema = z.object({ to: z.string().optional(), frame: serverFrameSchema });

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
