import { describe, expect, it } from 'vitest';
import { backoffDelay, RECONNECT_BACKOFF } from './backoff.js';

describe('backoffDelay', () => {
  const top = () => 0.999_999;

  it('doubles the ceiling from 0.5 s up to 30 s', () => {
    const ceilings = [0, 1, 2, 3, 4, 5, 6, 7, 10].map((attempt) =>
      backoffDelay(attempt, RECONNECT_BACKOFF, top),
    );
    expect(ceilings).toEqual([499, 999, 1999, 3999, 7999, 15_999, 29_999, 29_999, 29_999]);
  });

  it('draws uniformly below the ceiling (full jitter)', () => {
    expect(backoffDelay(3, RECONNECT_BACKOFF, () => 0)).toBe(0);
    expect(backoffDelay(3, RECONNECT_BACKOFF, () => 0.5)).toBe(2000);
    for (let i = 0; i < 200; i += 1) {
      const delay = backoffDelay(2, RECONNECT_BACKOFF);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(2000);
    }
  });

  it('stays finite and in range for odd attempts and random sources', () => {
    expect(backoffDelay(10_000, RECONNECT_BACKOFF, top)).toBe(29_999);
    expect(backoffDelay(Number.POSITIVE_INFINITY, RECONNECT_BACKOFF, top)).toBe(499);
    expect(backoffDelay(-3, RECONNECT_BACKOFF, top)).toBe(499);
    expect(backoffDelay(1.7, RECONNECT_BACKOFF, () => 0.5)).toBe(500);
    expect(backoffDelay(2, RECONNECT_BACKOFF, () => 5)).toBe(2000);
    expect(backoffDelay(2, RECONNECT_BACKOFF, () => -1)).toBe(0);
  });

  it('honours a custom policy', () => {
    expect(backoffDelay(5, { initialMs: 100, maxMs: 1000 }, () => 0.5)).toBe(500);
  });
});
