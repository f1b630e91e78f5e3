/**
 * Presence as leases. Each connection holds a lease in the store that its node renews; a node that
 * dies stops renewing, and whichever node sweeps next turns its users offline. Every change of a
 * user's aggregated status is pushed to the friends who are connected, and to nobody else.
 */
import type { PresenceSettings } from '../config.js';
import { toError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { UserEvents } from '../realtime/user-events.js';
import type { PresenceChange, PresenceLease, Store } from '../store/store.js';

/** Leases renewed per store call, so one node's renewal never becomes one huge command. */
const RENEW_BATCH = 500;
/** Expired leases removed per sweep call. */
const SWEEP_BATCH = 500;

export interface PresenceServiceDeps {
  store: Store;
  events: UserEvents;
  settings: PresenceSettings;
  logger: Logger;
  /** The leases of this node's live connections, for renewal. */
  liveLeases(): PresenceLease[];
}

export class PresenceService {
  readonly #deps: PresenceServiceDeps;
  readonly #logger: Logger;
  #timers: NodeJS.Timeout[] = [];
  #renewing = false;
  #sweeping = false;
  /** No sweeping before this time (ms): after a store outage every node must renew first. */
  #sweepPausedUntil = 0;

  constructor(deps: PresenceServiceDeps) {
    this.#deps = deps;
    this.#logger = deps.logger.child({ component: 'presence' });
  }

  start(): void {
    const { renewMs, sweepMs } = this.#deps.settings;
    this.#timers = [
      setInterval(() => void this.renew(), renewMs),
      setInterval(() => void this.sweep(), sweepMs),
    ];
    for (const t of this.#timers) t.unref();
  }

  stop(): void {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
  }

  async connect(lease: PresenceLease): Promise<void> {
    await this.#announce(await this.#deps.store.presenceConnect(lease, this.#expiry()));
  }

  async setStatus(lease: PresenceLease): Promise<void> {
    await this.#announce(await this.#deps.store.presenceSetStatus(lease, this.#expiry()));
  }

  async disconnect(userId: string, connectionId: string): Promise<void> {
    await this.#announce(await this.#deps.store.presenceDisconnect(userId, connectionId, Date.now()));
  }

  /** Renews this node's leases (re-creating lost ones, e.g. after a Redis restart). */
  async renew(): Promise<void> {
    if (this.#renewing) return;
    this.#renewing = true;
    try {
      const leases = this.#deps.liveLeases();
      for (let i = 0; i < leases.length; i += RENEW_BATCH) {
        const changes = await this.#deps.store.presenceRefresh(
          leases.slice(i, i + RENEW_BATCH),
          this.#expiry(),
        );
        await Promise.all(changes.map((c) => this.#announce(c)));
      }
    } catch (err) {
      this.#logger.warn({ err: toError(err) }, 'lease renewal failed; retrying next round');
    } finally {
      this.#renewing = false;
    }
  }

  /**
   * Holds sweeping for one renewal period, so that after a store outage the other nodes re-assert
   * their leases before anyone's lapsed lease is taken for a dead node's.
   */
  pauseSweep(): void {
    this.#sweepPausedUntil = Date.now() + this.#deps.settings.renewMs + this.#deps.settings.sweepMs;
  }

  /** Turns offline the users whose every lease expired (their node died). */
  async sweep(): Promise<void> {
    if (this.#sweeping || Date.now() < this.#sweepPausedUntil) return;
    this.#sweeping = true;
    try {
      for (;;) {
        const changes = await this.#deps.store.presenceSweep(Date.now(), SWEEP_BATCH);
        await Promise.all(changes.map((c) => this.#announce(c)));
        if (changes.length < SWEEP_BATCH) break;
      }
    } catch (err) {
      this.#logger.warn({ err: toError(err) }, 'lease sweep failed; retrying next round');
    } finally {
      this.#sweeping = false;
    }
  }

  #expiry(): number {
    return Date.now() + this.#deps.settings.leaseMs;
  }

  /**
   * Pushes a change to the user's friends. Publishing to a friend nobody is subscribed for costs Redis
   * next to nothing, and filtering by the friends' presence first would race with lease renewal
   * (a friend briefly swept offline after a store outage would miss the event).
   */
  async #announce(change: PresenceChange | null): Promise<void> {
    if (!change) return;
    const { store, events } = this.#deps;
    const friendIds = await store.getFriendIds(change.userId);
    if (friendIds.length === 0) return;
    await events.publish(friendIds, {
      type: 'presence',
      userId: change.userId,
      status: change.status,
      lastSeen: change.lastSeen,
    });
  }
}
