/**
 * Tells the server this page's status (`set_status`): only when it changes, and again after every
 * `hello`, since a new connection (or a server that resynchronized) starts from its own default.
 */
import type { ClientFrame } from '../../../shared/protocol.js';
import type { ActivityStatus } from './activity.js';
import type { Gateway } from './gateway.js';

/** The little of the gateway the reporter uses. */
export type StatusChannel = Pick<Gateway, 'send' | 'on'>;

export class StatusReporter {
  readonly #channel: StatusChannel;
  #status: ActivityStatus = 'online';
  /** What the current connection was last told; null when nothing yet. */
  #sent: ActivityStatus | null = null;

  constructor(channel: StatusChannel) {
    this.#channel = channel;
    channel.on('hello', () => {
      this.#sent = null;
      this.#flush();
    });
  }

  get status(): ActivityStatus {
    return this.#status;
  }

  /** The page's status changed; sent now if connected, else after the next `hello`. */
  report(status: ActivityStatus): void {
    this.#status = status;
    this.#flush();
  }

  /** Back to `online` for the next sign-in. */
  reset(): void {
    this.#status = 'online';
    this.#sent = null;
  }

  #flush(): void {
    if (this.#sent === this.#status) return;
    const frame: ClientFrame = { type: 'set_status', status: this.#status };
    if (this.#channel.send(frame)) this.#sent = this.#status;
  }
}
