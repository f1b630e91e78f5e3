/**
 * The away detector: a page is `away` once it has been hidden (another tab, a minimized window, a
 * locked phone) or idle (no pointer, keyboard, wheel, touch or focus activity) for a while, and
 * `online` again as soon as the person is back. Plain TypeScript: the document, the window, the
 * clock and the delays are injected, so it runs in tests with fake timers and no browser.
 */

export type ActivityStatus = 'online' | 'away';

type Listener = () => void;

/** The little of an `EventTarget` the detector uses. */
export interface ActivityEventTarget {
  addEventListener(type: string, listener: Listener, options?: AddEventListenerOptions): void;
  removeEventListener(type: string, listener: Listener, options?: EventListenerOptions): void;
}

/** The little of `document` the detector uses. */
export interface ActivityDocument extends ActivityEventTarget {
  readonly visibilityState: string;
}

export interface ActivityOptions {
  document: ActivityDocument;
  /** Where activity events are heard (the window, in capture phase, so every element counts). */
  window: ActivityEventTarget;
  /** Called on every change of status, never with the status it already had. */
  onChange(status: ActivityStatus): void;
  /** How long without activity before `away`. */
  idleMs?: number;
  /** How long hidden before `away` (a quick look at another tab is not being away). */
  hiddenMs?: number;
  now?: () => number;
}

export const ACTIVITY_DEFAULTS = {
  idleMs: 2 * 60_000,
  hiddenMs: 30_000,
} as const;

/** Events that prove someone is at the page. */
export const ACTIVITY_EVENTS = ['pointerdown', 'pointermove', 'keydown', 'wheel', 'touchstart', 'focus'];

const LISTENER_OPTIONS = { capture: true, passive: true } as const;

export class ActivityMonitor {
  readonly #document: ActivityDocument;
  readonly #window: ActivityEventTarget;
  readonly #onChange: (status: ActivityStatus) => void;
  readonly #idleMs: number;
  readonly #hiddenMs: number;
  readonly #now: () => number;

  #running = false;
  #status: ActivityStatus = 'online';
  #idle = false;
  #hidden = false;
  #lastActivity = 0;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #hiddenTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: ActivityOptions) {
    this.#document = options.document;
    this.#window = options.window;
    this.#onChange = options.onChange;
    this.#idleMs = options.idleMs ?? ACTIVITY_DEFAULTS.idleMs;
    this.#hiddenMs = options.hiddenMs ?? ACTIVITY_DEFAULTS.hiddenMs;
    this.#now = options.now ?? Date.now;
  }

  get status(): ActivityStatus {
    return this.#status;
  }

  /** Starts watching (as `online`: whoever just opened the page is at it). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#lastActivity = this.#now();
    for (const type of ACTIVITY_EVENTS) {
      this.#window.addEventListener(type, this.#handleActivity, LISTENER_OPTIONS);
    }
    this.#document.addEventListener('visibilitychange', this.#handleVisibility);
    this.#scheduleIdleCheck(this.#idleMs);
    if (this.#document.visibilityState === 'hidden') this.#scheduleHidden();
  }

  /** Stops watching and releases the listeners and timers. */
  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    for (const type of ACTIVITY_EVENTS) {
      this.#window.removeEventListener(type, this.#handleActivity, LISTENER_OPTIONS);
    }
    this.#document.removeEventListener('visibilitychange', this.#handleVisibility);
    clearTimeout(this.#idleTimer);
    clearTimeout(this.#hiddenTimer);
    this.#idleTimer = this.#hiddenTimer = undefined;
  }

  // Arrow properties: the same function object is added and removed.
  readonly #handleActivity = (): void => {
    // pointermove fires constantly: only remember the time; the idle timer checks it when it fires.
    this.#lastActivity = this.#now();
    if (this.#idle) {
      this.#idle = false;
      this.#scheduleIdleCheck(this.#idleMs);
      this.#update();
    }
  };

  readonly #handleVisibility = (): void => {
    if (this.#document.visibilityState === 'hidden') {
      this.#scheduleHidden();
      return;
    }
    clearTimeout(this.#hiddenTimer);
    this.#hiddenTimer = undefined;
    this.#hidden = false;
    // Coming back to the tab is activity.
    this.#handleActivity();
    this.#update();
  };

  #scheduleHidden(): void {
    if (this.#hiddenTimer !== undefined || this.#hidden) return;
    this.#hiddenTimer = setTimeout(() => {
      this.#hiddenTimer = undefined;
      this.#hidden = true;
      this.#update();
    }, this.#hiddenMs);
  }

  #scheduleIdleCheck(delay: number): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      const quiet = this.#now() - this.#lastActivity;
      if (quiet < this.#idleMs) {
        this.#scheduleIdleCheck(this.#idleMs - quiet);
        return;
      }
      this.#idle = true;
      this.#update();
    }, delay);
  }

  #update(): void {
    const status: ActivityStatus = this.#idle || this.#hidden ? 'away' : 'online';
    if (status === this.#status) return;
    this.#status = status;
    this.#onChange(status);
  }
}
