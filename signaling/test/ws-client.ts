/** A WebSocket test client: connects with a session cookie and queues frames for `next()`. */
import WebSocket from 'ws';
import type { ServerFrame } from '../../shared/protocol.js';

export interface WsClientOptions {
  cookie?: string | undefined;
  origin?: string;
  path?: string;
  /** `false` to act as a dead client that never answers pings. */
  autoPong?: boolean;
}

export class WsTestClient {
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  /** Resolves with the close code and reason once the socket closes. */
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly #frames: ServerFrame[] = [];
  readonly #waiters: Array<(frame: ServerFrame) => void> = [];
  readonly #matchers = new Set<(frame: ServerFrame) => boolean>();

  constructor(baseUrl: string, options: WsClientOptions = {}) {
    const url = baseUrl.replace(/^http/, 'ws') + (options.path ?? '/ws?v=1');
    const headers: Record<string, string> = {};
    if (options.cookie) headers.cookie = options.cookie;
    this.ws = new WebSocket(url, {
      headers,
      origin: options.origin ?? baseUrl,
      autoPong: options.autoPong ?? true,
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => reject(new UpgradeRefused(res.statusCode ?? 0)));
      this.ws.once('error', reject);
    });
    this.closed = new Promise((resolve) => {
      this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    this.ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as ServerFrame;
      for (const matcher of this.#matchers) if (matcher(frame)) return;
      const waiter = this.#waiters.shift();
      if (waiter) waiter(frame);
      else this.#frames.push(frame);
    });
  }

  /** The next frame from the server (within `timeoutMs`). */
  next(timeoutMs = 3_000): Promise<ServerFrame> {
    const queued = this.#frames.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no frame within timeout')), timeoutMs);
      this.#waiters.push((frame) => {
        clearTimeout(timer);
        resolve(frame);
      });
    });
  }

  /**
   * The first frame (queued or future) that matches, removed from the queue; frames before it stay
   * queued for `next()`.
   */
  waitFor<T extends ServerFrame['type']>(
    type: T,
    match: (frame: Extract<ServerFrame, { type: T }>) => boolean = () => true,
    timeoutMs = 3_000,
  ): Promise<Extract<ServerFrame, { type: T }>> {
    const test = (f: ServerFrame): f is Extract<ServerFrame, { type: T }> =>
      f.type === type && match(f as Extract<ServerFrame, { type: T }>);
    const index = this.#frames.findIndex(test);
    if (index >= 0)
      return Promise.resolve(this.#frames.splice(index, 1)[0] as Extract<ServerFrame, { type: T }>);
    return new Promise((resolve, reject) => {
      const matcher = (frame: ServerFrame) => {
        if (!test(frame)) return false;
        clearTimeout(timer);
        this.#matchers.delete(matcher);
        resolve(frame);
        return true;
      };
      const timer = setTimeout(() => {
        this.#matchers.delete(matcher);
        reject(new Error(`no ${type} frame within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#matchers.add(matcher);
    });
  }

  /** Frames received and not yet taken, e.g. to assert that nothing arrived. */
  pending(): readonly ServerFrame[] {
    return this.#frames;
  }

  send(data: unknown): void {
    this.ws.send(typeof data === 'string' ? data : JSON.stringify(data));
  }

  close(): void {
    this.ws.close();
  }
}

export class UpgradeRefused extends Error {
  constructor(readonly status: number) {
    super(`upgrade refused with ${status}`);
  }
}
