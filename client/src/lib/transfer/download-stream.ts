/**
 * The download worker's logic (`download-sw.ts` is only its shell): streamed downloads for browsers
 * without the File System Access API. The page hands the worker a file's name and size with a
 * `MessagePort`; the browser then asks for `<scope><id>` (the page navigates a hidden iframe there)
 * and gets a `Response` whose body is a `ReadableStream` the page fills, chunk by chunk, over the
 * port. The browser saves it to its downloads folder as bytes arrive: no more of the file is held
 * than the page's backlog (`DOWNLOAD_BACKLOG`) and what the browser buffers as it reads.
 *
 * The stream is pulled one chunk at a time (high-water mark 0), and the worker tells the page how far
 * the browser has read, so the page can wait. Only a file the page says is complete and verified
 * ends well (`controller.close()`, and only when exactly its declared size came); an abort, a
 * mismatch or a bad message errors the stream, so the browser marks the download failed and drops
 * the partial file. When the user cancels the download in the browser, the page is told.
 *
 * This module is bundled into the worker's script, which must stay a plain classic script: it
 * imports nothing at runtime, and the page only imports its types.
 */

/** Page -> worker, posted to the worker itself (its `message` event). */
export type DownloadWorkerMessage =
  /**
   * A file to stream, its port transferred along (`ports[0]`): `name` is already safe to save under
   * (`safeFileName`), `size` is the declared size. The worker answers on the port.
   */
  | { type: 'download'; id: string; name: string; size: number }
  /**
   * Keeps the worker from being stopped while a download waits for bytes (a paused transfer): a
   * message on a port does not count as activity, an event on the worker does.
   */
  | { type: 'ping' };

/** Page -> worker on a download's port. */
export type DownloadPortMessage =
  /** The next bytes of the file (their buffer is transferred). */
  | { type: 'chunk'; data: Uint8Array }
  /** Every byte was sent and the file is verified: the download ends well. */
  | { type: 'close' }
  /** The transfer ended otherwise (cancelled, damaged): the download fails. */
  | { type: 'abort'; message: string };

/** Worker -> page on a download's port. */
export type DownloadPortReply =
  /** The download waits to be requested at `<scope><id>`. */
  | { type: 'ready' }
  /** The browser requested it: the download has begun. */
  | { type: 'started' }
  /** Bytes from the start of the file the browser has read. */
  | { type: 'consumed'; bytes: number }
  /** The user cancelled the download in the browser. */
  | { type: 'cancelled' }
  /** The worker refused the download or failed it (a message it cannot follow). */
  | { type: 'failed'; message: string };

/** What the worker uses of a `MessagePort`. */
export interface DownloadPort {
  postMessage(message: DownloadPortReply): void;
  onmessage: ((event: MessageEvent) => void) | null;
  close(): void;
}

/** The browser is told how far it has read at least this often (and whenever it caught up). */
export const CONSUMED_REPORT_BYTES = 1024 * 1024;

/** Download ids: random, URL-safe, long enough not to be guessed. */
const DOWNLOAD_ID = /^[A-Za-z0-9_-]{16,128}$/;
/** Longest name the worker takes (`safeFileName` makes at most 200 bytes of UTF-8). */
const NAME_MAX = 255;

interface DownloadFile {
  name: string;
  size: number;
}

/** The worker's answer to a request in its scope. */
export interface DownloadAnswer {
  response: Response;
  /**
   * Settles once the download's stream has ended, well or not (at once for any other answer). The
   * worker extends its fetch event until then: a response still streaming does not keep it running.
   */
  ended: Promise<void>;
}

/** The downloads the page has offered and the browser has not requested yet, by id. */
export class DownloadDesk {
  readonly #scopePath: string;
  readonly #waiting = new Map<string, { file: DownloadFile; port: DownloadPort }>();

  /** `scope`: the worker's registration scope (a URL ending in `/`); ids follow it in the path. */
  constructor(scope: string) {
    this.#scopePath = new URL(scope).pathname;
  }

  /** A message from the page to the worker; `port` is the one sent along, if any. */
  handleMessage(data: unknown, port: DownloadPort | undefined): void {
    if (!isRecord(data) || data.type !== 'download' || !port) return;
    const problem = badDownload(data);
    if (problem) {
      port.postMessage({ type: 'failed', message: problem });
      port.close();
      return;
    }
    const id = data.id as string;
    const file = { name: data.name as string, size: data.size as number };
    this.#waiting.set(id, { file, port });
    // Until the browser asks, an abort only takes the download off the desk.
    port.onmessage = (event: MessageEvent) => {
      if (!isRecord(event.data) || event.data.type !== 'abort') return;
      this.#waiting.delete(id);
      port.close();
    };
    port.postMessage({ type: 'ready' });
  }

  /**
   * The answer to a request in the worker's scope: a waiting download's stream (each is served once),
   * else 404. The response, headers and all, is made before the page hears `started`: a download that
   * cannot be answered (a name no header can carry) is failed on its port instead, so the page's
   * writes do not wait for a browser that will never read, and the browser gets a 500.
   */
  respond(request: Request): DownloadAnswer {
    const { pathname } = new URL(request.url);
    const id = pathname.startsWith(this.#scopePath) ? pathname.slice(this.#scopePath.length) : '';
    const waiting = request.method === 'GET' ? this.#waiting.get(id) : undefined;
    if (!waiting) {
      return textAnswer(404, 'No such download (each one is served once, to the page that started it).');
    }
    this.#waiting.delete(id);
    let answer: DownloadAnswer;
    try {
      answer = downloadAnswer(waiting.port, waiting.file);
    } catch (error) {
      const message = `the download could not be answered: ${error instanceof Error ? error.message : String(error)}`;
      waiting.port.onmessage = null;
      waiting.port.postMessage({ type: 'failed', message });
      waiting.port.close();
      return textAnswer(500, message);
    }
    waiting.port.postMessage({ type: 'started' });
    return answer;
  }
}

function textAnswer(status: number, text: string): DownloadAnswer {
  const response = new Response(text, {
    status,
    headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' },
  });
  return { response, ended: Promise.resolve() };
}

/** Why a `download` message cannot be followed, or null. */
function badDownload(data: Record<string, unknown>): string | null {
  if (typeof data.id !== 'string' || !DOWNLOAD_ID.test(data.id)) return 'the download id is malformed';
  if (typeof data.name !== 'string' || data.name.length === 0 || data.name.length > NAME_MAX)
    return 'the file name is empty or too long';
  if (!Number.isSafeInteger(data.size) || (data.size as number) < 0) return 'the file size is not a size';
  return null;
}

/**
 * A download's response: a stream the page fills over `port`, under headers that make the browser
 * save it (never render it) as `file.name`; and when that stream ends.
 */
export function downloadAnswer(port: DownloadPort, file: DownloadFile): DownloadAnswer {
  // The headers first: they may throw, and the port is taken over only once they did not.
  const headers = new Headers({
    // Never the peer's declared type: the browser must not treat the file as anything but bytes.
    'Content-Type': 'application/octet-stream',
    'Content-Disposition': contentDisposition(file.name),
    // A download that ends short of it fails in the browser, whatever happened here.
    'Content-Length': String(file.size),
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
  });
  const source = new PortSource(port, file.size);
  return {
    response: new Response(new ReadableStream(source, { highWaterMark: 0 }), { headers }),
    ended: source.ended,
  };
}

/**
 * `attachment` with the name twice (RFC 6266): an ASCII fallback for old clients, and the exact
 * name percent-encoded as UTF-8 (RFC 8187), which every current browser prefers.
 */
export function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  // encodeURIComponent leaves ' ( ) * alone; RFC 8187's attr-char does not allow them.
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** The stream's source: chunks from the page, queued until the browser pulls them. */
class PortSource implements UnderlyingDefaultSource<Uint8Array> {
  readonly #port: DownloadPort;
  readonly #size: number;
  readonly #queue: Uint8Array[] = [];
  #controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  /** Bytes received from the page, and read by the browser; `#reported` told to the page. */
  #received = 0;
  #consumed = 0;
  #reported = 0;
  #closing = false;
  #ended = false;
  /** A pull waiting for the page's next message. */
  #wake: (() => void) | null = null;
  /** Resolves when the stream ends, however it does. */
  readonly ended: Promise<void>;
  #resolveEnded!: () => void;

  constructor(port: DownloadPort, size: number) {
    this.#port = port;
    this.#size = size;
    this.ended = new Promise((resolve) => (this.#resolveEnded = resolve));
    port.onmessage = (event: MessageEvent) => this.#handle(event.data);
  }

  start(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.#controller = controller;
  }

  async pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    if (this.#queue.length === 0 && !this.#closing && !this.#ended)
      await new Promise<void>((resolve) => (this.#wake = resolve));
    if (this.#ended) return;
    const chunk = this.#queue.shift();
    if (!chunk) {
      this.#end();
      controller.close();
      return;
    }
    controller.enqueue(chunk);
    this.#consumed += chunk.byteLength;
    if (this.#queue.length === 0 || this.#consumed - this.#reported >= CONSUMED_REPORT_BYTES) {
      this.#reported = this.#consumed;
      this.#port.postMessage({ type: 'consumed', bytes: this.#consumed });
    }
  }

  /** The browser cancelled the download (the user did, in its downloads list). */
  cancel(): void {
    if (this.#ended) return;
    this.#port.postMessage({ type: 'cancelled' });
    this.#end();
  }

  #handle(message: unknown): void {
    if (this.#ended || !isRecord(message)) return;
    if (message.type === 'chunk' && message.data instanceof Uint8Array && !this.#closing) {
      this.#received += message.data.byteLength;
      if (this.#received > this.#size) return this.#fail('the page sent more bytes than the file has');
      this.#queue.push(message.data);
    } else if (message.type === 'close' && !this.#closing) {
      if (this.#received !== this.#size)
        return this.#fail(`the page closed the file at ${this.#received} of ${this.#size} bytes`);
      this.#closing = true;
    } else if (message.type === 'abort') {
      return this.#error(new Error(typeof message.message === 'string' ? message.message : 'aborted'));
    } else {
      return this.#fail('the page sent a message the download worker cannot follow');
    }
    this.#wake?.();
    this.#wake = null;
  }

  /** Fails the download for a fault of the page's messages, and says so to the page. */
  #fail(message: string): void {
    this.#port.postMessage({ type: 'failed', message });
    this.#error(new Error(message));
  }

  /** Fails the download: the browser drops the partial file. */
  #error(reason: Error): void {
    this.#controller?.error(reason);
    this.#end();
  }

  #end(): void {
    this.#ended = true;
    this.#resolveEnded();
    this.#queue.length = 0;
    this.#port.onmessage = null;
    this.#port.close();
    this.#wake?.();
    this.#wake = null;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
