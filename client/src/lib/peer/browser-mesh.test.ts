import { describe, expect, it } from 'vitest';
import { debugHooksEnabled } from './browser-mesh.js';

describe('debugHooksEnabled', () => {
  it('is on in dev builds and with ?debug, off otherwise', () => {
    expect(debugHooksEnabled(true, '')).toBe(true);
    expect(debugHooksEnabled(false, '?debug')).toBe(true);
    expect(debugHooksEnabled(false, '?x=1&debug=1')).toBe(true);
    expect(debugHooksEnabled(false, '')).toBe(false);
    expect(debugHooksEnabled(false, '?debugging')).toBe(false);
  });
});
