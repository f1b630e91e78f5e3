/**
 * The page's side of the disk writer (`disk-writer.ts`): a `FileSink` whose bytes are hashed and
 * written in a worker. One worker serves every file the page receives; each file is a job there.
 *
 * A write is handed over at once (its buffer transferred, not copied) and resolves while at most
 * `WORKER_BACKLOG` bytes wait in the worker, later once the worker has caught up: the receiver's
 * acknowledgements, and so the sender, slow down with the disk, and memory stays bounded (`Handover`
 * keeps the counts).
 */
import type { DiskWriterReply, DiskWriterRequest } from './disk-writer.js';
import type { FileSink, SavedFile, SaveTarget } from './file-sink.js';
import { Handover } from './handover.js';
import { TransferError } from './transfer-error.js';

/** Bytes handed to the worker and not yet written before a write waits. */
export const WORKER_BACKLOG = 4 * 1024 * 1024;

/** What the page needs of a worker (a `Worker`, or a `MessagePort` in tests). */
export interface DiskWriterPort {
  postMessage(message: DiskWriterRequest, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<DiskWriterReply>) => void): void;
  addEventListener(type: 'error', listener: (event: Event) => void): void;
}

/** One worker and the jobs the page runs there. */
export class DiskWriterClient {
  readonly #port: DiskWriterPort;
  readonly #sinks = new Map<number, WorkerDiskSink>();
  #nextJob = 1;
  /** Set when the worker failed (it could not load, or died): nothing more goes to it. */
  #broken: string | null = null;

  constructor(port: DiskWriterPort) {
    this.#port = port;
    port.addEventListener('message', (event) => this.#sinks.get(event.data.job)?.handleReply(event.data));
    port.addEventListener('error', () => {
      this.#broken = 'the disk writer stopped';
      for (const sink of this.#sinks.values()) sink.fail(this.#broken);
      this.#sinks.clear();
    });
  }

  get broken(): boolean {
    return this.#broken !== null;
  }

  /** Opens `target` in the worker (its old contents are replaced). */
  async open(target: SaveTarget, blockSize: number): Promise<WorkerDiskSink> {
    if (this.#broken !== null) throw new TransferError('write_failed', this.#broken);
    const job = this.#nextJob;
    this.#nextJob += 1;
    const sink = new WorkerDiskSink(
      job,
      target.name,
      (request, transfer) => this.#send(request, transfer),
      () => this.#sinks.delete(job),
    );
    this.#sinks.set(job, sink);
    await sink.opened(blockSize, target);
    return sink;
  }

  #send(request: DiskWriterRequest, transfer: Transferable[] = []): void {
    this.#port.postMessage(request, transfer);
  }
}

type Send = (request: DiskWriterRequest, transfer?: Transferable[]) => void;

/** A request waiting for its answer: the worker answers each one, in the order they were sent. */
interface Pending {
  expects: Exclude<DiskWriterReply['type'], 'failed'>;
  resolve: (reply: DiskWriterReply) => void;
  reject: (error: Error) => void;
}

const ignore = () => {};

export class WorkerDiskSink implements FileSink {
  readonly capacity = Number.MAX_SAFE_INTEGER;
  readonly #job: number;
  readonly #name: string;
  readonly #send: Send;
  readonly #forget: () => void;
  readonly #pending: Pending[] = [];
  /** What the worker has been handed and has written. */
  readonly #handover = new Handover(WORKER_BACKLOG);
  /** The worker is gone: nothing sent to it is answered. */
  #gone = false;

  constructor(job: number, name: string, send: Send, forget: () => void) {
    this.#job = job;
    this.#name = name;
    this.#send = send;
    this.#forget = forget;
  }

  /** @internal Asks the worker to open the file; rejects with a `write_failed` TransferError. */
  async opened(blockSize: number, target: SaveTarget): Promise<void> {
    await this.#ask('opened', { type: 'open', job: this.#job, target, blockSize });
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    const transfer = this.#handover.record(offset, data);
    // A failure comes back as the answer to a later request, or to a write waiting for the backlog.
    this.#pending.push({ expects: 'written', resolve: ignore, reject: ignore });
    this.#send({ type: 'write', job: this.#job, offset, data }, transfer);
    await this.#handover.withinBacklog();
  }

  /** The SHA-256 (hex) of every byte written so far, hashed in the worker as it wrote them. */
  async writtenSha256(): Promise<string> {
    const reply = await this.#ask('digest', { type: 'digest', job: this.#job });
    return reply.type === 'digest' ? reply.hex : '';
  }

  async close(): Promise<SavedFile> {
    this.#handover.close();
    await this.#ask('closed', { type: 'close', job: this.#job });
    this.#forget();
    return { kind: 'disk', name: this.#name };
  }

  /** Never rejects (the worker answers an abort even for a failed file). */
  async abort(): Promise<void> {
    this.#handover.end();
    if (!this.#gone)
      await new Promise<void>((resolve) => {
        this.#pending.push({ expects: 'aborted', resolve: () => resolve(), reject: () => resolve() });
        this.#send({ type: 'abort', job: this.#job });
      });
    this.#forget();
  }

  /** @internal An answer from the worker for this job. */
  handleReply(reply: DiskWriterReply): void {
    const pending = this.#pending.shift();
    if (reply.type === 'failed') {
      const failure = this.#handover.fail(new TransferError('write_failed', reply.message));
      pending?.reject(failure);
      return;
    }
    if (reply.type === 'written') this.#handover.progress(reply.bytes);
    if (pending?.expects === reply.type) pending.resolve(reply);
    else pending?.reject(new TransferError('write_failed', `the disk writer answered ${reply.type}`));
  }

  /** @internal The worker is gone: everything asked of it fails. */
  fail(message: string): void {
    this.#gone = true;
    const failure = this.#handover.fail(new TransferError('write_failed', message));
    for (const pending of this.#pending.splice(0)) pending.reject(failure);
  }

  #ask(expects: Pending['expects'], request: DiskWriterRequest): Promise<DiskWriterReply> {
    const failure = this.#handover.failure;
    if (failure) return Promise.reject(failure);
    return new Promise((resolve, reject) => {
      this.#pending.push({ expects, resolve, reject });
      this.#send(request);
    });
  }
}
