/**
 * The last rung of the transport ladder (direct -> TURN -> server relay): when the app wants a friend
 * and no data channel to them opens in time, the conversation moves to the end-to-end encrypted
 * server relay, one session per friend connection heard from.
 *
 * - The wait ({@link PeerTiming.relayAfterMs}) starts when the friend is wanted, online and has no
 *   open data channel; it is skipped after an ICE failure (that connection gets a session at once)
 *   and where this browser has no WebRTC at all.
 * - The mesh keeps dialing for a data channel meanwhile (its redial loop); when one opens to a
 *   connection, that connection's session closes (`upgraded`, the other side is told).
 * - A session that closes starts the wait again, so a relay that keeps failing does not spin.
 * - To the chat layer a session is a link like any other: `link` open when it opens (unless a data
 *   channel to that connection is open), closed when it closes (unless one is).
 */
import type { PeerMessage } from '../../../../shared/peer-protocol.js';
import type { RelayPacer } from '../relay/relay-pacer.js';
import type { FriendLinks } from './friend-links.js';
import type { PeerLog } from './peer-log.js';
import type { PeerGateway, PeerTiming } from './peer-mesh.js';
import type { RelayCloseReason, RelayLink } from './relay-link.js';
import { ServerRelay } from './server-relay.js';

/** A connection heard from longer ago than this is not relayed to (it may be a closed tab). */
export const REMOTE_FRESH_MS = 60_000;

/** What the ladder needs from the mesh. */
export interface RelayLadderHost {
  friend(friendId: string): FriendLinks | undefined;
  /** This connection's id (null before `hello`). */
  self(): string | null;
  /** false where this browser has no WebRTC (no data channel can ever open). */
  hasWebRTC(): boolean;
  /** Reports a link to the chat layer. */
  link(friendId: string, remote: string, open: boolean): void;
  /** The other side of a session said its page instance. */
  hello(friendId: string, remote: string): void;
  message(friendId: string, remote: string, message: PeerMessage): void;
  /** A chunk frame of a file from one of the friend's connections. */
  chunk(friendId: string, remote: string, frame: ArrayBuffer): void;
  /** Re-reads the friend's path (and runs the ladder again). */
  refresh(friend: FriendLinks): void;
  mark?(name: string): void;
}

export interface RelayLadderOptions {
  gateway: PeerGateway;
  host: RelayLadderHost;
  timing: Pick<PeerTiming, 'relayAfterMs' | 'relayKeyTimeoutMs'>;
  /** This page's instance, told in each session's `peer_hello`. */
  instance: string;
  now: () => number;
  log: PeerLog;
  pacer?: RelayPacer;
  newSessionId?: () => string;
}

export class RelayLadder {
  readonly relay: ServerRelay;
  readonly #host: RelayLadderHost;
  readonly #options: RelayLadderOptions;

  constructor(options: RelayLadderOptions) {
    this.#options = options;
    this.#host = options.host;
    const host = options.host;
    this.relay = new ServerRelay({
      gateway: options.gateway,
      log: options.log,
      now: options.now,
      keyTimeoutMs: options.timing.relayKeyTimeoutMs,
      instance: options.instance,
      ...(options.pacer ? { pacer: options.pacer } : {}),
      ...(options.newSessionId ? { newSessionId: options.newSessionId } : {}),
      callbacks: {
        accepts: (friendId) => host.friend(friendId)?.isFriend ?? false,
        open: (link) => this.#handleOpen(link),
        hello: (link) => host.hello(link.friendId, link.remote),
        message: (link, message) => host.message(link.friendId, link.remote, message),
        chunk: (link, frame) => host.chunk(link.friendId, link.remote, frame),
        close: (link, reason, wasOpen) => this.#handleClosed(link, reason, wasOpen),
      },
    });
  }

  /** The friend's best relay session state: `open`, `keying`, or null without one. */
  state(friendId: string): 'open' | 'keying' | null {
    const links = this.relay.linksOf(friendId);
    if (links.some((link) => link.state === 'open')) return 'open';
    return links.length > 0 ? 'keying' : null;
  }

  /** Connection ids of the friend with an open relay session. */
  openRemotes(friendId: string): string[] {
    return this.relay
      .linksOf(friendId)
      .filter((link) => link.state === 'open')
      .map((link) => link.remote);
  }

  /** A knock or signal came from one of the friend's connections. */
  heardFrom(friend: FriendLinks, remote: string): void {
    friend.remotes.set(remote, this.#options.now());
  }

  /** ICE failed towards that connection: no point waiting for the timer. */
  iceFailed(friend: FriendLinks, remote: string): void {
    if (!this.#wants(friend) || friend.openLinks().length > 0) return;
    this.relay.open(friend.id, remote);
  }

  /** A data channel to that connection opened: its relay session is no longer needed. */
  upgraded(friend: FriendLinks, remote: string): void {
    this.relay.close(friend.id, remote, 'upgraded');
  }

  /** One step of the ladder, after anything about the friend changed. */
  update(friend: FriendLinks): void {
    if (!this.#wants(friend) || friend.openLinks().length > 0) {
      friend.clearRelayTimer();
      return;
    }
    if (this.relay.linksOf(friend.id).length > 0) {
      clearTimeout(friend.relayTimer);
      friend.relayTimer = undefined;
      return;
    }
    if (friend.relayDue || !this.#host.hasWebRTC()) {
      for (const remote of friend.freshRemotes(this.#options.now(), REMOTE_FRESH_MS)) {
        this.relay.open(friend.id, remote);
      }
      return;
    }
    friend.relayTimer ??= setTimeout(() => {
      friend.relayTimer = undefined;
      friend.relayDue = true;
      this.#host.refresh(friend);
    }, this.#options.timing.relayAfterMs);
  }

  #wants(friend: FriendLinks): boolean {
    return (
      this.#host.self() !== null &&
      this.#host.friend(friend.id) === friend &&
      friend.isFriend &&
      friend.online &&
      friend.wanted(this.#options.now())
    );
  }

  #handleOpen(link: RelayLink): void {
    const friend = this.#host.friend(link.friendId);
    if (friend?.openLinkTo(link.remote)) {
      // The other side started it (its data channel failed); ours still works, so it waits unused.
      this.#host.refresh(friend);
      return;
    }
    this.#host.mark?.(`parley:relay:${link.friendId}`);
    this.#host.link(link.friendId, link.remote, true);
    if (friend) this.#host.refresh(friend);
  }

  #handleClosed(link: RelayLink, reason: RelayCloseReason, wasOpen: boolean): void {
    const friend = this.#host.friend(link.friendId);
    if (wasOpen && !friend?.openLinkTo(link.remote)) this.#host.link(link.friendId, link.remote, false);
    if (!friend) return;
    if (reason === 'unreachable') friend.remotes.delete(link.remote);
    // Our reconnect ended it: the new connection id can relay again at once. Otherwise wait again.
    friend.relayDue = reason === 'identity_changed';
    this.#host.refresh(friend);
  }
}
