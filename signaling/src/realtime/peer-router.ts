/**
 * Carries what two friends' browsers send each other through the server: peer-connection signaling
 * (knocks, SDP, ICE) and, when no peer connection can be opened, the end-to-end encrypted relay. The
 * sender is the authenticated socket, never the frame. Only between friends, only to live
 * connections, bounded in size (the frame schemas) and rate (signals per connection, relayed bytes
 * per user across all nodes).
 */
import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { z } from 'zod';
import {
  wsError,
  type ErrorFrame,
  type relayFrameSchema,
  type RoutedFrame,
  type signalFrameSchema,
} from '../../../shared/protocol.js';
import type { Store } from '../store/store.js';
import type { UserEvents } from './user-events.js';

export type SignalFrame = z.infer<typeof signalFrameSchema>;
export type RelayFrame = z.infer<typeof relayFrameSchema>;

/** Who is sending: the authenticated connection. */
export interface PeerSender {
  id: string;
  user: { id: string };
}

export interface PeerRouterLimits {
  /** Signals allowed per connection per window. */
  signalsPerWindow: number;
  /** Relayed bytes allowed per user per window, summed over all their connections and nodes. */
  relayBytesPerWindow: number;
  windowMs: number;
}

/** How long a passed friends-and-live check is trusted for a relay stream (saves two store reads). */
const ROUTE_CACHE_MS = 5_000;
const ROUTE_CACHE_MAX = 10_000;

export class PeerRouter {
  readonly #store: Store;
  readonly #events: UserEvents;
  readonly #signals: RateLimiterMemory;
  readonly #relayBytes: RateLimiterAbstract;
  readonly #routes = new Map<string, number>();

  constructor(deps: { store: Store; events: UserEvents; limits: PeerRouterLimits }) {
    const { store, events, limits } = deps;
    this.#store = store;
    this.#events = events;
    const duration = Math.max(1, Math.round(limits.windowMs / 1000));
    this.#signals = new RateLimiterMemory({
      keyPrefix: 'ws-signals',
      points: limits.signalsPerWindow,
      duration,
    });
    this.#relayBytes = store.rateLimiter({
      keyPrefix: 'relay-bytes',
      points: limits.relayBytesPerWindow,
      duration,
    });
  }

  /** Routes one signal; resolves with the `error` frame to answer the sender with, if any. */
  async signal(sender: PeerSender, frame: SignalFrame): Promise<ErrorFrame | null> {
    const { to, data } = frame;
    if (!(await consume(this.#signals, sender.id, 1)))
      return wsError('rate_limited', undefined, 'signal', to);
    if (to.connectionId === undefined && data.kind !== 'knock') {
      return wsError('bad_frame', 'Only a knock may be sent without to.connectionId', 'signal', to);
    }
    const refused = await this.#check(sender, to.userId, to.connectionId, 'signal');
    if (refused) return refused;
    const routed: RoutedFrame = {
      type: 'signal',
      from: { userId: sender.user.id, connectionId: sender.id },
      data,
    };
    if (to.connectionId === undefined) await this.#events.publishStrict(to.userId, routed);
    else await this.#events.publishTo(to.userId, to.connectionId, routed);
    return null;
  }

  /** Relays one opaque payload to one connection of a friend. */
  async relay(sender: PeerSender, frame: RelayFrame, size: number): Promise<ErrorFrame | null> {
    if (!(await consume(this.#relayBytes, sender.user.id, size)))
      return wsError('rate_limited', undefined, 'relay');
    const { to, data } = frame;
    const key = `${sender.id} ${to.userId} ${to.connectionId}`;
    const until = this.#routes.get(key);
    if (until === undefined || until < Date.now()) {
      const refused = await this.#check(sender, to.userId, to.connectionId, 'relay');
      if (refused) {
        this.#routes.delete(key);
        return refused;
      }
      if (this.#routes.size >= ROUTE_CACHE_MAX) this.#routes.clear();
      this.#routes.set(key, Date.now() + ROUTE_CACHE_MS);
    }
    await this.#events.publishTo(to.userId, to.connectionId, {
      type: 'relay',
      from: { userId: sender.user.id, connectionId: sender.id },
      data,
    });
    return null;
  }

  /** Friends only, never yourself, and the target (one connection, or any) must be connected. */
  async #check(sender: PeerSender, userId: string, connectionId: string | undefined, ref: string) {
    const to = connectionId === undefined ? { userId } : { userId, connectionId };
    if (userId === sender.user.id || !(await this.#store.areFriends(sender.user.id, userId))) {
      return wsError('not_friends', undefined, ref, to);
    }
    const live =
      connectionId === undefined
        ? (await this.#store.getPresence([userId]))[0]?.status !== 'offline'
        : await this.#store.isConnectionLive(userId, connectionId);
    return live ? null : wsError('peer_offline', undefined, ref, to);
  }
}

/** `false` when over the limit. */
async function consume(limiter: RateLimiterAbstract, key: string, points: number): Promise<boolean> {
  try {
    await limiter.consume(key, points);
    return true;
  } catch (err) {
    if (err instanceof RateLimiterRes) return false;
    throw err;
  }
}
