/**
 * The peer mesh's options, timing defaults and close-reason policy: what a caller tunes, kept apart
 * from the mesh's logic.
 */
import type { BackoffPolicy } from '../backoff.js';
import type { Gateway } from '../gateway.js';
import type { RelayPacer } from '../relay/relay-pacer.js';
import type { IceSettings, PeerFactory } from './peer-factory.js';
import type { LinkCloseReason } from './peer-link.js';
import type { PeerLog } from './peer-log.js';

/** The little of the gateway the mesh uses. */
export type PeerGateway = Pick<Gateway, 'on' | 'send'>;

export interface PeerTiming {
  /** How long one attempt (or a knock left unanswered) may take before it counts as failed. */
  connectTimeoutMs: number;
  /** How long ICE may stay `disconnected` before the link is dropped and dialed again. */
  iceDisconnectedMs: number;
  /** How long after `connect` the app counts as wanting the friend (redials until then). */
  wantWindowMs: number;
  /** How long open links outlive the friend showing offline (a signaling reconnect looks the same). */
  offlineGraceMs: number;
  /** With links open, `connect` knocks again (to find the friend's new devices) at most this often. */
  rediscoverMs: number;
  /** How long a wanted friend may go without a data channel before the server relay is used. */
  relayAfterMs: number;
  /** How long a relay session's key exchange may take. */
  relayKeyTimeoutMs: number;
}

export const PEER_TIMING: PeerTiming = {
  connectTimeoutMs: 15_000,
  iceDisconnectedMs: 4_000,
  wantWindowMs: 10 * 60_000,
  offlineGraceMs: 15_000,
  rediscoverMs: 30_000,
  relayAfterMs: 6_000,
  relayKeyTimeoutMs: 10_000,
};

/** Redials: 0.5 s doubling to 15 s, full jitter. */
export const REDIAL_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 15_000 };

export interface PeerMeshOptions {
  gateway: PeerGateway;
  /** The WebRTC library; null where there is none (the mesh then stays idle). Called until it succeeds. */
  loadFactory: () => PeerFactory | null | Promise<PeerFactory | null>;
  /** ICE servers and policy for each new peer connection; `[]` by default. */
  iceSettings?: () => IceSettings | Promise<IceSettings>;
  timing?: Partial<PeerTiming>;
  backoff?: BackoffPolicy;
  random?: () => number;
  now?: () => number;
  newLinkId?: () => string;
  newRelaySessionId?: () => string;
  /** This page's instance, told in `peer_hello` (random by default). */
  instance?: string;
  /** Paces relayed frames under the server's limits; one per mesh by default. */
  relayPacer?: RelayPacer;
  /** Measurement marks (`parley:connect:<id>`, `parley:open:<id>`, `parley:relay:<id>`); none by default. */
  mark?: (name: string) => void;
  log?: PeerLog;
}

/** Reasons after which this side dials again (if the friend is online and wanted). */
export const REDIAL_AFTER: ReadonlySet<LinkCloseReason> = new Set<LinkCloseReason>([
  'timeout',
  'ice_failed',
  'ice_disconnected',
  'channel_closed',
  'error',
  'bye',
]);
/** Reasons that tell the other side nothing it does not know, or that it cannot receive. */
export const NO_BYE_AFTER: ReadonlySet<LinkCloseReason> = new Set<LinkCloseReason>([
  'bye',
  'channel_closed',
  'offline',
  'unfriended',
]);
