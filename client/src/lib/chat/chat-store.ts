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

/** A message from the friend to store. With `unread`, its conversation's unread count goes up. */
export interface IncomingMessage extends Pick<StoredMessage, 'id' | 'conversation' | 'seq' | 'ts' | 'text'> {
  unread: boolean;
}

/** What `addIncoming` did: stored it, already had it, or the id belongs to another message. */
export type IncomingResult = 'added' | 'duplicate' | 'conflict';

/** What storing a batch of incoming messages changes; a store applies it in one transaction. */
export interface IncomingPlan {
  /** One per message of the batch, in its order. */
  results: IncomingResult[];
  /** The messages to add, in batch order. */
  added: StoredMessage[];
  /** How much each conversation's unread count goes up; conversations without any are left out. */
  unread: Map<string, number>;
}

/**
 * Decides a batch of incoming messages against `known` (the stored messages among their ids, or
 * all of them). A message is added unless its id is known or came earlier in the batch; then it is
 * a duplicate if that message is an incoming one of the same conversation (a resend), else a
 * conflict. Both stores decide with this, so the IndexedDB one, tested only end to end, does
 * exactly what the unit-tested memory one does.
 */
export function planIncoming(
  batch: readonly IncomingMessage[],
  known: ReadonlyMap<string, Pick<StoredMessage, 'conversation' | 'direction'>>,
): IncomingPlan {
  const plan: IncomingPlan = { results: [], added: [], unread: new Map() };
  const addedNow = new Map<string, StoredMessage>();
  for (const message of batch) {
    const { id, conversation, seq, ts, text } = message;
    const stored = known.get(id) ?? addedNow.get(id);
    if (stored) {
      const resend = stored.conversation === conversation && stored.direction === 'in';
      plan.results.push(resend ? 'duplicate' : 'conflict');
      continue;
    }
    const added: StoredMessage = { id, conversation, direction: 'in', state: 'received', seq, ts, text };
    addedNow.set(id, added);
    plan.added.push(added);
    plan.results.push('added');
    if (message.unread) plan.unread.set(conversation, (plan.unread.get(conversation) ?? 0) + 1);
  }
  return plan;
}

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
   * Stores messages from friends, all in one transaction (as `planIncoming` decides: each unless a
   * message with its id is stored or came earlier in the batch), with the unread counts of those
   * marked `unread`. Resolves with one result per message, in the batch's order.
   */
  addIncoming(batch: readonly IncomingMessage[]): Promise<IncomingResult[]>;
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
