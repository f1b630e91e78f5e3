/**
 * Throttles logins per IP (every attempt counts) and per username (failed attempts count, a success
 * clears them), and account creation per IP, with rate-limiter-flexible over the store so every
 * node shares the counters.
 */
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RateLimits } from '../config.js';
import { rateLimited, toError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';

export class LoginThrottle {
  readonly #perIp: RateLimiterAbstract;
  readonly #perUsername: RateLimiterAbstract;
  readonly #registerPerIp: RateLimiterAbstract;
  readonly #logger: Logger;

  constructor(store: Store, limits: RateLimits, logger: Logger) {
    this.#logger = logger;
    this.#perIp = store.rateLimiter({
      keyPrefix: 'login-ip',
      points: limits.loginPerIp,
      duration: limits.loginWindowSeconds,
    });
    this.#perUsername = store.rateLimiter({
      keyPrefix: 'login-user',
      points: limits.loginPerUsername,
      duration: limits.loginWindowSeconds,
    });
    this.#registerPerIp = store.rateLimiter({
      keyPrefix: 'register-ip',
      points: limits.registerPerIpPerHour,
      duration: 60 * 60,
    });
  }

  /** Counts a login attempt; throws 429 when the IP or the username is over its limit. */
  async beforeLogin(ip: string, username: string): Promise<void> {
    const failures = await this.#perUsername.get(username);
    if (failures && failures.consumedPoints >= this.#perUsername.points) {
      throw rateLimited(failures.msBeforeNext);
    }
    await consumeOrThrow(this.#perIp, ip);
  }

  async loginFailed(username: string): Promise<void> {
    try {
      await this.#perUsername.consume(username);
    } catch (err) {
      // Over the limit already: the next attempt is refused in beforeLogin.
      if (!(err instanceof RateLimiterRes))
        this.#logger.warn({ err: toError(err) }, 'login throttle unavailable');
    }
  }

  async loginSucceeded(username: string): Promise<void> {
    await this.#perUsername.delete(username).catch((err: unknown) => {
      this.#logger.warn({ err: toError(err) }, 'login throttle reset failed');
    });
  }

  /** Counts an account creation; throws 429 past the per-IP hourly limit. */
  async beforeRegister(ip: string): Promise<void> {
    await consumeOrThrow(this.#registerPerIp, ip);
  }
}

async function consumeOrThrow(limiter: RateLimiterAbstract, key: string): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (err) {
    if (err instanceof RateLimiterRes) throw rateLimited(err.msBeforeNext);
    throw err;
  }
}
