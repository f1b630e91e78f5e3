/**
 * The seam between the peer layer and a WebRTC library: what one peer connection must offer. The
 * browser uses simple-peer (`simple-peer-factory.ts`); unit tests inject fakes and run in Node.
 */
import type { PeerSignal } from '../../../../shared/protocol.js';
import type { StatsEntry } from './link-path.js';

/** What a peer connection reports. Never called synchronously from inside the factory call. */
export interface PeerHandleEvents {
  /** Signaling data (offer, answer, candidate) to deliver to the other side. */
  signal(signal: PeerSignal): void;
  /** The data channel opened. */
  open(): void;
  /** Something arrived on the data channel (unvalidated). */
  data(raw: unknown): void;
  /** The ICE connection state changed. */
  iceState(state: RTCIceConnectionState): void;
  /** The connection closed by itself (remote close, failure); `error` when it failed. */
  close(error?: Error): void;
}

/** One peer connection with one data channel. */
export interface PeerHandle {
  /** Feeds signaling data from the other side. */
  signal(signal: PeerSignal): void;
  send(data: string): void;
  /** Bytes queued on the data channel and not sent yet. */
  readonly bufferedAmount: number;
  /** The connection's stats report (for the selected candidate pair). */
  stats(): Promise<StatsEntry[]>;
  /**
   * Hands the live connection new ICE servers and policy (`RTCPeerConnection.setConfiguration`):
   * used by its next ICE restart; allocations already made keep refreshing with their credentials.
   */
  setConfiguration(config: RTCConfiguration): void;
  /** Closes the connection; no event is reported after this. */
  destroy(): void;
}

export interface PeerOptions {
  /** Whether this end makes the offer (and creates the data channel). */
  initiator: boolean;
  config: RTCConfiguration;
}

export type PeerFactory = (options: PeerOptions, events: PeerHandleEvents) => PeerHandle;

/** The ICE settings of new peer connections; TURN servers come from `GET /api/turn` later. */
export interface IceSettings {
  iceServers: RTCIceServer[];
  iceTransportPolicy?: RTCIceTransportPolicy;
}

/** The RTCConfiguration for these settings. */
export function rtcConfiguration(settings: IceSettings): RTCConfiguration {
  const config: RTCConfiguration = { iceServers: settings.iceServers };
  if (settings.iceTransportPolicy) config.iceTransportPolicy = settings.iceTransportPolicy;
  return config;
}

/** A factory and the configuration for the next peer connection. */
export interface PeerSetup {
  factory: PeerFactory;
  config: RTCConfiguration;
}
