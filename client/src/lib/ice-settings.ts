/**
 * The ICE servers for new peer connections, from `GET /api/turn`: STUN/TURN URLs with short-lived
 * TURN credentials. Fetched on first use and again once 80% of their lifetime has passed, so a new
 * connection never starts with credentials about to expire. When the API cannot be reached, the last
 * good settings (or host candidates only) are used: a direct connection may still work.
 */
import { iceServersResponseSchema, type IceServersResponse } from '../../../shared/api.js';
import type { ApiTransport } from './api.js';
import type { IceSettings } from './peer/peer-factory.js';

/** Refresh when this share of the credentials' lifetime has passed. */
const REFRESH_AT = 0.8;
/** After a failed fetch, try again on use no sooner than this. */
const RETRY_MS = 10_000;

export const HOST_ONLY: IceSettings = { iceServers: [] };

export class IceSettingsSource {
  readonly #transport: ApiTransport;
  readonly #now: () => number;
  #current: IceSettings | null = null;
  #refreshAt = 0;
  #pending: Promise<IceSettings> | null = null;

  constructor(transport: ApiTransport, now: () => number = Date.now) {
    this.#transport = transport;
    this.#now = now;
  }

  /** Settings for a connection starting now. Never rejects. */
  get(): Promise<IceSettings> {
    if (this.#current && this.#now() < this.#refreshAt) return Promise.resolve(this.#current);
    this.#pending ??= this.#fetch().finally(() => {
      this.#pending = null;
    });
    return this.#pending;
  }

  /** Forget the cached settings (sign-out). */
  clear(): void {
    this.#current = null;
    this.#refreshAt = 0;
  }

  async #fetch(): Promise<IceSettings> {
    try {
      const { data } = await this.#transport('GET', '/api/turn');
      const body: IceServersResponse = iceServersResponseSchema.parse(data);
      this.#current = { iceServers: body.iceServers, iceTransportPolicy: body.iceTransportPolicy };
      this.#refreshAt = this.#now() + body.ttl * 1000 * REFRESH_AT;
      return this.#current;
    } catch {
      this.#refreshAt = this.#now() + RETRY_MS;
      this.#current ??= HOST_ONLY;
      return this.#current;
    }
  }
}
