/** Test helpers: a synthetic file of any size, a sink that hashes instead of storing, and offers. */
import { createHash } from 'node:crypto';
import type { FileSink, SavedFile } from '../file-sink.js';
import type { FileSource } from '../file-source.js';
import type { OutgoingFile } from '../transfer-sender.js';

/** Bytes made from their offset: any size, nothing held in memory, the same on every read. */
export class PatternSource implements FileSource {
  readonly size: number;
  readonly #seed: number;
  reads = 0;
  /** Makes reads from this offset on fail, like a file changed on disk. */
  failFrom = Infinity;

  constructor(size: number, seed = 1) {
    this.size = size;
    this.#seed = seed;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset + length > this.size) throw new RangeError('read past the end');
    if (offset + length > this.failFrom) throw new DOMException('changed', 'NotReadableError');
    this.reads += 1;
    return patternBytes(offset, length, this.#seed);
  }
}

/** Bytes `offset..offset+length` of the pattern: 32-bit words, each a hash of its index. */
export function patternBytes(offset: number, length: number, seed = 1): Uint8Array {
  const first = Math.floor(offset / 4);
  const words = new Uint32Array(Math.ceil((offset + length) / 4) - first);
  for (let i = 0; i < words.length; i += 1) words[i] = Math.imul((first + i) ^ seed, 2654435761);
  return new Uint8Array(words.buffer, offset - first * 4, length);
}

/** SHA-256 of a source, by node:crypto (independent of the code under test). */
export async function sourceSha256(source: FileSource): Promise<string> {
  const hash = createHash('sha256');
  for (let offset = 0; offset < source.size; offset += 4 << 20)
    hash.update(await source.read(offset, Math.min(4 << 20, source.size - offset)));
  return hash.digest('hex');
}

/** A sink that hashes what it is given and keeps none of it; optionally slow or failing. */
export class HashingSink implements FileSink {
  readonly capacity: number;
  readonly #hash = createHash('sha256');
  written = 0;
  writes = 0;
  closed = false;
  aborted = false;
  /** Milliseconds each write takes (a slow disk). */
  delayMs = 0;
  /** Writes from this offset on fail (a full disk). */
  failFrom = Infinity;

  constructor(capacity = Number.MAX_SAFE_INTEGER) {
    this.capacity = capacity;
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    if (this.closed || this.aborted) throw new Error('write after the end');
    if (offset !== this.written) throw new RangeError(`write at ${offset}, expected ${this.written}`);
    if (offset + data.byteLength > this.failFrom) throw new DOMException('full', 'QuotaExceededError');
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    this.#hash.update(data);
    this.written += data.byteLength;
    this.writes += 1;
  }

  async close(): Promise<SavedFile> {
    this.closed = true;
    return { kind: 'disk', name: 'hashed' };
  }

  async abort(): Promise<void> {
    this.aborted = true;
  }

  digest(): string {
    return this.#hash.copy().digest('hex');
  }
}

let counter = 0;
/** A fresh lower-case UUID, different each call. */
export function testId(): string {
  counter += 1;
  return `00000000-0000-4000-8000-${counter.toString(16).padStart(12, '0')}`;
}

/** An outgoing file from a pattern source, with its real SHA-256. */
export async function patternFile(size: number, seed = 1, name = `file-${seed}.bin`): Promise<OutgoingFile> {
  const source = new PatternSource(size, seed);
  return {
    fileId: testId(),
    name,
    size,
    type: 'application/octet-stream',
    sha256: await sourceSha256(source),
    source,
  };
}
