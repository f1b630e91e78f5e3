/**
 * The typing indicator, both ways: `TypingNotifier` tells the friend (a `typing` true at most every
 * couple of seconds while keys are pressed, false once on send or blur); `TypingWatch` shows that a
 * friend is typing until a few seconds after their last `true`.
 */

export const TYPING_DEFAULTS = {
  /** At most one `typing: true` per this while typing goes on. */
  resendMs: 2_000,
  /** A friend shows as typing this long after their last `typing: true`. */
  showMs: 4_000,
} as const;

export interface TypingNotifierOptions {
  /** Sends `typing` to the friend; returns whether it reached any link. */
  send(friendId: string, active: boolean): boolean;
  now?: () => number;
  resendMs?: number;
}

/** Outgoing typing state of the open conversation. */
export class TypingNotifier {
  readonly #send: TypingNotifierOptions['send'];
  readonly #now: () => number;
  readonly #resendMs: number;
  /** The friend told `true` last, and when. */
  #told: { friendId: string; at: number } | null = null;

  constructor(options: TypingNotifierOptions) {
    this.#send = options.send;
    this.#now = options.now ?? Date.now;
    this.#resendMs = options.resendMs ?? TYPING_DEFAULTS.resendMs;
  }

  /** A key was pressed in `friendId`'s conversation. */
  typed(friendId: string): void {
    const now = this.#now();
    if (this.#told?.friendId === friendId && now - this.#told.at < this.#resendMs) return;
    if (this.#told && this.#told.friendId !== friendId) this.stopped();
    // Without an open link nothing was said: the next key tries again.
    if (this.#send(friendId, true)) this.#told = { friendId, at: now };
  }

  /** The message was sent, the field lost focus or emptied, or the chat closed. */
  stopped(): void {
    if (!this.#told) return;
    const { friendId } = this.#told;
    this.#told = null;
    this.#send(friendId, false);
  }
}

export interface TypingWatchOptions {
  /** Whether `friendId` shows as typing changed. */
  onChange(friendId: string, typing: boolean): void;
  showMs?: number;
}

/** Incoming typing state per friend, with the timer that ends it. */
export class TypingWatch {
  readonly #onChange: TypingWatchOptions['onChange'];
  readonly #showMs: number;
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(options: TypingWatchOptions) {
    this.#onChange = options.onChange;
    this.#showMs = options.showMs ?? TYPING_DEFAULTS.showMs;
  }

  /** `friendId` said `typing: active`. */
  update(friendId: string, active: boolean): void {
    if (active) {
      const shown = this.#timers.has(friendId);
      clearTimeout(this.#timers.get(friendId));
      this.#timers.set(
        friendId,
        setTimeout(() => this.clear(friendId), this.#showMs),
      );
      if (!shown) this.#onChange(friendId, true);
    } else {
      this.clear(friendId);
    }
  }

  /** `friendId` is not typing (stopped, sent their message, or the link went away). */
  clear(friendId: string): void {
    const timer = this.#timers.get(friendId);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.#timers.delete(friendId);
    this.#onChange(friendId, false);
  }

  dispose(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }
}
