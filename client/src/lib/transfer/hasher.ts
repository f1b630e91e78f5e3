/**
 * Streaming SHA-256 with hash-wasm (WebCrypto's `digest` needs the whole input at once). The sender
 * hashes a file before offering it; the receiver hashes chunks as they arrive in order, and can
 * save the state at a verified offset and continue from it after a new link, without re-reading.
 */
import { createSHA256 } from 'hash-wasm';
import type { FileSource } from './file-source.js';
import { TransferError } from './transfer-error.js';

export interface StreamingHash {
  update(data: Uint8Array): void;
  /** The lower-case hex digest of everything given so far; the hash takes nothing more after it. */
  digest(): string;
  /**
   * The internal state, to continue later with `createSha256(state)`. It reveals as much as the
   * bytes hashed (it can hold the last partial block): keep it in memory with the transfer.
   */
  save(): Uint8Array;
}

/** A new SHA-256, or one that continues from a state `save()` gave. */
export async function createSha256(state?: Uint8Array): Promise<StreamingHash> {
  const hasher = await createSHA256();
  hasher.init();
  if (state) hasher.load(state);
  return {
    update: (data) => void hasher.update(data),
    digest: () => hasher.digest('hex'),
    save: () => hasher.save(),
  };
}

/** The bytes a SHA-256 state stands for: a checkpoint of a receiver at a verified offset. */
export interface HashCheckpoint {
  offset: number;
  state: Uint8Array;
}

/** Bytes read at a time when hashing a whole file (large reads are cheaper per byte). */
export const HASH_READ_BLOCK = 4 * 1024 * 1024;

export interface HashSourceOptions {
  blockSize?: number;
  /** Called after each block with the bytes hashed so far. */
  onProgress?: (hashed: number, total: number) => void;
  /** Stops hashing: the promise rejects with an `aborted` TransferError. */
  signal?: AbortSignal;
}

/**
 * SHA-256 of a whole source, read one block at a time; the next block is read while the current
 * one is hashed. Memory stays at two blocks whatever the file size.
 */
export async function hashSource(source: FileSource, options: HashSourceOptions = {}): Promise<string> {
  const blockSize = options.blockSize ?? HASH_READ_BLOCK;
  const hash = await createSha256();
  const size = source.size;
  const readAt = (offset: number) => source.read(offset, Math.min(blockSize, size - offset));
  let next = size > 0 ? readAt(0) : null;
  let offset = 0;
  while (next) {
    const block = await next;
    if (options.signal?.aborted) throw new TransferError('aborted', 'hashing was cancelled');
    offset += block.byteLength;
    next = offset < size ? readAt(offset) : null;
    hash.update(block);
    options.onProgress?.(offset, size);
  }
  return hash.digest();
}
