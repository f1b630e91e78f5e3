/**
 * One client connection on `/ws`: validates each frame at the edge, enforces the per-connection rate
 * limit, answers bad input with an `error` frame and carries on. It sees a minimal socket, not `ws`.
 */
import { randomUUID } from 'node:crypto';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { PublicUser } from '../../../shared/api.js';
import {
  CLOSE_CODES,
  exhaustive,
  parseClientFrame,
  PROTOCOL_VERSION,
  wsError,
  type ClientFrame,
  type CloseReason,
  type ErrorFrame,
  type HelloFrame,
  type ServerFrame,
} from '../../../shared/protocol.js';
import { StoreUnavailableError, type ConnectionStatus } from '../store/store.js';
import { toError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RelayFrame, SignalFrame } from './peer-router.js';

/** The part of a WebSocket the realtime logic needs (ws's WebSocket satisfies it). */
export interface MinimalSocket {
  readonly bufferedAmount: number;
  send(data: string): void;
  close(code: number, reason: string): void;
  terminate(): void;
}

/** More than this much unsent data to one socket and the client is too slow: it is dropped. */
const SLOW_CONSUMER_BYTES = 1024 * 1024;

export interface ConnectionInit {
  socket: MinimalSocket;
  user: PublicUser;
  sessionIdHash: string;
  sessionExpiresAt: number;
  rateLimiter: RateLimiterAbstract;
  logger: Logger;
  /** Called after the connection reported a new status. */
  onStatus(connection: Connection): Promise<void>;
  /** Routes a signal; resolves with an error frame for the sender, if any. */
  onSignal(connection: Connection, frame: SignalFrame): Promise<ErrorFrame | null>;
  /** Relays an opaque payload (`size`: the raw frame's length); resolves with an error frame, if any. */
  onRelay(connection: Connection, frame: RelayFrame, size: number): Promise<ErrorFrame | null>;
}

/** The friends part of `hello`, computed by the gateway. */
export type HelloSnapshot = Pick<HelloFrame, 'friends' | 'incoming' | 'outgoing'>;

export class Connection {
  readonly id = randomUUID();
  readonly user: PublicUser;
  readonly sessionIdHash: string;
  /** Known expiry of the session; re-checked once passed, since sessions slide. */
  sessionExpiresAt: number;
  readonly #socket: MinimalSocket;
  readonly #rateLimiter: RateLimiterAbstract;
  readonly #logger: Logger;
  readonly #onStatus: ConnectionInit['onStatus'];
  readonly #onSignal: ConnectionInit['onSignal'];
  readonly #onRelay: ConnectionInit['onRelay'];
  #closed = false;
  /** Events that arrived before `hello` went out; sent right after it. */
  #beforeHello: ServerFrame[] | undefined = [];
  #status: ConnectionStatus = 'online';
  /** Frames are handled strictly in arrival order. */
  #queue: Promise<void> = Promise.resolve();

  constructor(init: ConnectionInit) {
    this.#socket = init.socket;
    this.user = init.user;
    this.sessionIdHash = init.sessionIdHash;
    this.sessionExpiresAt = init.sessionExpiresAt;
    this.#rateLimiter = init.rateLimiter;
    this.#logger = init.logger.child({ userId: init.user.id, connectionId: this.id });
    this.#onStatus = init.onStatus;
    this.#onSignal = init.onSignal;
    this.#onRelay = init.onRelay;
  }

  /** What this connection last reported: `online` until it says `away`. */
  get status(): ConnectionStatus {
    return this.#status;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends `hello` (who you are, this connection's id, the protocol version, friends and statuses),
   * then any event that arrived while it was being prepared. Called again to resynchronize.
   */
  hello(snapshot: HelloSnapshot): void {
    this.send({
      type: 'hello',
      protocolVersion: PROTOCOL_VERSION,
      user: this.user,
      connectionId: this.id,
      ...snapshot,
    });
    const queued = this.#beforeHello;
    this.#beforeHello = undefined;
    for (const frame of queued ?? []) this.send(frame);
  }

  /** Sends a pushed event, holding it back until `hello` has gone out. */
  deliver(frame: ServerFrame): void {
    if (this.#beforeHello) this.#beforeHello.push(frame);
    else this.send(frame);
  }

  /** Queues one raw frame from the client. */
  receive(raw: string): void {
    this.#queue = this.#queue
      .then(() => this.#handleRaw(raw))
      .catch((err: unknown) => {
        this.#logger.error({ err: toError(err) }, 'frame handling failed');
        this.send(wsError('internal'));
      });
  }

  send(frame: ServerFrame): void {
    if (this.#closed) return;
    if (this.#socket.bufferedAmount > SLOW_CONSUMER_BYTES) {
      this.#logger.warn({ buffered: this.#socket.bufferedAmount }, 'dropping slow consumer');
      this.close('slow_consumer');
      return;
    }
    this.#socket.send(JSON.stringify(frame));
  }

  /** Closes with one of the protocol's close reasons. */
  close(reason: CloseReason): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.close(CLOSE_CODES[reason], reason);
  }

  /** Called by the gateway once the socket is gone, however it went. */
  markClosed(): void {
    this.#closed = true;
  }

  async #handleRaw(raw: string): Promise<void> {
    // Frames handled one at a time: a status change completes before the next frame is read.
    if (this.#closed) return;
    try {
      await this.#rateLimiter.consume(this.id);
    } catch (err) {
      if (err instanceof RateLimiterRes) {
        this.#logger.warn('message rate limit exceeded');
        this.close('policy_violation');
        return;
      }
      throw err;
    }
    const parsed = parseClientFrame(raw);
    if (!parsed.ok) {
      this.send(parsed.error);
      return;
    }
    try {
      await this.#handleFrame(parsed.value, raw.length);
    } catch (err) {
      if (err instanceof StoreUnavailableError) {
        this.send(wsError('unavailable', undefined, parsed.value.type));
        return;
      }
      this.#logger.error({ err: toError(err), frame: parsed.value.type }, 'frame handler failed');
      this.send(wsError('internal', undefined, parsed.value.type));
    }
  }

  async #handleFrame(frame: ClientFrame, size: number): Promise<void> {
    switch (frame.type) {
      case 'ping':
        this.send(frame.id === undefined ? { type: 'pong' } : { type: 'pong', id: frame.id });
        return;
      case 'set_status':
        if (frame.status === this.#status) return;
        this.#status = frame.status;
        await this.#onStatus(this);
        return;
      case 'signal': {
        const error = await this.#onSignal(this, frame);
        if (error) this.send(error);
        return;
      }
      case 'relay': {
        const error = await this.#onRelay(this, frame, size);
        if (error) this.send(error);
        return;
      }
      default:
        exhaustive(frame);
    }
  }
}
