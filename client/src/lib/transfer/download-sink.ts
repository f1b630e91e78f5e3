/**
 * The page's side of a streamed download (`download-stream.ts` is the worker's): a `FileSink` whose
 * bytes go to the download service worker, which streams them into a download the browser saves as
 * they come. Nothing of the file stays on the page.
 *
 * A write is handed over at once (its buffer transferred, not copied) and resolves while at most
 * `DOWNLOAD_BACKLOG` bytes wait unread by the browser, later once it has read them: the receiver's
 * acknowledgements, and so the sender, slow down with the browser's saving, and memory stays
 * bounded whatever the file's size (as with `WorkerDiskSink`; both count through a `Handover`).
 *
 * The write that completes the file is the exception: it stays on the page until `close()`, which
 * the receiver calls only once the file's SHA-256 matched. Until then the browser has had less than
 * the declared size (its Content-Length), so it cannot complete a download whose last bytes turn out
 * damaged before `abort()` fails it.
 */
import type { DownloadPortMessage, DownloadPortReply, DownloadWorkerMessage } from './download-stream.js';
import type { FileSink, SavedFile } from './file-sink.js';
import { exhaustive } from '../../../../shared/protocol.js';
import { Handover } from './handover.js';
import { TransferError, toError } from './transfer-error.js';

/** Bytes handed to the worker and not yet read by the browser before a write waits. */
export const DOWNLOAD_BACKLOG = 4 * 1024 * 1024;
/**
 * How often the page pings the worker while a download is open: browsers stop a worker idle for
 * about 30 s, which a transfer paused by a dropped link would otherwise be, and the download with it.
 */
export const DOWNLOAD_PING_MS = 10_000;
/** How long the worker may take to take a download, and the browser to ask for it. */
export const DOWNLOAD_START_TIMEOUT_MS = 15_000;
/** The download's frame stays this long after the file ended well (the browser may still be saving). */
const FRAME_LINGER_MS = 60_000;

/** The download service worker as a sink sees it (the browser's, or a fake in tests). */
export interface DownloadWorker {
  /** Posts to the worker itself (its `message` event, which also keeps it running). */
  post(message: DownloadWorkerMessage, transfer?: Transferable[]): void;
  /** Makes the browser request the download `id`; the function returned removes what that took. */
  start(id: string): () => void;
}

/** The file to download: its safe name (`safeFileName`) and declared size. */
export interface DownloadFile {
  name: string;
  size: number;
}

/** What the sink uses of its `MessagePort`. */
interface SinkPort {
  postMessage(message: DownloadPortMessage, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<DownloadPortReply>) => void) | null;
  close(): void;
}

export class StreamDownloadSink implements FileSink {
  readonly capacity = Number.MAX_SAFE_INTEGER;
  readonly #file: DownloadFile;
  readonly #port: SinkPort;
  /** What the worker has been handed and the browser has read. */
  readonly #handover = new Handover(DOWNLOAD_BACKLOG);
  /** While opening: the worker's next awaited answer. */
  #opening: { expects: 'ready' | 'started'; resolve: () => void; reject: (error: Error) => void } | null =
    null;
  /** The write that reached the declared size, held until the file is verified. */
  #last: { data: Uint8Array; transfer: Transferable[] } | null = null;
  #ping: ReturnType<typeof setInterval> | undefined;
  #stop: () => void = () => {};

  private constructor(file: DownloadFile, port: SinkPort) {
    this.#file = file;
    this.#port = port;
    port.onmessage = (event) => this.#handleReply(event.data);
  }

  /**
   * Hands the file to the worker and starts the download. Rejects with an `unavailable`
   * TransferError when the worker does not take it or the browser does not ask for it in time.
   */
  static async open(file: DownloadFile, worker: DownloadWorker): Promise<StreamDownloadSink> {
    const { port1, port2 } = new MessageChannel();
    const sink = new StreamDownloadSink(file, port1);
    const id = crypto.randomUUID();
    sink.#ping = setInterval(() => worker.post({ type: 'ping' }), DOWNLOAD_PING_MS);
    try {
      const ready = sink.#answer('ready');
      worker.post({ type: 'download', id, name: file.name, size: file.size }, [port2]);
      await ready;
      const started = sink.#answer('started');
      sink.#stop = worker.start(id);
      await started;
    } catch (cause) {
      await sink.abort();
      throw new TransferError('unavailable', `the download did not start: ${toError(cause).message}`, {
        cause,
      });
    }
    return sink;
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    const transfer = this.#handover.record(offset, data);
    if (offset + data.byteLength === this.#file.size) {
      this.#last = { data, transfer };
      // Held, not handed over: only what went before it can be waited for.
      return this.#handover.waitUntil(offset - DOWNLOAD_BACKLOG);
    }
    this.#port.postMessage({ type: 'chunk', data }, transfer);
    await this.#handover.withinBacklog();
  }

  /** Ends the download well (the file is verified), once the browser has read every byte. */
  async close(): Promise<SavedFile> {
    if (this.#handover.failure) throw this.#handover.failure;
    this.#handover.close();
    if (this.#last) this.#port.postMessage({ type: 'chunk', data: this.#last.data }, this.#last.transfer);
    this.#last = null;
    this.#port.postMessage({ type: 'close' });
    await this.#handover.waitUntil(this.#handover.posted);
    this.#finish(FRAME_LINGER_MS);
    return { kind: 'download', name: this.#file.name };
  }

  /** Fails the download: the browser drops what it saved of it. Never rejects. */
  async abort(): Promise<void> {
    this.#last = null;
    if (!this.#handover.failure) this.#port.postMessage({ type: 'abort', message: 'the transfer ended' });
    this.#handover.end();
    this.#failWith(new TransferError('write_failed', 'the download was aborted'));
    this.#finish(0);
  }

  /** Resolves on the worker's answer `expects`; rejects on a failure, or after the start timeout. */
  #answer(expects: 'ready' | 'started'): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => this.#opening?.reject(new Error(`the download worker did not say "${expects}" in time`)),
        DOWNLOAD_START_TIMEOUT_MS,
      );
      const settle = () => {
        clearTimeout(timer);
        this.#opening = null;
      };
      this.#opening = {
        expects,
        resolve: () => (settle(), resolve()),
        reject: (error) => (settle(), reject(error)),
      };
    });
  }

  #handleReply(reply: DownloadPortReply): void {
    switch (reply.type) {
      case 'ready':
      case 'started':
        if (this.#opening?.expects === reply.type) this.#opening.resolve();
        return;
      case 'consumed':
        return this.#handover.progress(reply.bytes);
      case 'cancelled':
        return this.#failWith(new TransferError('write_failed', 'the download was cancelled in the browser'));
      case 'failed':
        return this.#failWith(new TransferError('write_failed', reply.message));
      default:
        return exhaustive(reply);
    }
  }

  #failWith(error: TransferError): void {
    const failure = this.#handover.fail(error);
    this.#opening?.reject(failure);
  }

  /** No more messages either way; the download's frame goes after `lingerMs`. */
  #finish(lingerMs: number): void {
    clearInterval(this.#ping);
    this.#port.onmessage = null;
    this.#port.close();
    const stop = this.#stop;
    this.#stop = () => {};
    if (lingerMs > 0) setTimeout(stop, lingerMs);
    else stop();
  }
}
