/**
 * How a friend's presence reads in the list: "online", "away", "offline", or "last seen 5 minutes
 * ago" / "last seen yesterday" when the server knows when they left.
 */
import type { Friend } from '../../../shared/api.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const MONTH = 30 * DAY;
const YEAR = 365 * DAY;

// English like the rest of the interface; `auto` says "yesterday" rather than "1 day ago".
const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

/** "5 minutes ago", "yesterday", "3 weeks ago"; under a minute is "just now". */
export function timeAgo(then: number, now: number): string {
  const elapsed = Math.max(0, now - then);
  if (elapsed < MINUTE) return 'just now';
  if (elapsed < HOUR) return relative.format(-Math.floor(elapsed / MINUTE), 'minute');
  if (elapsed < DAY) return relative.format(-Math.floor(elapsed / HOUR), 'hour');
  if (elapsed < WEEK) return relative.format(-Math.floor(elapsed / DAY), 'day');
  if (elapsed < MONTH) return relative.format(-Math.floor(elapsed / WEEK), 'week');
  if (elapsed < YEAR) return relative.format(-Math.floor(elapsed / MONTH), 'month');
  return relative.format(-Math.floor(elapsed / YEAR), 'year');
}

/** The status line of a friend at time `now`. */
export function presenceText(friend: Pick<Friend, 'status' | 'lastSeen'>, now: number): string {
  if (friend.status !== 'offline') return friend.status;
  return friend.lastSeen === null ? 'offline' : `last seen ${timeAgo(friend.lastSeen, now)}`;
}
