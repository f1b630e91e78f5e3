/**
 * Delivery between devices through the chat layer: two (or three) `ChatState`s on a fake peer
 * network with in-memory stores. Exactly once, in order, acknowledged, across offline friends,
 * lost acks, broken links and reloads.
 */
import { describe, expect, it } from 'vitest';
import type { ChatState } from '../chat.svelte.js';
import { FakePeerHub } from './fake-peer-network.js';
import { chatDevice, settle, testId } from './chat-device.js';

/** The conversation as its chat pane shows it (opening it loads the history). */
async function shown(chat: ChatState, friendId: string) {
  const conversation = chat.open(friendId);
  await chat.idle();
  return conversation.messages;
}

async function texts(chat: ChatState, friendId: string) {
  return (await shown(chat, friendId)).map((m) => m.text);
}

async function states(chat: ChatState, friendId: string) {
  return (await shown(chat, friendId)).map((m) => `${m.text}:${m.state}`);
}

describe('chat delivery', () => {
  it('delivers both ways over an open link: sending, then delivered on the ack', async () => {
    const hub = new FakePeerHub();
    const ada = chatDevice(hub, 'ada');
    const bob = chatDevice(hub, 'bob');
    ada.chat.open('bob');
    bob.chat.open('ada');
    await settle(ada.chat, bob.chat);
    expect(ada.net.openLinks('bob')).toEqual(['bob-2']);

    expect(ada.chat.send('bob', 'hi bob')).toBe('queued');
    await ada.chat.idle();
    // Out on the link, not acknowledged yet.
    expect(await states(ada.chat, 'bob')).toEqual(['hi bob:sending']);

    await settle(ada.chat, bob.chat);
    expect(await states(ada.chat, 'bob')).toEqual(['hi bob:delivered']);
    expect(await states(bob.chat, 'ada')).toEqual(['hi bob:received']);

    bob.chat.send('ada', 'hi ada');
    await settle(ada.chat, bob.chat);
    expect(await texts(ada.chat, 'bob')).toEqual(['hi bob', 'hi ada']);
    expect(await states(bob.chat, 'ada')).toEqual(['hi bob:received', 'hi ada:delivered']);
    expect(ada.net.sentOf('chat_ack').flatMap((ack) => ack.ids)).toHaveLength(1);
  });

  it('numbers each device’s messages per conversation from 1 with never-decreasing timestamps', async () => {
    const hub = new FakePeerHub();
    let clock = 5_000;
    const ada = chatDevice(hub, 'ada', { now: () => clock });
    ada.chat.send('bob', 'one');
    clock = 4_000; // the clock was set back
    ada.chat.send('bob', 'two');
    ada.chat.send('cy', 'other conversation');
    await settle(ada.chat);
    const waiting = await ada.store.outbox();
    expect(waiting.map((m) => [m.text, m.seq, m.ts])).toEqual([
      ['one', 1, 5_000],
      ['two', 2, 5_000],
      ['other conversation', 1, 5_000],
    ]);
  });

  it('keeps sequence numbers and the clock floor across a reload', async () => {
    const hub = new FakePeerHub();
    let clock = 9_000;
    const ada = chatDevice(hub, 'ada', { now: () => clock });
    ada.chat.send('bob', 'one');
    ada.chat.send('bob', 'two');
    await settle(ada.chat);
    clock = 1_000;
    const reloaded = ada.reload();
    reloaded.chat.send('bob', 'three');
    await settle(reloaded.chat);
    const outbox = await reloaded.store.outbox('bob');
    expect(outbox.map((m) => [m.text, m.seq, m.ts])).toEqual([
      ['one', 1, 9_000],
      ['two', 2, 9_000],
      ['three', 3, 9_000],
    ]);
  });

  it('keeps messages for an offline friend waiting, then sends them in order when a link opens', async () => {
    const hub = new FakePeerHub();
    const ada = chatDevice(hub, 'ada');
    ada.chat.open('bob');
    for (const text of ['first', 'second', 'third']) ada.chat.send('bob', text);
    await settle(ada.chat);
    expect(await states(ada.chat, 'bob')).toEqual(['first:waiting', 'second:waiting', 'third:waiting']);
    expect(ada.net.connects).toContain('bob');

    const bob = chatDevice(hub, 'bob');
    hub.link(ada.net, bob.net);
    await settle(ada.chat, bob.chat);
    expect(ada.net.sentOf('chat_message').map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(await states(ada.chat, 'bob')).toEqual(['first:delivered', 'second:delivered', 'third:delivered']);
    expect(await texts(bob.chat, 'ada')).toEqual(['first', 'second', 'third']);
  });

  it('keeps the outbox through a reload of the sender', async () => {
    const hub = new FakePeerHub();
    const ada = chatDevice(hub, 'ada');
    ada.chat.send('bob', 'still there?');
    await settle(ada.chat);

    const reloaded = ada.reload();
    await settle(reloaded.chat);
    expect(await states(reloaded.chat, 'bob')).toEqual(['still there?:waiting']);
    await settle(reloaded.chat);

    const bob = chatDevice(hub, 'bob');
    hub.link(reloaded.net, bob.net);
    await settle(reloaded.chat, bob.chat);
    expect(await states(reloaded.chat, 'bob')).toEqual(['still there?:delivered']);
    expect(await texts(bob.chat, 'ada')).toEqual(['still there?']);
  });

  it('shows a sent message as waiting again when every link drops before the ack, and resends on reconnect', async () => {
    const hub = new FakePeerHub();
    hub.autoConnect = false;
    const ada = chatDevice(hub, 'ada');
    const bob = chatDevice(hub, 'bob');
    hub.link(ada.net, bob.net);
    await settle(ada.chat, bob.chat);

    bob.net.deaf = true; // lost on the way
    ada.chat.send('bob', 'lost once');
    await settle(ada.chat, bob.chat);
    expect(await states(ada.chat, 'bob')).toEqual(['lost once:sending']);

    hub.cut(ada.net, bob.net);
    await settle(ada.chat, bob.chat);
    expect(await states(ada.chat, 'bob')).toEqual(['lost once:waiting']);

    bob.net.deaf = false;
    hub.link(ada.net, bob.net);
    await settle(ada.chat, bob.chat);
    expect(await states(ada.chat, 'bob')).toEqual(['lost once:delivered']);
    expect(await texts(bob.chat, 'ada')).toEqual(['lost once']);
  });

  it('drops a resent duplicate by id but acknowledges it again (the first ack was lost)', async () => {
    const hub = new FakePeerHub();
    const ada = chatDevice(hub, 'ada');
    const bob = chatDevice(hub, 'bob');
    hub.link(ada.net, bob.net);
    await settle(ada.chat, bob.chat);

    ada.net.deaf = true; // bob's ack never arrives
    ada.chat.send('bob', 'once');
    await settle(ada.chat, bob.chat);
    expect(await texts(bob.chat, 'ada')).toEqual(['once']);
    expect(await states(ada.chat, 'bob')).toEqual(['once:sending']);

    hub.cut(ada.net, bob.net);
    ada.net.deaf = false;
    hub.link(ada.net, bob.net);
    await settle(ada.chat, bob.chat);
    expect(ada.net.sentOf('chat_message')).toHaveLength(2);
    expect(bob.net.sentOf('chat_ack')).toHaveLength(2);
    expect(await states(ada.chat, 'bob')).toEqual(['once:delivered']);
    expect(await texts(bob.chat, 'ada')).toEqual(['once']);
    expect(await bob.store.history('ada', 10)).toHaveLength(1);
  });

  it('drops duplicates after the receiver reloaded, too', async () => {
    const hub = new FakePeerHub();
    const ada = chatDevice(hub, 'ada');
    let bob = chatDevice(hub, 'bob');
    hub.link(ada.net, bob.net);
    await settle(ada.chat, bob.chat);
    ada.net.deaf = true;
    ada.chat.send('bob', 'just once');
    await settle(ada.chat, bob.chat);

    bob = bob.reload();
    ada.net.deaf = false;
    hub.link(ada.net, bob.net);
    await settle(ada.chat, bob.chat);
    expect(await texts(bob.chat, 'ada')).toEqual(['just once']);
    expect(await states(ada.chat, 'bob')).toEqual(['just once:delivered']);
  });

  it('sends to every device of the friend; each stores once; the first ack delivers', async () => {
    const hub = new FakePeerHub();
    const ada = chatDevice(hub, 'ada');
    const phone = chatDevice(hub, 'bob');
    const laptop = chatDevice(hub, 'bob');
    ada.chat.open('bob');
    await settle(ada.chat, phone.chat, laptop.chat);
    expect(ada.net.openLinks('bob')).toHaveLength(2);

    laptop.net.deaf = true;
    ada.chat.send('bob', 'to both');
    await settle(ada.chat, phone.chat, laptop.chat);
    expect(await states(ada.chat, 'bob')).toEqual(['to both:delivered']);
    expect(await texts(phone.chat, 'ada')).toEqual(['to both']);

    // Delivered means "a device of the friend has it": a new link to the laptop resends nothing.
    laptop.net.deaf = false;
    hub.cut(ada.net, laptop.net);
    hub.link(ada.net, laptop.net);
    await settle(ada.chat, phone.chat, laptop.chat);
    expect(ada.net.sentOf('chat_message')).toHaveLength(2);
  });

  it('orders by timestamp, then sequence number: a late earlier message lands in place', async () => {
    const hub = new FakePeerHub();
    const bob = chatDevice(hub, 'bob');
    const ada = hub.device('ada');
    hub.link(ada, bob.net);
    bob.chat.open('ada');
    await settle(bob.chat);

    const message = (seq: number, ts: number, text: string) =>
      ({ type: 'chat_message', id: testId(), seq, ts, text }) as const;
    ada.send('bob', message(3, 3_000, 'third'));
    ada.send('bob', message(1, 1_000, 'first'));
    ada.send('bob', message(2, 3_000, 'second-by-ts-then-seq'));
    await settle(bob.chat);
    // Equal timestamps: seq decides (2 before 3).
    expect(await texts(bob.chat, 'ada')).toEqual(['first', 'second-by-ts-then-seq', 'third']);
    // The store agrees after a reload.
    expect((await bob.store.history('ada', 10)).map((m) => m.text)).toEqual(await texts(bob.chat, 'ada'));
    expect(ada.sentOf('chat_message')).toHaveLength(3);
    expect(await bob.store.history('ada', 10)).toHaveLength(3);
  });

  it('ignores acks of another conversation and refuses ids that name another message', async () => {
    const hub = new FakePeerHub();
    hub.autoConnect = false;
    const ada = chatDevice(hub, 'ada');
    const bob = chatDevice(hub, 'bob');
    const cy = hub.device('cy');
    hub.link(ada.net, cy);
    ada.chat.send('bob', 'for bob only');
    await settle(ada.chat);
    const [waiting] = await ada.store.outbox('bob');

    // cy acks ada's message to bob, then reuses its id for a message of its own.
    cy.send('ada', { type: 'chat_ack', ids: [waiting!.id] });
    cy.send('ada', { type: 'chat_message', id: waiting!.id, seq: 1, ts: 1, text: 'spoof' });
    await settle(ada.chat);
    expect(await states(ada.chat, 'bob')).toEqual(['for bob only:waiting']);
    expect(await texts(ada.chat, 'cy')).toEqual([]);
    expect(cy.sent.filter((s) => s.message.type === 'chat_ack')).toHaveLength(1);
    expect(ada.net.sentOf('chat_ack')).toEqual([]);

    hub.link(ada.net, bob.net);
    await settle(ada.chat, bob.chat);
    expect(await states(ada.chat, 'bob')).toEqual(['for bob only:delivered']);
  });

  it('shows a message in every tab of the account, though the shared database stores it once', async () => {
    const hub = new FakePeerHub();
    const ada = chatDevice(hub, 'ada');
    const tab1 = chatDevice(hub, 'bob');
    const tab2 = chatDevice(hub, 'bob', { store: tab1.store });
    tab1.chat.open('ada');
    tab2.chat.open('ada');
    ada.chat.open('bob');
    await settle(ada.chat, tab1.chat, tab2.chat);
    ada.chat.send('bob', 'to every tab');
    await settle(ada.chat, tab1.chat, tab2.chat);
    expect(await texts(tab1.chat, 'ada')).toEqual(['to every tab']);
    expect(await texts(tab2.chat, 'ada')).toEqual(['to every tab']);
    expect(await tab1.store.history('ada', 10)).toHaveLength(1);
    expect(await states(ada.chat, 'bob')).toEqual(['to every tab:delivered']);
  });

  it('resends what is unacknowledged when a link is replaced by a newer one (open again, no close)', async () => {
    const hub = new FakePeerHub();
    hub.autoConnect = false;
    const ada = chatDevice(hub, 'ada');
    const bob = chatDevice(hub, 'bob');
    hub.link(ada.net, bob.net);
    await settle(ada.chat, bob.chat);
    bob.net.deaf = true; // lost in flight on the old link
    ada.chat.send('bob', 'in flight');
    await settle(ada.chat, bob.chat);
    bob.net.deaf = false;
    ada.net.attach(bob.net, 'direct');
    bob.net.attach(ada.net, 'direct');
    await settle(ada.chat, bob.chat);
    expect(await states(ada.chat, 'bob')).toEqual(['in flight:delivered']);
    expect(await texts(bob.chat, 'ada')).toEqual(['in flight']);
  });
});
