/**
 * One server-relay session between this connection and one connection of a friend: the last resort
 * when no data channel opens. It carries the same {@link PeerMessage}s as a data channel, through
 * `/ws` `relay` frames, end-to-end encrypted (`relay/relay-crypto.ts`):
 *
 * - A fresh ECDH key pair and session id per session. The initiator sends `key`; the responder
 *   derives the keys, answers `key` with `reply`, and is open; the initiator is open once it has the
 *   reply. Each side's first box is `peer_hello`.
 * - Boxes are sealed and sent one at a time in order (the receiver refuses counters that go back),
 *   paced by the connection's {@link RelayPacer}, from a bounded queue: when it is full `send` says
 *   no, like a full data channel.
 * - Every box is opened and validated with `parsePeerMessage`, exactly like data-channel messages.
 *   A box that does not open (tampered, replayed, other keys) is dropped and logged.
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
import { generateRelayKeyPair, RelayCipher, type RelayKeyPair } from '../relay/relay-crypto.js';
import type { RelayPacer } from '../relay/relay-pacer.js';
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
/** What one session may hold unsent: messages, and their bytes (as a data channel's buffer limit). */
export const RELAY_QUEUE_MAX_MESSAGES = 1024;
export const RELAY_QUEUE_MAX_BYTES = 1024 * 1024;
/** Room for the rest of the frame around a box's data (`type`, ids, `iv`), in characters. */
const FRAME_OVERHEAD = 256;

const encoder = new TextEncoder();

interface Queued {
  text: string;
  bytes: number;
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
  #queue: Queued[] = [];
  #queuedBytes = 0;
  /** A sealed box waiting for the pacer (sealing again would use a new counter). */
  #sealed: Extract<RelayPayload, { kind: 'box' }> | null = null;
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
    this.#enqueue(
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
    const text = await cipher.open(box);
    if (this.#state !== 'open') return;
    if (text === null) {
      this.#log('warn', 'peer: dropped a relay box that did not open (tampered, replayed or other keys)');
      return;
    }
    const parsed = parsePeerMessage(text);
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
    return this.#enqueue(text);
  }

  /** Closes the session (idempotent), tells the other side when it can still hear, reports once. */
  close(reason: RelayCloseReason): void {
    if (this.#state === 'closed') return;
    const wasOpen = this.#state === 'open';
    this.#state = 'closed';
    clearTimeout(this.#keyTimer);
    clearTimeout(this.#pumpTimer);
    this.#pumpTimer = undefined;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#sealed = null;
    if (SAY_CLOSE.has(reason)) this.#sendNow({ kind: 'close', session: this.session });
    this.#log('debug', 'peer: relay session closed', { reason, wasOpen });
    this.#options.callbacks.close(reason, wasOpen);
  }

  #enqueue(text: string): boolean {
    const bytes = encoder.encode(text).length;
    if (bytes > RELAY_PLAINTEXT_MAX_BYTES) {
      this.#log('warn', 'peer: message too large for the server relay', { size: bytes });
      return false;
    }
    if (this.#queue.length >= RELAY_QUEUE_MAX_MESSAGES || this.#queuedBytes + bytes > RELAY_QUEUE_MAX_BYTES) {
      this.#log('debug', 'peer: relay queue full');
      return false;
    }
    this.#queue.push({ text, bytes });
    this.#queuedBytes += bytes;
    void this.#pump();
    return true;
  }

  /** Seals and sends queued messages in order, one at a time, as the pacer allows. */
  async #pump(): Promise<void> {
    if (this.#pumping || this.#pumpTimer !== undefined) return;
    this.#pumping = true;
    try {
      while (this.#state === 'open' && this.#cipher) {
        let box = this.#sealed;
        if (!box) {
          const next = this.#queue.shift();
          if (!next) break;
          this.#queuedBytes -= next.bytes;
          const sealed = await this.#cipher.seal(next.text);
          if (this.#state !== 'open') break;
          box = this.#sealed = { kind: 'box', session: this.session, ...sealed };
        }
        const wait = this.#options.pacer.take(box.data.length + FRAME_OVERHEAD);
        if (wait > 0) {
          this.#pumpTimer = setTimeout(() => {
            this.#pumpTimer = undefined;
            void this.#pump();
          }, wait);
          break;
        }
        this.#sealed = null;
        if (!this.#transmit(box)) break;
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
