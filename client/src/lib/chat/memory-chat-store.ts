/**
 * A `ChatStore` in memory: the reference the IndexedDB store follows, used by unit tests and where
 * IndexedDB cannot be opened (history then lasts as long as the page).
 */
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

export class MemoryChatStore implements ChatStore {
  readonly #messages = new Map<string, StoredMessage>();
  readonly #seq = new Map<string, number>();
  readonly #unread = new Map<string, number>();
  #lastTs = 0;

  async addOutgoing(
    conversation: string,
    message: { id: string; text: string; now: number },
  ): Promise<StoredMessage> {
    if (this.#messages.has(message.id)) throw new Error('message id already stored');
    const seq = (this.#seq.get(conversation) ?? 0) + 1;
    const ts = Math.max(message.now, this.#lastTs);
    this.#seq.set(conversation, seq);
    this.#lastTs = ts;
    const stored: StoredMessage = {
      id: message.id,
      conversation,
      direction: 'out',
      state: 'waiting',
      seq,
      ts,
      text: message.text,
    };
    this.#messages.set(stored.id, stored);
    return { ...stored };
  }

  async addIncoming(batch: readonly IncomingMessage[]): Promise<IncomingResult[]> {
    const plan = planIncoming(batch, this.#messages);
    for (const message of plan.added) this.#messages.set(message.id, message);
    for (const [conversation, count] of plan.unread) {
      this.#unread.set(conversation, (this.#unread.get(conversation) ?? 0) + count);
    }
    return plan.results;
  }

  async addFile(conversation: string, record: FileRecord): Promise<StoredMessage | null> {
    if (this.#messages.has(record.id)) return null;
    const message = fileMessage(conversation, record);
    this.#messages.set(record.id, message);
    return { ...message };
  }

  async markDelivered(conversation: string, ids: readonly string[]): Promise<StoredMessage[]> {
    return this.#update(conversation, ids, (message) => message.state !== 'delivered', 'delivered');
  }

  async setOutboxState(
    conversation: string,
    ids: readonly string[],
    state: 'waiting' | 'sending',
  ): Promise<StoredMessage[]> {
    return this.#update(
      conversation,
      ids,
      (message) => message.state !== 'delivered' && message.state !== state,
      state,
    );
  }

  async outbox(conversation?: string): Promise<StoredMessage[]> {
    return [...this.#messages.values()]
      .filter(
        (message) =>
          message.direction === 'out' &&
          message.state !== 'delivered' &&
          (conversation === undefined || message.conversation === conversation),
      )
      .sort((a, b) =>
        a.conversation < b.conversation ? -1 : a.conversation > b.conversation ? 1 : a.seq - b.seq,
      )
      .map((message) => ({ ...message }));
  }

  async history(conversation: string, limit: number, before?: HistoryCursor): Promise<StoredMessage[]> {
    const sorted = [...this.#messages.values()]
      .filter(
        (message) =>
          message.conversation === conversation &&
          (before === undefined || compareMessages(message, before) < 0),
      )
      .sort(compareMessages);
    return sorted.slice(Math.max(0, sorted.length - limit)).map((message) => ({ ...message }));
  }

  async unreadCounts(): Promise<Record<string, number>> {
    return Object.fromEntries([...this.#unread].filter(([, count]) => count > 0));
  }

  async markRead(conversation: string): Promise<void> {
    this.#unread.delete(conversation);
  }

  close(): void {}

  #update(
    conversation: string,
    ids: readonly string[],
    applies: (message: StoredMessage) => boolean,
    state: StoredMessage['state'],
  ): StoredMessage[] {
    const changed: StoredMessage[] = [];
    for (const id of new Set(ids)) {
      const message = this.#messages.get(id);
      if (!message || message.conversation !== conversation || message.direction !== 'out') continue;
      if (!applies(message)) continue;
      const updated = { ...message, state };
      this.#messages.set(id, updated);
      changed.push({ ...updated });
    }
    return changed;
  }
}
