import { describe, expect, it } from 'vitest';
import { CHAT_TEXT_MAX } from '../../../../shared/peer-protocol.js';
import { charactersLeft, COUNTER_THRESHOLD, prepareText } from './chat-text.js';

describe('prepareText', () => {
  it('trims and refuses blank text', () => {
    expect(prepareText('  hi there \n')).toEqual({ ok: true, text: 'hi there' });
    expect(prepareText('line 1\nline 2')).toEqual({ ok: true, text: 'line 1\nline 2' });
    expect(prepareText('')).toEqual({ ok: false, reason: 'empty' });
    expect(prepareText(' \n\t ')).toEqual({ ok: false, reason: 'empty' });
  });

  it('allows exactly the maximum, not more', () => {
    expect(prepareText('x'.repeat(CHAT_TEXT_MAX)).ok).toBe(true);
    expect(prepareText('x'.repeat(CHAT_TEXT_MAX + 1))).toEqual({ ok: false, reason: 'too_long' });
    // Whitespace around does not count.
    expect(prepareText(` ${'x'.repeat(CHAT_TEXT_MAX)} `).ok).toBe(true);
  });
});

describe('charactersLeft', () => {
  it('stays out of the way until the limit is near', () => {
    expect(charactersLeft('hello')).toBeNull();
    expect(charactersLeft('x'.repeat(CHAT_TEXT_MAX - COUNTER_THRESHOLD))).toBeNull();
    expect(charactersLeft('x'.repeat(CHAT_TEXT_MAX - COUNTER_THRESHOLD + 1))).toBe(COUNTER_THRESHOLD - 1);
    expect(charactersLeft('x'.repeat(CHAT_TEXT_MAX))).toBe(0);
  });
});
