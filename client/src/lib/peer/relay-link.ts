/**
 * One server-relay session between this connection and one connection of a friend: the last resort
 * when no data channel opens. It carries the same {@link PeerMessage}s as a data channel, through
 * `/ws` `relay` frames, end-to-end encrypted (`relay/relay-crypto.ts`):
 *
 * - A fresh ECDH key pair and session id per session. The initiator sends `key`; the responder
 *   derives the keys, answers `key` with `reply`, and is open; the initiator is open once it has the
 *   reply. Each side's first box is `peer_hello`.
 * - Boxes are sealed and sent one at a time in order (the receiver refuses counters that go back),
 *   paced by the connection's {@link RelayPacer}, from two bounded queues: messages (chat, transfer
 *   control) and, behind them, chunks of files (`sendChunk`), so a transfer never holds up chat.
 *   When a queue is full, sending says no, like a full data channel.
 * - A box holds either a peer message (JSON text) or, after a zero byte (which never starts JSON),
 *   a chunk frame exactly as on a data channel's file channel (`shared/transfer-protocol.ts`).
 * - Every message box is opened and validated with `parsePeerMessage`, exactly like data-channel
 *   messages; chunk frames go to the owner unvalidated, like a file channel's binary messages. A box
 *   that does not open (tampered, replayed, other keys), is too large or holds neither is dropped
 *   and logged.
 *
 * Like {@link PeerLink} it closes once, with a reason, and never reopens by itself.
 */
import {
  PEER_MESSAGE_MAX_BYTES,
  PEER_PROTOCOL_VERSION,
  parsePeerMessage,
  type PeerHello,
  type PeerMessage,
} from '../../../../shared/peer-protocol.js';
import { RELAY_DATA_MAX_CHARS, type RelayPayload } from '../../../../shared/protocol.js';
import { CHUNK_HEADER_BYTES } from '../../../../shared/transfer-protocol.js';
import { generateRelayKeyPair, RelayCipher, type RelayKeyPair } from '../relay/relay-crypto.js';
import type { RelayPacer, RelayTraffic } from '../relay/relay-pacer.js';
import { toError } from './errors.js';
import type { PeerLog } from './peer-log.js';

export type RelayLinkState = 'keying' | 'open' | 'closed';

/**
 * Why a relay session closed. Decided here: `timeout` (no key reply in time), `no_signaling` (a frame
 * could not be sent), `incompatible` (another peer protocol), `error` (bad key, crypto failure).
 * Decided by its owner: `local` (on purpose), `upgraded` (a data channel to that connection opened),
 * `peer_closed` (the other side sent `close`), `replaced` (a newer session with that connection),
 * `unreachable`, `unfriended`, `rate_limited` (the server refused a frame), `offline`,
 * `identity_changed` (our connection id changed).
 */
export type RelayCloseReason =
  | 'timeout'
  | 'no_signaling'
  | 'incompatible'
  | 'error'
  | 'local'
  | 'upgraded'
  | 'peer_closed'
  | 'replaced'
  | 'unreachable'
  | 'unfriended'
  | 'rate_limited'
  | 'offline'
  | 'identity_changed';

/** Reasons after which the other side is told with a `close` (it can still hear us). */
const SAY_CLOSE: ReadonlySet<RelayCloseReason> = new Set<RelayCloseReason>([
  'timeout',
  'incompatible',
  'error',
  'local',
  'upgraded',
  'rate_limited',
]);

export interface RelayLinkCallbacks {
  /** Sends one payload to the other connection; false when there is no signaling connection. */
  send(payload: RelayPayload): boolean;
  open(): void;
  /** The other side's `peer_hello` told its page instance (its connection id when it did not say). */
  hello?(instance: string): void;
  message(message: PeerMessage): void;
  /** A chunk frame (unvalidated), as a file channel's binary message. */
  chunk(frame: ArrayBuffer): void;
  /** Called once; `wasOpen` says whether the session had opened. */
  close(reason: RelayCloseReason, wasOpen: boolean): void;
}

export interface RelayLinkOptions {
  session: string;
  friendId: string;
  /** The friend's connection id at the other end. */
  remote: string;
  /** This connection's id (bound into the keys). */
  self: string;
  /** This page's instance, told in `peer_hello`. */
  instance?: string;
  /** Whether this side sent the first `key`. */
  initiator: boolean;
  pacer: RelayPacer;
  /** How long the key exchange may take. */
  keyTimeoutMs: number;
  callbacks: RelayLinkCallbacks;
  log: PeerLog;
  now?: () => number;
}

/** Largest plaintext that fits one box: its base64 ciphertext (plus the 16-byte tag) must fit the frame. */
export const RELAY_PLAINTEXT_MAX_BYTES = Math.floor(RELAY_DATA_MAX_CHARS / 4) * 3 - 16;
/** Largest chunk frame that fits one box, after the byte that marks it as a chunk. */
export const RELAY_CHUNK_FRAME_MAX = RELAY_PLAINTEXT_MAX_BYTES - 1;
/**
 * What one session may hold unsent: messages, and their bytes (as a data channel's buffer limit);
 * chunk frames have their own bound (the transfer's flow control keeps far fewer queued).
 */
export const RELAY_QUEUE_MAX_MESSAGES = 1024;
export const RELAY_QUEUE_MAX_BYTES = 1024 * 1024;
export const RELAY_CHUNK_QUEUE_MAX_BYTES = 1024 * 1024;
/** Room for the rest of the frame around a box's data (`type`, ids, `iv`), in characters. */
const FRAME_OVERHEAD = 256;
/** The first plaintext byte of a box holding a chunk frame. */
const CHUNK_MARK = 0;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface Queued {
  plaintext: string | Uint8Array<ArrayBuffer>;
  bytes: number;
}

/** Characters of a box's base64 data for `bytes` of plaintext (AES-GCM adds a 16-byte tag). */
function boxChars(bytes: number): number {
  return Math.ceil((bytes + 16) / 3) * 4;
}

export class RelayLink {
  readonly session: string;
  readonly friendId: string;
  readonly remote: string;
  readonly initiator: boolean;
  readonly #options: RelayLinkOptions;
  readonly #now: () => number;
  readonly #keys: Promise<RelayKeyPair>;
  #state: RelayLinkState = 'keying';
  #cipher: RelayCipher | null = null;
  #remoteInstance: string | null = null;
  #messages: Queued[] = [];
  #messageBytes = 0;
  #chunks: Queued[] = [];
  /** Bytes of chunk frames queued or being sealed: not yet handed to the server. */
  #chunkBytes = 0;
  readonly #chunkSent = new Set<() => void>();
  #pumping = false;
  #pumpTimer: ReturnType<typeof setTimeout> | undefined;
  #keyTimer: ReturnType<typeof setTimeout> | undefined;
  /** When a frame of this session last went out (clock ms): error frames are matched by it. */
  lastSentAt = -Infinity;

  constructor(options: RelayLinkOptions) {
    this.session = options.session;
    this.friendId = options.friendId;
    this.remote = options.remote;
    this.initiator = options.initiator;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#keys = generateRelayKeyPair();
    // Settled here so that a session closed before the keys exist leaves no unhandled rejection.
    this.#keys.catch(() => {});
    this.#keyTimer = setTimeout(() => this.close('timeout'), options.keyTimeoutMs);
  }

  get state(): RelayLinkState {
    return this.#state;
  }

  /** The other side's page instance, once its `peer_hello` arrived (its first box). */
  get remoteInstance(): string | null {
    return this.#remoteInstance;
  }

  /** Initiator: sends this side's public key. */
  async start(): Promise<void> {
    let keys: RelayKeyPair;
    try {
      keys = await this.#keys;
    } catch (error) {
      return this.#fail('could not make a relay key pair', error);
    }
    if (this.#state !== 'keying') return;
    this.#sendNow({ kind: 'key', session: this.session, publicKey: keys.publicKey });
  }

  /** The other side's public key: its first `key` (responder) or its reply (initiator). */
  async keyReceived(peerPublicKey: string): Promise<void> {
    if (this.#state !== 'keying' || this.#cipher) return;
    let keys: RelayKeyPair;
    let cipher: RelayCipher;
    try {
      keys = await this.#keys;
      cipher = await RelayCipher.derive(keys, peerPublicKey, {
        session: this.session,
        self: this.#options.self,
        peer: this.remote,
      });
    } catch (error) {
      return this.#fail('could not agree on relay keys', error);
    }
    if (this.#state !== 'keying') return;
    this.#cipher = cipher;
    // The reply goes before any box: the initiator can open boxes once it has it.
    if (
      !this.initiator &&
      !this.#sendNow({ kind: 'key', session: this.session, publicKey: keys.publicKey, reply: true })
    )
      return;
    this.#state = 'open';
    clearTimeout(this.#keyTimer);
    const { instance } = this.#options;
    this.#enqueueMessage(
      JSON.stringify({
        type: 'peer_hello',
        version: PEER_PROTOCOL_VERSION,
        ...(instance ? { instance } : {}),
      } satisfies PeerHello),
    );
    this.#options.callbacks.open();
    void this.#pump();
  }

  /** One box from the other side: opened, validated, delivered; dropped when it does not open. */
  async boxReceived(box: { iv: string; data: string }): Promise<void> {
    const cipher = this.#cipher;
    if (this.#state !== 'open' || !cipher) return;
    if (box.data.length > RELAY_DATA_MAX_CHARS) {
      // The server refuses such frames: this one did not come through it from a well-behaved peer.
      this.#log('warn', 'peer: dropped a relay box larger than a frame', { size: box.data.length });
      return;
    }
    const plain = await cipher.openBytes(box);
    if (this.#state !== 'open') return;
    if (plain === null) {
      this.#log('warn', 'peer: dropped a relay box that did not open (tampered, replayed or other keys)');
      return;
    }
    if (plain[0] === CHUNK_MARK) {
      if (plain.byteLength <= 1 + CHUNK_HEADER_BYTES) {
        this.#log('warn', 'peer: dropped a relay chunk with no payload', { size: plain.byteLength });
        return;
      }
      this.#options.callbacks.chunk(plain.buffer.slice(1));
      return;
    }
    const parsed = parsePeerMessage(decoder.decode(plain));
    if (!parsed.ok) {
      this.#log('debug', 'peer: dropped a bad message', { reason: parsed.reason });
      return;
    }
    const message = parsed.value;
    if (message.type === 'peer_hello') {
      if (message.version !== PEER_PROTOCOL_VERSION) {
        this.#log('warn', 'peer: the other side speaks another peer protocol', {
          version: message.version,
          ours: PEER_PROTOCOL_VERSION,
        });
        this.close('incompatible');
      } else if (this.#remoteInstance === null) {
        this.#remoteInstance = message.instance ?? this.remote;
        this.#options.callbacks.hello?.(this.#remoteInstance);
      }
      return;
    }
    this.#options.callbacks.message(message);
  }

  /** Queues one message; false when not open, too large for the relay, or the queue is full. */
  send(message: PeerMessage): boolean {
    if (this.#state !== 'open') return false;
    const text = JSON.stringify(message);
    if (text.length > PEER_MESSAGE_MAX_BYTES) {
      this.#log('warn', 'peer: message too large to send', { type: message.type, size: text.length });
      return false;
    }
    return this.#enqueueMessage(text);
  }

  /**
   * Queues one chunk frame behind the messages; false when not open, larger than
   * {@link RELAY_CHUNK_FRAME_MAX}, or past {@link RELAY_CHUNK_QUEUE_MAX_BYTES} queued.
   */
  sendChunk(frame: ArrayBuffer): boolean {
    if (this.#state !== 'open') return false;
    if (frame.byteLength > RELAY_CHUNK_FRAME_MAX) {
      this.#log('warn', 'peer: chunk too large for the server relay', { size: frame.byteLength });
      return false;
    }
    const bytes = frame.byteLength + 1;
    if (this.#chunkBytes + bytes > RELAY_CHUNK_QUEUE_MAX_BYTES) {
      this.#log('debug', 'peer: relay chunk queue full');
      return false;
    }
    const plaintext = new Uint8Array(bytes);
    plaintext[0] = CHUNK_MARK;
    plaintext.set(new Uint8Array(frame), 1);
    this.#chunks.push({ plaintext, bytes });
    this.#chunkBytes += bytes;
    void this.#pump();
    return true;
  }

  /** Bytes of chunk frames (with their mark) not yet handed to the server. */
  get chunkBacklog(): number {
    return this.#chunkBytes;
  }

  /** Calls `listener` after each chunk box goes to the server. Returns the unsubscribe. */
  onChunkSent(listener: () => void): () => void {
    this.#chunkSent.add(listener);
    return () => this.#chunkSent.delete(listener);
  }

  /** Closes the session (idempotent), tells the other side when it can still hear, reports once. */
  close(reason: RelayCloseReason): void {
    if (this.#state === 'closed') return;
    const wasOpen = this.#state === 'open';
    this.#state = 'closed';
    clearTimeout(this.#keyTimer);
    clearTimeout(this.#pumpTimer);
    this.#pumpTimer = undefined;
    this.#messages = [];
    this.#messageBytes = 0;
    this.#chunks = [];
    this.#chunkBytes = 0;
    this.#chunkSent.clear();
    if (SAY_CLOSE.has(reason)) this.#sendNow({ kind: 'close', session: this.session });
    this.#log('debug', 'peer: relay session closed', { reason, wasOpen });
    this.#options.callbacks.close(reason, wasOpen);
  }

  #enqueueMessage(text: string): boolean {
    const bytes = encoder.encode(text).length;
    if (bytes > RELAY_PLAINTEXT_MAX_BYTES) {
      this.#log('warn', 'peer: message too large for the server relay', { size: bytes });
      return false;
    }
    if (
      this.#messages.length >= RELAY_QUEUE_MAX_MESSAGES ||
      this.#messageBytes + bytes > RELAY_QUEUE_MAX_BYTES
    ) {
      this.#log('debug', 'peer: relay queue full');
      return false;
    }
    this.#messages.push({ plaintext: text, bytes });
    this.#messageBytes += bytes;
    // The pump may be waiting for the pacer on behalf of a chunk: a message need not wait as long.
    if (this.#pumpTimer !== undefined) {
      clearTimeout(this.#pumpTimer);
      this.#pumpTimer = undefined;
    }
    void this.#pump();
    return true;
  }

  /**
   * Seals and sends queued messages, then chunks, one at a time in order, as the pacer allows. The
   * pacer is asked before sealing (a box's size follows from its plaintext's), so nothing sealed
   * waits for it and a message that comes meanwhile goes first.
   */
  async #pump(): Promise<void> {
    if (this.#pumping || this.#pumpTimer !== undefined) return;
    this.#pumping = true;
    try {
      while (this.#state === 'open' && this.#cipher) {
        const traffic: RelayTraffic = this.#messages.length > 0 ? 'message' : 'bulk';
        const queue = traffic === 'message' ? this.#messages : this.#chunks;
        const next = queue[0];
        if (!next) break;
        const wait = this.#options.pacer.take(boxChars(next.bytes) + FRAME_OVERHEAD, traffic);
        if (wait > 0) {
          this.#pumpTimer = setTimeout(() => {
            this.#pumpTimer = undefined;
            void this.#pump();
          }, wait);
          break;
        }
        queue.shift();
        if (traffic === 'message') this.#messageBytes -= next.bytes;
        const sealed = await this.#cipher.seal(next.plaintext);
        if (this.#state !== 'open') break;
        if (!this.#transmit({ kind: 'box', session: this.session, ...sealed })) break;
        if (traffic === 'bulk') {
          this.#chunkBytes -= next.bytes;
          for (const listener of [...this.#chunkSent]) listener();
        }
      }
    } catch (error) {
      this.#fail('could not seal a relay box', error);
    } finally {
      this.#pumping = false;
    }
  }

  /** Sends a key or close at once (counted by the pacer); false (and closed) without signaling. */
  #sendNow(payload: RelayPayload): boolean {
    this.#options.pacer.charge(FRAME_OVERHEAD + ('publicKey' in payload ? payload.publicKey.length : 0));
    if (payload.kind === 'close') {
      this.#options.callbacks.send(payload);
      return true;
    }
    return this.#transmit(payload);
  }

  #transmit(payload: RelayPayload): boolean {
    if (!this.#options.callbacks.send(payload)) {
      this.close('no_signaling');
      return false;
    }
    this.lastSentAt = this.#now();
    return true;
  }

  #fail(what: string, error: unknown): void {
    this.#log('warn', `peer: ${what}`, { error: toError(error).message });
    this.close('error');
  }

  #log(level: keyof PeerLog, message: string, context: Record<string, unknown> = {}): void {
    this.#options.log[level](message, {
      friendId: this.friendId,
      connectionId: this.remote,
      ...context,
    });
  }
}
