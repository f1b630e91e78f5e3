/**
 * Where a receiver's bytes go. Three sinks, chosen on the click on "Accept" (`TransfersState`):
 * - `DiskSink`, the File System Access API (Chromium): the user picks where to save before the
 *   transfer starts (`showSaveFilePicker`, which needs the click on "Accept"), bytes are written at
 *   their offsets through `createWritable()`; nothing but a small write buffer is ever in memory,
 *   whatever the size. Chromium writes to a swap file and moves it into place on `close()`, so an
 *   aborted file (cancelled, or failing its SHA-256) never appears complete.
 * - `StreamDownloadSink` (`download-sink.ts`) where there is no picker but service workers are
 *   (Firefox, Safari): the download service worker (`download-stream.ts`) answers a hidden iframe's
 *   request for `/download/<random id>` with a `ReadableStream` the page fills as bytes are written,
 *   and the browser saves it to its downloads folder as they come; the page waits while more than a
 *   few MiB are unread by the browser, so memory stays bounded whatever the size. Only a verified
 *   file ends the stream well (its last bytes are held back until then, so the browser never has the
 *   whole declared size of an unverified file); a cancel or an integrity failure errors it, and the
 *   browser marks the download failed and drops the partial file. The receiver hashes these bytes itself. The page
 *   pings the worker while a download is open: browsers stop a worker idle for ~30 s, which a
 *   transfer paused by a dropped link would leave it. Tested in Chromium (e2e, with the picker taken
 *   away); Firefox and Safari, which it is for, are not tested here.
 * - `MemorySink` elsewhere (no service workers: Firefox's private windows, plain http), or when the
 *   download cannot start: the bytes collect as Blob parts and are saved as a download at the end,
 *   so the file's size is held by the browser; capped at `MEMORY_SINK_MAX_BYTES`.
 */
import { TransferError, toError } from './transfer-error.js';
import { DiskWriterClient } from './worker-disk-sink.js';

/**
 * The result of a completed file: on disk already, in the browser's downloads (streamed there as it
 * came), or a Blob for the page to offer as a download.
 */
export type SavedFile =
  { kind: 'disk'; name: string } | { kind: 'download'; name: string } | { kind: 'blob'; blob: Blob };

export interface FileSink {
  /** Largest file this sink can store, in bytes. */
  readonly capacity: number;
  /**
   * Stores `data` at `offset`. The receiver writes in order with no gaps and waits for each write
   * before the next. `data` is the sink's from then on (it may transfer the buffer to a worker): the
   * caller does not use it again. Rejects when the bytes cannot be stored (disk full, permission
   * revoked).
   */
  write(offset: number, data: Uint8Array): Promise<void>;
  /**
   * Only a sink that hashes what it writes (off the main thread) has it: the SHA-256 (hex) of every
   * byte written so far. The receiver then keeps no hash of its own.
   */
  writtenSha256?(): Promise<string>;
  /** Every byte is written and verified: makes the file available. */
  close(): Promise<SavedFile>;
  /** Throws away what was written: the file never shows as complete. Never rejects. */
  abort(): Promise<void>;
}

/** Largest file kept in memory where the browser cannot stream to disk (a tab dies at 0.5-2 GB). */
export const MEMORY_SINK_MAX_BYTES = 256 * 1024 * 1024;
/** Parts are merged into one Blob past this many bytes (the browser may then page them to disk). */
const MEMORY_COMPACT_BYTES = 16 * 1024 * 1024;

/** Collects a file in memory as Blob parts; the result is a Blob of the offered MIME type. */
export class MemorySink implements FileSink {
  readonly capacity: number;
  readonly #type: string;
  #parts: BlobPart[] = [];
  #loose = 0;
  #written = 0;
  #done = false;

  constructor(type: string, capacity = MEMORY_SINK_MAX_BYTES) {
    this.#type = type;
    this.capacity = capacity;
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    if (this.#done) throw new TransferError('write_failed', 'the file is closed');
    if (offset !== this.#written) throw new RangeError(`write at ${offset}, expected ${this.#written}`);
    if (offset + data.byteLength > this.capacity)
      throw new TransferError('too_large', 'the file is too large');
    // A copy: `data` is the caller's again once this resolves.
    this.#parts.push(data.slice());
    this.#written += data.byteLength;
    this.#loose += data.byteLength;
    if (this.#loose >= MEMORY_COMPACT_BYTES) {
      this.#parts = [new Blob(this.#parts)];
      this.#loose = 0;
    }
  }

  async close(): Promise<SavedFile> {
    if (this.#done) throw new TransferError('write_failed', 'the file is closed');
    this.#done = true;
    const blob = new Blob(this.#parts, { type: this.#type });
    this.#parts = [];
    return { kind: 'blob', blob };
  }

  async abort(): Promise<void> {
    this.#done = true;
    this.#parts = [];
  }
}

/** The parts of a `FileSystemFileHandle` a DiskSink uses (so tests can fake it). */
export interface SaveTarget {
  readonly name: string;
  createWritable(options?: { keepExistingData?: boolean }): Promise<WritableTarget>;
  /** Chromium only: deletes the (empty) file the picker created when the transfer fails. */
  remove?(): Promise<void>;
}

/** The parts of a `FileSystemWritableFileStream` a DiskSink uses. */
export interface WritableTarget {
  write(params: { type: 'write'; position: number; data: Uint8Array }): Promise<void>;
  close(): Promise<void>;
  abort(reason?: unknown): Promise<void>;
}

/** Bytes gathered before one write to disk: fewer, larger writes cost less per byte. */
export const DISK_WRITE_BLOCK = 1024 * 1024;

/** Streams a file to disk through the File System Access API. */
export class DiskSink implements FileSink {
  readonly capacity = Number.MAX_SAFE_INTEGER;
  readonly #target: SaveTarget;
  readonly #writable: WritableTarget;
  readonly #block: Uint8Array;
  /** Offset of the first byte in `#block`; `#filled` bytes of it are used. */
  #blockOffset = 0;
  #filled = 0;
  #done = false;

  private constructor(target: SaveTarget, writable: WritableTarget, blockSize: number) {
    this.#target = target;
    this.#writable = writable;
    this.#block = new Uint8Array(blockSize);
  }

  /**
   * Opens `target` for writing (its old contents are replaced). Where the page can start a worker,
   * the file is hashed and written there (a `WorkerDiskSink`, with `writtenSha256`); elsewhere, or
   * when the worker fails to start, here.
   */
  static async open(target: SaveTarget, blockSize = DISK_WRITE_BLOCK): Promise<FileSink> {
    const writer = diskWriter();
    if (writer && !writer.broken) {
      try {
        return await writer.open(target, blockSize);
      } catch {
        // The worker could not start or open the file: try here, which says why if it fails too.
      }
    }
    return DiskSink.openHere(target, blockSize);
  }

  /** Opens `target` for writing on this thread (in the disk writer's worker, or without one). */
  static async openHere(target: SaveTarget, blockSize = DISK_WRITE_BLOCK): Promise<DiskSink> {
    try {
      return new DiskSink(target, await target.createWritable({ keepExistingData: false }), blockSize);
    } catch (cause) {
      throw new TransferError('write_failed', 'the file could not be opened for writing', { cause });
    }
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    if (this.#done) throw new TransferError('write_failed', 'the file is closed');
    if (offset !== this.#blockOffset + this.#filled)
      throw new RangeError(`write at ${offset}, expected ${this.#blockOffset + this.#filled}`);
    let rest = data;
    while (rest.byteLength > 0) {
      const take = Math.min(rest.byteLength, this.#block.byteLength - this.#filled);
      this.#block.set(rest.subarray(0, take), this.#filled);
      this.#filled += take;
      rest = rest.subarray(take);
      if (this.#filled === this.#block.byteLength) await this.#flush();
    }
  }

  async close(): Promise<SavedFile> {
    if (this.#done) throw new TransferError('write_failed', 'the file is closed');
    await this.#flush();
    this.#done = true;
    try {
      await this.#writable.close();
    } catch (cause) {
      throw new TransferError('write_failed', 'the file could not be saved', { cause });
    }
    return { kind: 'disk', name: this.#target.name };
  }

  async abort(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    await this.#writable.abort().catch(() => {});
    await this.#target.remove?.().catch(() => {});
  }

  async #flush(): Promise<void> {
    if (this.#filled === 0) return;
    // The stream copies what it is given, so the block is reused at once.
    const data = this.#block.subarray(0, this.#filled);
    try {
      await this.#writable.write({ type: 'write', position: this.#blockOffset, data });
    } catch (cause) {
      throw new TransferError('write_failed', toError(cause).message, { cause });
    }
    this.#blockOffset += this.#filled;
    this.#filled = 0;
  }
}

let sharedWriter: DiskWriterClient | null | undefined;

/** The page's disk writer worker, started on first use; null where workers do not exist (Node). */
function diskWriter(): DiskWriterClient | null {
  if (sharedWriter === undefined) {
    sharedWriter =
      typeof Worker === 'function' && typeof window === 'object'
        ? new DiskWriterClient(
            new Worker(new URL('./disk-writer.worker.ts', import.meta.url), {
              type: 'module',
              name: 'disk-writer',
            }),
          )
        : null;
  }
  return sharedWriter;
}

type ShowSaveFilePicker = (options: { suggestedName?: string }) => Promise<SaveTarget>;

function savePicker(): ShowSaveFilePicker | undefined {
  const picker = (globalThis as { showSaveFilePicker?: ShowSaveFilePicker }).showSaveFilePicker;
  return typeof picker === 'function' ? picker.bind(globalThis) : undefined;
}

/** Whether this browser can stream a received file to disk (File System Access API). */
export function canSaveToDisk(): boolean {
  return savePicker() !== undefined;
}

/**
 * Asks the user where to save (call it from the click on "Accept": the picker needs a user
 * gesture). Resolves with the chosen file, or `null` when the user closed the picker.
 */
export async function pickSaveTarget(suggestedName: string): Promise<SaveTarget | null> {
  const picker = savePicker();
  if (!picker) throw new TransferError('unavailable', 'this browser cannot save to disk directly');
  try {
    return await picker({ suggestedName });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') return null;
    throw new TransferError('write_failed', 'the save dialog failed', { cause: error });
  }
}
