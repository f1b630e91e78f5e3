import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ACK_BATCH_MAX, ACK_DELAY_MS, AckBatcher } from './ack-batcher.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function setup() {
  const sent: [string, string, string[]][] = [];
  const batcher = new AckBatcher({ send: (friend, connection, ids) => sent.push([friend, connection, ids]) });
  return { sent, batcher };
}

describe('AckBatcher', () => {
  it('sends the ids stored in a burst in one ack per link, after a short delay', () => {
    const { sent, batcher } = setup();
    batcher.add('bob', 'c1', 'm1');
    batcher.add('bob', 'c1', 'm2');
    batcher.add('bob', 'c2', 'm3');
    batcher.add('cy', 'c9', 'm4');
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(ACK_DELAY_MS);
    expect(sent).toEqual([
      ['bob', 'c1', ['m1', 'm2']],
      ['bob', 'c2', ['m3']],
      ['cy', 'c9', ['m4']],
    ]);
  });

  it('acks an id once per batch even when it came twice', () => {
    const { sent, batcher } = setup();
    batcher.add('bob', 'c1', 'm1');
    batcher.add('bob', 'c1', 'm1');
    batcher.flush();
    expect(sent).toEqual([['bob', 'c1', ['m1']]]);
  });

  it('sends a full batch at once, within the protocol limit', () => {
    const { sent, batcher } = setup();
    for (let i = 0; i < ACK_BATCH_MAX + 1; i += 1) batcher.add('bob', 'c1', `m${i}`);
    expect(sent).toHaveLength(1);
    expect(sent[0]![2]).toHaveLength(ACK_BATCH_MAX);
    vi.advanceTimersByTime(ACK_DELAY_MS);
    expect(sent).toHaveLength(2);
    expect(sent[1]![2]).toEqual([`m${ACK_BATCH_MAX}`]);
  });

  it('drops what is queued on dispose', () => {
    const { sent, batcher } = setup();
    batcher.add('bob', 'c1', 'm1');
    batcher.dispose();
    vi.advanceTimersByTime(ACK_DELAY_MS * 2);
    expect(sent).toEqual([]);
  });
});
