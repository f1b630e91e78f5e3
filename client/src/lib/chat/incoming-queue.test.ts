import { describe, expect, it } from 'vitest';
import type { ChatStore, IncomingMessage, IncomingResult } from './chat-store.js';
import {
  INCOMING_BATCH_MAX,
  IncomingQueue,
  type ArrivedMessage,
  type IncomingOutcome,
} from './incoming-queue.js';
import { MemoryChatStore } from './memory-chat-store.js';

function arrived(friendId: string, id: string, connectionId = 'c1'): ArrivedMessage {
  return { friendId, connectionId, message: { type: 'chat_message', id, seq: 1, ts: 1, text: id } };
}

/** A queue over `store` whose tasks run one at a time, like `ChatState`'s, once `done()` lets them. */
function queueOver(store: ChatStore, options: { unread?: string[]; shown?: string[] } = {}) {
  const outcomes: IncomingOutcome[] = [];
  const errors: unknown[] = [];
  let release = () => {};
  let tail = new Promise<void>((resolve) => (release = resolve));
  const queue = new IncomingQueue({
    run: (task) => {
      tail = tail.then(() => task(store)).catch((error: unknown) => void errors.push(error));
    },
    isUnread: (friendId) => options.unread?.includes(friendId) ?? false,
    isShown: (_friendId, id) => options.shown?.includes(id) ?? false,
    stored: (outcome) => outcomes.push(outcome),
  });
  /** Lets the tasks run, and waits for them and those they queue. */
  const done = async () => {
    release();
    for (let last = null; last !== tail;) await (last = tail);
  };
  return { queue, outcomes, errors, done };
}

describe('IncomingQueue', () => {
  it('stores what arrives while the store is busy in batches of at most INCOMING_BATCH_MAX, in order', async () => {
    const store = new MemoryChatStore();
    const { queue, outcomes, done } = queueOver(store);
    const ids = Array.from({ length: INCOMING_BATCH_MAX + 3 }, (_, i) => `m${i}`);
    for (const id of ids) queue.push(arrived('bob', id));
    await done();
    expect(outcomes.map((outcome) => outcome.acks.length)).toEqual([INCOMING_BATCH_MAX, 3]);
    expect(outcomes.flatMap((outcome) => outcome.acks.map((ack) => ack.id))).toEqual(ids);
  });

  it('acks each message on its link, and counts as unread only what it added for an unread chat', async () => {
    const store = new MemoryChatStore();
    const { queue, outcomes, done } = queueOver(store, { unread: ['bob'] });
    queue.push(arrived('bob', 'a', 'c1'));
    queue.push(arrived('cat', 'b', 'c2'));
    queue.push(arrived('bob', 'c', 'c3'));
    await done();
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]!.acks).toEqual([
      { friendId: 'bob', connectionId: 'c1', id: 'a' },
      { friendId: 'cat', connectionId: 'c2', id: 'b' },
      { friendId: 'bob', connectionId: 'c3', id: 'c' },
    ]);
    expect(Object.keys(outcomes[0]!.shown)).toEqual(['bob', 'cat']);
    expect(outcomes[0]!.shown.bob!.map((m) => [m.id, m.direction, m.state])).toEqual([
      ['a', 'in', 'received'],
      ['c', 'in', 'received'],
    ]);
    expect(outcomes[0]!.unread).toEqual({ bob: 2 });
  });

  it('acks a duplicate again and shows it once unless it is on screen; neither for a conflict', async () => {
    const store = new MemoryChatStore();
    await store.addIncoming([{ id: 'old', conversation: 'bob', seq: 1, ts: 1, text: 'old', unread: false }]);
    await store.addIncoming([{ id: 'other', conversation: 'bob', seq: 2, ts: 1, text: '', unread: false }]);
    const mine = await store.addOutgoing('bob', { id: 'mine', text: 'hi', now: 1 });
    const { queue, outcomes, done } = queueOver(store, { unread: ['bob'], shown: ['other'] });
    queue.push(arrived('bob', 'old'));
    queue.push(arrived('bob', 'old'));
    queue.push(arrived('bob', 'other'));
    queue.push(arrived('bob', mine.id));
    await done();
    expect(outcomes[0]!.acks.map((ack) => ack.id)).toEqual(['old', 'old', 'other']);
    expect(outcomes[0]!.shown.bob!.map((m) => m.id)).toEqual(['old']);
    expect(outcomes[0]!.unread).toEqual({});
  });

  it('trusts no result of a store that answers the wrong number of them', async () => {
    class ShortStore extends MemoryChatStore {
      override async addIncoming(batch: readonly IncomingMessage[]): Promise<IncomingResult[]> {
        return (await super.addIncoming(batch)).slice(1);
      }
    }
    const { queue, outcomes, errors, done } = queueOver(new ShortStore());
    queue.push(arrived('bob', 'a'));
    queue.push(arrived('bob', 'b'));
    await done();
    expect(outcomes).toEqual([]);
    expect(errors).toEqual([new Error('chat store answered 1 results for 2 messages')]);
  });
});
