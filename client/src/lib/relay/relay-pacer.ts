/**
 * Paces what one connection pushes through the server relay, so it stays under the server's limits:
 * 300 frames per 10 s per connection (past it the server closes the socket, signaling included) and
 * 8 MiB relayed per 10 s per user (past it boxes are refused with `rate_limited`). Two token buckets,
 * one for frames and one for bytes, shared by every relay session of the connection.
 *
 * Bulk frames (chunks of files) leave a reserve in both buckets that only messages may use: a
 * transfer gets the sustained rate all the same (it runs on the refill), but a chat message or a
 * transfer's acknowledgement never waits behind it, whichever session sends it.
 */

/** What a frame carries: messages (chat, transfer control) go before bulk (file chunks). */
export type RelayTraffic = 'message' | 'bulk';

export interface RelayPace {
  framesPerSecond: number;
  /** Frames that may go at once after a quiet while. */
  frameBurst: number;
  bytesPerSecond: number;
  byteBurst: number;
  /** Frames and bytes that bulk frames leave in the buckets for messages (none when not given). */
  bulkReserveFrames?: number;
  bulkReserveBytes?: number;
}

/**
 * At most 30 + 10 × 10 = 130 frames in any 10 s (under half the server's 300, leaving the rest to
 * signaling and pings) and 1 + 5 = 6 MiB (under the 8 MiB per user). The reserve holds a few chat
 * messages at their largest (4000 characters, up to 16 KiB of base64 each).
 */
export const RELAY_PACE: RelayPace = {
  framesPerSecond: 10,
  frameBurst: 30,
  bytesPerSecond: 512 * 1024,
  byteBurst: 1024 * 1024,
  bulkReserveFrames: 3,
  bulkReserveBytes: 64 * 1024,
};

export class RelayPacer {
  readonly #pace: RelayPace;
  readonly #now: () => number;
  #frames: number;
  #bytes: number;
  #at: number;

  constructor(pace: RelayPace = RELAY_PACE, now: () => number = Date.now) {
    this.#pace = pace;
    this.#now = now;
    this.#frames = pace.frameBurst;
    this.#bytes = pace.byteBurst;
    this.#at = now();
  }

  /**
   * Asks to send one frame of `size` characters: 0 when it may go now (and it is counted), else how
   * many milliseconds to wait before asking again. A `bulk` frame goes only if the reserve stays.
   */
  take(size: number, traffic: RelayTraffic = 'message'): number {
    this.#refill();
    const pace = this.#pace;
    const bytes = Math.min(size, pace.byteBurst);
    const bulk = traffic === 'bulk';
    // What must be in the buckets (capped by their size, so a small pace still lets bulk through).
    const frames = Math.min(1 + (bulk ? (pace.bulkReserveFrames ?? 0) : 0), pace.frameBurst);
    const needed = Math.min(bytes + (bulk ? (pace.bulkReserveBytes ?? 0) : 0), pace.byteBurst);
    if (this.#frames >= frames && this.#bytes >= needed) {
      this.#frames -= 1;
      this.#bytes -= bytes;
      return 0;
    }
    const frameWait = this.#frames >= frames ? 0 : ((frames - this.#frames) / pace.framesPerSecond) * 1000;
    const byteWait = this.#bytes >= needed ? 0 : ((needed - this.#bytes) / pace.bytesPerSecond) * 1000;
    // (The small margin keeps float error from adding a millisecond.)
    return Math.max(1, Math.ceil(Math.max(frameWait, byteWait) - 1e-6));
  }

  /** Counts a frame that goes regardless (a key or a close): the next ones wait longer. */
  charge(size: number): void {
    this.#refill();
    this.#frames -= 1;
    this.#bytes -= size;
  }

  #refill(): void {
    const now = this.#now();
    const seconds = Math.max(0, now - this.#at) / 1000;
    this.#at = now;
    this.#frames = Math.min(this.#pace.frameBurst, this.#frames + seconds * this.#pace.framesPerSecond);
    this.#bytes = Math.min(this.#pace.byteBurst, this.#bytes + seconds * this.#pace.bytesPerSecond);
  }
}
