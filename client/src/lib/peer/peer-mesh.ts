/**
 * The {@link PeerNetwork} of the browser: peer connections to friends' connections, opened on demand
 * over the signaling gateway.
 *
 * - `connect(friend)` knocks (reaching all the friend's connections). Of two connections, the one
 *   with the smaller id dials (`initiator.ts`): a knocked connection that should dial does; one that
 *   should not answers with a knock aimed at the knocker, which then dials. Glare cannot happen, and
 *   crossing knocks meet an attempt already under way and are ignored. Knocks, dials and the redial
 *   loop are `link-dialer.ts`; this class follows the gateway (identity, presence, friendships).
 * - Each attempt has a fresh `link` id; signals for links this side does not hold are dropped.
 * - A link closes on `bye`, channel close, ICE failure, timeout, the friend going offline (after a
 *   grace, as presence also blinks when their signaling connection merely reconnects) or being
 *   unfriended. While the friend is online and the app wants them (`connect` in the last
 *   `wantWindowMs`), it is dialed again with jittered backoff.
 * - Links are keyed by the friend's connection id and survive our own gateway reconnecting (an open
 *   data channel does not need the server); the new connection id from `hello` is used from then on.
 *   When a new link to the same connection opens, the old one is closed.
 * - When no data channel opens in time, the friend is reached through the end-to-end encrypted
 *   server relay (`relay-ladder.ts`) until one does; where there is no WebRTC at all, knocks still
 *   find the friend's connections and the relay is used at once.
 */
import type { PresenceStatus } from '../../../../shared/api.js';
import type { PeerMessage } from '../../../../shared/peer-protocol.js';
import { exhaustive, type IncomingSignalFrame } from '../../../../shared/protocol.js';
import { Emitter } from '../emitter.js';
import { FriendLinks } from './friend-links.js';
import { LinkDialer } from './link-dialer.js';
import { rtcConfiguration, type IceSettings } from './peer-factory.js';
import type { ChunkChannel } from '../transfer/chunk-channel.js';
import { relayChunkChannel } from '../transfer/relay-chunk-channel.js';
import type { LinkCloseReason } from './peer-link.js';
import { PEER_TIMING, type PeerMeshOptions, type PeerTiming } from './peer-mesh-options.js';
import { silentPeerLog, type PeerLog } from './peer-log.js';
import type { PeerNetwork, PeerNetworkEvents, PeerPath } from './peer-network.js';
import { RelayLadder, type RelayLadderHost } from './relay-ladder.js';
import { WebRTCLoader } from './webrtc-loader.js';

export type { PeerGateway, PeerMeshOptions, PeerTiming } from './peer-mesh-options.js';
export { PEER_TIMING, REDIAL_BACKOFF } from './peer-mesh-options.js';

export class PeerMesh implements PeerNetwork {
  /** This page's instance, told in every `peer_hello`: kept across signaling reconnects. */
  readonly instance: string;
  readonly #options: PeerMeshOptions;
  readonly #timing: PeerTiming;
  readonly #log: PeerLog;
  readonly #now: () => number;
  readonly #events = new Emitter<PeerNetworkEvents>();
  readonly #friends = new Map<string, FriendLinks>();
  readonly #webrtc: WebRTCLoader;
  readonly #ladder: RelayLadder;
  readonly #dialer: LinkDialer;
  readonly #unsubscribe: Array<() => void>;
  /** This connection's id, from the latest `hello`. */
  #self: string | null = null;

  constructor(options: PeerMeshOptions) {
    this.#options = options;
    this.#timing = { ...PEER_TIMING, ...options.timing };
    this.#log = options.log ?? silentPeerLog;
    this.#now = options.now ?? Date.now;
    this.instance = options.instance ?? crypto.randomUUID();
    const { gateway } = options;
    this.#webrtc = new WebRTCLoader(options, this.#log, () => this.#withoutWebRTC());
    // The ladder and the dialer report to the chat layer alike: links, hellos, messages, chunks.
    const host: RelayLadderHost = {
      friend: (friendId) => this.#friends.get(friendId),
      self: () => this.#self,
      hasWebRTC: () => !this.#webrtc.unavailable,
      link: (friendId, connectionId, open) => this.#events.emit('link', { friendId, connectionId, open }),
      hello: (friendId, connectionId) => this.#identified(friendId, connectionId),
      message: (friendId, connectionId, message) =>
        this.#events.emit('message', { friendId, connectionId, message }),
      chunk: (friendId, connectionId, frame) => this.#events.emit('chunk', { friendId, connectionId, frame }),
      refresh: (friend) => this.#refresh(friend),
      ...(options.mark ? { mark: options.mark } : {}),
    };
    this.#ladder = new RelayLadder({
      gateway,
      timing: this.#timing,
      instance: this.instance,
      now: this.#now,
      log: this.#log,
      ...(options.relayPacer ? { pacer: options.relayPacer } : {}),
      ...(options.newRelaySessionId ? { newSessionId: options.newRelaySessionId } : {}),
      host,
    });
    this.#dialer = new LinkDialer({
      mesh: options,
      host,
      ladder: this.#ladder,
      webrtc: this.#webrtc,
      timing: this.#timing,
      instance: this.instance,
      now: this.#now,
      log: this.#log,
    });
    this.#unsubscribe = [
      gateway.on('hello', (frame) => this.#handleHello(frame.connectionId, frame.friends)),
      gateway.on('presence', (frame) => this.#setStatus(this.#friend(frame.userId), frame.status)),
      gateway.on('friend_accepted', (frame) =>
        this.#setStatus(this.#friend(frame.friend.id), frame.friend.status),
      ),
      gateway.on('friend_removed', (frame) => this.#forget(frame.userId)),
      gateway.on('signal', (frame) => this.#handleSignal(frame)),
      gateway.on('error', (frame) => {
        // Not tied to one link: the attempt concerned times out and is dialed again.
        if (frame.ref === 'signal') this.#log.debug('peer: a signal was refused', { code: frame.code });
      }),
    ];
    // Loaded now so that the first dial does not wait for it.
    void this.#webrtc.load();
  }

  /** This connection's id from the latest `hello` (null before it and after `close`). */
  get connectionId(): string | null {
    return this.#self;
  }

  connect(friendId: string): void {
    const friend = this.#friend(friendId);
    const now = this.#now();
    friend.wantedUntil = now + this.#timing.wantWindowMs;
    const open = friend.openLinks().length > 0;
    if (!open && !friend.trying) this.#options.mark?.(`parley:connect:${friendId}`);
    if (!this.#dialer.canSignal(friend) || friend.redialTimer !== undefined) return;
    if (open) {
      if (now - friend.lastKnockAt >= this.#timing.rediscoverMs) this.#dialer.knock(friend);
    } else if (!friend.trying && !this.#dialer.settled(friend)) {
      this.#dialer.knock(friend);
    }
    this.#refresh(friend);
  }

  send(friendId: string, message: PeerMessage): number {
    let sent = 0;
    for (const remote of this.openLinks(friendId)) {
      if (this.sendTo(friendId, remote, message)) sent += 1;
    }
    return sent;
  }

  /** To that connection's data channel when one is open, else its relay session. */
  sendTo(friendId: string, connectionId: string, message: PeerMessage): boolean {
    const link =
      this.#friends.get(friendId)?.openLinkTo(connectionId) ??
      this.#ladder.relay.openLinkTo(friendId, connectionId);
    return link?.send(message) ?? false;
  }

  fileChannel(friendId: string, connectionId: string): ChunkChannel | null {
    const link = this.#friends.get(friendId)?.openLinkTo(connectionId);
    if (link) return link.fileChannel();
    const relayed = this.#ladder.relay.openLinkTo(friendId, connectionId);
    return relayed ? relayChunkChannel(relayed) : null;
  }

  /** From the link `fileChannel` and `sendTo` use: the data channel when one is open, else the relay. */
  instanceOf(friendId: string, connectionId: string): string | null {
    const link =
      this.#friends.get(friendId)?.openLinkTo(connectionId) ??
      this.#ladder.relay.openLinkTo(friendId, connectionId);
    return link?.remoteInstance ?? null;
  }

  openLinks(friendId: string): string[] {
    const channels = this.#friends.get(friendId)?.openRemotes() ?? [];
    return [...new Set([...channels, ...this.#ladder.openRemotes(friendId)])];
  }

  path(friendId: string): PeerPath {
    return this.#friends.get(friendId)?.path ?? 'none';
  }

  on<K extends keyof PeerNetworkEvents>(event: K, handler: (e: PeerNetworkEvents[K]) => void): () => void {
    return this.#events.on(event, handler);
  }

  /** Closes the links to one friend (saying `bye`) and stops wanting them until `connect` again. */
  disconnect(friendId: string): void {
    const friend = this.#friends.get(friendId);
    if (!friend) return;
    friend.wantedUntil = 0;
    friend.clearTimers();
    this.#closeLinks(friend, 'local');
    this.#ladder.relay.closeFriend(friendId, 'local');
    this.#refresh(friend);
  }

  /**
   * Hands fresh ICE settings (new TURN credentials) to the live peer connections, for their next ICE
   * restart; new connections get them anyway. Allocations already made keep the credentials they
   * were made with.
   */
  applyIceSettings(settings: IceSettings): void {
    const config = rtcConfiguration(settings);
    for (const friend of this.#friends.values()) {
      for (const link of friend.links.values()) link.setConfiguration(config);
    }
  }

  /** {@link disconnect} for every friend; presence and this connection's identity are kept. */
  disconnectAll(): void {
    for (const friendId of [...this.#friends.keys()]) this.disconnect(friendId);
  }

  /** Closes every link and forgets everything (sign-out); the next `hello` starts afresh. */
  close(): void {
    this.disconnectAll();
    this.#friends.clear();
    this.#self = null;
    this.#ladder.relay.setSelf(null);
  }

  /** Also stops listening to the gateway. */
  dispose(): void {
    this.close();
    this.#ladder.relay.dispose();
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    this.#events.clear();
  }

  // ---- gateway frames --------------------------------------------------------------------------

  #handleHello(connectionId: string, friends: ReadonlyArray<{ id: string; status: PresenceStatus }>): void {
    const identityChanged = this.#self !== connectionId;
    this.#self = connectionId;
    // Relay sessions are bound to the connection id (and routed to it): they end with it.
    this.#ladder.relay.setSelf(connectionId);
    if (identityChanged) {
      // Attempts and knocks under the old id cannot finish: the other side signals a connection
      // that is gone. Open links need no server and stay.
      for (const friend of this.#friends.values()) {
        for (const link of [...friend.links.values()]) {
          if (link.state === 'connecting') link.close('identity_changed');
        }
        clearTimeout(friend.knockTimer);
        clearTimeout(friend.redialTimer);
        friend.knockTimer = friend.redialTimer = undefined;
        friend.failures = 0;
      }
    }
    const listed = new Set(friends.map((friend) => friend.id));
    // Unfriended while we were away.
    for (const friend of [...this.#friends.values()]) {
      if (friend.isFriend && !listed.has(friend.id)) this.#forget(friend.id);
    }
    for (const { id, status } of friends) this.#setStatus(this.#friend(id), status);
    for (const friend of this.#friends.values()) {
      this.#dialer.ensure(friend);
      this.#refresh(friend);
    }
  }

  #setStatus(friend: FriendLinks, status: PresenceStatus): void {
    const wasOnline = friend.online;
    friend.status = status;
    if (friend.online) {
      clearTimeout(friend.offlineTimer);
      friend.offlineTimer = undefined;
      if (!wasOnline) {
        friend.failures = 0;
        // Back from offline with a link that still looks open: their tab may have been closed and
        // reopened (a closed tab does not close our data channel at once), so look for their
        // connections again instead of trusting the old link.
        if (
          friend.openLinks().length > 0 &&
          friend.wantedUntil > this.#now() &&
          this.#dialer.canSignal(friend)
        ) {
          this.#dialer.knock(friend);
        } else {
          this.#dialer.ensure(friend);
        }
      }
    } else if (wasOnline || friend.links.size > 0) {
      clearTimeout(friend.knockTimer);
      clearTimeout(friend.redialTimer);
      friend.knockTimer = friend.redialTimer = undefined;
      for (const link of [...friend.links.values()]) {
        if (link.state === 'connecting') link.close('offline');
      }
      // Relayed to connections that are gone (a signaling reconnect gives a new id anyway).
      friend.remotes.clear();
      this.#ladder.relay.closeFriend(friend.id, 'offline');
      if (friend.openLinks().length > 0 && friend.offlineTimer === undefined) {
        friend.offlineTimer = setTimeout(() => {
          friend.offlineTimer = undefined;
          if (!friend.online) this.#closeLinks(friend, 'offline');
        }, this.#timing.offlineGraceMs);
      }
    }
    this.#refresh(friend);
  }

  /** No longer friends: everything closes now, without `bye` (the server would refuse it). */
  #forget(friendId: string): void {
    const friend = this.#friends.get(friendId);
    if (!friend) return;
    friend.clearTimers();
    friend.wantedUntil = 0;
    this.#closeLinks(friend, 'unfriended');
    this.#ladder.relay.closeFriend(friendId, 'unfriended');
    this.#friends.delete(friendId);
    if (friend.path !== 'none') this.#events.emit('path', { friendId, path: 'none' });
  }

  #handleSignal(frame: IncomingSignalFrame): void {
    const { from, data } = frame;
    const friend = this.#friends.get(from.userId);
    if (!friend?.isFriend || this.#self === null) {
      this.#log.debug('peer: dropped a signal from someone not known as a friend', { kind: data.kind });
      return;
    }
    this.#ladder.heardFrom(friend, from.connectionId);
    switch (data.kind) {
      case 'knock':
        this.#dialer.handleKnock(friend, from.connectionId);
        break;
      case 'signal':
        this.#dialer.handleLinkSignal(friend, from.connectionId, data.link, data.signal);
        break;
      case 'bye':
        // By link id: after our own reconnect the bye for an old link comes from our new id.
        friend.links.get(data.link)?.close('bye');
        break;
      default:
        exhaustive(data);
    }
    this.#refresh(friend);
  }

  // ---- helpers ---------------------------------------------------------------------------------

  /** A link's hello arrived: reported once the link is open (`link` open comes first otherwise). */
  #identified(friendId: string, connectionId: string): void {
    const instance = this.instanceOf(friendId, connectionId);
    if (instance !== null) this.#events.emit('instance', { friendId, connectionId, instance });
  }

  #closeLinks(friend: FriendLinks, reason: LinkCloseReason): void {
    for (const link of [...friend.links.values()]) link.close(reason);
  }

  #friend(friendId: string): FriendLinks {
    let friend = this.#friends.get(friendId);
    if (!friend) {
      friend = new FriendLinks(friendId);
      this.#friends.set(friendId, friend);
    }
    return friend;
  }

  /** After anything about the friend changed: the ladder's next step, then the path. */
  #refresh(friend: FriendLinks): void {
    this.#ladder.update(friend);
    const path = friend.currentPath(this.#ladder.state(friend.id));
    if (path === friend.path) return;
    friend.path = path;
    if (this.#friends.get(friend.id) === friend) this.#events.emit('path', { friendId: friend.id, path });
  }

  /** The library says there is no WebRTC here: attempts cannot finish, the server relay takes over. */
  #withoutWebRTC(): void {
    for (const friend of this.#friends.values()) {
      friend.clearTimers();
      this.#closeLinks(friend, 'error');
      // Knocks still find the friend's connections; the server relay carries the chat.
      this.#dialer.ensure(friend);
      this.#refresh(friend);
    }
  }
}
