/**
 * The server-relay sessions of this connection, at most one per friend connection: it routes the
 * gateway's `relay` frames to them, starts sessions when the mesh asks and accepts the ones friends
 * start, and ends them on the server's `relay` errors.
 *
 * - Incoming frames are handled one at a time, in arrival order (key agreement and decryption are
 *   asynchronous; a box must not overtake the key reply before it), from a bounded backlog.
 * - Both sides may start a session at once: as for peer connections, the smaller connection id's
 *   session wins and the other side answers it.
 * - A box for a session this side does not hold is answered with `close` (once per session), so a
 *   peer that lost track learns it and starts afresh.
 * - An `error` frame with `ref: 'relay'` names the target it refused (`to`), and ends that session.
 *   Without `to` (an older server), the server handles a connection's frames in order and answers
 *   at once, so it ends the sessions that sent in the last moment ({@link ERROR_MATCH_MS}).
 */
import {
  exhaustive,
  type ErrorFrame,
  type IncomingRelayFrame,
  type RelayPayload,
} from '../../../../shared/protocol.js';
import { RelayPacer } from '../relay/relay-pacer.js';
import { shouldInitiate } from './initiator.js';
import type { PeerLog } from './peer-log.js';
import type { PeerGateway } from './peer-mesh.js';
import type { PeerMessage } from '../../../../shared/peer-protocol.js';
import { RelayLink, type RelayCloseReason } from './relay-link.js';

export interface ServerRelayCallbacks {
  /** Whether relay frames from this user are taken (known as a friend). */
  accepts(friendId: string): boolean;
  open(link: RelayLink): void;
  /** The other side of a session said its page instance (`link.remoteInstance`). */
  hello?(link: RelayLink): void;
  message(link: RelayLink, message: PeerMessage): void;
  /** A chunk frame of a file (unvalidated). */
  chunk(link: RelayLink, frame: ArrayBuffer): void;
  close(link: RelayLink, reason: RelayCloseReason, wasOpen: boolean): void;
}

export interface ServerRelayOptions {
  gateway: PeerGateway;
  callbacks: ServerRelayCallbacks;
  log: PeerLog;
  now: () => number;
  keyTimeoutMs: number;
  /** This page's instance, told in each session's `peer_hello`. */
  instance?: string;
  pacer?: RelayPacer;
  newSessionId?: () => string;
}

/** An error frame answers a frame sent at most this long ago. */
export const ERROR_MATCH_MS = 2_000;
/** Incoming frames waiting to be handled; past it they are dropped (the server paces senders too). */
const MAX_BACKLOG = 256;
/** Unknown sessions already answered with `close`, remembered to answer each once. */
const MAX_ANSWERED = 64;

const ERROR_REASONS: Readonly<Record<string, RelayCloseReason>> = {
  peer_offline: 'unreachable',
  not_friends: 'unfriended',
  rate_limited: 'rate_limited',
};

const keyOf = (friendId: string, remote: string) => `${friendId}\n${remote}`;

export class ServerRelay {
  readonly #options: ServerRelayOptions;
  readonly #pacer: RelayPacer;
  readonly #links = new Map<string, RelayLink>();
  readonly #answered = new Set<string>();
  readonly #unsubscribe: Array<() => void>;
  #self: string | null = null;
  #backlog: Promise<void> = Promise.resolve();
  #backlogSize = 0;

  constructor(options: ServerRelayOptions) {
    this.#options = options;
    this.#pacer = options.pacer ?? new RelayPacer(undefined, options.now);
    this.#unsubscribe = [
      options.gateway.on('relay', (frame) => this.#receive(frame)),
      options.gateway.on('error', (frame) => this.#handleError(frame)),
    ];
  }

  /** This connection's id: sessions are bound to it, so they all end when it changes. */
  setSelf(connectionId: string | null): void {
    if (connectionId === this.#self) return;
    this.#self = connectionId;
    this.closeAll('identity_changed');
  }

  /** Starts a session with one friend connection unless one is under way or open. */
  open(friendId: string, remote: string): void {
    if (this.#self === null || this.#links.has(keyOf(friendId, remote))) return;
    const link = this.#create(friendId, remote, this.#options.newSessionId?.() ?? crypto.randomUUID(), true);
    void link.start();
  }

  /** The session with one friend connection, in whatever state. */
  linkTo(friendId: string, remote: string): RelayLink | undefined {
    return this.#links.get(keyOf(friendId, remote));
  }

  /** The open session with one friend connection. */
  openLinkTo(friendId: string, remote: string): RelayLink | undefined {
    const link = this.linkTo(friendId, remote);
    return link?.state === 'open' ? link : undefined;
  }

  /** The friend's sessions, in whatever state. */
  linksOf(friendId: string): RelayLink[] {
    return [...this.#links.values()].filter((link) => link.friendId === friendId);
  }

  close(friendId: string, remote: string, reason: RelayCloseReason): void {
    this.linkTo(friendId, remote)?.close(reason);
  }

  closeFriend(friendId: string, reason: RelayCloseReason): void {
    for (const link of this.linksOf(friendId)) link.close(reason);
  }

  closeAll(reason: RelayCloseReason): void {
    for (const link of [...this.#links.values()]) link.close(reason);
  }

  dispose(): void {
    this.closeAll('local');
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
  }

  #create(friendId: string, remote: string, session: string, initiator: boolean): RelayLink {
    const self = this.#self;
    if (self === null) throw new Error('no connection id');
    const key = keyOf(friendId, remote);
    const link: RelayLink = new RelayLink({
      session,
      friendId,
      remote,
      self,
      initiator,
      pacer: this.#pacer,
      keyTimeoutMs: this.#options.keyTimeoutMs,
      ...(this.#options.instance ? { instance: this.#options.instance } : {}),
      log: this.#options.log,
      now: this.#options.now,
      callbacks: {
        send: (payload) => this.#send(friendId, remote, payload),
        open: () => this.#options.callbacks.open(link),
        hello: () => this.#options.callbacks.hello?.(link),
        message: (message) => this.#options.callbacks.message(link, message),
        chunk: (frame) => this.#options.callbacks.chunk(link, frame),
        close: (reason, wasOpen) => {
          if (this.#links.get(key) === link) this.#links.delete(key);
          this.#options.callbacks.close(link, reason, wasOpen);
        },
      },
    });
    const previous = this.#links.get(key);
    this.#links.set(key, link);
    previous?.close('replaced');
    return link;
  }

  #send(userId: string, connectionId: string, data: RelayPayload): boolean {
    return this.#options.gateway.send({ type: 'relay', to: { userId, connectionId }, data });
  }

  #receive(frame: IncomingRelayFrame): void {
    if (this.#backlogSize >= MAX_BACKLOG) {
      this.#options.log.warn('peer: relay backlog full; dropped a frame', { friendId: frame.from.userId });
      return;
    }
    this.#backlogSize += 1;
    this.#backlog = this.#backlog
      .then(() => this.#handle(frame))
      .catch((error: unknown) => this.#options.log.warn('peer: relay frame failed', { error: String(error) }))
      .finally(() => {
        this.#backlogSize -= 1;
      });
  }

  async #handle({ from, data }: IncomingRelayFrame): Promise<void> {
    const { userId: friendId, connectionId: remote } = from;
    if (this.#self === null || !this.#options.callbacks.accepts(friendId)) {
      this.#options.log.debug('peer: dropped a relay frame from someone not known as a friend', {
        kind: data.kind,
      });
      return;
    }
    const link = this.linkTo(friendId, remote);
    const current = link?.session === data.session ? link : undefined;
    switch (data.kind) {
      case 'key':
        if (data.reply) {
          if (current?.initiator) return current.keyReceived(data.publicKey);
          this.#options.log.debug('peer: dropped a key reply for a session not held', { friendId });
          return;
        }
        if (current) return; // repeated
        // Both started at once: the smaller connection id's session goes on.
        if (link?.state === 'keying' && link.initiator && shouldInitiate(this.#self, remote)) return;
        return this.#create(friendId, remote, data.session, false).keyReceived(data.publicKey);
      case 'box':
        if (current) return current.boxReceived(data);
        this.#answerUnknown(friendId, remote, data.session);
        return;
      case 'close':
        current?.close('peer_closed');
        return;
      default:
        exhaustive(data);
    }
  }

  #answerUnknown(friendId: string, remote: string, session: string): void {
    const key = `${keyOf(friendId, remote)}\n${session}`;
    if (this.#answered.has(key)) return;
    if (this.#answered.size >= MAX_ANSWERED) this.#answered.clear();
    this.#answered.add(key);
    this.#options.log.debug('peer: a relay box for a session not held; answering close', { friendId });
    this.#send(friendId, remote, { kind: 'close', session });
  }

  #handleError(frame: ErrorFrame): void {
    if (frame.ref !== 'relay') return;
    const reason = ERROR_REASONS[frame.code] ?? 'error';
    const { to } = frame;
    const since = this.#options.now() - ERROR_MATCH_MS;
    // The server names the target; an older server does not, so fall back to what sent lately.
    const recent = [...this.#links.values()].filter((link) =>
      to ? link.friendId === to.userId && link.remote === to.connectionId : link.lastSentAt >= since,
    );
    this.#options.log.debug('peer: the server refused a relay frame', {
      code: frame.code,
      sessions: recent.length,
    });
    for (const link of recent) link.close(reason);
  }
}
