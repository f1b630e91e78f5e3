/**
 * Flow control for a sink that hands a file's bytes to a worker (`WorkerDiskSink`,
 * `StreamDownloadSink`): it counts the bytes handed over and the bytes the other side reports done,
 * and holds a write back while more than a backlog is handed over and not yet done. The receiver's
 * acknowledgements, and so the sender, then slow down with the slower side, and memory stays bounded.
 *
 * The sinks keep their own messages; this only keeps the counts, the waits and the first failure.
 */
import { TransferError } from './transfer-error.js';

interface Waiting {
  upTo: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

export class Handover {
  readonly #backlog: number;
  /** Waits in the order they came, which is also the order of their `upTo`. */
  readonly #waiting: Waiting[] = [];
  /** End of the last write handed over, and how far the other side has got. */
  #posted = 0;
  #done = 0;
  #failure: TransferError | null = null;
  #closed = false;

  /** `backlog`: bytes handed over and not yet done before a write waits. */
  constructor(backlog: number) {
    this.#backlog = backlog;
  }

  get posted(): number {
    return this.#posted;
  }

  /** The first failure: every wait since, and every write, rejects with it. */
  get failure(): TransferError | null {
    return this.#failure;
  }

  /**
   * Counts a write of `data` at `offset` the sink is about to post, and returns what to transfer with
   * it: the buffer goes over as it is, no copy on this thread. Throws the failure, a `write_failed`
   * TransferError once closed, or a RangeError for a write out of order.
   */
  record(offset: number, data: Uint8Array): Transferable[] {
    if (this.#failure) throw this.#failure;
    if (this.#closed) throw closedError();
    if (offset !== this.#posted) throw new RangeError(`write at ${offset}, expected ${this.#posted}`);
    this.#posted = offset + data.byteLength;
    return data.buffer instanceof ArrayBuffer ? [data.buffer] : [];
  }

  /** Resolves once at most the backlog is handed over and not yet done. */
  withinBacklog(): Promise<void> {
    return this.waitUntil(this.#posted - this.#backlog);
  }

  /** Resolves once the other side has done `upTo` bytes; rejects when the handover fails first. */
  waitUntil(upTo: number): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#done >= upTo) return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiting.push({ upTo, resolve, reject }));
  }

  /** The other side reports it has done `done` bytes: the waits it has passed resolve. */
  progress(done: number): void {
    this.#done = done;
    while (this.#waiting[0] && this.#waiting[0].upTo <= done) this.#waiting.shift()!.resolve();
  }

  /** Ends writing; throws a `write_failed` TransferError when it already was. */
  close(): void {
    if (this.#closed) throw closedError();
    this.#closed = true;
  }

  /** Ends writing whether or not it already was (an abort). */
  end(): void {
    this.#closed = true;
  }

  /** Keeps the first failure, rejects every wait with it and returns it. */
  fail(error: TransferError): TransferError {
    this.#failure ??= error;
    for (const waiting of this.#waiting.splice(0)) waiting.reject(this.#failure);
    return this.#failure;
  }
}

function closedError(): TransferError {
  return new TransferError('write_failed', 'the file is closed');
}
