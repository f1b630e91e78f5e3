/**
 * Direct chat through the UI: two users in two Chromium contexts against the real server (and Redis),
 * talking over a real WebRTC data channel on loopback. Delivery exactly once and in order, acks,
 * the path badge (checked against the browser's own selected candidate pair), chatting on while the
 * signaling server is down and recovering when it is back, the outbox across an offline friend and
 * reloads, and history kept in IndexedDB.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  befriend,
  connected,
  expectBadge,
  expectState,
  expectStatus,
  expectTexts,
  friendRow,
  LIVE_MS,
  messageItem,
  messageLog,
  openChat,
  reopen,
  selectedPairs,
  send,
  signedInUser as newUser,
  texts,
} from './chat-page.js';
import { launchBrowser, startApp, type RunningApp } from './harness.js';

let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
});

const signedInUser = (app: RunningApp, prefix: string) => newUser(browser, app, prefix);

describe('direct chat', () => {
  let app: RunningApp;

  beforeAll(async () => {
    app = await startApp();
  });

  afterAll(async () => {
    await app?.close();
  });

  it('chats both ways exactly once, in order, delivered, over a direct (non-relay) path', async () => {
    const a = await signedInUser(app, 'ca');
    const b = await signedInUser(app, 'cb');
    await befriend(a, b);

    await openChat(a.page, b.username);
    await expectBadge(a.page, 'Direct');

    // B has not opened the chat: the message counts as unread on B's list.
    await send(a.page, 'hello there');
    await expectState(a.page, b.username, 'hello there', 'Delivered');
    await friendRow(b.page, a.username).getByText('1 unread message').waitFor({ timeout: LIVE_MS });
    expect(await b.page.title()).toBe('(1) Parley');
    await openChat(b.page, a.username);
    expect(
      await friendRow(b.page, a.username)
        .getByText(/unread/)
        .count(),
    ).toBe(0);
    expect(await b.page.title()).toBe('Parley');
    await expectBadge(b.page, 'Direct');

    // A burst from A, then answers from B.
    for (const text of ['a1', 'a2', 'a3']) await send(a.page, text);
    await expectTexts(b.page, a.username, ['hello there', 'a1', 'a2', 'a3']);
    for (const text of ['a1', 'a2', 'a3']) await expectState(a.page, b.username, text, 'Delivered');
    for (const text of ['b1', 'b2']) await send(b.page, text);
    await expectTexts(a.page, b.username, ['hello there', 'a1', 'a2', 'a3', 'b1', 'b2']);
    await expectState(b.page, a.username, 'b2', 'Delivered');
    expect(await texts(b.page, a.username)).toEqual(['hello there', 'a1', 'a2', 'a3', 'b1', 'b2']);
    // Received messages carry no delivery state; with the chat open and in view nothing is unread.
    expect(await messageItem(b.page, a.username, 'a1').getByText('Delivered').count()).toBe(0);
    expect(
      await friendRow(b.page, a.username)
        .getByText(/unread/)
        .count(),
    ).toBe(0);
    expect(await b.page.title()).toBe('Parley');

    // Shift+Enter breaks the line; blank text is not sent; markup stays text.
    const field = a.page.getByLabel('Message', { exact: true });
    await field.fill('line one');
    await field.press('Shift+Enter');
    await field.pressSequentially('line two');
    await field.press('Enter');
    await field.fill('   ');
    await field.press('Enter');
    expect(await a.page.getByRole('button', { name: 'Send', exact: true }).isDisabled()).toBe(true);
    await send(a.page, '<b>not bold</b>');
    await expectTexts(b.page, a.username, [
      'hello there',
      'a1',
      'a2',
      'a3',
      'b1',
      'b2',
      'line one\nline two',
      '<b>not bold</b>',
    ]);
    expect(await messageLog(b.page, a.username).locator('b').count()).toBe(0);

    // Typing shows on the other side, and ends.
    await b.page.getByLabel('Message', { exact: true }).pressSequentially('thinking');
    await a.page.getByText('typing…', { exact: true }).waitFor({ timeout: LIVE_MS });
    await b.page.getByLabel('Message', { exact: true }).fill('');
    await a.page.getByText('typing…', { exact: true }).waitFor({ state: 'detached', timeout: LIVE_MS });

    // The browsers agree with the badge: the selected candidate pairs are not relayed.
    for (const user of [a, b]) {
      const pairs = await selectedPairs(user.page);
      expect(pairs.length).toBeGreaterThan(0);
      for (const pair of pairs) {
        expect(pair.local).not.toBe('relay');
        expect(pair.remote).not.toBe('relay');
      }
    }

    expect([...a.pageErrors, ...b.pageErrors]).toEqual([]);
    await Promise.all([a.context.close(), b.context.close()]);
  });

  it('keeps messages for an offline friend in the outbox across a reload, then delivers them once', async () => {
    const a = await signedInUser(app, 'oa');
    const b = await signedInUser(app, 'ob');
    await befriend(a, b);

    // B closes Parley.
    await b.page.close();
    await expectStatus(a.page, b.username, /^(offline|last seen .+)$/);

    await openChat(a.page, b.username);
    await send(a.page, 'are you there?');
    await send(a.page, 'call me');
    await expectState(a.page, b.username, 'are you there?', 'Waiting');
    await expectState(a.page, b.username, 'call me', 'Waiting');

    // A reloads: the outbox is in IndexedDB.
    await a.page.reload();
    await connected(a.page);
    await openChat(a.page, b.username);
    await expectState(a.page, b.username, 'are you there?', 'Waiting');
    await expectTexts(a.page, b.username, ['are you there?', 'call me']);

    // B comes back without opening the chat: A's outbox goes out, acknowledged.
    await reopen(b, app);
    await expectState(a.page, b.username, 'are you there?', 'Delivered');
    await expectState(a.page, b.username, 'call me', 'Delivered');
    await friendRow(b.page, a.username).getByText('2 unread messages').waitFor({ timeout: LIVE_MS });
    await openChat(b.page, a.username);
    await expectTexts(b.page, a.username, ['are you there?', 'call me']);

    // History is kept on both sides across reloads, still exactly once.
    await send(b.page, 'back now');
    await expectTexts(a.page, b.username, ['are you there?', 'call me', 'back now']);
    for (const user of [a, b]) {
      await user.page.reload();
      await connected(user.page);
    }
    await openChat(a.page, b.username);
    await openChat(b.page, a.username);
    await expectTexts(a.page, b.username, ['are you there?', 'call me', 'back now']);
    await expectTexts(b.page, a.username, ['are you there?', 'call me', 'back now']);
    await expectState(a.page, b.username, 'call me', 'Delivered');
    await expectState(b.page, a.username, 'back now', 'Delivered');
    // No unread left behind by the reloads.
    expect(
      await friendRow(b.page, a.username)
        .getByText(/unread/)
        .count(),
    ).toBe(0);

    expect([...a.pageErrors, ...b.pageErrors]).toEqual([]);
    await Promise.all([a.context.close(), b.context.close()]);
  });
});

describe('chat without the signaling server', () => {
  it(
    'keeps chatting while the server is down, and recovers presence and new connections when it is back',
    { timeout: 150_000 },
    async () => {
      let app = await startApp();
      const port = Number(new URL(app.url).port);
      try {
        const a = await signedInUser(app, 'sa');
        const b = await signedInUser(app, 'sb');
        await befriend(a, b);
        await openChat(a.page, b.username);
        await openChat(b.page, a.username);
        await expectBadge(a.page, 'Direct');
        await send(a.page, 'before');
        await expectTexts(b.page, a.username, ['before']);

        // The server goes away; the data channel does not need it.
        await app.close();
        for (const user of [a, b]) {
          await user.page
            .getByRole('banner')
            .getByText(/^Offline/)
            .waitFor({ timeout: LIVE_MS });
        }
        await send(a.page, 'server down, still here');
        await send(b.page, 'me too');
        await expectTexts(b.page, a.username, ['before', 'server down, still here', 'me too']);
        await expectTexts(a.page, b.username, ['before', 'server down, still here', 'me too']);
        await expectState(a.page, b.username, 'server down, still here', 'Delivered');
        await expectState(b.page, a.username, 'me too', 'Delivered');

        // Back on the same port and Redis: both reconnect by themselves (the backoff tops out at 30 s).
        app = await startApp({ port });
        for (const user of [a, b]) await connected(user.page, 45_000);
        await expectStatus(a.page, b.username, 'online');

        // Presence flows again: B leaves, and comes back. (A closed tab says no goodbye on the data
        // channel: A drops the link once B has been offline past the grace for signaling blips.)
        await b.page.close();
        await expectStatus(a.page, b.username, /^(offline|last seen .+)$/);
        await expectBadge(a.page, 'Not connected', 45_000);
        await reopen(b, app);
        await expectStatus(a.page, b.username, 'online');

        // A fresh peer connection opens through the restarted server.
        await send(a.page, 'after the restart');
        await expectState(a.page, b.username, 'after the restart', 'Delivered');
        await expectBadge(a.page, 'Direct');
        await openChat(b.page, a.username);
        await expectTexts(b.page, a.username, [
          'before',
          'server down, still here',
          'me too',
          'after the restart',
        ]);

        expect([...a.pageErrors, ...b.pageErrors]).toEqual([]);
        await Promise.all([a.context.close(), b.context.close()]);
      } finally {
        // Closed already when the test failed while the server was down.
        await app.close().catch(() => {});
      }
    },
  );
});
