import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ACTIVITY_EVENTS, ActivityMonitor, type ActivityStatus } from './activity.js';

class FakeDocument extends EventTarget {
  visibilityState: 'visible' | 'hidden' = 'visible';
  setVisibility(state: 'visible' | 'hidden'): void {
    this.visibilityState = state;
    this.dispatchEvent(new Event('visibilitychange'));
  }
}

function setup(options: { hidden?: boolean } = {}) {
  const document = new FakeDocument();
  if (options.hidden) document.visibilityState = 'hidden';
  const window = new EventTarget();
  const changes: ActivityStatus[] = [];
  const monitor = new ActivityMonitor({
    document,
    window,
    idleMs: 1_000,
    hiddenMs: 300,
    onChange: (status) => changes.push(status),
  });
  monitor.start();
  const act = (type = 'pointermove') => window.dispatchEvent(new Event(type));
  return { document, window, monitor, changes, act };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('ActivityMonitor', () => {
  it('starts online and goes away after the idle delay without activity', () => {
    const t = setup();
    expect(t.monitor.status).toBe('online');
    vi.advanceTimersByTime(999);
    expect(t.changes).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(t.changes).toEqual(['away']);
    expect(t.monitor.status).toBe('away');
  });

  it('counts each kind of activity, and measures idleness from the last one', () => {
    const t = setup();
    for (const type of ACTIVITY_EVENTS) {
      vi.advanceTimersByTime(900);
      t.act(type);
    }
    expect(t.changes).toEqual([]);
    vi.advanceTimersByTime(999);
    expect(t.changes).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(t.changes).toEqual(['away']);
  });

  it('is online again on the first activity after being idle, and can go idle again', () => {
    const t = setup();
    vi.advanceTimersByTime(1_000);
    t.act('keydown');
    expect(t.changes).toEqual(['away', 'online']);
    vi.advanceTimersByTime(1_000);
    expect(t.changes).toEqual(['away', 'online', 'away']);
  });

  it('goes away only after being hidden for the hidden delay', () => {
    const t = setup();
    t.document.setVisibility('hidden');
    vi.advanceTimersByTime(299);
    // A quick look at another tab is not being away.
    t.document.setVisibility('visible');
    vi.advanceTimersByTime(300);
    expect(t.changes).toEqual([]);

    t.document.setVisibility('hidden');
    vi.advanceTimersByTime(300);
    expect(t.changes).toEqual(['away']);
    t.document.setVisibility('visible');
    expect(t.changes).toEqual(['away', 'online']);
  });

  it('stays away while hidden even with stray events, and reports each change once', () => {
    const t = setup();
    t.document.setVisibility('hidden');
    vi.advanceTimersByTime(5_000);
    t.act();
    expect(t.changes).toEqual(['away']);
    t.document.setVisibility('visible');
    expect(t.changes).toEqual(['away', 'online']);
    // Returning counts as activity: the idle delay starts again.
    vi.advanceTimersByTime(999);
    expect(t.changes).toEqual(['away', 'online']);
  });

  it('starts the hidden delay at once when the page starts hidden', () => {
    const t = setup({ hidden: true });
    vi.advanceTimersByTime(300);
    expect(t.changes).toEqual(['away']);
  });

  it('stops listening and timing when stopped', () => {
    const t = setup();
    t.monitor.stop();
    vi.advanceTimersByTime(10_000);
    t.document.setVisibility('hidden');
    vi.advanceTimersByTime(10_000);
    expect(t.changes).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
