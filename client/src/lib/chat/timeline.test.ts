import { describe, expect, it } from 'vitest';
import type { StoredMessage } from './chat-store.js';
import { buildTimeline, dayLabel, messageDateTime, messageTime, RUN_GAP_MS } from './timeline.js';

const NOW = new Date(2026, 4, 20, 15, 0).getTime(); // Wednesday 20 May 2026, 15:00 local
const at = (day: number, hour: number, minute = 0) => new Date(2026, 4, day, hour, minute).getTime();

function message(id: string, ts: number, direction: StoredMessage['direction']): StoredMessage {
  return {
    id,
    conversation: 'bob',
    direction,
    state: direction === 'in' ? 'received' : 'delivered',
    seq: 1,
    ts,
    text: id,
  };
}

describe('dayLabel', () => {
  it('names recent days and dates older ones', () => {
    expect(dayLabel(at(20, 1), NOW, 'en-US')).toBe('Today');
    expect(dayLabel(at(19, 23), NOW, 'en-US')).toBe('Yesterday');
    expect(dayLabel(at(16, 12), NOW, 'en-US')).toBe('Saturday');
    expect(dayLabel(at(2, 12), NOW, 'en-US')).toBe('May 2');
    expect(dayLabel(new Date(2025, 11, 31).getTime(), NOW, 'en-US')).toBe('December 31, 2025');
  });
});

describe('messageTime', () => {
  it('follows the locale', () => {
    expect(messageTime(at(20, 14, 5), 'en-GB')).toBe('14:05');
    expect(messageTime(at(20, 14, 5), 'en-US')).toBe('2:05 PM');
    expect(messageDateTime(at(20, 14, 5), 'en-US')).toBe('May 20, 2026, 2:05:00 PM');
    expect(messageDateTime(at(20, 14, 5), 'en-GB')).toBe('20 May 2026, 14:05:00');
  });
});

describe('buildTimeline', () => {
  it('puts a divider before each day and groups runs by side and time', () => {
    const items = buildTimeline(
      [
        message('a', at(19, 10), 'in'),
        message('b', at(20, 9), 'in'),
        message('c', at(20, 9, 1), 'in'),
        message('d', at(20, 9, 2), 'out'),
        message('e', at(20, 9, 2) + RUN_GAP_MS, 'out'),
      ],
      NOW,
      'en-US',
    );
    expect(
      items.map((item) =>
        item.kind === 'day'
          ? item.label
          : `${item.message.id}${item.first ? '<' : ''}${item.last ? '>' : ''}`,
      ),
    ).toEqual(['Yesterday', 'a<>', 'Today', 'b<', 'c>', 'd<>', 'e<>']);
  });

  it('keeps the rows that did not change, so only changed rows render again', () => {
    const a = message('a', at(20, 9), 'in');
    const b = message('b', at(20, 9, 1), 'in');
    const before = buildTimeline([a, b], NOW, 'en-US');
    // c joins b's run: b is no longer the run's last, a is untouched.
    const c = message('c', at(20, 9, 2), 'in');
    const after = buildTimeline([a, b, c], NOW, 'en-US', before);
    expect(after[0]).toBe(before[0]); // Today
    expect(after[1]).toBe(before[1]); // a
    expect(after[2]).not.toBe(before[2]); // b: last changed
    expect(after[2]).toMatchObject({ key: 'b', first: false, last: false });
    // A message replaced by a new object (its state changed) is a new row.
    const delivered = { ...a };
    expect(buildTimeline([delivered, b, c], NOW, 'en-US', after)[1]).not.toBe(after[1]);
    expect(buildTimeline([a, b, c], NOW, 'en-US', after)).toEqual(after);
  });

  it('is empty without messages', () => {
    expect(buildTimeline([], NOW)).toEqual([]);
  });
});
