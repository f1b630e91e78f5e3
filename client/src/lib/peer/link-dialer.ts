/**
 * The data-channel side of the mesh: knocking on a friend's connections, the initiator rule,
 * answering offers, each link's life from dial to close, and the redial loop.
 *
 * - Of two connections, the one with the smaller id dials (`initiator.ts`): a knocked connection
 *   that should dial does; one that should not answers with a knock aimed at the knocker, which
 *   then dials. Crossing knocks meet an attempt already under way and are ignored.
 * - A broadcast knock must be followed by an attempt within the connect timeout; a link that closes
 *   for a reason worth retrying ({@link REDIAL_AFTER}) is dialed again with jittered backoff, while
 *   the friend is online and wanted and nothing better is under way.
 * - Where there is no WebRTC, knocks and offers are answered with the server relay instead.
 *
 * State lives on {@link FriendLinks}; the mesh decides when a friend is looked at (gateway frames,
 * `connect`) and this module what to send and dial then.
 */
import type { ClientFrame, PeerSignal, SignalPayload } from '../../../../shared/protocol.js';
import type { FriendLinks } from './friend-links.js';
import { shouldInitiate } from './initiator.js';
import { PeerLink, type LinkCloseReason } from './peer-link.js';
import {
  NO_BYE_AFTER,
  REDIAL_AFTER,
  REDIAL_BACKOFF,
  type PeerMeshOptions,
  type PeerTiming,
} from './peer-mesh-options.js';
import type { PeerLog } from './peer-log.js';
import type { RelayLadder, RelayLadderHost } from './relay-ladder.js';
import type { WebRTCLoader } from './webrtc-loader.js';

/** What the dialer needs from the mesh: what the ladder needs (both report links alike). */
export type LinkDialerHost = Omit<RelayLadderHost, 'hasWebRTC'>;

export interface LinkDialerOptions {
  /** The mesh's options: the gateway, and the dialing policy a caller may tune. */
  mesh: Pick<PeerMeshOptions, 'gateway' | 'backoff' | 'random' | 'newLinkId'>;
  host: LinkDialerHost;
  ladder: RelayLadder;
  webrtc: WebRTCLoader;
  timing: PeerTiming;
  /** This page's instance, told in each link's `peer_hello`. */
  instance: string;
  now: () => number;
  log: PeerLog;
}

export class LinkDialer {
  readonly #options: LinkDialerOptions;
  readonly #host: LinkDialerHost;
  readonly #ladder: RelayLadder;
  readonly #webrtc: WebRTCLoader;
  readonly #timing: PeerTiming;
  readonly #log: PeerLog;
  readonly #now: () => number;

  constructor(options: LinkDialerOptions) {
    this.#options = options;
    this.#host = options.host;
    this.#ladder = options.ladder;
    this.#webrtc = options.webrtc;
    this.#timing = options.timing;
    this.#log = options.log;
    this.#now = options.now;
  }

  /** Our connection is known and the friend is online: signals can reach them. */
  canSignal(friend: FriendLinks): boolean {
    return this.#host.self() !== null && friend.online;
  }

  /**
   * Nothing better to look for: a data channel is open, or this browser has no WebRTC and the relay
   * is under way. (Over the relay, a browser with WebRTC keeps dialing for a data channel.)
   */
  settled(friend: FriendLinks): boolean {
    if (friend.openLinks().length > 0) return true;
    return this.#webrtc.unavailable && this.#ladder.relay.linksOf(friend.id).length > 0;
  }

  /** Knocks if the friend is wanted and reachable and nothing is under way yet. */
  ensure(friend: FriendLinks): void {
    if (!this.canSignal(friend) || !friend.wanted(this.#now())) return;
    if (this.settled(friend) || friend.trying) return;
    this.knock(friend);
  }

  /** Knocks on every connection of the friend; an attempt must start within the connect timeout. */
  knock(friend: FriendLinks): void {
    friend.lastKnockAt = this.#now();
    this.#sendSignal(friend.id, undefined, { kind: 'knock' });
    if (this.settled(friend)) return; // looking for more devices: nothing to wait for
    clearTimeout(friend.knockTimer);
    friend.knockTimer = setTimeout(() => {
      friend.knockTimer = undefined;
      this.#scheduleRedial(friend);
      this.#host.refresh(friend);
    }, this.#timing.connectTimeoutMs);
  }

  /** One of the friend's connections knocked: dial it, or knock back so that it dials. */
  handleKnock(friend: FriendLinks, remote: string): void {
    const self = this.#host.self();
    if (self === null) return;
    if (this.#webrtc.unavailable) {
      // No data channel can open here: answer with the server relay instead.
      this.#ladder.relay.open(friend.id, remote);
      return;
    }
    if (friend.openLinkTo(remote)) {
      // Either a search for new devices, or the other side lost the link before we noticed: if the
      // link closes soon, this knock is answered then.
      friend.knocksWhileOpen.set(remote, this.#now());
      return;
    }
    if (friend.attemptTo(remote)) return; // crossing knocks: one attempt is enough
    if (shouldInitiate(self, remote)) this.#dial(friend, remote);
    else this.#sendSignal(friend.id, remote, { kind: 'knock' });
  }

  /** Signaling data for a link: fed to the link it names, or an offer that starts one. */
  handleLinkSignal(friend: FriendLinks, remote: string, linkId: string, signal: PeerSignal): void {
    const link = friend.links.get(linkId);
    if (link) {
      if (link.remote === remote) link.signal(signal);
      else this.#log.debug('peer: dropped a signal from another connection', { link: linkId });
      return;
    }
    const self = this.#host.self();
    const noWebRTC = this.#webrtc.unavailable;
    if (signal.type === 'offer' && noWebRTC && self !== null) {
      this.#ladder.relay.open(friend.id, remote);
      return;
    }
    if (signal.type !== 'offer' || noWebRTC || self === null) {
      this.#log.debug('peer: dropped a signal for a link not held', { link: linkId, type: signal.type });
      return;
    }
    const attempt = friend.attemptTo(remote);
    if (attempt) {
      // Glare should not happen; if it does, the rule settles it the same way on both sides.
      if (attempt.initiator && shouldInitiate(self, remote)) {
        this.#log.debug('peer: dropped a competing offer', { link: linkId });
        return;
      }
      attempt.close('replaced');
    }
    this.#createLink(friend, remote, linkId, false).signal(signal);
  }

  // ---- links -----------------------------------------------------------------------------------

  #dial(friend: FriendLinks, remote: string): void {
    this.#createLink(friend, remote, this.#options.mesh.newLinkId?.() ?? crypto.randomUUID(), true);
  }

  #createLink(friend: FriendLinks, remote: string, id: string, initiator: boolean): PeerLink {
    clearTimeout(friend.knockTimer);
    friend.knockTimer = undefined;
    const host = this.#host;
    const link: PeerLink = new PeerLink({
      id,
      friendId: friend.id,
      remote,
      instance: this.#options.instance,
      initiator,
      connectTimeoutMs: this.#timing.connectTimeoutMs,
      iceDisconnectedMs: this.#timing.iceDisconnectedMs,
      log: this.#log,
      callbacks: {
        signal: (signal) => this.#sendSignal(friend.id, remote, { kind: 'signal', link: id, signal }),
        open: () => this.#handleOpen(friend, link),
        hello: () => host.hello(friend.id, remote),
        message: (message) => host.message(friend.id, remote, message),
        chunk: (frame) => host.chunk(friend.id, remote, frame),
        path: () => host.refresh(friend),
        close: (reason, wasOpen) => this.#handleClosed(friend, link, reason, wasOpen),
      },
    });
    friend.links.set(id, link);
    link.start(this.#webrtc.setup());
    host.refresh(friend);
    return link;
  }

  #handleOpen(friend: FriendLinks, link: PeerLink): void {
    const first = friend.openLinks().length === 1;
    // A newer link to the same connection replaces the old one (its close is not reported).
    for (const other of [...friend.links.values()]) {
      if (other !== link && other.remote === link.remote) other.close('replaced');
    }
    friend.failures = 0;
    clearTimeout(friend.knockTimer);
    clearTimeout(friend.redialTimer);
    friend.knockTimer = friend.redialTimer = undefined;
    if (first) this.#host.mark?.(`parley:open:${friend.id}`);
    this.#host.link(friend.id, link.remote, true);
    // Moved off the server relay (the chat layer resends what was unacknowledged on the new link).
    this.#ladder.upgraded(friend, link.remote);
    this.#host.refresh(friend);
  }

  #handleClosed(friend: FriendLinks, link: PeerLink, reason: LinkCloseReason, wasOpen: boolean): void {
    friend.links.delete(link.id);
    if (!NO_BYE_AFTER.has(reason)) {
      this.#sendSignal(friend.id, link.remote, { kind: 'bye', link: link.id });
    }
    if (wasOpen && !friend.openLinkTo(link.remote)) {
      // A relay session the other side opened meanwhile takes over: to the chat layer, a replaced link.
      const relayed = this.#ladder.relay.openLinkTo(friend.id, link.remote) !== undefined;
      this.#host.link(friend.id, link.remote, relayed);
    }
    const knockedAt = friend.knocksWhileOpen.get(link.remote);
    friend.knocksWhileOpen.delete(link.remote);
    if (this.#host.friend(friend.id) !== friend) return; // forgotten meanwhile
    if (
      wasOpen &&
      REDIAL_AFTER.has(reason) &&
      knockedAt !== undefined &&
      this.#now() - knockedAt < this.#timing.connectTimeoutMs &&
      friend.online
    ) {
      this.handleKnock(friend, link.remote);
    }
    if (reason === 'ice_failed') this.#ladder.iceFailed(friend, link.remote);
    if (REDIAL_AFTER.has(reason)) this.#scheduleRedial(friend);
    this.#host.refresh(friend);
  }

  // ---- the redial loop -------------------------------------------------------------------------

  #scheduleRedial(friend: FriendLinks): void {
    if (!this.canSignal(friend) || !friend.wanted(this.#now())) return;
    if (this.settled(friend) || friend.trying) return;
    const delay = friend.nextRedialDelay(
      this.#options.mesh.backoff ?? REDIAL_BACKOFF,
      this.#options.mesh.random ?? Math.random,
    );
    this.#log.debug('peer: dialing again', { friendId: friend.id, delay });
    friend.redialTimer = setTimeout(() => {
      friend.redialTimer = undefined;
      this.ensure(friend);
      this.#host.refresh(friend);
    }, delay);
  }

  #sendSignal(userId: string, connectionId: string | undefined, data: SignalPayload): void {
    const frame: ClientFrame = {
      type: 'signal',
      to: connectionId === undefined ? { userId } : { userId, connectionId },
      data,
    };
    if (!this.#options.mesh.gateway.send(frame)) {
      this.#log.debug('peer: no signaling connection', { kind: data.kind });
    }
  }
}
