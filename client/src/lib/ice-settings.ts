/**
 * The ICE servers for new peer connections, from `GET /api/turn`: STUN/TURN URLs with short-lived
 * TURN credentials. Fetched on first use and again once 80% of their lifetime has passed, so a new
 * connection never starts with credentials about to expire. When the API cannot be reached, the last
 * good settings (or host candidates only) are used: a direct connection may still work.
 *
 * After a successful fetch a timer refreshes the settings at 80% of their lifetime even when no new
 * connection asks, and `onChange` listeners get the fresh ones (the peer layer hands them to live
 * connections with `setConfiguration`, for their next ICE restart).
 */
import { iceServersResponseSchema, type IceServersResponse } from '../../../shared/api.js';
import type { ApiTransport } from './api.js';
import type { IceSettings } from './peer/peer-factory.js';

/** Refresh when this share of the credentials' lifetime has passed. */
const REFRESH_AT = 0.8;
/** After a failed fetch, try again on use (or by the timer) no sooner than this. */
const RETRY_MS = 10_000;

export const HOST_ONLY: IceSettings = { iceServers: [] };

export type IceSettingsListener = (settings: IceSettings) => void;

/** What the session uses of an {@link IceSettingsSource} (tests inject their own). */
export type IceSettingsProvider = Pick<IceSettingsSource, 'get' | 'onChange' | 'clear'>;

export class IceSettingsSource {
  readonly #transport: ApiTransport;
  readonly #now: () => number;
  readonly #listeners = new Set<IceSettingsListener>();
  #current: IceSettings | null = null;
  #refreshAt = 0;
  /** When the credentials of the last good settings expire (clock ms). */
  #expiresAt = 0;
  #pending: Promise<IceSettings> | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Bumped by `clear`: a fetch that started before belongs to the previous sign-in. */
  #generation = 0;

  constructor(transport: ApiTransport, now: () => number = Date.now) {
    this.#transport = transport;
    this.#now = now;
  }

  /** Settings for a connection starting now. Never rejects. */
  get(): Promise<IceSettings> {
    if (this.#current && this.#now() < this.#refreshAt) return Promise.resolve(this.#current);
    if (!this.#pending) {
      const pending = this.#fetch().finally(() => {
        if (this.#pending === pending) this.#pending = null;
      });
      this.#pending = pending;
    }
    return this.#pending;
  }

  /** Called with the settings each time a fetch brings new ones; returns the unsubscribe function. */
  onChange(listener: IceSettingsListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Forget the cached settings and stop refreshing (sign-out). */
  clear(): void {
    this.#generation += 1;
    this.#current = null;
    this.#refreshAt = 0;
    this.#expiresAt = 0;
    this.#pending = null;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async #fetch(): Promise<IceSettings> {
    const generation = this.#generation;
    let fresh: IceSettings;
    let ttl: number;
    try {
      const { data } = await this.#transport('GET', '/api/turn');
      const body: IceServersResponse = iceServersResponseSchema.parse(data);
      fresh = { iceServers: body.iceServers, iceTransportPolicy: body.iceTransportPolicy };
      ttl = body.ttl * 1000;
    } catch {
      if (generation !== this.#generation) return HOST_ONLY;
      this.#refreshAt = this.#now() + RETRY_MS;
      this.#current ??= HOST_ONLY;
      // Keep trying in the background only while there are good credentials worth keeping fresh.
      if (this.#now() < this.#expiresAt) this.#schedule(RETRY_MS);
      return this.#current;
    }
    // Signed out meanwhile: not this sign-in's credentials (the connection asking is closing too).
    if (generation !== this.#generation) return HOST_ONLY;
    this.#current = fresh;
    this.#refreshAt = this.#now() + ttl * REFRESH_AT;
    this.#expiresAt = this.#now() + ttl;
    this.#schedule(ttl * REFRESH_AT);
    for (const listener of [...this.#listeners]) listener(fresh);
    return fresh;
  }

  #schedule(delay: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.get();
    }, delay);
  }
}
