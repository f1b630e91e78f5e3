/**
 * Batches acks: messages stored in a burst (an outbox flushed on reconnect) are acknowledged in a
 * few `chat_ack` frames, not one per message. Acks go back on the link each message came from.
 */

/** Most ids in one `chat_ack` (the protocol's limit). */
export const ACK_BATCH_MAX = 256;
/** How long stored ids wait for company before their ack goes out. */
export const ACK_DELAY_MS = 25;

export interface AckBatcherOptions {
  /** Sends one `chat_ack` with `ids` to that link. */
  send(friendId: string, connectionId: string, ids: string[]): void;
  delayMs?: number;
}

export class AckBatcher {
  readonly #send: AckBatcherOptions['send'];
  readonly #delayMs: number;
  /** friend id -> connection id -> ids waiting. Keys are joined with a NUL, which ids never contain. */
  readonly #pending = new Map<string, Set<string>>();
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(options: AckBatcherOptions) {
    this.#send = options.send;
    this.#delayMs = options.delayMs ?? ACK_DELAY_MS;
  }

  /** Queues an ack for `id`, stored after it came from that link. */
  add(friendId: string, connectionId: string, id: string): void {
    const key = `${friendId}\u0000${connectionId}`;
    const ids = this.#pending.get(key) ?? new Set<string>();
    this.#pending.set(key, ids);
    ids.add(id);
    if (ids.size >= ACK_BATCH_MAX) {
      this.#pending.delete(key);
      this.#send(friendId, connectionId, [...ids]);
      return;
    }
    this.#timer ??= setTimeout(() => this.flush(), this.#delayMs);
  }

  /** Sends everything queued now. */
  flush(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    const pending = [...this.#pending];
    this.#pending.clear();
    for (const [key, ids] of pending) {
      const [friendId = '', connectionId = ''] = key.split('\u0000');
      this.#send(friendId, connectionId, [...ids]);
    }
  }

  /** Drops what is queued (signed out): the sender resends, and gets its ack then. */
  dispose(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#pending.clear();
  }
}
