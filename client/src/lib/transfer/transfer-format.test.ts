import { describe, expect, it } from 'vitest';
import { RELAY_FILE_MAX_BYTES } from '../../../../shared/transfer-protocol.js';
import {
  failedText,
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

  it('says why a file failed, from the side of the card', () => {
    expect(failedText('integrity', true, 'bob')).toBe('Failed: the file arrived damaged');
    expect(failedText('read_failed', true, 'bob')).toBe('Failed: bob could not read the file');
    expect(failedText('read_failed', false, 'bob')).toMatch(/^Failed: the file could not be read/);
    expect(failedText('write_failed', true, 'bob')).toMatch(
      /^Failed: the file could not be saved \(.*cancelled\)$/,
    );
    expect(failedText('write_failed', false, 'bob')).toBe('Failed: bob could not save the file');
    expect(failedText('too_large', false, 'bob')).toBe('Failed: too large for bob’s browser');
    expect(failedText('protocol', true, 'bob')).toBe('Failed: the other side broke the transfer protocol');
    expect(failedText(undefined, true, 'bob')).toBe('Failed');
  });
});
