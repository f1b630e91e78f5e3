/**
 * Carries peer-connection signaling (knocks, SDP, ICE) from one connection to a friend's connection,
 * on whatever node it is. The sender is the authenticated socket, never the frame. Only between
 * friends, only to connections that are live, bounded in size (the frame schema) and rate.
 */
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { wsError, type ErrorFrame, type IncomingSignalFrame } from '../../../shared/protocol.js';
import type { z } from 'zod';
import type { signalFrameSchema } from '../../../shared/protocol.js';
import type { Store } from '../store/store.js';
import type { UserEvents } from './user-events.js';

export type SignalFrame = z.infer<typeof signalFrameSchema>;

/** Who is signaling: the authenticated connection. */
export interface SignalSender {
  id: string;
  user: { id: string };
}

export interface SignalRouterDeps {
  store: Store;
  events: UserEvents;
  /** Signals allowed per connection per window. */
  signalsPerWindow: number;
  windowMs: number;
}

export class SignalRouter {
  readonly #store: Store;
  readonly #events: UserEvents;
  readonly #limiter: RateLimiterMemory;

  constructor(deps: SignalRouterDeps) {
    this.#store = deps.store;
    this.#events = deps.events;
    this.#limiter = new RateLimiterMemory({
      keyPrefix: 'ws-signals',
      points: deps.signalsPerWindow,
      duration: Math.max(1, Math.round(deps.windowMs / 1000)),
    });
  }

  /** Routes one signal; resolves with the `error` frame to answer the sender with, if any. */
  async route(sender: SignalSender, frame: SignalFrame): Promise<ErrorFrame | null> {
    try {
      await this.#limiter.consume(sender.id);
    } catch (err) {
      if (err instanceof RateLimiterRes) return wsError('rate_limited', undefined, 'signal');
      throw err;
    }
    const { to, data } = frame;
    if (to.connectionId === undefined && data.kind !== 'knock') {
      return wsError('bad_frame', 'Only a knock may be sent without to.connectionId', 'signal');
    }
    if (to.userId === sender.user.id || !(await this.#store.areFriends(sender.user.id, to.userId))) {
      return wsError('not_friends', undefined, 'signal');
    }
    const live =
      to.connectionId === undefined
        ? (await this.#store.getPresence([to.userId]))[0]?.status !== 'offline'
        : await this.#store.isConnectionLive(to.userId, to.connectionId);
    if (!live) return wsError('peer_offline', undefined, 'signal');

    const routed: IncomingSignalFrame = {
      type: 'signal',
      from: { userId: sender.user.id, connectionId: sender.id },
      data,
    };
    if (to.connectionId === undefined) await this.#events.publishStrict(to.userId, routed);
    else await this.#events.publishTo(to.userId, to.connectionId, routed);
    return null;
  }
}
