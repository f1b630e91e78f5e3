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
  /** Something arrived on the file channel (unvalidated: binary chunk frames or control text). */
  fileData(raw: unknown): void;
  /** The ICE connection state changed. */
  iceState(state: RTCIceConnectionState): void;
  /** The connection closed by itself (remote close, failure); `error` when it failed. */
  close(error?: Error): void;
}

/**
 * The second data channel of a peer connection, for files (`negotiated: true`, id
 * {@link FILE_CHANNEL_ID}, binary as `ArrayBuffer`), so chat never waits behind file chunks.
 */
export interface FileChannelHandle {
  /** Queues one message; throws when the channel is not open (as `RTCDataChannel.send` does). */
  send(data: ArrayBuffer | string): void;
  readonly bufferedAmount: number;
  /** Calls `listener` on each `bufferedamountlow`; returns the unsubscribe. */
  onDrain(listener: () => void): () => void;
}

/**
 * The file channel's fixed id: above the ids the browser assigns to announced channels, so
 * simple-peer's non-initiator never takes it for its own channel (it is never announced).
 */
export const FILE_CHANNEL_ID = 1000;

/** One peer connection with a data channel for peer messages and one for files. */
export interface PeerHandle {
  /** Feeds signaling data from the other side. */
  signal(signal: PeerSignal): void;
  send(data: string): void;
  /** Bytes queued on the data channel and not sent yet. */
  readonly bufferedAmount: number;
  /** The file channel; null where the library gave no access to the connection. */
  readonly files: FileChannelHandle | null;
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
