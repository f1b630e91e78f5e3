/**
 * The chat history and outbox in IndexedDB, one database per account (its name carries the user id),
 * so it survives reloads and two accounts on one browser never mix. Exercised by the e2e in Chromium;
 * the chat logic is unit-tested against `MemoryChatStore`, which this follows.
 */
import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction } from 'idb';
import {
  fileMessage,
  planIncoming,
  type ChatStore,
  type FileRecord,
  type HistoryCursor,
  type IncomingMessage,
  type IncomingResult,
  type StoredMessage,
} from './chat-store.js';
import { compareMessages } from './message-order.js';

/** A message as stored: undelivered outgoing ones also carry `outbox` (their conversation). */
interface MessageRecord extends StoredMessage {
  /** Set only while undelivered: records without it stay out of the sparse `outbox` index. */
  outbox?: string;
}

interface ChatSchema extends DBSchema {
  messages: {
    key: string;
    value: MessageRecord;
    indexes: {
      /** Conversation order (the primary key, the id, breaks ties). */
      by_conversation: [string, number, number];
      /** Undelivered outgoing messages by conversation and sequence number. */
      outbox: [string, number];
    };
  };
  /** Counters: `seq:<conversation>`, `ts` (the last timestamp given), `unread:<conversation>`. */
  meta: { key: string; value: number };
}

const DB_VERSION = 1;
const UNREAD_PREFIX = 'unread:';

/** The database name for an account. */
export function chatDatabaseName(userId: string): string {
  return `parley-chat-${userId}`;
}

/** Opens (creating on first use) the account's chat database. Rejects where IndexedDB is unavailable. */
export async function openIdbChatStore(userId: string): Promise<ChatStore> {
  const db = await openDB<ChatSchema>(chatDatabaseName(userId), DB_VERSION, {
    upgrade(database) {
      const messages = database.createObjectStore('messages', { keyPath: 'id' });
      messages.createIndex('by_conversation', ['conversation', 'ts', 'seq']);
      messages.createIndex('outbox', ['outbox', 'seq']);
      database.createObjectStore('meta');
    },
    // Another tab wants a newer schema: step aside rather than block it.
    blocking() {
      db.close();
    },
  });
  return new IdbChatStore(db);
}

type Tx = IDBPTransaction<ChatSchema, ['messages', 'meta'], 'readwrite'>;

class IdbChatStore implements ChatStore {
  readonly #db: IDBPDatabase<ChatSchema>;

  constructor(db: IDBPDatabase<ChatSchema>) {
    this.#db = db;
  }

  async addOutgoing(
    conversation: string,
    message: { id: string; text: string; now: number },
  ): Promise<StoredMessage> {
    const tx: Tx = this.#db.transaction(['messages', 'meta'], 'readwrite');
    const meta = tx.objectStore('meta');
    const seqKey = `seq:${conversation}`;
    const [lastSeq, lastTs] = await Promise.all([meta.get(seqKey), meta.get('ts')]);
    const seq = (lastSeq ?? 0) + 1;
    const ts = Math.max(message.now, lastTs ?? 0);
    const record: MessageRecord = {
      id: message.id,
      conversation,
      direction: 'out',
      state: 'waiting',
      seq,
      ts,
      text: message.text,
      outbox: conversation,
    };
    await Promise.all([
      meta.put(seq, seqKey),
      meta.put(ts, 'ts'),
      tx.objectStore('messages').add(record),
      tx.done,
    ]);
    return toMessage(record);
  }

  async addIncoming(batch: readonly IncomingMessage[]): Promise<IncomingResult[]> {
    const tx: Tx = this.#db.transaction(['messages', 'meta'], 'readwrite');
    const messages = tx.objectStore('messages');
    const meta = tx.objectStore('meta');
    // All reads are asked for at once: the transaction answers them in order, without a wait each.
    const known = new Map<string, MessageRecord>();
    for (const record of await Promise.all(batch.map((message) => messages.get(message.id)))) {
      if (record) known.set(record.id, record);
    }
    const plan = planIncoming(batch, known);
    const writes: Promise<unknown>[] = plan.added.map((message) => messages.put(message));
    for (const [conversation, count] of plan.unread) {
      const key = UNREAD_PREFIX + conversation;
      writes.push(meta.get(key).then((unread) => meta.put((unread ?? 0) + count, key)));
    }
    await Promise.all([...writes, tx.done]);
    return plan.results;
  }

  async addFile(conversation: string, record: FileRecord): Promise<StoredMessage | null> {
    const tx = this.#db.transaction('messages', 'readwrite');
    const known = await tx.store.get(record.id);
    const message = fileMessage(conversation, record);
    if (!known) await tx.store.add(message);
    await tx.done;
    return known ? null : message;
  }

  markDelivered(conversation: string, ids: readonly string[]): Promise<StoredMessage[]> {
    return this.#update(conversation, ids, (record) => record.state !== 'delivered', 'delivered');
  }

  setOutboxState(
    conversation: string,
    ids: readonly string[],
    state: 'waiting' | 'sending',
  ): Promise<StoredMessage[]> {
    return this.#update(
      conversation,
      ids,
      (record) => record.state !== 'delivered' && record.state !== state,
      state,
    );
  }

  async outbox(conversation?: string): Promise<StoredMessage[]> {
    const range =
      conversation === undefined
        ? undefined
        : IDBKeyRange.bound([conversation, -Infinity], [conversation, Infinity]);
    const records = await this.#db.getAllFromIndex('messages', 'outbox', range);
    return records.map(toMessage);
  }

  async history(conversation: string, limit: number, before?: HistoryCursor): Promise<StoredMessage[]> {
    const upper: [string, number, number] = before
      ? [conversation, before.ts, before.seq]
      : [conversation, Infinity, Infinity];
    const range = IDBKeyRange.bound([conversation, -Infinity, -Infinity], upper);
    const tx = this.#db.transaction('messages', 'readonly');
    const page: StoredMessage[] = [];
    let cursor = await tx.store.index('by_conversation').openCursor(range, 'prev');
    while (cursor && page.length < limit) {
      // The bound is inclusive of (ts, seq): ties are decided by id, as everywhere.
      if (!before || compareMessages(cursor.value, before) < 0) page.push(toMessage(cursor.value));
      cursor = await cursor.continue();
    }
    await tx.done;
    return page.reverse();
  }

  async unreadCounts(): Promise<Record<string, number>> {
    const range = IDBKeyRange.bound(UNREAD_PREFIX, `${UNREAD_PREFIX}\uffff`);
    const tx = this.#db.transaction('meta', 'readonly');
    const counts: Record<string, number> = {};
    for await (const cursor of tx.store.iterate(range)) {
      if (cursor.value > 0) counts[String(cursor.key).slice(UNREAD_PREFIX.length)] = cursor.value;
    }
    await tx.done;
    return counts;
  }

  async markRead(conversation: string): Promise<void> {
    await this.#db.delete('meta', UNREAD_PREFIX + conversation);
  }

  close(): void {
    this.#db.close();
  }

  async #update(
    conversation: string,
    ids: readonly string[],
    applies: (record: MessageRecord) => boolean,
    state: StoredMessage['state'],
  ): Promise<StoredMessage[]> {
    const tx = this.#db.transaction('messages', 'readwrite');
    const changed: StoredMessage[] = [];
    for (const id of new Set(ids)) {
      const record = await tx.store.get(id);
      if (!record || record.conversation !== conversation || record.direction !== 'out') continue;
      if (!applies(record)) continue;
      const updated: MessageRecord = { ...record, state };
      if (state === 'delivered') delete updated.outbox;
      await tx.store.put(updated);
      changed.push(toMessage(updated));
    }
    await tx.done;
    return changed;
  }
}

function toMessage(record: MessageRecord): StoredMessage {
  const { id, conversation, direction, state, seq, ts, text, file } = record;
  return { id, conversation, direction, state, seq, ts, text, ...(file ? { file } : {}) };
}
