/**
 * What the transfer logic needs from a link to the peer, whatever carries it (a data channel for
 * files, a TURN-relayed one, the server relay). The peer layer adapts its links to these.
 */
import type { TransferControl } from '../../../../shared/transfer-protocol.js';

/** Sends control messages (JSON) to the peer. */
export interface ControlChannel {
  /** `false` when the link is not open (the message is lost; the state machines resend on attach). */
  sendControl(message: TransferControl): boolean;
}

/** Sends chunk frames, with the send buffer's fill level for flow control. */
export interface ChunkChannel extends ControlChannel {
  /** Queues one frame (at most `DATA_CHANNEL_MESSAGE_MAX` bytes); `false` when the link is not open. */
  send(frame: ArrayBuffer): boolean;
  /** Bytes queued and not yet handed to the network (`RTCDataChannel.bufferedAmount`). */
  readonly bufferedAmount: number;
  /**
   * Calls `listener` each time `bufferedAmount` falls to `LOW_WATER_MARK` or below (the
   * `bufferedamountlow` event, with `bufferedAmountLowThreshold` set to it). Returns the unsubscribe.
   */
  onDrain(listener: () => void): () => void;
  /**
   * Limits of a slower channel (the server relay), for the sender to respect over this one: payload
   * bytes per chunk and bytes queued at most (when less than the sender's own; `onDrain` then fires
   * with room for a chunk), and the largest file it carries (larger files wait for another channel,
   * and the receiver refuses their chunks on this one).
   */
  readonly chunkSize?: number;
  readonly highWaterMark?: number;
  readonly maxFileSize?: number;
}

/**
 * The sender queues at most this much on a channel. Chromium closes a data channel with more than
 * 16 MiB queued; a few MiB keep the network busy at loopback speed.
 */
export const HIGH_WATER_MARK = 4 * 1024 * 1024;
/** The channel's `bufferedAmountLowThreshold`: the sender is woken to queue more below it. */
export const LOW_WATER_MARK = 1024 * 1024;
