/** Progress of a transfer as both sides show it: bytes, speed over a sliding window, time left. */

export interface TransferProgress {
  /** Bytes done: acknowledged by the receiver (sender), or written and hashed (receiver). */
  bytes: number;
  /** Bytes of every file being transferred or done. */
  total: number;
  /** Over the last few seconds; 0 until there is a measurement, and when stalled. */
  bytesPerSecond: number;
  /** At the current speed; `null` when there is no speed to go by. */
  secondsLeft: number | null;
}

/** How far back the speed looks. */
export const SPEED_WINDOW_MS = 3000;
/** The speed shows once this much time has been measured (the first moments say little). */
const SPEED_MIN_SPAN_MS = 250;

/** Samples of bytes done over time; the speed is the slope over the last `windowMs`. */
export class ProgressMeter {
  readonly #now: () => number;
  readonly #windowMs: number;
  #samples: { at: number; bytes: number }[] = [];

  constructor(options: { now?: () => number; windowMs?: number } = {}) {
    this.#now = options.now ?? (() => performance.now());
    this.#windowMs = options.windowMs ?? SPEED_WINDOW_MS;
  }

  /** Records that `bytes` are done now. */
  sample(bytes: number): void {
    const at = this.#now();
    this.#samples.push({ at, bytes });
    this.#trim(at);
  }

  /** Forgets the samples (the link dropped: the speed before says nothing about the speed after). */
  reset(): void {
    this.#samples = [];
  }

  /** Progress now, with `bytes` done out of `total`. */
  snapshot(bytes: number, total: number): TransferProgress {
    const now = this.#now();
    this.#trim(now);
    const first = this.#samples[0];
    const last = this.#samples.at(-1);
    const span = first ? now - first.at : 0;
    // The span runs to now, not to the last sample, so a stall brings the speed down.
    const bytesPerSecond =
      first && last && span >= SPEED_MIN_SPAN_MS ? ((last.bytes - first.bytes) * 1000) / span : 0;
    const left = Math.max(0, total - bytes);
    return {
      bytes,
      total,
      bytesPerSecond,
      secondsLeft: left === 0 ? 0 : bytesPerSecond > 0 ? left / bytesPerSecond : null,
    };
  }

  #trim(now: number): void {
    // Keep one sample at or before the window's start, so the window is always covered.
    let drop = 0;
    while (drop + 1 < this.#samples.length && (this.#samples[drop + 1]?.at ?? now) <= now - this.#windowMs)
      drop += 1;
    if (drop > 0) this.#samples.splice(0, drop);
  }
}
