import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Friend } from '../../../../shared/api.js';
import type { ServerFrameEvents } from '../gateway.js';
import { Emitter } from '../emitter.js';
import { ChatState, HISTORY_PAGE, INCOMING_BATCH_MAX } from './chat.svelte.js';
import type { ChatStore, IncomingMessage, IncomingResult } from './chat-store.js';
import { CHAT_TEXT_MAX } from '../../../../shared/peer-protocol.js';
import { MemoryChatStore } from './memory-chat-store.js';
import { TYPING_DEFAULTS } from './typing.js';
import { FakePeerHub } from './test/fake-peer-network.js';
import { chatDevice, settle, testId } from './test/chat-device.js';

afterEach(() => {
  vi.useRealTimers();
});

/** `bob` with a bare network device linked to `ada`'s chat, to script what bob's side sends. */
async function withBob(options: { store?: ChatStore } = {}) {
  const hub = new FakePeerHub();
  hub.autoConnect = false;
  const ada = chatDevice(hub, 'ada', options);
  const bob = hub.device('bob');
  hub.link(ada.net, bob);
  await settle(ada.chat);
  let seq = 0;
  const say = (text: string) => {
    seq += 1;
    bob.send('ada', { type: 'chat_message', id: testId(), seq, ts: Date.now(), text });
  };
  return { hub, ada, bob, say };
}

/** A memory store whose `addIncoming` can be held (a busy disk) or fail, and records what it got. */
class HeldStore extends MemoryChatStore {
  /** The texts of each batch given to `addIncoming`, in order. */
  readonly batches: string[][] = [];
  /** Set to make the next `addIncoming` reject. */
  failNext = false;
  #held: Promise<void> | null = null;
  #release = () => {};

  /** Batches given from now on wait until `release()`. */
  hold(): void {
    this.#held = new Promise((resolve) => (this.#release = resolve));
  }

  release(): void {
    this.#release();
    this.#held = null;
  }

  override async addIncoming(batch: readonly IncomingMessage[]): Promise<IncomingResult[]> {
    this.batches.push(batch.map((message) => message.text));
    await this.#held;
    if (this.failNext) {
      this.failNext = false;
      throw new Error('disk full');
    }
    return super.addIncoming(batch);
  }
}

/** Lets the frames sent so far cross their links (they go with `setTimeout(0)`, in order). */
function framesCross(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

describe('ChatState: sending', () => {
  it('refuses blank and over-long text without storing or sending anything', async () => {
    const { ada, bob } = await withBob();
    expect(ada.chat.send('bob', '   \n ')).toBe('empty');
    expect(ada.chat.send('bob', 'x'.repeat(CHAT_TEXT_MAX + 1))).toBe('too_long');
    await settle(ada.chat);
    expect(await ada.store.outbox()).toEqual([]);
    expect(ada.net.sentOf('chat_message')).toEqual([]);
    expect(bob.sent).toEqual([]);
  });

  it('sends the trimmed text and connects to the friend', async () => {
    const { ada } = await withBob();
    ada.chat.send('bob', '  hello\nworld  ');
    await settle(ada.chat);
    expect(ada.net.sentOf('chat_message').map((m) => m.text)).toEqual(['hello\nworld']);
    expect(ada.net.connects).toContain('bob');
  });

  it('shows messages that were on a link before a reload as waiting', async () => {
    const store = new MemoryChatStore();
    const message = await store.addOutgoing('bob', { id: testId(), text: 'hi', now: 1 });
    await store.setOutboxState('bob', [message.id], 'sending');
    const hub = new FakePeerHub();
    const ada = chatDevice(hub, 'ada', { store });
    const conversation = ada.chat.open('bob');
    await settle(ada.chat);
    expect(conversation.messages.map((m) => m.state)).toEqual(['waiting']);
  });
});

describe('ChatState: unread counts', () => {
  it('counts messages while the chat is closed and resets on open', async () => {
    const { ada, say } = await withBob();
    say('one');
    say('two');
    await settle(ada.chat);
    expect(ada.chat.unread('bob')).toBe(2);
    expect(ada.chat.unreadTotal).toBe(2);

    ada.chat.open('bob');
    expect(ada.chat.unread('bob')).toBe(0);
    say('three');
    await settle(ada.chat);
    expect(ada.chat.unread('bob')).toBe(0);
    expect(await ada.store.unreadCounts()).toEqual({});
  });

  it('counts while the open chat is out of view, and resets when the page is in view again', async () => {
    const { ada, say } = await withBob();
    ada.chat.open('bob');
    ada.chat.setAttentive(false);
    say('while away');
    await settle(ada.chat);
    expect(ada.chat.unread('bob')).toBe(1);
    ada.chat.setAttentive(true);
    expect(ada.chat.unread('bob')).toBe(0);
  });

  it('does not keep a count for a chat opened while its messages were being stored', async () => {
    const store = new HeldStore();
    const { ada, say } = await withBob({ store });
    await settle(ada.chat);
    store.hold();
    say('arrives while closed');
    await vi.waitFor(() => expect(store.batches).toHaveLength(1));
    ada.chat.open('bob');
    store.release();
    await settle(ada.chat);
    expect(ada.chat.unread('bob')).toBe(0);
    expect(await ada.store.unreadCounts()).toEqual({});
  });

  it('counts only another conversation while one is open', async () => {
    const { hub, ada, say } = await withBob();
    const cy = hub.device('cy');
    hub.link(ada.net, cy);
    ada.chat.open('cy');
    say('for the closed chat');
    cy.send('ada', { type: 'chat_message', id: testId(), seq: 1, ts: 1, text: 'for the open chat' });
    await settle(ada.chat);
    expect(ada.chat.unread('bob')).toBe(1);
    expect(ada.chat.unread('cy')).toBe(0);
  });

  it('keeps counts across a reload, and does not count a duplicate', async () => {
    const { hub, ada, bob } = await withBob();
    const message = { type: 'chat_message', id: testId(), seq: 1, ts: 1, text: 'hi' } as const;
    bob.send('ada', message);
    await settle(ada.chat);
    const reloaded = ada.reload();
    hub.link(reloaded.net, bob);
    bob.send('ada', message);
    await settle(reloaded.chat);
    expect(reloaded.chat.unread('bob')).toBe(1);
    expect(reloaded.net.sentOf('chat_ack')).toEqual([{ type: 'chat_ack', ids: [message.id] }]);
  });
});

describe('ChatState: receiving while the store is busy', () => {
  it('stores what arrives during a slow store call in one batch, then acks and shows all of it', async () => {
    const store = new HeldStore();
    const { ada, bob, say } = await withBob({ store });
    const conversation = ada.chat.open('bob');
    await settle(ada.chat);
    store.hold();
    say('m1');
    await vi.waitFor(() => expect(store.batches).toHaveLength(1));
    for (let i = 2; i <= 10; i += 1) say(`m${i}`);
    await framesCross();
    expect(store.batches).toHaveLength(1);

    store.release();
    await settle(ada.chat);
    const texts = Array.from({ length: 10 }, (_, i) => `m${i + 1}`);
    expect(store.batches).toEqual([['m1'], texts.slice(1)]);
    expect(ada.net.sentOf('chat_ack').flatMap((ack) => ack.ids)).toEqual(
      bob.sentOf('chat_message').map((message) => message.id),
    );
    expect(conversation.messages.map((message) => message.text)).toEqual(texts);
    expect((await store.history('bob', 20)).map((message) => message.text)).toEqual(texts);
  });

  it('does not ack or count a conflicting id in the middle of a batch, and does the others', async () => {
    const store = new HeldStore();
    const { ada, bob, say } = await withBob({ store });
    ada.chat.send('bob', 'mine');
    await settle(ada.chat);
    const [mine] = ada.net.sentOf('chat_message');
    store.hold();
    say('first');
    await vi.waitFor(() => expect(store.batches).toHaveLength(1));
    say('a');
    bob.send('ada', { type: 'chat_message', id: mine!.id, seq: 3, ts: 1, text: 'spoof' });
    say('c');
    await framesCross();

    store.release();
    await settle(ada.chat);
    expect(store.batches).toEqual([['first'], ['a', 'spoof', 'c']]);
    const ids = bob.sentOf('chat_message').map((message) => message.id);
    expect(ada.net.sentOf('chat_ack').flatMap((ack) => ack.ids)).toEqual(ids.filter((id) => id !== mine!.id));
    expect(ada.chat.unread('bob')).toBe(3);
    const history = await store.history('bob', 10);
    expect(history.map((message) => `${message.direction}:${message.text}`).sort()).toEqual([
      'in:a',
      'in:c',
      'in:first',
      'out:mine',
    ]);
  });

  it('stores a flood in batches of at most INCOMING_BATCH_MAX, in order', async () => {
    const store = new HeldStore();
    const { ada, bob, say } = await withBob({ store });
    store.hold();
    say('first');
    await vi.waitFor(() => expect(store.batches).toHaveLength(1));
    for (let i = 0; i < INCOMING_BATCH_MAX + 10; i += 1) say(`flood ${i}`);
    await framesCross();

    store.release();
    await settle(ada.chat);
    expect(store.batches.map((batch) => batch.length)).toEqual([1, INCOMING_BATCH_MAX, 10]);
    expect(store.batches.flat()).toEqual(bob.sentOf('chat_message').map((message) => message.text));
    expect(ada.net.sentOf('chat_ack').flatMap((ack) => ack.ids)).toHaveLength(INCOMING_BATCH_MAX + 11);
    expect(ada.chat.unread('bob')).toBe(INCOMING_BATCH_MAX + 11);
  });

  it('warns about a failed batch without acking it, and stores what comes next', async () => {
    const hub = new FakePeerHub();
    hub.autoConnect = false;
    const store = new HeldStore();
    const warn = vi.fn();
    const net = hub.device('ada');
    const bob = hub.device('bob');
    const chat = new ChatState({ peers: net, store, warn, ackDelayMs: 0 });
    hub.link(net, bob);
    await settle(chat);
    const say = (text: string) => {
      const id = testId();
      bob.send('ada', { type: 'chat_message', id, seq: 1, ts: 1, text });
      return id;
    };

    store.failNext = true;
    say('lost');
    await settle(chat);
    expect(warn).toHaveBeenCalledWith('chat: store task failed', expect.any(Error));
    expect(net.sentOf('chat_ack')).toEqual([]);

    const kept = say('kept');
    await settle(chat);
    expect(store.batches).toEqual([['lost'], ['kept']]);
    expect(net.sentOf('chat_ack')).toEqual([{ type: 'chat_ack', ids: [kept] }]);
    chat.dispose();
  });
});

describe('ChatState: typing', () => {
  it('shows the friend typing for a few seconds after their last true, and not after their message', async () => {
    vi.useFakeTimers();
    const hub = new FakePeerHub();
    const ada = chatDevice(hub, 'ada');
    const bob = chatDevice(hub, 'bob');
    ada.chat.open('bob');
    await vi.advanceTimersByTimeAsync(10);

    bob.chat.open('ada');
    bob.chat.typed('ada');
    await vi.advanceTimersByTimeAsync(10);
    expect(ada.chat.isTyping('bob')).toBe(true);
    await vi.advanceTimersByTimeAsync(TYPING_DEFAULTS.showMs);
    expect(ada.chat.isTyping('bob')).toBe(false);

    // Still typing after a while: said again, at most every couple of seconds.
    bob.chat.typed('ada');
    await vi.advanceTimersByTimeAsync(1_000);
    bob.chat.typed('ada');
    await vi.advanceTimersByTimeAsync(TYPING_DEFAULTS.resendMs);
    bob.chat.typed('ada');
    await vi.advanceTimersByTimeAsync(10);
    expect(bob.net.sentOf('typing')).toEqual([
      { type: 'typing', active: true },
      { type: 'typing', active: true },
      { type: 'typing', active: true },
    ]);
    expect(ada.chat.isTyping('bob')).toBe(true);

    // Sending says "stopped" first; the message ends the indicator anyway.
    bob.chat.send('ada', 'done');
    await vi.advanceTimersByTimeAsync(10);
    expect(bob.net.sentOf('typing').at(-1)).toEqual({ type: 'typing', active: false });
    expect(ada.chat.isTyping('bob')).toBe(false);

    // Blur without sending.
    bob.chat.typed('ada');
    bob.chat.stoppedTyping();
    await vi.advanceTimersByTimeAsync(10);
    expect(ada.chat.isTyping('bob')).toBe(false);
  });

  it('ends the indicator when the last link to the friend closes', async () => {
    const { hub, ada, bob } = await withBob();
    bob.send('ada', { type: 'typing', active: true });
    await settle(ada.chat);
    expect(ada.chat.isTyping('bob')).toBe(true);
    hub.cut(ada.net, bob);
    expect(ada.chat.isTyping('bob')).toBe(false);
  });
});

describe('ChatState: path and connecting', () => {
  it('reads the path on open and follows path events', async () => {
    const hub = new FakePeerHub();
    hub.autoConnect = false;
    const ada = chatDevice(hub, 'ada');
    const bob = hub.device('bob');
    expect(ada.chat.path('bob')).toBe('none');
    ada.chat.open('bob');
    expect(ada.net.connects).toEqual(['bob']);
    hub.link(ada.net, bob, 'turn');
    expect(ada.chat.path('bob')).toBe('turn');
    hub.cut(ada.net, bob);
    expect(ada.chat.path('bob')).toBe('none');
  });

  it('connects to a friend with waiting messages when presence says they came online', async () => {
    const hub = new FakePeerHub();
    hub.autoConnect = false;
    const frames = new Emitter<ServerFrameEvents>();
    const net = hub.device('ada');
    const chat = new ChatState({
      peers: net,
      store: new MemoryChatStore(),
      gateway: { on: (type, handler) => frames.on(type, handler) },
    });
    chat.send('bob', 'when you are back');
    await settle(chat);
    net.connects.length = 0;

    const friend = (id: string, status: Friend['status']): Friend => ({
      id,
      username: id,
      status,
      lastSeen: null,
    });
    frames.emit('presence', { type: 'presence', userId: 'cy', status: 'online', lastSeen: null });
    frames.emit('presence', { type: 'presence', userId: 'bob', status: 'offline', lastSeen: 1 });
    await settle(chat);
    expect(net.connects).toEqual([]);

    frames.emit('presence', { type: 'presence', userId: 'bob', status: 'online', lastSeen: null });
    await settle(chat);
    expect(net.connects).toEqual(['bob']);

    frames.emit('hello', {
      type: 'hello',
      protocolVersion: 1,
      user: { id: 'ada', username: 'ada' },
      connectionId: 'c1',
      friends: [friend('bob', 'away'), friend('cy', 'online')],
      incoming: [],
      outgoing: [],
    });
    await settle(chat);
    expect(net.connects).toEqual(['bob', 'bob']);
    chat.dispose();
  });
});

describe('ChatState: history', () => {
  it('loads the newest page on open and older pages on demand, in order', async () => {
    const store = new MemoryChatStore();
    const total = HISTORY_PAGE + 30;
    for (let i = 1; i <= total; i += 1) {
      await store.addIncoming([
        { id: testId(), conversation: 'bob', seq: i, ts: i * 1_000, text: `m${i}`, unread: false },
      ]);
    }
    const hub = new FakePeerHub();
    const ada = chatDevice(hub, 'ada', { store });
    const conversation = ada.chat.open('bob');
    await settle(ada.chat);
    expect(conversation.messages).toHaveLength(HISTORY_PAGE);
    expect(conversation.messages.at(-1)?.text).toBe(`m${total}`);
    expect(conversation.hasOlder).toBe(true);

    ada.chat.loadOlder('bob');
    expect(conversation.loadingOlder).toBe(true);
    await settle(ada.chat);
    expect(conversation.messages.map((m) => m.text)).toEqual(
      Array.from({ length: total }, (_, i) => `m${i + 1}`),
    );
    expect(conversation.hasOlder).toBe(false);
    expect(conversation.loadingOlder).toBe(false);
  });

  it('keeps each conversation’s draft while another is open', () => {
    const hub = new FakePeerHub();
    const ada = chatDevice(hub, 'ada');
    ada.chat.open('bob').draft = 'half a thought';
    ada.chat.open('cy');
    expect(ada.chat.open('bob').draft).toBe('half a thought');
    ada.chat.close();
    expect(ada.chat.active).toBeNull();
  });
});

describe('ChatState: files in the history', () => {
  it('records a verified file once, in the open conversation and in the store', async () => {
    const hub = new FakePeerHub();
    const ada = chatDevice(hub, 'ada');
    const conversation = ada.chat.open('bob');
    await settle(ada.chat);
    const file = { name: 'notes.txt', size: 12, type: 'text/plain', sha256: 'cd'.repeat(32) };
    ada.chat.recordFile('bob', 'in', 'f1', file);
    ada.chat.recordFile('bob', 'in', 'f1', file);
    await settle(ada.chat);
    expect(conversation.messages).toEqual([
      expect.objectContaining({ id: 'file:f1', direction: 'in', state: 'received', file }),
    ]);
    expect((await ada.store.history('bob', 10)).map((m) => m.file?.name)).toEqual(['notes.txt']);
    expect(ada.net.sentOf('chat_message')).toEqual([]);
  });
});

describe('ChatState: dispose', () => {
  it('stops listening to the peer network and closes the store', async () => {
    const { ada, say } = await withBob();
    const close = vi.spyOn(ada.store, 'close');
    ada.chat.dispose();
    say('too late');
    await settle(ada.chat);
    expect(await ada.store.history('bob', 10)).toEqual([]);
    expect(close).toHaveBeenCalled();
  });
});
