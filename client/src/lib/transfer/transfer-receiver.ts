/**
 * The receiving side of one offer, independent of the transport.
 *
 * Nothing is written before the user accepts a file (with a sink: disk or memory). Every chunk is
 * checked: a known file being received, exactly the next expected offset (duplicates and stale
 * chunks are ignored, a gap asks the sender to go back), never past the declared size. Bytes are
 * hashed as they arrive and written in order (or hashed by the sink as it writes them, off the main
 * thread: `FileSink.writtenSha256`); the receiver acknowledges what it has written about every MiB.
 * After the last byte it compares the SHA-256 with the offer: a match closes the sink and the file
 * is verified; a mismatch aborts the sink, so the file is never offered as complete.
 *
 * Resume (same page only, nothing is persisted): when the link drops, each file keeps its verified
 * offset and the hash state saved there (a sink that hashes keeps its own); on a new link the
 * receiver asks for the rest with `file_accept {offset}` and continues the hash from the saved state.
 */
import {
  TRANSFER_ACK_INTERVAL,
  TRANSFER_WINDOW_MAX,
  type Chunk,
  type FileOffer,
  type OfferedFile,
  type TransferControl,
  type TransferErrorCode,
} from '../../../../shared/transfer-protocol.js';
import type { ControlChannel } from './chunk-channel.js';
import type { FileSink, SavedFile } from './file-sink.js';
import { createSha256, type HashCheckpoint, type StreamingHash } from './hasher.js';
import { TransferError } from './transfer-error.js';
import { hasEnded, TransferSide, type TransferSideEvents } from './transfer-side.js';

/**
 * `offered` (waiting for the user), `receiving` (accepted), `verified` (complete, SHA-256 matched);
 * or ended otherwise: `declined`, `cancelled` (by either side), `failed` (with a code).
 */
export type ReceiverFileState = 'offered' | 'receiving' | 'verified' | 'declined' | 'cancelled' | 'failed';

export interface ReceiverFileStatus {
  /** As offered: show `name` as text; save under `safeFileName(name)`. */
  readonly file: OfferedFile;
  readonly state: ReceiverFileState;
  /** Bytes written and hashed. */
  readonly received: number;
  readonly error?: TransferErrorCode;
  /** Where the verified file is. */
  readonly saved?: SavedFile;
}

/** A file changed state; more bytes were written and hashed (about every MiB) or a file ended. */
export type TransferReceiverEvents = TransferSideEvents<ReceiverFileStatus>;

/** What became of one chunk (for tests and counters; bad chunks are never written). */
export type ChunkOutcome = 'accepted' | 'duplicate' | 'gap' | 'ignored' | 'rejected' | 'unknown_file';

export interface TransferReceiverOptions {
  offer: FileOffer;
  now?: () => number;
  /** Acknowledge at least every this many bytes (at most `TRANSFER_ACK_INTERVAL`). */
  ackInterval?: number;
  /** Where failures go, with ids and codes only (development builds log them). */
  warn?: (message: string, detail?: unknown) => void;
}

interface FileEntry {
  file: OfferedFile;
  state: ReceiverFileState;
  sink: FileSink | null;
  /** The live hash while a link is open; `null` while paused (then `checkpoint` holds its state). */
  hash: StreamingHash | null;
  checkpoint: HashCheckpoint | null;
  /** No link: chunks are ignored until the receiver asks again. */
  paused: boolean;
  /** Bytes hashed and handed to the write queue. */
  next: number;
  /** Bytes the sink has written. */
  written: number;
  acknowledged: number;
  /**
   * The highest offset told to the sender (an ack, or the offset of an accept): it may send up to
   * `TRANSFER_WINDOW_MAX` past it, no further.
   */
  granted: number;
  /** The offset a gap made us ask for, so one gap asks once. */
  askedAt: number;
  /** The tail of this file's writes; each write starts after the one before. */
  writes: Promise<void>;
  /** The tail of this file's accept, pause and resume steps, run one at a time. */
  steps: Promise<void>;
  error?: TransferErrorCode;
  saved?: SavedFile;
}

export class TransferReceiver extends TransferSide<ReceiverFileStatus, FileEntry> {
  readonly #files = new Map<string, FileEntry>();
  readonly #ackInterval: number;
  readonly #warn: NonNullable<TransferReceiverOptions['warn']>;
  #channel: ControlChannel | null = null;

  constructor(options: TransferReceiverOptions) {
    super(options.offer.transferId, options.now);
    this.#warn = options.warn ?? (() => {});
    this.#ackInterval = Math.min(options.ackInterval ?? TRANSFER_ACK_INTERVAL, TRANSFER_ACK_INTERVAL);
    for (const file of options.offer.files) {
      this.#files.set(file.fileId, {
        file,
        state: 'offered',
        sink: null,
        hash: null,
        checkpoint: null,
        paused: true,
        next: 0,
        written: 0,
        acknowledged: 0,
        granted: 0,
        askedAt: -1,
        writes: Promise.resolve(),
        steps: Promise.resolve(),
      });
    }
  }

  /** The declared size of an offered file (for `decodeChunk`), `undefined` for another id. */
  sizeOf(fileId: string): number | undefined {
    return this.#files.get(fileId)?.file.size;
  }

  /** A link to the sender opened: asks again for every file being received, from its verified offset. */
  attach(channel: ControlChannel): void {
    this.#channel = channel;
    let declined = false;
    for (const entry of this.#files.values()) {
      if (entry.state === 'receiving') this.#step(entry, () => this.#resume(entry));
      else if (entry.state === 'declined') declined = true;
      else this.#tellEnd(entry);
    }
    if (declined) this.#send({ type: 'file_decline', transferId: this.transferId });
  }

  /** The link dropped: chunks stop counting; each file keeps its verified offset and hash state. */
  detach(): void {
    this.#channel = null;
    this.resetSpeed();
    for (const entry of this.#files.values()) {
      if (entry.state !== 'receiving') continue;
      entry.paused = true;
      this.#step(entry, () => this.#pause(entry));
    }
  }

  /**
   * Accepts a file into `sink`. Rejects with `too_large` (the file stays offered, to accept into
   * another sink) when the sink cannot hold it; otherwise the sender is asked for the file.
   */
  async accept(fileId: string, sink: FileSink): Promise<void> {
    const entry = this.#files.get(fileId);
    if (entry?.state !== 'offered') throw new RangeError('no such file waiting for an answer');
    if (entry.file.size > sink.capacity) {
      await sink.abort();
      throw new TransferError('too_large', 'the file is larger than this browser can hold in memory');
    }
    entry.state = 'receiving';
    entry.sink = sink;
    this.emitFile(entry);
    if (entry.file.size === 0) {
      this.#step(entry, () => this.#finish(entry, ''));
      return entry.steps;
    }
    this.#step(entry, () => this.#resume(entry));
    return entry.steps;
  }

  /** Declines every file not accepted (the whole offer when nothing was). */
  decline(): void {
    let changed = false;
    for (const entry of this.#files.values())
      if (entry.state === 'offered') changed = this.#end(entry, 'declined') || changed;
    if (changed) this.#send({ type: 'file_decline', transferId: this.transferId });
  }

  /** Stops one file, or every file not ended; what was written is thrown away. The sender is told. */
  cancel(fileId?: string): void {
    const entries = fileId === undefined ? [...this.#files.values()] : [this.#files.get(fileId)];
    let changed = false;
    for (const entry of entries) if (entry) changed = this.#end(entry, 'cancelled') || changed;
    if (changed) this.#send({ type: 'file_cancel', transferId: this.transferId, fileId, by: 'receiver' });
  }

  /** A control message from the sender for this transfer (validated by the caller). */
  handleControl(message: TransferControl): void {
    if (message.transferId !== this.transferId) return;
    if (message.type === 'file_cancel' && message.by === 'sender') {
      const entries =
        message.fileId === undefined ? [...this.#files.values()] : [this.#files.get(message.fileId)];
      for (const entry of entries) if (entry) this.#end(entry, 'cancelled');
    } else if (message.type === 'file_error' && message.by === 'sender') {
      const entry = this.#files.get(message.fileId);
      if (entry) this.#end(entry, 'failed', message.code);
    }
  }

  /**
   * One chunk from the sender, decoded and checked against the declared size by `decodeChunk`.
   * `maxFileSize` is the largest file the channel it came on may carry (the server relay's cap): a
   * chunk of a larger file fails that file.
   */
  handleChunk(chunk: Chunk, maxFileSize = Infinity): ChunkOutcome {
    const entry = this.#files.get(chunk.fileId);
    if (!entry) return 'unknown_file';
    if (entry.state !== 'receiving' || entry.paused || !(entry.hash || sinkHashes(entry))) return 'ignored';
    if (entry.file.size > maxFileSize) {
      this.#warn('transfer: a chunk of a file over the channel’s size cap', {
        transferId: this.transferId,
        fileId: entry.file.fileId,
        size: entry.file.size,
        maxFileSize,
      });
      this.#fail(entry, 'protocol');
      return 'rejected';
    }
    if (chunk.offset < entry.next) return 'duplicate';
    if (chunk.offset > entry.next) {
      // Chunks were lost (a replaced link): ask once for what is missing.
      if (entry.askedAt !== entry.next) {
        entry.askedAt = entry.next;
        this.#askFrom(entry);
      }
      return 'gap';
    }
    const end = chunk.offset + chunk.payload.byteLength;
    if (end > entry.file.size || end > entry.granted + TRANSFER_WINDOW_MAX) {
      // Past the declared size, or more in flight than the window allows.
      this.#fail(entry, 'protocol');
      return 'rejected';
    }
    entry.hash?.update(chunk.payload);
    entry.next = end;
    const { sink } = entry;
    const write = entry.writes.then(async () => {
      if (entry.state !== 'receiving' || !sink) return;
      await sink.write(chunk.offset, chunk.payload);
      entry.written = end;
      this.#afterWrite(entry);
    });
    entry.writes = write.catch((error: unknown) => this.#fail(entry, 'write_failed', error));
    return 'accepted';
  }

  #afterWrite(entry: FileEntry): void {
    const done = entry.written === entry.file.size;
    if (entry.written - entry.acknowledged >= this.#ackInterval || done) {
      entry.acknowledged = entry.written;
      entry.granted = Math.max(entry.granted, entry.written);
      if (!done)
        this.#send({
          type: 'file_progress',
          transferId: this.transferId,
          fileId: entry.file.fileId,
          received: entry.written,
        });
      this.sampleProgress();
    }
    if (done && entry.hash) {
      const digest = entry.hash.digest();
      entry.hash = null;
      this.#step(entry, () => this.#finish(entry, digest));
    } else if (done && entry.sink?.writtenSha256) {
      const { sink } = entry;
      this.#step(entry, async () => this.#finish(entry, await sink.writtenSha256!()));
    }
  }

  /** All bytes are written: verified if the hash matches the offer, an integrity failure if not. */
  async #finish(entry: FileEntry, digest: string): Promise<void> {
    if (entry.state !== 'receiving' || !entry.sink) return;
    if (entry.file.size === 0) digest = (await createSha256()).digest();
    if (digest !== entry.file.sha256) return this.#fail(entry, 'integrity');
    try {
      entry.saved = await entry.sink.close();
    } catch (error) {
      return this.#fail(entry, 'write_failed', error);
    }
    if (entry.state !== 'receiving') return;
    entry.state = 'verified';
    entry.sink = null;
    this.emitFile(entry);
    this.emitProgress();
    this.#tellEnd(entry);
  }

  /** Saves the hash state at the verified offset once the writes in flight are done. */
  async #pause(entry: FileEntry): Promise<void> {
    await entry.writes;
    if (entry.state !== 'receiving' || !entry.paused || !entry.hash) return;
    entry.checkpoint = { offset: entry.next, state: entry.hash.save() };
    // The saved state is all a paused file needs; the hasher's memory goes.
    entry.hash = null;
  }

  /** Asks the sender for the file from the verified offset (0 at first), continuing the hash. */
  async #resume(entry: FileEntry): Promise<void> {
    if (entry.state !== 'receiving' || entry.next === entry.file.size) return;
    // A sink that hashes keeps its hash across a dropped link: nothing to restore here.
    if (!entry.hash && !sinkHashes(entry)) {
      entry.hash = await createSha256(entry.checkpoint?.state);
      entry.checkpoint = null;
    }
    if (entry.state !== 'receiving' || !this.#channel) return;
    entry.paused = false;
    entry.askedAt = entry.next;
    this.#askFrom(entry);
  }

  #askFrom(entry: FileEntry): void {
    entry.granted = Math.max(entry.granted, entry.next);
    this.#send({
      type: 'file_accept',
      transferId: this.transferId,
      fileId: entry.file.fileId,
      offset: entry.next,
    });
  }

  /** Tells the sender again how a file ended (the message may have been lost with a link). */
  #tellEnd(entry: FileEntry): void {
    const { transferId } = this;
    const { fileId } = entry.file;
    if (entry.state === 'verified') this.#send({ type: 'file_complete', transferId, fileId });
    else if (entry.state === 'declined') this.#send({ type: 'file_decline', transferId });
    else if (entry.state === 'cancelled')
      this.#send({ type: 'file_cancel', transferId, fileId, by: 'receiver' });
    else if (entry.state === 'failed' && entry.error)
      this.#send({ type: 'file_error', transferId, fileId, code: entry.error, by: 'receiver' });
  }

  /** Ends a file that has not ended, throwing away what was written; `false` when it already had. */
  #end(entry: FileEntry, state: ReceiverFileState, error?: TransferErrorCode): boolean {
    if (hasEnded(entry)) return false;
    entry.state = state;
    entry.error = error;
    entry.hash = null;
    entry.checkpoint = null;
    const { sink } = entry;
    entry.sink = null;
    // At once, not after the write in flight: a sink whose write waits on its reader (a streamed
    // download the browser stopped reading) would never get there. The write then fails or
    // finishes, and sees the file ended.
    void sink?.abort();
    this.emitFile(entry);
    this.emitProgress();
    return true;
  }

  #fail(entry: FileEntry, code: TransferErrorCode, cause?: unknown): void {
    if (!this.#end(entry, 'failed', code)) return;
    this.#warn('transfer: file failed', {
      transferId: this.transferId,
      fileId: entry.file.fileId,
      code,
      cause,
    });
    this.#tellEnd(entry);
  }

  #send(message: TransferControl): void {
    this.#channel?.sendControl(message);
  }

  #step(entry: FileEntry, step: () => Promise<void>): void {
    entry.steps = entry.steps.then(step).catch((error: unknown) => this.#fail(entry, 'write_failed', error));
  }

  protected entries(): Iterable<FileEntry> {
    return this.#files.values();
  }

  protected status(entry: FileEntry): ReceiverFileStatus {
    const { file, state, error, saved } = entry;
    return {
      file,
      state,
      received: this.bytesDone(entry),
      ...(error === undefined ? {} : { error }),
      ...(saved === undefined ? {} : { saved }),
    };
  }

  protected bytesDone(entry: FileEntry): number {
    return entry.state === 'verified' ? entry.file.size : entry.written;
  }
}

/** Whether the file's sink hashes what it writes (in a worker): the receiver then keeps no hash. */
function sinkHashes(entry: FileEntry): boolean {
  return entry.sink?.writtenSha256 !== undefined;
}
