/**
 * Chat messages from friends on their way to the store. Those that arrive while the store is busy
 * are stored together, in one transaction; then each message's result decides what follows: an ack,
 * the message on screen, a count in the unread badge. `ChatState` carries those out.
 */
import type { PeerMessage } from '../../../../shared/peer-protocol.js';
import { ACK_BATCH_MAX } from './ack-batcher.js';
import type { ChatStore, IncomingMessage, IncomingResult, StoredMessage } from './chat-store.js';

/**
 * Most incoming messages stored in one transaction: a flood (an outbox flushed on reconnect) is
 * stored in parts, so other store work, like sending, waits for one part only. A part from one link
 * is acknowledged in one `chat_ack`.
 */
export const INCOMING_BATCH_MAX = ACK_BATCH_MAX;

/** A chat message that came from `friendId` on that link and waits for the store. */
export interface ArrivedMessage {
  friendId: string;
  connectionId: string;
  message: Extract<PeerMessage, { type: 'chat_message' }>;
}

/** What a stored batch calls for, each part in arrival order. */
export interface IncomingOutcome {
  /** The messages to acknowledge, each on the link it came from. */
  acks: { friendId: string; connectionId: string; id: string }[];
  /** The messages to show, by conversation. */
  shown: Record<string, StoredMessage[]>;
  /** How much each conversation's unread count goes up; conversations without any are left out. */
  unread: Record<string, number>;
}

export interface IncomingQueueOptions {
  /** Queues a task behind the store work queued so far (`ChatState` runs them one at a time, in order). */
  run(task: (store: ChatStore) => Promise<void>): void;
  /** Whether a message from `friendId` stored now counts as unread (its chat is not open and in view). */
  isUnread(friendId: string): boolean;
  /** Whether the message `id` is on screen in `friendId`'s chat. */
  isShown(friendId: string, id: string): boolean;
  /** A batch was stored: what to acknowledge, show and count. */
  stored(outcome: IncomingOutcome): void;
}

export class IncomingQueue {
  readonly #options: IncomingQueueOptions;
  /** Chat messages that arrived and are not stored yet, oldest first. */
  readonly #arrived: ArrivedMessage[] = [];
  /** Whether a task that stores `#arrived` is queued and has not started. */
  #queued = false;

  constructor(options: IncomingQueueOptions) {
    this.#options = options;
  }

  /** Queues a message that arrived for the store. */
  push(arrived: ArrivedMessage): void {
    this.#arrived.push(arrived);
    this.#schedule();
  }

  /**
   * Queues a task that stores the messages that arrived, unless one is queued and has not started:
   * messages arriving while the store is busy join it and are stored in one transaction. One task
   * each would fall behind for good once a transaction takes longer than the gap between messages
   * (it can, while a file transfer keeps the storage busy), and the friend's acks with it.
   */
  #schedule(): void {
    if (this.#queued) return;
    this.#queued = true;
    this.#options.run(async (store) => {
      this.#queued = false;
      const batch = this.#arrived.splice(0, INCOMING_BATCH_MAX);
      if (this.#arrived.length > 0) this.#schedule();
      await this.#store(store, batch);
    });
  }

  async #store(store: ChatStore, batch: readonly ArrivedMessage[]): Promise<void> {
    // Unread is decided when stored, not on arrival: a chat opened in between has cleared its count
    // (here and in the store) already, and messages counted after that would stay unread in it.
    const incoming: IncomingMessage[] = batch.map(({ friendId, message: { id, seq, ts, text } }) => ({
      id,
      conversation: friendId,
      seq,
      ts,
      text,
      unread: this.#options.isUnread(friendId),
    }));
    const results = await store.addIncoming(incoming);
    this.#options.stored(settle(batch, incoming, results, this.#options.isShown));
  }
}

/** Decides, from the store's result for each message of a batch, what it calls for. */
function settle(
  batch: readonly ArrivedMessage[],
  incoming: readonly IncomingMessage[],
  results: readonly IncomingResult[],
  isShown: IncomingQueueOptions['isShown'],
): IncomingOutcome {
  if (results.length !== incoming.length) {
    // An ack says "stored": with results that do not match, none can be trusted.
    throw new Error(`chat store answered ${results.length} results for ${incoming.length} messages`);
  }
  const outcome: IncomingOutcome = { acks: [], shown: {}, unread: {} };
  for (const [index, result] of results.entries()) {
    // An id that names someone else's message (or one of ours) is not acknowledged: it is not theirs.
    if (result === 'conflict') continue;
    const { unread: isUnread, ...message } = incoming[index]!;
    const friendId = message.conversation;
    // A duplicate is acknowledged again: the sender resent it because the first ack was lost.
    outcome.acks.push({ friendId, connectionId: batch[index]!.connectionId, id: message.id });
    const list = (outcome.shown[friendId] ??= []);
    // A duplicate not on screen yet was stored first by another tab of this account (same
    // database): show it here too.
    const onScreen =
      result === 'duplicate' && (isShown(friendId, message.id) || list.some((m) => m.id === message.id));
    if (!onScreen) list.push({ ...message, direction: 'in', state: 'received' });
    if (result === 'added' && isUnread) outcome.unread[friendId] = (outcome.unread[friendId] ?? 0) + 1;
  }
  return outcome;
}
