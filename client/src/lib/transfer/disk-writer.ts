/**
 * The receiver's hashing and writing to disk, run in a dedicated worker so the page's main thread
 * only takes chunks off the data channel and hands them over (bench:transfer: the SHA-256 and the
 * disk writes took about a third of the receiving page's main thread, which also runs the chat).
 *
 * The page asks (`DiskWriterRequest`), the worker answers (`DiskWriterReply`); every request names a
 * job (one file being received) and a job's requests run in the order they were sent. The worker
 * side is `DiskWriterHost`: a `DiskSink` and a SHA-256 per job, which it hashes as it writes.
 * The page side is `WorkerDiskSink` (`worker-disk-sink.ts`).
 */
import { DiskSink, type SaveTarget } from './file-sink.js';
import { createSha256, type StreamingHash } from './hasher.js';
import { toError } from './transfer-error.js';

export type DiskWriterRequest =
  /** Opens `target` (a `FileSystemFileHandle`, which a worker can be sent) for writing. */
  | { type: 'open'; job: number; target: SaveTarget; blockSize: number }
  /** Hashes and writes `data` at `offset` (the page gives its buffer up: it is transferred). */
  | { type: 'write'; job: number; offset: number; data: Uint8Array }
  /** The SHA-256 of everything written so far. */
  | { type: 'digest'; job: number }
  | { type: 'close'; job: number }
  | { type: 'abort'; job: number };

export type DiskWriterReply =
  | { type: 'opened'; job: number }
  /** Bytes from the start of the file hashed and handed to the disk (after each write). */
  | { type: 'written'; job: number; bytes: number }
  | { type: 'digest'; job: number; hex: string }
  | { type: 'closed'; job: number }
  | { type: 'aborted'; job: number }
  /** The job failed (opening or writing); every later request of the job is answered so too. */
  | { type: 'failed'; job: number; message: string };

interface Job {
  sink: DiskSink | null;
  hash: StreamingHash | null;
  /** The tail of the job's requests, each run after the one before. */
  tail: Promise<void>;
  failure: string | null;
}

/** Runs the page's requests (in the worker); `post` sends the answers back. */
export class DiskWriterHost {
  readonly #post: (reply: DiskWriterReply) => void;
  readonly #jobs = new Map<number, Job>();

  constructor(post: (reply: DiskWriterReply) => void) {
    this.#post = post;
  }

  handle(request: DiskWriterRequest): void {
    let job = this.#jobs.get(request.job);
    if (!job) {
      job = { sink: null, hash: null, tail: Promise.resolve(), failure: null };
      this.#jobs.set(request.job, job);
    }
    const current = job;
    current.tail = current.tail.then(() => this.#run(current, request));
  }

  async #run(job: Job, request: DiskWriterRequest): Promise<void> {
    const id = request.job;
    if (request.type === 'abort') {
      this.#jobs.delete(id);
      await job.sink?.abort();
      return this.#post({ type: 'aborted', job: id });
    }
    if (job.failure !== null) return this.#post({ type: 'failed', job: id, message: job.failure });
    try {
      switch (request.type) {
        case 'open':
          job.sink = await DiskSink.openHere(request.target, request.blockSize);
          job.hash = await createSha256();
          return this.#post({ type: 'opened', job: id });
        case 'write': {
          const { sink, hash } = opened(job);
          hash.update(request.data);
          await sink.write(request.offset, request.data);
          return this.#post({ type: 'written', job: id, bytes: request.offset + request.data.byteLength });
        }
        case 'digest':
          return this.#post({ type: 'digest', job: id, hex: opened(job).hash.digest() });
        case 'close':
          this.#jobs.delete(id);
          await opened(job).sink.close();
          return this.#post({ type: 'closed', job: id });
        default:
          throw new TypeError(`unknown request ${(request satisfies never as { type: string }).type}`);
      }
    } catch (error) {
      job.failure = toError(error).message;
      this.#post({ type: 'failed', job: id, message: job.failure });
    }
  }
}

function opened(job: Job): { sink: DiskSink; hash: StreamingHash } {
  if (!job.sink || !job.hash) throw new Error('the file is not open');
  return { sink: job.sink, hash: job.hash };
}
