/**
 * The signaling connection: one WebSocket to `/ws`, opened while signed in. It reconnects by itself
 * with jittered exponential backoff, checks liveness with `ping`, validates every incoming frame at
 * the edge and dispatches frames by `type` to typed handlers. Plain TypeScript: the socket, the
 * randomness and the callbacks are injected, so it runs in tests without a browser.
 */
import {
  CLOSE_CODES,
  PROTOCOL_VERSION,
  parseServerFrame,
  type ClientFrame,
  type ServerFrame,
} from '../../../shared/protocol.js';
import { backoffDelay, RECONNECT_BACKOFF, type BackoffPolicy } from './backoff.js';
import { Emitter, type Handler } from './emitter.js';

/** `connecting`: a socket is opening or waiting for `hello`; `online`: `hello` arrived; `offline`: none. */
export type GatewayStatus = 'connecting' | 'online' | 'offline';

/** Why the gateway stopped for good (no more reconnects until `start()` is called again). */
export type GatewayEndReason = 'session_revoked' | 'protocol_mismatch';

/** Each server frame type mapped to its frame: the event map of {@link Gateway.on}. */
export type ServerFrameEvents = { [T in ServerFrame['type']]: Extract<ServerFrame, { type: T }> };

/** What a socket reports back; the gateway never sees `WebSocket` itself. */
export interface SocketHandlers {
  message(data: string): void;
  close(code: number, reason: string): void;
}

/** The little of a WebSocket the gateway uses. */
export interface GatewaySocket {
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type SocketFactory = (url: string, handlers: SocketHandlers) => GatewaySocket;

export interface GatewayCallbacks {
  /** The status changed. */
  onStatus(status: GatewayStatus): void;
  /** The server ended the connection for good (signed out elsewhere, incompatible protocol). */
  onEnd(reason: GatewayEndReason): void;
  /**
   * A socket closed before `hello`. The upgrade may have been refused because the session expired,
   * which the browser does not reveal; the owner can ask the API.
   */
  onConnectFailed?(): void;
}

export interface GatewayOptions {
  url: string;
  callbacks: GatewayCallbacks;
  createSocket?: SocketFactory;
  backoff?: BackoffPolicy;
  random?: () => number;
  /** How long a socket may take to open and say `hello`. */
  connectTimeoutMs?: number;
  /** Interval of the client's liveness `ping` while online. */
  pingIntervalMs?: number;
  /** How long to wait for the `pong` before the connection counts as dead. */
  pongTimeoutMs?: number;
  /** Where dropped frames and reconnects are reported (the console in dev); silent by default. */
  warn?: (message: string, detail?: unknown) => void;
}

export const GATEWAY_DEFAULTS = {
  connectTimeoutMs: 10_000,
  pingIntervalMs: 25_000,
  pongTimeoutMs: 10_000,
} as const;

/** After a 1008 (rate limited) close, the next delay grows from at least this attempt (up to ~8 s). */
const RATE_LIMITED_MIN_ATTEMPT = 4;

/** `ws:`/`wss:` URL of the gateway on the page's own origin. */
export function gatewayUrl(location: { protocol: string; host: string }): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/ws?v=${PROTOCOL_VERSION}`;
}

/** The browser's WebSocket behind the {@link SocketFactory} seam. */
export const browserSocket: SocketFactory = (url, handlers) => {
  const socket = new WebSocket(url);
  socket.onmessage = (event) => {
    if (typeof event.data === 'string') handlers.message(event.data);
  };
  socket.onclose = (event) => handlers.close(event.code, event.reason);
  return socket;
};

interface Connection {
  socket: GatewaySocket;
  greeted: boolean;
}

export class Gateway {
  readonly #options: Required<Omit<GatewayOptions, 'warn'>> & Pick<GatewayOptions, 'warn'>;
  readonly #frames = new Emitter<ServerFrameEvents>();
  #status: GatewayStatus = 'offline';
  #running = false;
  #connection: Connection | null = null;
  #attempt = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #connectTimer: ReturnType<typeof setTimeout> | undefined;
  #pingTimer: ReturnType<typeof setTimeout> | undefined;
  #pongTimer: ReturnType<typeof setTimeout> | undefined;
  #pingCounter = 0;

  constructor(options: GatewayOptions) {
    this.#options = {
      createSocket: browserSocket,
      backoff: RECONNECT_BACKOFF,
      random: Math.random,
      ...GATEWAY_DEFAULTS,
      ...options,
    };
  }

  get status(): GatewayStatus {
    return this.#status;
  }

  /** Whether the gateway is connected or trying to be. */
  get running(): boolean {
    return this.#running;
  }

  /** Subscribes to server frames of one `type`; returns the unsubscribe function. */
  on<T extends keyof ServerFrameEvents>(type: T, handler: Handler<ServerFrameEvents[T]>): () => void {
    return this.#frames.on(type, handler);
  }

  /** Starts connecting (no-op when already running). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#attempt = 0;
    this.#connect();
  }

  /** Closes the connection and stops reconnecting. */
  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    this.#clearTimers();
    this.#dropConnection(1000, 'client stopped');
    this.#setStatus('offline');
  }

  /** Skips the remaining backoff wait (e.g. when the browser comes back online). */
  reconnectNow(): void {
    if (!this.#running || this.#connection) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#connect();
  }

  /** Sends a frame when online; returns false when there is no connection to send it on. */
  send(frame: ClientFrame): boolean {
    if (this.#status !== 'online' || !this.#connection) return false;
    this.#connection.socket.send(JSON.stringify(frame));
    return true;
  }

  #connect(): void {
    this.#retryTimer = undefined;
    this.#setStatus('connecting');
    const connection: Connection = { socket: { send() {}, close() {} }, greeted: false };
    try {
      connection.socket = this.#options.createSocket(this.#options.url, {
        message: (data) => {
          if (this.#connection === connection) this.#handleMessage(connection, data);
        },
        close: (code, reason) => {
          if (this.#connection === connection) this.#handleClose(connection, code, reason);
        },
      });
    } catch (error) {
      // A URL the browser refuses: behave as if the socket had closed at once.
      this.#options.warn?.('gateway: could not open the socket', error);
      this.#connection = connection;
      this.#handleClose(connection, 1006, '');
      return;
    }
    this.#connection = connection;
    this.#connectTimer = setTimeout(() => this.#abandon(connection), this.#options.connectTimeoutMs);
  }

  #handleMessage(connection: Connection, raw: string): void {
    const parsed = parseServerFrame(raw);
    if (!parsed.ok) {
      this.#options.warn?.(`gateway: dropped a bad frame (${parsed.error.code})`, parsed.error);
      return;
    }
    const frame = parsed.value;
    // The gateway reacts to its own few frames; every frame, these included, then goes to subscribers.
    // (Not an exhaustive switch on purpose: new frame types belong to features, not to the gateway.)
    if (frame.type === 'hello') {
      if (frame.protocolVersion !== PROTOCOL_VERSION) {
        this.#end('protocol_mismatch');
        return;
      }
      connection.greeted = true;
      this.#attempt = 0;
      clearTimeout(this.#connectTimer);
      this.#setStatus('online');
      this.#schedulePing(connection);
    } else if (frame.type === 'pong') {
      clearTimeout(this.#pongTimer);
      this.#pongTimer = undefined;
    } else if (frame.type === 'error') {
      this.#options.warn?.(`gateway: server error frame (${frame.code})`, frame);
    }
    this.#frames.emit(frame.type, frame);
  }

  #handleClose(connection: Connection, code: number, reason: string): void {
    this.#connection = null;
    this.#clearTimers();
    if (code === CLOSE_CODES.session_revoked) return this.#end('session_revoked');
    if (code === CLOSE_CODES.protocol_mismatch) return this.#end('protocol_mismatch');
    if (!connection.greeted) this.#options.callbacks.onConnectFailed?.();
    // onConnectFailed may have stopped the gateway (the session turned out to be gone).
    if (!this.#running) return;
    if (code === CLOSE_CODES.policy_violation)
      this.#attempt = Math.max(this.#attempt, RATE_LIMITED_MIN_ATTEMPT);
    const delay = backoffDelay(this.#attempt, this.#options.backoff, this.#options.random);
    this.#attempt += 1;
    this.#options.warn?.(`gateway: closed (${code}${reason ? ` ${reason}` : ''}); retrying in ${delay} ms`);
    this.#setStatus('offline');
    this.#retryTimer = setTimeout(() => this.#connect(), delay);
  }

  #schedulePing(connection: Connection): void {
    this.#pingTimer = setTimeout(() => {
      if (this.#connection !== connection) return;
      this.#pingCounter += 1;
      connection.socket.send(
        JSON.stringify({ type: 'ping', id: String(this.#pingCounter) } satisfies ClientFrame),
      );
      this.#pongTimer ??= setTimeout(() => this.#abandon(connection), this.#options.pongTimeoutMs);
      this.#schedulePing(connection);
    }, this.#options.pingIntervalMs);
  }

  /** Gives up on a connection that went silent: a dead TCP connection may never report a close. */
  #abandon(connection: Connection): void {
    if (this.#connection !== connection) return;
    this.#dropConnection(1000, 'timeout');
    this.#handleClose(connection, 1006, 'timeout');
  }

  #dropConnection(code: number, reason: string): void {
    const connection = this.#connection;
    this.#connection = null;
    if (!connection) return;
    try {
      connection.socket.close(code, reason);
    } catch {
      // Already closed or never opened: nothing to release.
    }
  }

  #end(reason: GatewayEndReason): void {
    this.#running = false;
    this.#clearTimers();
    this.#dropConnection(1000, reason);
    this.#setStatus('offline');
    this.#options.callbacks.onEnd(reason);
  }

  #clearTimers(): void {
    for (const timer of [this.#retryTimer, this.#connectTimer, this.#pingTimer, this.#pongTimer]) {
      clearTimeout(timer);
    }
    this.#retryTimer = this.#connectTimer = this.#pingTimer = this.#pongTimer = undefined;
  }

  #setStatus(status: GatewayStatus): void {
    if (status === this.#status) return;
    this.#status = status;
    this.#options.callbacks.onStatus(status);
  }
}
