/**
 * lucia v3 adapter over the Parley store. Lucia hands it raw session ids; only their SHA-256 ever
 * reaches the store, so a leaked store dump cannot sign anyone in.
 */
import { createHash } from 'node:crypto';
import type { Adapter, DatabaseSession, DatabaseUser } from 'lucia';
import type { SessionRecord, Store } from '../store/store.js';

/** SHA-256 (hex) of a session id: the only form in which session ids are stored. */
export function hashSessionId(sessionId: string): string {
  return createHash('sha256').update(sessionId).digest('hex');
}

export class StoreSessionAdapter implements Adapter {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  async getSessionAndUser(sessionId: string): Promise<[DatabaseSession | null, DatabaseUser | null]> {
    const record = await this.#store.getSession(hashSessionId(sessionId));
    if (!record) return [null, null];
    const user = await this.#store.getUserById(record.userId);
    const session: DatabaseSession = {
      id: sessionId,
      userId: record.userId,
      expiresAt: new Date(record.expiresAt),
      attributes: {},
    };
    return [session, user ? { id: user.id, attributes: { username: user.username } } : null];
  }

  /** Sessions as lucia sees them; their `id` is the stored hash, since raw ids are never kept. */
  async getUserSessions(userId: string): Promise<DatabaseSession[]> {
    const records = await this.#store.getUserSessions(userId);
    return records.map((r: SessionRecord) => ({
      id: r.idHash,
      userId: r.userId,
      expiresAt: new Date(r.expiresAt),
      attributes: {},
    }));
  }

  setSession(session: DatabaseSession): Promise<void> {
    return this.#store.setSession({
      idHash: hashSessionId(session.id),
      userId: session.userId,
      expiresAt: session.expiresAt.getTime(),
    });
  }

  updateSessionExpiration(sessionId: string, expiresAt: Date): Promise<void> {
    return this.#store.updateSessionExpiry(hashSessionId(sessionId), expiresAt.getTime());
  }

  deleteSession(sessionId: string): Promise<void> {
    return this.#store.deleteSession(hashSessionId(sessionId));
  }

  async deleteUserSessions(userId: string): Promise<void> {
    await this.#store.deleteUserSessions(userId);
  }

  deleteExpiredSessions(): Promise<void> {
    return this.#store.deleteExpiredSessions();
  }
}
