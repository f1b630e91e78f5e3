import { describe, expect, it } from 'vitest';
import type { StoredMessage } from './chat-store.js';
import { compareMessages, mergeMessages } from './message-order.js';

function message(id: string, ts: number, seq: number, extra: Partial<StoredMessage> = {}): StoredMessage {
  return { id, conversation: 'bob', direction: 'in', state: 'received', seq, ts, text: id, ...extra };
}

describe('compareMessages', () => {
  it('orders by timestamp, then sequence number, then id', () => {
    const list = [
      message('c', 2, 1),
      message('b', 1, 2),
      message('a', 1, 2),
      message('d', 1, 1),
      message('e', 0, 9),
    ];
    expect(list.sort(compareMessages).map((m) => m.id)).toEqual(['e', 'd', 'a', 'b', 'c']);
  });
});

describe('mergeMessages', () => {
  it('appends newer messages at the end', () => {
    const list = [message('a', 1, 1), message('b', 2, 2)];
    expect(mergeMessages(list, [message('c', 3, 3)]).map((m) => m.id)).toEqual(['a', 'b', 'c']);
  });

  it('inserts a late earlier message in place', () => {
    const list = [message('a', 1, 1), message('c', 3, 3)];
    expect(mergeMessages(list, [message('b', 2, 2)]).map((m) => m.id)).toEqual(['a', 'b', 'c']);
    expect(mergeMessages(list, [message('z', 0, 5)]).map((m) => m.id)).toEqual(['z', 'a', 'c']);
  });

  it('keeps one copy per id: a known id replaces the old record where it was', () => {
    const list = [message('a', 1, 1, { direction: 'out', state: 'sending' }), message('b', 2, 1)];
    const merged = mergeMessages(list, [message('a', 1, 1, { direction: 'out', state: 'delivered' })]);
    expect(merged.map((m) => [m.id, m.state])).toEqual([
      ['a', 'delivered'],
      ['b', 'received'],
    ]);
  });

  it('merges several at once, in any arrival order, without changing the input', () => {
    const list = [message('b', 2, 2)];
    const merged = mergeMessages(list, [message('d', 4, 4), message('a', 1, 1), message('c', 3, 3)]);
    expect(merged.map((m) => m.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(list.map((m) => m.id)).toEqual(['b']);
  });
});
