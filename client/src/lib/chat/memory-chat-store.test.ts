import { describe, expect, it } from 'vitest';
import type { IncomingMessage } from './chat-store.js';
import { MemoryChatStore } from './memory-chat-store.js';

/** A message from `conversation` whose text is its id. */
function incoming(conversation: string, id: string, seq = 1, ts = 1, unread = false): IncomingMessage {
  return { id, conversation, seq, ts, text: id, unread };
}

describe('MemoryChatStore', () => {
  it('numbers outgoing messages per conversation and never lets the clock go back', async () => {
    const store = new MemoryChatStore();
    const a = await store.addOutgoing('bob', { id: 'a', text: 'a', now: 100 });
    const b = await store.addOutgoing('bob', { id: 'b', text: 'b', now: 50 });
    const c = await store.addOutgoing('cy', { id: 'c', text: 'c', now: 200 });
    expect([a, b, c].map((m) => [m.seq, m.ts, m.state, m.direction])).toEqual([
      [1, 100, 'waiting', 'out'],
      [2, 100, 'waiting', 'out'],
      [1, 200, 'waiting', 'out'],
    ]);
  });

  it('tells added, duplicate and conflicting incoming ids apart', async () => {
    const store = new MemoryChatStore();
    await store.addOutgoing('bob', { id: 'mine', text: 'x', now: 1 });
    const unread = true;
    expect(await store.addIncoming([incoming('bob', 'm1', 1, 1, unread)])).toEqual(['added']);
    expect(await store.addIncoming([incoming('bob', 'm1', 1, 1, unread)])).toEqual(['duplicate']);
    expect(await store.addIncoming([incoming('cy', 'm1', 1, 1, unread)])).toEqual(['conflict']);
    expect(await store.addIncoming([incoming('bob', 'mine', 1, 1, unread)])).toEqual(['conflict']);
    expect(await store.unreadCounts()).toEqual({ bob: 1 });
    await store.markRead('bob');
    expect(await store.unreadCounts()).toEqual({});
  });

  it('stores a batch in order, deciding ids repeated inside it as if they came one by one', async () => {
    const store = new MemoryChatStore();
    await store.addOutgoing('bob', { id: 'mine', text: 'x', now: 1 });
    await store.addIncoming([incoming('bob', 'old', 1, 1, true)]);
    const results = await store.addIncoming([
      incoming('bob', 'b1', 2, 2, true),
      incoming('cy', 'c1', 1, 3, true),
      // Resent inside the batch: the first one is kept.
      { ...incoming('bob', 'b1', 2, 2, true), text: 'resent' },
      incoming('cy', 'b1', 2, 4, true),
      incoming('bob', 'old', 1, 1, true),
      incoming('bob', 'mine', 3, 5, true),
      incoming('bob', 'b2', 3, 6, false),
      incoming('bob', 'b3', 4, 7, true),
    ]);
    expect(results).toEqual([
      'added',
      'added',
      'duplicate',
      'conflict',
      'duplicate',
      'conflict',
      'added',
      'added',
    ]);
    // Only added messages marked unread count, on top of what was counted before.
    expect(await store.unreadCounts()).toEqual({ bob: 3, cy: 1 });
    expect((await store.history('bob', 10)).map((m) => [m.id, m.text, m.direction])).toEqual([
      ['mine', 'x', 'out'],
      ['old', 'old', 'in'],
      ['b1', 'b1', 'in'],
      ['b2', 'b2', 'in'],
      ['b3', 'b3', 'in'],
    ]);
    expect((await store.history('cy', 10)).map((m) => m.id)).toEqual(['c1']);
    expect(await store.addIncoming([])).toEqual([]);
  });

  it('keeps undelivered outgoing messages in the outbox by conversation and seq', async () => {
    const store = new MemoryChatStore();
    await store.addOutgoing('cy', { id: 'c1', text: 'c1', now: 1 });
    await store.addOutgoing('bob', { id: 'b1', text: 'b1', now: 2 });
    await store.addOutgoing('bob', { id: 'b2', text: 'b2', now: 3 });
    expect((await store.outbox()).map((m) => m.id)).toEqual(['b1', 'b2', 'c1']);

    expect((await store.setOutboxState('bob', ['b1', 'b2'], 'sending')).map((m) => m.state)).toEqual([
      'sending',
      'sending',
    ]);
    // Already in that state: nothing changes.
    expect(await store.setOutboxState('bob', ['b1'], 'sending')).toEqual([]);
    // Another conversation's ack changes nothing.
    expect(await store.markDelivered('cy', ['b1'])).toEqual([]);
    expect((await store.markDelivered('bob', ['b1', 'b1', 'unknown'])).map((m) => m.id)).toEqual(['b1']);
    expect(await store.markDelivered('bob', ['b1'])).toEqual([]);
    // Delivered stays delivered.
    expect(await store.setOutboxState('bob', ['b1'], 'waiting')).toEqual([]);
    expect((await store.outbox('bob')).map((m) => m.id)).toEqual(['b2']);
  });

  it('pages history backwards in conversation order, ties by id', async () => {
    const store = new MemoryChatStore();
    for (const [id, seq, ts] of [
      ['d', 1, 4],
      ['b', 1, 2],
      ['a', 1, 1],
      ['c2', 2, 2],
      ['c1', 2, 2],
    ] as const) {
      await store.addIncoming([incoming('bob', id, seq, ts)]);
    }
    await store.addIncoming([incoming('cy', 'other', 1, 3)]);
    const newest = await store.history('bob', 2);
    expect(newest.map((m) => m.id)).toEqual(['c2', 'd']);
    const older = await store.history('bob', 2, newest[0]);
    expect(older.map((m) => m.id)).toEqual(['b', 'c1']);
    expect((await store.history('bob', 10, older[0])).map((m) => m.id)).toEqual(['a']);
  });

  it('keeps file records once, out of the outbox, in history order', async () => {
    const store = new MemoryChatStore();
    const file = { name: 'a.bin', size: 3, type: '', sha256: 'ab'.repeat(32) };
    await store.addOutgoing('bob', { id: 'm1', text: 'before', now: 10 });
    const sent = await store.addFile('bob', { id: 'file:1', direction: 'out', ts: 20, file });
    expect(sent).toMatchObject({ id: 'file:1', state: 'delivered', text: '', file });
    expect(await store.addFile('bob', { id: 'file:1', direction: 'out', ts: 30, file })).toBeNull();
    const got = await store.addFile('bob', { id: 'file:2', direction: 'in', ts: 5, file });
    expect(got?.state).toBe('received');
    expect((await store.history('bob', 10)).map((m) => m.id)).toEqual(['file:2', 'm1', 'file:1']);
    expect((await store.outbox()).map((m) => m.id)).toEqual(['m1']);
    expect(await store.unreadCounts()).toEqual({});
  });
});
