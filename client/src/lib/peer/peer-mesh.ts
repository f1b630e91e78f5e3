/**
 * The {@link PeerNetwork} of the browser: peer connections to friends' connections, opened on demand
 * over the signaling gateway.
 *
 * - `connect(friend)` knocks (reaching all the friend's connections). Of two connections, the one
 *   with the smaller id dials (`initiator.ts`): a knocked connection that should dial does; one that
 *   should not answers with a knock aimed at the knocker, which then dials. Glare cannot happen, and
 *   crossing knocks meet an attempt already under way and are ignored.
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
import {
  exhaustive,
  type ClientFrame,
  type IncomingSignalFrame,
  type PeerSignal,
  type SignalPayload,
} from '../../../../shared/protocol.js';
import { Emitter } from '../emitter.js';
import { toError } from './errors.js';
import { FriendLinks } from './friend-links.js';
import { shouldInitiate } from './initiator.js';
import { rtcConfiguration, type IceSettings, type PeerFactory, type PeerSetup } from './peer-factory.js';
import type { ChunkChannel } from '../transfer/chunk-channel.js';
import { relayChunkChannel } from '../transfer/relay-chunk-channel.js';
import { PeerLink, type LinkCloseReason } from './peer-link.js';
import {
  NO_BYE_AFTER,
  PEER_TIMING,
  REDIAL_AFTER,
  REDIAL_BACKOFF,
  type PeerGateway,
  type PeerMeshOptions,
  type PeerTiming,
} from './peer-mesh-options.js';
import { silentPeerLog, type PeerLog } from './peer-log.js';
import type { PeerNetwork, PeerNetworkEvents, PeerPath } from './peer-network.js';
import { RelayLadder } from './relay-ladder.js';

export type { PeerGateway, PeerMeshOptions, PeerTiming } from './peer-mesh-options.js';
export { PEER_TIMING, REDIAL_BACKOFF } from './peer-mesh-options.js';

export class PeerMesh implements PeerNetwork {
  /** This page's instance, told in every `peer_hello`: kept across signaling reconnects. */
  readonly instance: string;
  readonly #gateway: PeerGateway;
  readonly #options: PeerMeshOptions;
  readonly #timing: PeerTiming;
  readonly #log: PeerLog;
  readonly #now: () => number;
  readonly #events = new Emitter<PeerNetworkEvents>();
  readonly #friends = new Map<string, FriendLinks>();
  readonly #ladder: RelayLadder;
  readonly #unsubscribe: Array<() => void>;
  /** This connection's id, from the latest `hello`. */
  #self: string | null = null;
  /** undefined: not loaded yet; null: no WebRTC here. */
  #factory: PeerFactory | null | undefined;
  #factoryLoading: Promise<PeerFactory | null> | null = null;

  constructor(options: PeerMeshOptions) {
    this.#gateway = options.gateway;
    this.#options = options;
    this.#timing = { ...PEER_TIMING, ...options.timing };
    this.#log = options.log ?? silentPeerLog;
    this.#now = options.now ?? Date.now;
    this.instance = options.instance ?? crypto.randomUUID();
    const { gateway } = options;
    this.#ladder = new RelayLadder({
      gateway,
      timing: this.#timing,
      instance: this.instance,
      now: this.#now,
      log: this.#log,
      ...(options.relayPacer ? { pacer: options.relayPacer } : {}),
      ...(options.newRelaySessionId ? { newSessionId: options.newRelaySessionId } : {}),
      host: {
        friend: (friendId) => this.#friends.get(friendId),
        self: () => this.#self,
        hasWebRTC: () => this.#factory !== null,
        link: (friendId, connectionId, open) => this.#events.emit('link', { friendId, connectionId, open }),
        hello: (friendId, connectionId) => this.#identified(friendId, connectionId),
        message: (friendId, connectionId, message) =>
          this.#events.emit('message', { friendId, connectionId, message }),
        chunk: (friendId, connectionId, frame) =>
          this.#events.emit('chunk', { friendId, connectionId, frame }),
        refresh: (friend) => this.#refresh(friend),
        ...(options.mark ? { mark: options.mark } : {}),
      },
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
    void this.#resolveFactory();
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
    if (!this.#canSignal(friend) || friend.redialTimer !== undefined) return;
    if (open) {
      if (now - friend.lastKnockAt >= this.#timing.rediscoverMs) this.#knock(friend);
    } else if (!friend.trying && !this.#settled(friend)) {
      this.#knock(friend);
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
      this.#ensure(friend);
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
        if (friend.openLinks().length > 0 && friend.wantedUntil > this.#now() && this.#canSignal(friend)) {
          this.#knock(friend);
        } else {
          this.#ensure(friend);
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
        this.#handleKnock(friend, from.connectionId);
        break;
      case 'signal':
        this.#handleLinkSignal(friend, from.connectionId, data.link, data.signal);
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

  #handleKnock(friend: FriendLinks, remote: string): void {
    if (this.#self === null) return;
    if (this.#factory === null) {
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
    if (shouldInitiate(this.#self, remote)) this.#dial(friend, remote);
    else this.#sendSignal(friend.id, remote, { kind: 'knock' });
  }

  #handleLinkSignal(friend: FriendLinks, remote: string, linkId: string, signal: PeerSignal): void {
    const link = friend.links.get(linkId);
    if (link) {
      if (link.remote === remote) link.signal(signal);
      else this.#log.debug('peer: dropped a signal from another connection', { link: linkId });
      return;
    }
    if (signal.type === 'offer' && this.#factory === null && this.#self !== null) {
      this.#ladder.relay.open(friend.id, remote);
      return;
    }
    if (signal.type !== 'offer' || this.#factory === null || this.#self === null) {
      this.#log.debug('peer: dropped a signal for a link not held', { link: linkId, type: signal.type });
      return;
    }
    const attempt = friend.attemptTo(remote);
    if (attempt) {
      // Glare should not happen; if it does, the rule settles it the same way on both sides.
      if (attempt.initiator && shouldInitiate(this.#self, remote)) {
        this.#log.debug('peer: dropped a competing offer', { link: linkId });
        return;
      }
      attempt.close('replaced');
    }
    this.#createLink(friend, remote, linkId, false).signal(signal);
  }

  // ---- links -----------------------------------------------------------------------------------

  #dial(friend: FriendLinks, remote: string): void {
    this.#createLink(friend, remote, this.#options.newLinkId?.() ?? crypto.randomUUID(), true);
  }

  #createLink(friend: FriendLinks, remote: string, id: string, initiator: boolean): PeerLink {
    clearTimeout(friend.knockTimer);
    friend.knockTimer = undefined;
    const link: PeerLink = new PeerLink({
      id,
      friendId: friend.id,
      remote,
      instance: this.instance,
      initiator,
      connectTimeoutMs: this.#timing.connectTimeoutMs,
      iceDisconnectedMs: this.#timing.iceDisconnectedMs,
      log: this.#log,
      callbacks: {
        signal: (signal) => this.#sendSignal(friend.id, remote, { kind: 'signal', link: id, signal }),
        open: () => this.#handleOpen(friend, link),
        hello: () => this.#identified(friend.id, remote),
        message: (message) =>
          this.#events.emit('message', { friendId: friend.id, connectionId: remote, message }),
        chunk: (frame) => this.#events.emit('chunk', { friendId: friend.id, connectionId: remote, frame }),
        path: () => this.#refresh(friend),
        close: (reason, wasOpen) => this.#handleClosed(friend, link, reason, wasOpen),
      },
    });
    friend.links.set(id, link);
    link.start(this.#setup());
    this.#refresh(friend);
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
    if (first) this.#options.mark?.(`parley:open:${friend.id}`);
    this.#events.emit('link', { friendId: friend.id, connectionId: link.remote, open: true });
    // Moved off the server relay (the chat layer resends what was unacknowledged on the new link).
    this.#ladder.upgraded(friend, link.remote);
    this.#refresh(friend);
  }

  #handleClosed(friend: FriendLinks, link: PeerLink, reason: LinkCloseReason, wasOpen: boolean): void {
    friend.links.delete(link.id);
    if (!NO_BYE_AFTER.has(reason)) {
      this.#sendSignal(friend.id, link.remote, { kind: 'bye', link: link.id });
    }
    if (wasOpen && !friend.openLinkTo(link.remote)) {
      // A relay session the other side opened meanwhile takes over: to the chat layer, a replaced link.
      const relayed = this.#ladder.relay.openLinkTo(friend.id, link.remote) !== undefined;
      this.#events.emit('link', { friendId: friend.id, connectionId: link.remote, open: relayed });
    }
    const knockedAt = friend.knocksWhileOpen.get(link.remote);
    friend.knocksWhileOpen.delete(link.remote);
    if (this.#friends.get(friend.id) !== friend) return; // forgotten meanwhile
    if (
      wasOpen &&
      REDIAL_AFTER.has(reason) &&
      knockedAt !== undefined &&
      this.#now() - knockedAt < this.#timing.connectTimeoutMs &&
      friend.online
    ) {
      this.#handleKnock(friend, link.remote);
    }
    if (reason === 'ice_failed') this.#ladder.iceFailed(friend, link.remote);
    if (REDIAL_AFTER.has(reason)) this.#scheduleRedial(friend);
    this.#refresh(friend);
  }

  /** A link's hello arrived: reported once the link is open (`link` open comes first otherwise). */
  #identified(friendId: string, connectionId: string): void {
    const instance = this.instanceOf(friendId, connectionId);
    if (instance !== null) this.#events.emit('instance', { friendId, connectionId, instance });
  }

  #closeLinks(friend: FriendLinks, reason: LinkCloseReason): void {
    for (const link of [...friend.links.values()]) link.close(reason);
  }

  // ---- the redial loop -------------------------------------------------------------------------

  /** Knocks if the friend is wanted and reachable and nothing is under way yet. */
  #ensure(friend: FriendLinks): void {
    if (!this.#canSignal(friend) || !friend.wanted(this.#now())) return;
    if (this.#settled(friend) || friend.trying) return;
    this.#knock(friend);
  }

  /** Knocks on every connection of the friend; an attempt must start within the connect timeout. */
  #knock(friend: FriendLinks): void {
    friend.lastKnockAt = this.#now();
    this.#sendSignal(friend.id, undefined, { kind: 'knock' });
    if (this.#settled(friend)) return; // looking for more devices: nothing to wait for
    clearTimeout(friend.knockTimer);
    friend.knockTimer = setTimeout(() => {
      friend.knockTimer = undefined;
      this.#scheduleRedial(friend);
      this.#refresh(friend);
    }, this.#timing.connectTimeoutMs);
  }

  #scheduleRedial(friend: FriendLinks): void {
    if (!this.#canSignal(friend) || !friend.wanted(this.#now())) return;
    if (this.#settled(friend) || friend.trying) return;
    const delay = friend.nextRedialDelay(
      this.#options.backoff ?? REDIAL_BACKOFF,
      this.#options.random ?? Math.random,
    );
    this.#log.debug('peer: dialing again', { friendId: friend.id, delay });
    friend.redialTimer = setTimeout(() => {
      friend.redialTimer = undefined;
      this.#ensure(friend);
      this.#refresh(friend);
    }, delay);
  }

  // ---- helpers ---------------------------------------------------------------------------------

  #friend(friendId: string): FriendLinks {
    let friend = this.#friends.get(friendId);
    if (!friend) {
      friend = new FriendLinks(friendId);
      this.#friends.set(friendId, friend);
    }
    return friend;
  }

  #canSignal(friend: FriendLinks): boolean {
    return this.#self !== null && friend.online;
  }

  /**
   * Nothing better to look for: a data channel is open, or this browser has no WebRTC and the relay
   * is under way. (Over the relay, a browser with WebRTC keeps dialing for a data channel.)
   */
  #settled(friend: FriendLinks): boolean {
    if (friend.openLinks().length > 0) return true;
    return this.#factory === null && this.#ladder.relay.linksOf(friend.id).length > 0;
  }

  #sendSignal(userId: string, connectionId: string | undefined, data: SignalPayload): void {
    const frame: ClientFrame = {
      type: 'signal',
      to: connectionId === undefined ? { userId } : { userId, connectionId },
      data,
    };
    if (!this.#gateway.send(frame)) this.#log.debug('peer: no signaling connection', { kind: data.kind });
  }

  /** After anything about the friend changed: the ladder's next step, then the path. */
  #refresh(friend: FriendLinks): void {
    this.#ladder.update(friend);
    const path = friend.currentPath(this.#ladder.state(friend.id));
    if (path === friend.path) return;
    friend.path = path;
    if (this.#friends.get(friend.id) === friend) this.#events.emit('path', { friendId: friend.id, path });
  }

  #resolveFactory(): PeerFactory | null | Promise<PeerFactory | null> {
    if (this.#factory !== undefined) return this.#factory;
    if (this.#factoryLoading) return this.#factoryLoading;
    const settle = (factory: PeerFactory | null) => {
      this.#factory = factory;
      if (!factory) {
        this.#log.warn('peer: no WebRTC in this browser; chats cannot connect');
        for (const friend of this.#friends.values()) {
          friend.clearTimers();
          this.#closeLinks(friend, 'error');
          // Knocks still find the friend's connections; the server relay carries the chat.
          this.#ensure(friend);
          this.#refresh(friend);
        }
      }
      return factory;
    };
    let loaded: PeerFactory | null | Promise<PeerFactory | null>;
    try {
      loaded = this.#options.loadFactory();
    } catch (error) {
      loaded = Promise.reject(toError(error));
    }
    if (!(loaded instanceof Promise)) return settle(loaded);
    this.#factoryLoading = loaded.then(settle, (error: unknown) => {
      // Tried again at the next attempt (e.g. the chunk failed to download).
      this.#factoryLoading = null;
      this.#log.warn('peer: could not load the WebRTC library', { error: toError(error).message });
      throw error;
    });
    return this.#factoryLoading;
  }

  #setup(): PeerSetup | Promise<PeerSetup> {
    const factory = this.#resolveFactory();
    const ice = this.#options.iceSettings?.() ?? { iceServers: [] };
    const build = (ready: PeerFactory | null, settings: IceSettings): PeerSetup => {
      if (!ready) throw new Error('no WebRTC in this browser');
      return { factory: ready, config: rtcConfiguration(settings) };
    };
    if (!(factory instanceof Promise) && !(ice instanceof Promise)) {
      try {
        return build(factory, ice);
      } catch (error) {
        return Promise.reject(toError(error));
      }
    }
    return Promise.all([factory, ice]).then(([ready, settings]) => build(ready, settings));
  }
}
