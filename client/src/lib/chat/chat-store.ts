/**
 * The chat history and outbox of one account on this device, as the chat logic sees it. Two
 * implementations: IndexedDB in the browser (`idb-chat-store.ts`) and memory (`memory-chat-store.ts`,
 * for tests and for browsers where IndexedDB cannot be opened). The server never sees any of it.
 */

/** `out`: written here; `in`: from the friend. */
export type MessageDirection = 'in' | 'out';

/**
 * Outgoing: `waiting` (no link to the friend), `sending` (sent on a link, no ack yet), `delivered`
 * (a device of the friend stored it). Incoming: `received`.
 */
export type MessageState = 'waiting' | 'sending' | 'delivered' | 'received';

/** One message of a conversation. `conversation` is the friend's user id. */
export interface StoredMessage {
  id: string;
  conversation: string;
  direction: MessageDirection;
  state: MessageState;
  /** The sending device's sequence number in this conversation, from 1. */
  seq: number;
  /** The sending device's clock (ms since the epoch), never decreasing per device. */
  ts: number;
  /** Empty for a file record. */
  text: string;
  /** Set on a file record: a file sent or received in full and verified (never its bytes). */
  file?: StoredFile;
}

/** What the history keeps of a verified file: shown as text, like messages. */
export interface StoredFile {
  name: string;
  size: number;
  type: string;
  /** The verified SHA-256, lower-case hex. */
  sha256: string;
}

/** A file record to store: `out` (sent, the friend verified it) or `in` (received and verified here). */
export interface FileRecord {
  /** Unique per file (`fileRecordId(fileId)`); storing it again changes nothing. */
  id: string;
  direction: MessageDirection;
  ts: number;
  file: StoredFile;
}

/** The history id of a transferred file: never a chat message id (those are UUIDs). */
export function fileRecordId(fileId: string): string {
  return `file:${fileId}`;
}

/** The stored form of a file record: a sent one counts as delivered, a received one as received. */
export function fileMessage(conversation: string, record: FileRecord): StoredMessage {
  const { id, direction, ts, file } = record;
  const state = direction === 'out' ? 'delivered' : 'received';
  return { id, conversation, direction, state, seq: 0, ts, text: '', file: { ...file } };
}

/** Where a page of history ends: messages strictly before this one in conversation order. */
export type HistoryCursor = Pick<StoredMessage, 'id' | 'seq' | 'ts'>;

/** What `addIncoming` did: stored it, already had it, or the id belongs to another message. */
export type IncomingResult = 'added' | 'duplicate' | 'conflict';

export interface ChatStore {
  /**
   * Stores a new outgoing message as `waiting`, in one transaction with the next sequence number
   * of the conversation and a timestamp no earlier than any this device gave before.
   */
  addOutgoing(
    conversation: string,
    message: { id: string; text: string; now: number },
  ): Promise<StoredMessage>;
  /**
   * Stores a message from the friend unless a message with its id is already stored. With
   * `unread`, the conversation's unread count goes up in the same transaction.
   */
  addIncoming(
    conversation: string,
    message: Pick<StoredMessage, 'id' | 'seq' | 'ts' | 'text'>,
    options: { unread: boolean },
  ): Promise<IncomingResult>;
  /**
   * Stores a verified file in the conversation's history (local to this device: it never goes to
   * the outbox and has no sequence number). Resolves with the record, or null if it was stored before.
   */
  addFile(conversation: string, record: FileRecord): Promise<StoredMessage | null>;
  /** Marks outgoing messages of the conversation as delivered; resolves with the ones that changed. */
  markDelivered(conversation: string, ids: readonly string[]): Promise<StoredMessage[]>;
  /** Moves undelivered outgoing messages between `waiting` and `sending`; resolves with the ones that changed. */
  setOutboxState(
    conversation: string,
    ids: readonly string[],
    state: 'waiting' | 'sending',
  ): Promise<StoredMessage[]>;
  /** Undelivered outgoing messages, of one conversation or all, by conversation then sequence number. */
  outbox(conversation?: string): Promise<StoredMessage[]>;
  /** Up to `limit` messages before `before` (or the newest), oldest first, in conversation order. */
  history(conversation: string, limit: number, before?: HistoryCursor): Promise<StoredMessage[]>;
  /** Unread counts of the conversations that have any. */
  unreadCounts(): Promise<Record<string, number>>;
  markRead(conversation: string): Promise<void>;
  close(): void;
}
