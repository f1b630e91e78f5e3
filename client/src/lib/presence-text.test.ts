import { describe, expect, it } from 'vitest';
import { presenceText, timeAgo } from './presence-text.js';

const now = Date.UTC(2025, 5, 15, 12, 0, 0);
const minutes = (n: number) => now - n * 60_000;

describe('timeAgo', () => {
  it.each([
    [now, 'just now'],
    [now - 59_000, 'just now'],
    [minutes(1), '1 minute ago'],
    [minutes(5), '5 minutes ago'],
    [minutes(59), '59 minutes ago'],
    [minutes(60), '1 hour ago'],
    [minutes(23 * 60 + 59), '23 hours ago'],
    [minutes(24 * 60), 'yesterday'],
    [minutes(3 * 24 * 60), '3 days ago'],
    [minutes(8 * 24 * 60), 'last week'],
    [minutes(15 * 24 * 60), '2 weeks ago'],
    [minutes(65 * 24 * 60), '2 months ago'],
    [minutes(800 * 24 * 60), '2 years ago'],
  ])('%i reads "%s"', (then, text) => {
    expect(timeAgo(then, now)).toBe(text);
  });

  it('reads a time slightly in the future (clock skew) as just now', () => {
    expect(timeAgo(now + 5_000, now)).toBe('just now');
  });
});

describe('presenceText', () => {
  it('says online, away, offline, or when they were last seen', () => {
    expect(presenceText({ status: 'online', lastSeen: minutes(3) }, now)).toBe('online');
    expect(presenceText({ status: 'away', lastSeen: null }, now)).toBe('away');
    expect(presenceText({ status: 'offline', lastSeen: null }, now)).toBe('offline');
    expect(presenceText({ status: 'offline', lastSeen: minutes(5) }, now)).toBe('last seen 5 minutes ago');
    expect(presenceText({ status: 'offline', lastSeen: minutes(26 * 60) }, now)).toBe('last seen yesterday');
  });
});
