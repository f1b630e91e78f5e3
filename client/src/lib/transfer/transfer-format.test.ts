import { describe, expect, it } from 'vitest';
import { formatBytes, formatSpeed, formatTimeLeft } from './transfer-format.js';

describe('transfer format', () => {
  it('formats sizes', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1500)).toBe('1.5 KB');
    expect(formatBytes(52_428_800)).toBe('52.4 MB');
    expect(formatBytes(250_000_000)).toBe('250 MB');
  });

  it('formats speeds and times left', () => {
    expect(formatSpeed(0)).toBe('');
    expect(formatSpeed(12_300_000)).toBe('12.3 MB/s');
    expect(formatTimeLeft(null)).toBe('');
    expect(formatTimeLeft(4.2)).toBe('5 s left');
    expect(formatTimeLeft(150)).toBe('3 min left');
    expect(formatTimeLeft(7500)).toBe('2 h 5 min left');
  });
});
