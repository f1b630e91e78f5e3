/**
 * One attempt at a peer connection between this connection and one connection of a friend, named by
 * its `link` id on the wire. It wraps a {@link PeerHandle}: feeds it signals (queued until the peer
 * exists), times the attempt out, watches ICE, says `peer_hello` when the channel opens, validates
 * every incoming message at the edge, and reads the selected candidate pair. It never dials again by
 * itself: it closes once, with a reason, and the mesh decides what comes next.
 */
import type { PeerSignal } from '../../../../shared/protocol.js';
import {
  PEER_MESSAGE_MAX_BYTES,
  PEER_PROTOCOL_VERSION,
  isTransferControl,
  parsePeerMessage,
  type PeerHello,
  type PeerMessage,
} from '../../../../shared/peer-protocol.js';
import type { ChunkChannel } from '../transfer/chunk-channel.js';
import { toError } from './errors.js';
import { pathFromStats, type LinkPath } from './link-path.js';
import type { PeerHandle, PeerSetup } from './peer-factory.js';
import type { PeerLog } from './peer-log.js';

export type LinkState = 'connecting' | 'open' | 'closed';

/**
 * Why a link closed. Decided here: `timeout` (not open in time), `ice_failed`, `ice_disconnected`
 * (for longer than the grace), `channel_closed` (the other side closed, or the channel broke),
 * `error` (the peer failed), `incompatible` (the other side speaks another peer protocol). Decided
 * by the mesh: `local` (on purpose), `bye` (the other side said so), `replaced` (a newer link to the
 * same connection), `offline`, `unfriended`, `identity_changed` (our connection id changed before it
 * opened).
 */
export type LinkCloseReason =
  | 'timeout'
  | 'ice_failed'
  | 'ice_disconnected'
  | 'channel_closed'
  | 'error'
  | 'incompatible'
  | 'local'
  | 'bye'
  | 'replaced'
  | 'offline'
  | 'unfriended'
  | 'identity_changed';

export interface PeerLinkCallbacks {
  signal(signal: PeerSignal): void;
  open(): void;
  /**
   * The other side's `peer_hello` told its page instance (its connection id when it did not say).
   * Once per link, possibly before `open`; the hello goes first on both channels, so it comes
   * before any message.
   */
  hello(instance: string): void;
  message(message: PeerMessage): void;
  /** A binary frame on the file channel (a chunk of a file, unvalidated). */
  chunk(frame: ArrayBuffer): void;
  path(path: LinkPath): void;
  /** Called once; `wasOpen` says whether the channel had opened. */
  close(reason: LinkCloseReason, wasOpen: boolean): void;
}

export interface PeerLinkOptions {
  /** The `link` id of this attempt. */
  id: string;
  friendId: string;
  /** The friend's connection id at the other end. */
  remote: string;
  /** This page's instance, told in `peer_hello`. */
  instance: string;
  initiator: boolean;
  /** How long the attempt may take to open. */
  connectTimeoutMs: number;
  /** How long ICE may stay `disconnected` before the link counts as dropped. */
  iceDisconnectedMs: number;
  callbacks: PeerLinkCallbacks;
  log: PeerLog;
}

/** Signals kept for a peer that is still being created (an offer and its first candidates). */
const MAX_PENDING_SIGNALS = 64;
/** A channel with this much unsent is not given more (Chromium closes it past 16 MiB). */
export const SEND_BUFFER_LIMIT = 1024 * 1024;

export class PeerLink {
  readonly id: string;
  readonly friendId: string;
  readonly remote: string;
  readonly initiator: boolean;
  readonly #options: PeerLinkOptions;
  #state: LinkState = 'connecting';
  #handle: PeerHandle | null = null;
  #pending: PeerSignal[] = [];
  #path: LinkPath | null = null;
  #remoteInstance: string | null = null;
  #connectTimer: ReturnType<typeof setTimeout> | undefined;
  #iceTimer: ReturnType<typeof setTimeout> | undefined;
  #readingPath = false;
  #readPathAgain = false;

  constructor(options: PeerLinkOptions) {
    this.id = options.id;
    this.friendId = options.friendId;
    this.remote = options.remote;
    this.initiator = options.initiator;
    this.#options = options;
    this.#connectTimer = setTimeout(() => this.close('timeout'), options.connectTimeoutMs);
  }

  get state(): LinkState {
    return this.#state;
  }

  /** The selected candidate pair's path once read (after open). */
  get path(): LinkPath | null {
    return this.#path;
  }

  /** The other side's page instance, once its `peer_hello` arrived. */
  get remoteInstance(): string | null {
    return this.#remoteInstance;
  }

  /** Creates the peer connection, now or once the setup (library, ICE servers) is ready. */
  start(setup: PeerSetup | Promise<PeerSetup>): void {
    if (setup instanceof Promise) {
      setup.then(
        (ready) => this.#create(ready),
        (error: unknown) => {
          this.#log('warn', 'peer: could not set up a peer connection', { error: toError(error).message });
          this.close('error');
        },
      );
    } else {
      this.#create(setup);
    }
  }

  /** Feeds signaling data from the other side. */
  signal(signal: PeerSignal): void {
    if (this.#state === 'closed') return;
    if (!this.#handle) {
      if (this.#pending.length < MAX_PENDING_SIGNALS) this.#pending.push(signal);
      return;
    }
    try {
      this.#handle.signal(signal);
    } catch (error) {
      this.#log('debug', 'peer: a signal was refused', { error: toError(error).message });
      this.close('error');
    }
  }

  /** Sends one message; false when the link is not open, the message too large or the channel full. */
  send(message: PeerMessage): boolean {
    if (this.#state !== 'open' || !this.#handle) return false;
    const text = JSON.stringify(message);
    // The receiver measures the same way (`parsePeerMessage`): what passes here passes there.
    if (text.length > PEER_MESSAGE_MAX_BYTES) {
      this.#log('warn', 'peer: message too large to send', { type: message.type, size: text.length });
      return false;
    }
    if (this.#handle.bufferedAmount > SEND_BUFFER_LIMIT) return false;
    try {
      this.#handle.send(text);
      return true;
    } catch (error) {
      this.#log('debug', 'peer: send failed', { error: toError(error).message });
      this.close('channel_closed');
      return false;
    }
  }

  /**
   * The file channel as a {@link ChunkChannel} while the link is open: chunk frames and the
   * transfer's control messages (as text, so they stay in order with the chunks). Null when the
   * link is not open or its connection has no file channel.
   */
  fileChannel(): ChunkChannel | null {
    const files = this.#handle?.files;
    if (this.#state !== 'open' || !files) return null;
    const trySend = (data: ArrayBuffer | string): boolean => {
      if (this.#state !== 'open') return false;
      try {
        files.send(data);
        return true;
      } catch (error) {
        this.#log('debug', 'peer: file channel send failed', { error: toError(error).message });
        return false;
      }
    };
    return {
      send: (frame) => trySend(frame),
      sendControl: (message) => trySend(JSON.stringify(message)),
      get bufferedAmount() {
        return files.bufferedAmount;
      },
      onDrain: (listener) => files.onDrain(listener),
    };
  }

  /** Gives the live connection new ICE settings (fresh TURN credentials); best effort. */
  setConfiguration(config: RTCConfiguration): void {
    if (this.#state === 'closed' || !this.#handle) return;
    try {
      this.#handle.setConfiguration(config);
    } catch (error) {
      this.#log('debug', 'peer: could not update the ICE configuration', { error: toError(error).message });
    }
  }

  /** Closes the link (idempotent) and reports it once through `callbacks.close`. */
  close(reason: LinkCloseReason): void {
    if (this.#state === 'closed') return;
    const wasOpen = this.#state === 'open';
    this.#state = 'closed';
    clearTimeout(this.#connectTimer);
    clearTimeout(this.#iceTimer);
    this.#pending = [];
    const handle = this.#handle;
    this.#handle = null;
    try {
      handle?.destroy();
    } catch (error) {
      this.#log('debug', 'peer: destroy failed', { error: toError(error).message });
    }
    this.#log('debug', 'peer: link closed', { reason, wasOpen });
    this.#options.callbacks.close(reason, wasOpen);
  }

  #create(setup: PeerSetup): void {
    if (this.#state === 'closed') return;
    try {
      this.#handle = setup.factory(
        { initiator: this.initiator, config: setup.config },
        {
          signal: (signal) => {
            if (this.#state !== 'closed') this.#options.callbacks.signal(signal);
          },
          open: () => this.#handleOpen(),
          data: (raw) => this.#handleData(raw),
          fileData: (raw) => this.#handleFileData(raw),
          iceState: (state) => this.#handleIceState(state),
          close: (error) => {
            if (error) this.#log('debug', 'peer: connection failed', { error: error.message });
            this.close(error ? 'error' : 'channel_closed');
          },
        },
      );
    } catch (error) {
      this.#log('warn', 'peer: could not create a peer connection', { error: toError(error).message });
      this.close('error');
      return;
    }
    const pending = this.#pending;
    this.#pending = [];
    for (const signal of pending) this.signal(signal);
  }

  #handleOpen(): void {
    if (this.#state !== 'connecting') return;
    this.#state = 'open';
    clearTimeout(this.#connectTimer);
    const hello: PeerHello = {
      type: 'peer_hello',
      version: PEER_PROTOCOL_VERSION,
      instance: this.#options.instance,
    };
    this.send(hello);
    // On the file channel too: it is ordered apart from the chat channel, and what the transfers
    // send there must not arrive before the other side knows which page it comes from.
    try {
      this.#handle?.files?.send(JSON.stringify(hello));
    } catch (error) {
      this.#log('debug', 'peer: file channel send failed', { error: toError(error).message });
    }
    this.#options.callbacks.open();
    this.#readPath();
  }

  #handleData(raw: unknown): void {
    if (this.#state === 'closed') return;
    const parsed = parsePeerMessage(raw);
    if (!parsed.ok) {
      this.#log('debug', 'peer: dropped a bad message', { reason: parsed.reason });
      return;
    }
    const message = parsed.value;
    if (message.type === 'peer_hello') return this.#handleHello(message);
    this.#options.callbacks.message(message);
  }

  #handleHello(hello: PeerHello): void {
    if (hello.version !== PEER_PROTOCOL_VERSION) {
      this.#log('warn', 'peer: the other side speaks another peer protocol', {
        version: hello.version,
        ours: PEER_PROTOCOL_VERSION,
      });
      this.close('incompatible');
      return;
    }
    // Said on both channels; the first one counts.
    if (this.#remoteInstance !== null) return;
    this.#remoteInstance = hello.instance ?? this.remote;
    this.#options.callbacks.hello(this.#remoteInstance);
  }

  /**
   * Binary frames are chunks; text is a transfer control message, validated like any peer message,
   * or the other side's hello (which may come before this side saw the channels open).
   */
  #handleFileData(raw: unknown): void {
    if (this.#state === 'closed') return;
    if (raw instanceof ArrayBuffer) {
      if (this.#state === 'open') this.#options.callbacks.chunk(raw);
      return;
    }
    const parsed = parsePeerMessage(raw);
    if (parsed.ok && parsed.value.type === 'peer_hello') return this.#handleHello(parsed.value);
    if (this.#state !== 'open') return;
    if (!parsed.ok || !isTransferControl(parsed.value)) {
      this.#log('debug', 'peer: dropped a bad file channel message', {
        reason: parsed.ok ? `unexpected ${parsed.value.type}` : parsed.reason,
      });
      return;
    }
    this.#options.callbacks.message(parsed.value);
  }

  #handleIceState(state: RTCIceConnectionState): void {
    if (this.#state === 'closed') return;
    if (state === 'failed') return this.close('ice_failed');
    if (state === 'closed') return this.close('channel_closed');
    if (state === 'disconnected') {
      // Often a blip that ICE recovers from by itself; give it a few seconds.
      this.#iceTimer ??= setTimeout(() => this.close('ice_disconnected'), this.#options.iceDisconnectedMs);
      return;
    }
    clearTimeout(this.#iceTimer);
    this.#iceTimer = undefined;
    if (this.#state === 'open' && (state === 'connected' || state === 'completed')) this.#readPath();
  }

  /** Reads the selected candidate pair; one read at a time, again if asked meanwhile. */
  #readPath(): void {
    const handle = this.#handle;
    if (!handle) return;
    if (this.#readingPath) {
      this.#readPathAgain = true;
      return;
    }
    this.#readingPath = true;
    handle
      .stats()
      .then((entries) => {
        const path = pathFromStats(entries);
        if (path && path !== this.#path && this.#state === 'open') {
          this.#path = path;
          this.#options.callbacks.path(path);
        }
      })
      .catch((error: unknown) => {
        this.#log('debug', 'peer: could not read stats', { error: toError(error).message });
      })
      .finally(() => {
        this.#readingPath = false;
        if (this.#readPathAgain && this.#state === 'open') {
          this.#readPathAgain = false;
          this.#readPath();
        }
      });
  }

  #log(level: keyof PeerLog, message: string, context: Record<string, unknown> = {}): void {
    this.#options.log[level](message, {
      friendId: this.friendId,
      connectionId: this.remote,
      link: this.id,
      ...context,
    });
  }
}
