/**
 * Where a sender's bytes come from: a `Blob` (a `File` the user picked or dropped) read one slice
 * at a time with `blob.slice(...).arrayBuffer()`, so a file of any size is never in memory whole.
 */
import { TransferError } from './transfer-error.js';

export interface FileSource {
  readonly size: number;
  /**
   * Reads `length` bytes from `offset`. Rejects with a `read_failed` TransferError when the bytes
   * cannot be read or come back short (the file changed or went away on disk).
   */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** A `Blob` or `File` as a `FileSource`. */
export class BlobSource implements FileSource {
  readonly #blob: Blob;

  constructor(blob: Blob) {
    this.#blob = blob;
  }

  get size(): number {
    return this.#blob.size;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0)
      throw new RangeError('bad read range');
    if (offset + length > this.#blob.size) throw new RangeError('read past the end of the file');
    let buffer: ArrayBuffer;
    try {
      buffer = await this.#blob.slice(offset, offset + length).arrayBuffer();
    } catch (cause) {
      // Chromium: NotReadableError once the file on disk was modified after it was picked.
      throw new TransferError('read_failed', 'the file could not be read', { cause });
    }
    if (buffer.byteLength !== length)
      throw new TransferError('read_failed', 'the file changed while reading');
    return new Uint8Array(buffer);
  }
}
