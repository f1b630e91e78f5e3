/**
 * What the two sides of a transfer share: the `file` and `progress` events, and what is read off
 * the files of the offer (their statuses, whether every one has ended, the progress with its speed).
 *
 * Each side keeps its files in its own private entries and moves them on by its own protocol; this
 * class only reads them, through `entries`, `status` and `bytesDone`, so the speed is measured and
 * the totals are counted the same way on both sides.
 */
import type { OfferedFile } from '../../../../shared/transfer-protocol.js';
import { Emitter } from '../emitter.js';
import { ProgressMeter, type TransferProgress } from './progress-meter.js';

export interface TransferSideEvents<Status> {
  /** A file changed state. */
  file: Status;
  /** More bytes are done (acknowledged by the receiver, or written here: about every MiB) or a file ended. */
  progress: TransferProgress;
}

/** What is read of a side's entry for one file; each side adds its own fields. */
export interface SideEntry {
  readonly file: OfferedFile;
  readonly state: string;
}

const FINAL: ReadonlySet<string> = new Set(['verified', 'declined', 'cancelled', 'failed']);

/** Whether a file has ended (verified, declined, cancelled or failed): its state changes no more. */
export function hasEnded(entry: SideEntry): boolean {
  return FINAL.has(entry.state);
}

/** Whether a file counts in the progress: accepted, and on its way or verified (not stopped). */
function counts(entry: SideEntry): boolean {
  return entry.state === 'verified' || (entry.state !== 'offered' && !hasEnded(entry));
}

export abstract class TransferSide<Status, Entry extends SideEntry = SideEntry> {
  readonly transferId: string;
  readonly #events = new Emitter<TransferSideEvents<Status>>();
  readonly #meter: ProgressMeter;

  protected constructor(transferId: string, now?: () => number) {
    this.transferId = transferId;
    this.#meter = new ProgressMeter({ now });
  }

  on<K extends keyof TransferSideEvents<Status>>(
    event: K,
    handler: (e: TransferSideEvents<Status>[K]) => void,
  ): () => void {
    return this.#events.on(event, handler);
  }

  get files(): Status[] {
    return [...this.entries()].map((entry) => this.status(entry));
  }

  /** Whether every file has ended (verified, declined, cancelled or failed). */
  get finished(): boolean {
    return [...this.entries()].every(hasEnded);
  }

  get progress(): TransferProgress {
    const [bytes, total] = this.#totals();
    return this.#meter.snapshot(bytes, total);
  }

  /** Every file of the offer, in the order offered. */
  protected abstract entries(): Iterable<Entry>;

  /** A file as `files` lists it and the `file` event carries it. */
  protected abstract status(entry: Entry): Status;

  /** Bytes done of an accepted file: acknowledged by the receiver (sender), written here (receiver). */
  protected abstract bytesDone(entry: Entry): number;

  protected emitFile(entry: Entry): void {
    this.#events.emit('file', this.status(entry));
  }

  protected emitProgress(): void {
    this.#events.emit('progress', this.progress);
  }

  /** More bytes are done: a sample for the speed, then the `progress` event. */
  protected sampleProgress(): void {
    this.#meter.sample(this.#totals()[0]);
    this.emitProgress();
  }

  /** The link dropped: the speed before says nothing about the speed after. */
  protected resetSpeed(): void {
    this.#meter.reset();
  }

  #totals(): [bytes: number, total: number] {
    let bytes = 0;
    let total = 0;
    for (const entry of this.entries()) {
      if (!counts(entry)) continue;
      bytes += this.bytesDone(entry);
      total += entry.file.size;
    }
    return [bytes, total];
  }
}
