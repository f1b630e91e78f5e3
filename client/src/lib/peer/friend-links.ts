/**
 * What the mesh knows about one friend: presence as the gateway reports it, whether the app wants
 * links to them (and until when), their links by `link` id, and the timers of the redial loop.
 * Bookkeeping only: the mesh decides and acts.
 */
import type { PresenceStatus } from '../../../../shared/api.js';
import { backoffDelay, type BackoffPolicy } from '../backoff.js';
import type { PeerLink } from './peer-link.js';
import type { PeerPath } from './peer-network.js';

export class FriendLinks {
  readonly id: string;
  /** Presence; null while not known as a friend (e.g. `connect` before the first `hello`). */
  status: PresenceStatus | null = null;
  /** Until when (clock ms) the app wants links to this friend: `connect` extends it. */
  wantedUntil = 0;
  /** Live links (connecting or open) by `link` id. */
  readonly links = new Map<string, PeerLink>();
  /** The path last reported. */
  path: PeerPath = 'none';
  /** When the last broadcast knock went out (clock ms). */
  lastKnockAt = -Infinity;
  /** Knocks that arrived from connections this side already had an open link to (clock ms). */
  readonly knocksWhileOpen = new Map<string, number>();
  /** Set while a broadcast knock waits for a link attempt to start. */
  knockTimer: ReturnType<typeof setTimeout> | undefined;
  /** Set while a redial waits out its backoff. */
  redialTimer: ReturnType<typeof setTimeout> | undefined;
  /** Set while open links outlive the friend going offline (it may be a signaling blip). */
  offlineTimer: ReturnType<typeof setTimeout> | undefined;
  /** Failed attempts in a row: the backoff exponent. */
  failures = 0;
  /** The friend's connections this side heard from (a knock or signal), with when (clock ms). */
  readonly remotes = new Map<string, number>();
  /** Set while the ladder waits for a data channel before falling back to the server relay. */
  relayTimer: ReturnType<typeof setTimeout> | undefined;
  /** The wait is over (or ICE failed): open the server relay to connections heard from. */
  relayDue = false;

  constructor(id: string) {
    this.id = id;
  }

  get isFriend(): boolean {
    return this.status !== null;
  }

  get online(): boolean {
    return this.status === 'online' || this.status === 'away';
  }

  wanted(now: number): boolean {
    return this.wantedUntil > now;
  }

  /** Open links, newest last. */
  openLinks(): PeerLink[] {
    return [...this.links.values()].filter((link) => link.state === 'open');
  }

  /** The open link to one of the friend's connections. */
  openLinkTo(remote: string): PeerLink | undefined {
    return this.openLinks().find((link) => link.remote === remote);
  }

  /** The attempt (not open yet) to one of the friend's connections. */
  attemptTo(remote: string): PeerLink | undefined {
    for (const link of this.links.values()) {
      if (link.remote === remote && link.state === 'connecting') return link;
    }
    return undefined;
  }

  get hasAttempt(): boolean {
    return [...this.links.values()].some((link) => link.state === 'connecting');
  }

  /** Connection ids with an open link. */
  openRemotes(): string[] {
    return [...new Set(this.openLinks().map((link) => link.remote))];
  }

  /** Whether anything is under way that may end in a link. */
  get trying(): boolean {
    return this.hasAttempt || this.knockTimer !== undefined || this.redialTimer !== undefined;
  }

  /**
   * The best path of the open links (data channels before the server relay), else whether one is on
   * its way. `relay` is the friend's best relay session state.
   */
  currentPath(relay: 'open' | 'keying' | null): PeerPath {
    const open = this.openLinks();
    if (open.some((link) => link.path === 'direct')) return 'direct';
    if (open.some((link) => link.path === 'turn')) return 'turn';
    if (relay === 'open') return 'server';
    // Open with the candidate pair not read yet (a few ms), or not open yet.
    if (open.length > 0 || this.trying || relay === 'keying') return 'connecting';
    return 'none';
  }

  /** Connections heard from within `maxAgeMs`; older ones are forgotten. */
  freshRemotes(now: number, maxAgeMs: number): string[] {
    for (const [remote, at] of this.remotes) if (now - at > maxAgeMs) this.remotes.delete(remote);
    return [...this.remotes.keys()];
  }

  /** The next redial delay (full-jitter backoff), counting this failure. */
  nextRedialDelay(policy: BackoffPolicy, random: () => number): number {
    const delay = backoffDelay(this.failures, policy, random);
    this.failures += 1;
    return delay;
  }

  /** Stops the ladder's fallback wait. */
  clearRelayTimer(): void {
    clearTimeout(this.relayTimer);
    this.relayTimer = undefined;
    this.relayDue = false;
  }

  /** Stops the redial loop's and the ladder's timers (the links stay). */
  clearTimers(): void {
    clearTimeout(this.knockTimer);
    clearTimeout(this.redialTimer);
    clearTimeout(this.offlineTimer);
    this.knockTimer = this.redialTimer = this.offlineTimer = undefined;
    this.clearRelayTimer();
  }
}
