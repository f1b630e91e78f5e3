/**
 * Test helper: the two ends of one server-relay session ({@link RelayLink}s with real WebCrypto),
 * wired to each other in order the way the server relays, each box handled one at a time like
 * `ServerRelay` does. An end can hold back what it sends (to tamper with, replay or drop it).
 */
import { vi, type Mock } from 'vitest';
import type { PeerMessage } from '../../../../../shared/peer-protocol.js';
import type { RelayPayload } from '../../../../../shared/protocol.js';
import { RelayPacer, type RelayPace } from '../../relay/relay-pacer.js';
import { RelayLink, type RelayCloseReason } from '../relay-link.js';

/** Waits (in real time) until `condition` holds. */
export async function until(condition: () => boolean, what = 'the condition', timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

export interface RelayEnd {
  link: RelayLink;
  /** Payloads this end sent. */
  sent: RelayPayload[];
  received: PeerMessage[];
  /** Chunk frames that arrived at this end. */
  chunks: ArrayBuffer[];
  opened: number;
  closed: Array<{ reason: RelayCloseReason; wasOpen: boolean }>;
  warn: Mock<(message: string, context?: Record<string, unknown>) => void>;
  debug: Mock<(message: string, context?: Record<string, unknown>) => void>;
  /** Payloads to hold back instead of delivering (to tamper with or replay). */
  hold: boolean;
  held: RelayPayload[];
  /** What arrives here goes there too (a TransferRouter's handlers). */
  onMessage?: (message: PeerMessage) => void;
  onChunk?: (frame: ArrayBuffer) => void;
}

export interface RelayPairOptions {
  pace?: RelayPace;
  now?: () => number;
  online?: () => boolean;
}

/** Two ends of one session: `ada` (connection `ca`) starts it with `bob` (`cb`). */
export function relayPair(options: RelayPairOptions = {}) {
  const make = (self: string, remote: string, initiator: boolean): RelayEnd => {
    const end = {
      sent: [],
      received: [],
      chunks: [],
      opened: 0,
      closed: [],
      warn: vi.fn(),
      debug: vi.fn(),
      hold: false,
      held: [],
    } as unknown as RelayEnd;
    end.link = new RelayLink({
      session: 's1',
      friendId: initiator ? 'bob' : 'ada',
      remote,
      self,
      initiator,
      pacer: new RelayPacer(options.pace, options.now),
      keyTimeoutMs: 10_000,
      log: { debug: end.debug, warn: end.warn },
      callbacks: {
        send: (payload) => {
          if (options.online && !options.online()) return false;
          end.sent.push(payload);
          if (end.hold) end.held.push(payload);
          else deliver(end, payload);
          return true;
        },
        open: () => (end.opened += 1),
        message: (message) => {
          end.received.push(message);
          end.onMessage?.(message);
        },
        chunk: (frame) => {
          end.chunks.push(frame);
          end.onChunk?.(frame);
        },
        close: (reason, wasOpen) => end.closed.push({ reason, wasOpen }),
      },
    });
    return end;
  };
  const ada = make('ca', 'cb', true);
  const bob = make('cb', 'ca', false);
  let chain = Promise.resolve();
  const deliver = (from: RelayEnd, payload: RelayPayload) => {
    const to = from === ada ? bob : ada;
    chain = chain.then(async () => {
      if (payload.kind === 'key') await to.link.keyReceived(payload.publicKey);
      else if (payload.kind === 'box') await to.link.boxReceived(payload);
      else to.link.close('peer_closed');
    });
  };
  return { ada, bob, deliver };
}

/** Starts the session and waits until both ends are open. */
export async function openPair(ada: RelayEnd, bob: RelayEnd): Promise<void> {
  void ada.link.start();
  await until(() => ada.link.state === 'open' && bob.link.state === 'open', 'both ends open');
}
