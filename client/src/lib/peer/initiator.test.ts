import { describe, expect, it } from 'vitest';
import { shouldInitiate } from './initiator.js';

describe('shouldInitiate', () => {
  it('lets the smaller connection id dial, so both ends agree', () => {
    expect(shouldInitiate('a1', 'b1')).toBe(true);
    expect(shouldInitiate('b1', 'a1')).toBe(false);
    expect(shouldInitiate('A', 'a')).toBe(true); // plain string order, not locale order
  });

  it('never says both or neither for two different ids', () => {
    const ids = ['x', 'x0', 'X', '10', '9', 'c-1', 'c_1'];
    for (const a of ids) {
      for (const b of ids) {
        if (a !== b) expect(shouldInitiate(a, b)).not.toBe(shouldInitiate(b, a));
      }
    }
  });
});
