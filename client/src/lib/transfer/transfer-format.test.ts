import { describe, expect, it } from 'vitest';
import { RELAY_FILE_MAX_BYTES } from '../../../../shared/transfer-protocol.js';
import {
  formatBytes,
  formatSpeed,
  formatTimeLeft,
  overRelayCapMessage,
  relayCapHint,
} from './transfer-format.js';

describe('transfer format', () => {
  it('formats sizes', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1500)).toBe('1.5 KB');
    expect(formatBytes(52_428_800)).toBe('52.4 MB');
    expect(formatBytes(250_000_000)).toBe('250 MB');
    expect(formatBytes(20_000_000)).toBe('20 MB');
    expect(formatBytes(1_040_000)).toBe('1 MB');
  });

  it('tells the server relay’s cap', () => {
    const cap = formatBytes(RELAY_FILE_MAX_BYTES);
    expect(relayCapHint()).toBe(`Over the server relay: files up to ${cap}`);
    expect(overRelayCapMessage(['big.iso'])).toBe(
      `“big.iso” is larger than ${cap}, the most that goes over the server relay. ` +
        'Send it once you are connected directly or through TURN.',
    );
    expect(overRelayCapMessage(['a', 'b'])).toMatch(/^2 files are larger than .* Send them once/);
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
