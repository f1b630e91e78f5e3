/**
 * Paces what one connection pushes through the server relay, so it stays under the server's limits:
 * 300 frames per 10 s per connection (past it the server closes the socket, signaling included) and
 * 8 MiB relayed per 10 s per user (past it boxes are refused with `rate_limited`). Two token buckets,
 * one for frames and one for bytes, shared by every relay session of the connection.
 */

export interface RelayPace {
  framesPerSecond: number;
  /** Frames that may go at once after a quiet while. */
  frameBurst: number;
  bytesPerSecond: number;
  byteBurst: number;
}

/**
 * At most 30 + 10 × 10 = 130 frames in any 10 s (under half the server's 300, leaving the rest to
 * signaling and pings) and 1 + 5 = 6 MiB (under the 8 MiB per user).
 */
export const RELAY_PACE: RelayPace = {
  framesPerSecond: 10,
  frameBurst: 30,
  bytesPerSecond: 512 * 1024,
  byteBurst: 1024 * 1024,
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
   * many milliseconds to wait before asking again.
   */
  take(size: number): number {
    this.#refill();
    const bytes = Math.min(size, this.#pace.byteBurst);
    if (this.#frames >= 1 && this.#bytes >= bytes) {
      this.#frames -= 1;
      this.#bytes -= bytes;
      return 0;
    }
    const frameWait = this.#frames >= 1 ? 0 : ((1 - this.#frames) / this.#pace.framesPerSecond) * 1000;
    const byteWait = this.#bytes >= bytes ? 0 : ((bytes - this.#bytes) / this.#pace.bytesPerSecond) * 1000;
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
