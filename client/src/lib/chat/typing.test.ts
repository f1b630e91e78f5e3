import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TYPING_DEFAULTS, TypingNotifier, TypingWatch } from './typing.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('TypingNotifier', () => {
  function setup(reachable = true) {
    const sent: [string, boolean][] = [];
    const links = { reachable };
    const notifier = new TypingNotifier({
      send: (friend, active) => {
        if (links.reachable) sent.push([friend, active]);
        return links.reachable;
      },
    });
    return { sent, links, notifier };
  }

  it('says typing at most every couple of seconds while keys are pressed', () => {
    const { sent, notifier } = setup();
    notifier.typed('bob');
    for (let i = 0; i < 10; i += 1) {
      vi.advanceTimersByTime(150);
      notifier.typed('bob');
    }
    expect(sent).toEqual([['bob', true]]);
    vi.advanceTimersByTime(TYPING_DEFAULTS.resendMs);
    notifier.typed('bob');
    expect(sent).toEqual([
      ['bob', true],
      ['bob', true],
    ]);
  });

  it('says stopped once, and only after having said typing', () => {
    const { sent, notifier } = setup();
    notifier.stopped();
    expect(sent).toEqual([]);
    notifier.typed('bob');
    notifier.stopped();
    notifier.stopped();
    expect(sent).toEqual([
      ['bob', true],
      ['bob', false],
    ]);
    // Typing again right after sending is news at once.
    notifier.typed('bob');
    expect(sent.at(-1)).toEqual(['bob', true]);
  });

  it('tells the previous friend it stopped when typing moves to another chat', () => {
    const { sent, notifier } = setup();
    notifier.typed('bob');
    notifier.typed('cy');
    expect(sent).toEqual([
      ['bob', true],
      ['bob', false],
      ['cy', true],
    ]);
  });

  it('tries again on the next key when no link was open', () => {
    const { sent, links, notifier } = setup(false);
    notifier.typed('bob');
    links.reachable = true;
    notifier.typed('bob');
    expect(sent).toEqual([['bob', true]]);
  });
});

describe('TypingWatch', () => {
  function setup() {
    const changes: [string, boolean][] = [];
    const watch = new TypingWatch({ onChange: (friend, typing) => changes.push([friend, typing]) });
    return { changes, watch };
  }

  it('shows typing until a few seconds after the last true', () => {
    const { changes, watch } = setup();
    watch.update('bob', true);
    vi.advanceTimersByTime(TYPING_DEFAULTS.showMs - 500);
    watch.update('bob', true);
    vi.advanceTimersByTime(TYPING_DEFAULTS.showMs - 1);
    expect(changes).toEqual([['bob', true]]);
    vi.advanceTimersByTime(1);
    expect(changes).toEqual([
      ['bob', true],
      ['bob', false],
    ]);
  });

  it('ends at once on false, per friend', () => {
    const { changes, watch } = setup();
    watch.update('bob', true);
    watch.update('cy', true);
    watch.update('bob', false);
    watch.update('bob', false);
    expect(changes).toEqual([
      ['bob', true],
      ['cy', true],
      ['bob', false],
    ]);
    watch.dispose();
    vi.advanceTimersByTime(TYPING_DEFAULTS.showMs);
    expect(changes).toHaveLength(3);
  });
});
