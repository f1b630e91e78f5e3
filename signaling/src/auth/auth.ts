/**
 * Accounts and sessions. lucia v3 (deprecated upstream, still sound) stays behind this module: the
 * rest of the server sees only `Auth`, `AuthUser` and `AuthSession`, so lucia can be swapped out.
 */
import { randomUUID } from 'node:crypto';
import { Cookie, Lucia, TimeSpan } from 'lucia';
import type { Credentials, PublicUser } from '../../../shared/api.js';
import type { Config } from '../config.js';
import { ServerError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import { LoginThrottle } from './login-throttle.js';
import { hashPassword, verifyDummy, verifyPassword } from './passwords.js';
import { hashSessionId, StoreSessionAdapter } from './session-adapter.js';

declare module 'lucia' {
  interface Register {
    Lucia: Lucia<Record<never, never>, { username: string }>;
    DatabaseUserAttributes: { username: string };
  }
}

export type AuthUser = PublicUser;

export interface AuthSession {
  /** The raw session id: goes only into the cookie, never into the store or logs. */
  id: string;
  /** SHA-256 of the id: how the store and the realtime gateway know the session. */
  idHash: string;
  userId: string;
  expiresAt: Date;
  /** `true` when the session was created or extended now: the cookie must be sent again. */
  fresh: boolean;
}

export interface SignedIn {
  user: AuthUser;
  session: AuthSession;
}

export const SESSION_COOKIE = 'parley_session';

export class Auth {
  readonly #store: Store;
  readonly #lucia: Lucia<Record<never, never>, { username: string }>;
  readonly #throttle: LoginThrottle;
  readonly #logger: Logger;

  constructor(store: Store, config: Config, logger: Logger) {
    this.#store = store;
    this.#logger = logger;
    this.#throttle = new LoginThrottle(store, config.limits, logger);
    this.#lucia = new Lucia(new StoreSessionAdapter(store), {
      sessionExpiresIn: new TimeSpan(Math.round(config.sessionTtlMs / 1000), 's'),
      sessionCookie: {
        name: SESSION_COOKIE,
        // `secure` is decided per request (https or not) in `sessionCookie()`.
        attributes: { sameSite: 'lax', secure: false },
      },
      getUserAttributes: (attributes) => ({ username: attributes.username }),
    });
  }

  /** Creates an account and signs it in. */
  async register(credentials: Credentials, ip: string): Promise<SignedIn> {
    await this.#throttle.beforeRegister(ip);
    const user = {
      id: randomUUID(),
      username: credentials.username,
      passwordHash: await hashPassword(credentials.password),
      createdAt: Date.now(),
    };
    if (!(await this.#store.createUser(user))) {
      throw new ServerError('username_taken', `The username "${credentials.username}" is taken`, {
        field: 'username',
      });
    }
    this.#logger.info({ userId: user.id }, 'account created');
    return this.#signIn({ id: user.id, username: user.username });
  }

  /**
   * Signs in. A wrong password and an unknown username get the same error after the same work (a
   * dummy hash is verified for unknown users).
   */
  async login(credentials: Credentials, ip: string): Promise<SignedIn> {
    await this.#throttle.beforeLogin(ip, credentials.username);
    const user = await this.#store.getUserByUsername(credentials.username);
    const ok = user
      ? await verifyPassword(user.passwordHash, credentials.password)
      : await verifyDummy(credentials.password);
    if (!user || !ok) {
      await this.#throttle.loginFailed(credentials.username);
      throw new ServerError('invalid_credentials');
    }
    await this.#throttle.loginSucceeded(credentials.username);
    return this.#signIn({ id: user.id, username: user.username });
  }

  /** The signed-in user of a session id, sliding its expiry as lucia does; `null` when invalid. */
  async validate(sessionId: string): Promise<SignedIn | null> {
    const { session, user } = await this.#lucia.validateSession(sessionId);
    if (!session) return null;
    return {
      user: { id: user.id, username: user.username },
      session: { ...session, idHash: hashSessionId(session.id) },
    };
  }

  /** Ends one session; returns its id hash (the gateway closes that session's sockets). */
  async logout(sessionId: string): Promise<string> {
    await this.#lucia.invalidateSession(sessionId);
    return hashSessionId(sessionId);
  }

  /** The session id in a Cookie header, if any. */
  readSessionCookie(cookieHeader: string | undefined): string | null {
    return cookieHeader ? this.#lucia.readSessionCookie(cookieHeader) : null;
  }

  /** Set-Cookie value for a session; HttpOnly, SameSite=Lax, Secure when served over https. */
  sessionCookie(session: AuthSession, secure: boolean): string {
    return withSecure(this.#lucia.createSessionCookie(session.id), secure);
  }

  /** Set-Cookie value that removes the session cookie. */
  blankSessionCookie(secure: boolean): string {
    return withSecure(this.#lucia.createBlankSessionCookie(), secure);
  }

  async #signIn(user: AuthUser): Promise<SignedIn> {
    const session = await this.#lucia.createSession(user.id, {});
    return { user, session: { ...session, idHash: hashSessionId(session.id) } };
  }
}

function withSecure(cookie: Cookie, secure: boolean): string {
  return new Cookie(cookie.name, cookie.value, { ...cookie.attributes, secure }).serialize();
}
