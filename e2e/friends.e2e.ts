/**
 * Friends and live presence through the UI, two users in two browser contexts against the real
 * server: requests, accept, decline, cancel, unfriend, online/away/offline, all without reloads.
 */
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIVITY_DEFAULTS } from '../client/src/lib/activity.js';
import { launchBrowser, openPage, PASSWORD, startApp, uniqueUsername, type RunningApp } from './harness.js';

let app: RunningApp;
let browser: Browser;

beforeAll(async () => {
  [app, browser] = await Promise.all([startApp(), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

/** Live updates must arrive well within this. */
const LIVE_MS = 5_000;

interface User {
  username: string;
  page: Page;
  pageErrors: Error[];
  close(): Promise<void>;
}

/**
 * A new user signed in on a fresh page. With `clock`, the page's timers are Playwright's: they run
 * in real time but can be fast-forwarded, which is how a test makes the page idle for minutes.
 */
async function signedInUser(options: { clock?: boolean; prefix?: string } = {}): Promise<User> {
  const username = uniqueUsername(options.prefix ?? 'fr');
  const { context, page, pageErrors } = await openPage(browser);
  if (options.clock) await page.clock.install();
  await page.goto(app.url);
  const status = await page.evaluate(
    async ([u, p]) =>
      (
        await fetch('/api/auth/register', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ username: u, password: p }),
        })
      ).status,
    [username, PASSWORD] as const,
  );
  expect(status).toBe(201);
  await page.reload();
  await page.getByRole('banner').getByText('Connected', { exact: true }).waitFor();
  return { username, page, pageErrors, close: () => context.close() };
}

/** Calls the friends API from inside the user's page (same origin and cookie as the UI). */
async function api(user: User, method: string, path: string, body?: unknown): Promise<number> {
  return user.page.evaluate(
    async ([m, p, b]) =>
      (
        await fetch(p, {
          method: m,
          headers: b === undefined ? {} : { 'Content-Type': 'application/json' },
          body: b === undefined ? undefined : JSON.stringify(b),
        })
      ).status,
    [method, path, body] as const,
  );
}

async function userId(of: User, asSeenBy: User): Promise<string> {
  const id = await asSeenBy.page.evaluate(async (name) => {
    const snapshot = (await (await fetch('/api/friends')).json()) as {
      friends: { id: string; username: string }[];
      incoming: { id: string; username: string }[];
      outgoing: { id: string; username: string }[];
    };
    return [...snapshot.friends, ...snapshot.incoming, ...snapshot.outgoing].find((u) => u.username === name)
      ?.id;
  }, of.username);
  if (!id) throw new Error(`${asSeenBy.username} does not know ${of.username}`);
  return id;
}

/** Makes `a` and `b` friends through the API (for tests about what comes after). */
async function befriend(a: User, b: User): Promise<void> {
  expect(await api(a, 'POST', '/api/friends/requests', { username: b.username })).toBe(201);
  expect(await api(b, 'POST', `/api/friends/requests/${await userId(a, b)}/accept`, {})).toBe(200);
}

function list(page: Page, name: 'Friends' | 'Friend requests' | 'Sent requests'): Locator {
  return page.getByRole('list', { name, exact: true });
}

function row(page: Page, listName: Parameters<typeof list>[1], username: string): Locator {
  return list(page, listName).getByRole('listitem').filter({ hasText: username });
}

async function addFriend(page: Page, username: string): Promise<void> {
  await page.getByLabel("Friend's username").fill(username);
  await page.getByRole('button', { name: 'Add friend', exact: true }).click();
}

/** The status line of `username` in `page`'s buddy list matches `status`, live. */
async function expectStatus(page: Page, username: string, status: string | RegExp): Promise<void> {
  await row(page, 'Friends', username)
    .getByText(status, { exact: typeof status === 'string' })
    .waitFor({ timeout: LIVE_MS });
}

/** The error under "Friend's username", as screen readers get it. */
async function fieldError(page: Page): Promise<string> {
  const ids = (await page.getByLabel("Friend's username").getAttribute('aria-describedby')) ?? '';
  return ids ? page.locator(`#${ids}`).innerText() : '';
}

describe('friends and presence', () => {
  it('adds a friend, accepts live, and follows online, away and offline without reloads', async () => {
    const a = await signedInUser();
    const b = await signedInUser({ clock: true });

    await addFriend(a.page, b.username);
    await a.page.getByText(`Request sent to ${b.username}.`).waitFor();
    expect(await a.page.getByLabel("Friend's username").inputValue()).toBe('');
    await row(a.page, 'Sent requests', b.username).waitFor();

    // B sees the request arrive, with a count, and accepts it.
    const request = row(b.page, 'Friend requests', a.username);
    await request.waitFor({ timeout: LIVE_MS });
    expect(await b.page.title()).toBe('(1) Parley');
    await request.getByRole('button', { name: 'Accept', exact: true }).click();

    await expectStatus(b.page, a.username, 'online');
    await expectStatus(a.page, b.username, 'online');
    expect(await list(a.page, 'Sent requests').count()).toBe(0);
    expect(await list(b.page, 'Friend requests').count()).toBe(0);
    expect(await b.page.title()).toBe('Parley');

    // B leaves the keyboard and mouse alone for longer than the idle delay.
    await b.page.clock.fastForward(ACTIVITY_DEFAULTS.idleMs + 1_000);
    await expectStatus(a.page, b.username, 'away');
    // ...and comes back.
    await b.page.mouse.move(10, 10);
    await b.page.mouse.move(40, 40);
    await expectStatus(a.page, b.username, 'online');

    // B switches to another tab for a while.
    await b.page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await b.page.clock.fastForward(ACTIVITY_DEFAULTS.hiddenMs + 1_000);
    await expectStatus(a.page, b.username, 'away');
    await b.page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'visible' });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await expectStatus(a.page, b.username, 'online');

    // B closes Parley.
    const bErrors = b.pageErrors;
    await b.close();
    await expectStatus(a.page, b.username, /^(offline|last seen .+)$/);
    // Offline friends sort after online ones; A's list still has exactly one entry.
    expect(await list(a.page, 'Friends').getByRole('listitem').count()).toBe(1);

    expect(a.pageErrors).toEqual([]);
    expect(bErrors).toEqual([]);
    await a.close();
  });

  it('declining removes the request on both sides live', async () => {
    const a = await signedInUser();
    const b = await signedInUser();
    await addFriend(a.page, b.username);
    await row(a.page, 'Sent requests', b.username).waitFor();

    const request = row(b.page, 'Friend requests', a.username);
    await request.waitFor({ timeout: LIVE_MS });
    await request.getByRole('button', { name: 'Decline', exact: true }).click();

    await list(b.page, 'Friend requests').waitFor({ state: 'detached', timeout: LIVE_MS });
    await list(a.page, 'Sent requests').waitFor({ state: 'detached', timeout: LIVE_MS });
    expect(await list(a.page, 'Friends').count()).toBe(0);
    expect(await list(b.page, 'Friends').count()).toBe(0);

    expect([...a.pageErrors, ...b.pageErrors]).toEqual([]);
    await Promise.all([a.close(), b.close()]);
  });

  it('cancelling removes the request on both sides live', async () => {
    const a = await signedInUser();
    const b = await signedInUser();
    await addFriend(a.page, b.username);
    await row(b.page, 'Friend requests', a.username).waitFor({ timeout: LIVE_MS });

    await row(a.page, 'Sent requests', b.username)
      .getByRole('button', { name: 'Cancel', exact: true })
      .click();

    await list(a.page, 'Sent requests').waitFor({ state: 'detached', timeout: LIVE_MS });
    await list(b.page, 'Friend requests').waitFor({ state: 'detached', timeout: LIVE_MS });
    expect(await b.page.title()).toBe('Parley');

    expect([...a.pageErrors, ...b.pageErrors]).toEqual([]);
    await Promise.all([a.close(), b.close()]);
  });

  it('unfriending takes a confirmation and removes the friend on both sides live', async () => {
    const a = await signedInUser();
    const b = await signedInUser();
    await befriend(a, b);
    await expectStatus(a.page, b.username, 'online');
    await expectStatus(b.page, a.username, 'online');

    const friendRow = row(a.page, 'Friends', b.username);
    await friendRow.hover();
    await friendRow.getByRole('button', { name: 'Remove friend', exact: true }).click();
    // Changing one's mind keeps the friend.
    await friendRow.getByRole('button', { name: 'Keep', exact: true }).click();
    expect(await friendRow.getByRole('button', { name: 'Remove', exact: true }).count()).toBe(0);

    await friendRow.getByRole('button', { name: 'Remove friend', exact: true }).click();
    await friendRow.getByRole('button', { name: 'Remove', exact: true }).click();

    await list(a.page, 'Friends').waitFor({ state: 'detached', timeout: LIVE_MS });
    await list(b.page, 'Friends').waitFor({ state: 'detached', timeout: LIVE_MS });
    await b.page.getByText('No friends yet').waitFor();

    expect([...a.pageErrors, ...b.pageErrors]).toEqual([]);
    await Promise.all([a.close(), b.close()]);
  });

  it('adding someone who already asked you makes you friends at once', async () => {
    const a = await signedInUser();
    const b = await signedInUser();
    await addFriend(b.page, a.username);
    await row(a.page, 'Friend requests', b.username).waitFor({ timeout: LIVE_MS });

    await addFriend(a.page, b.username);
    await a.page.getByText(`You and ${b.username} are now friends.`).waitFor();
    await expectStatus(a.page, b.username, 'online');
    await expectStatus(b.page, a.username, 'online');
    expect(await list(a.page, 'Friend requests').count()).toBe(0);
    expect(await list(b.page, 'Sent requests').count()).toBe(0);

    expect([...a.pageErrors, ...b.pageErrors]).toEqual([]);
    await Promise.all([a.close(), b.close()]);
  });

  it('explains an unknown user, yourself, and a repeated request under the field', async () => {
    const a = await signedInUser();
    const b = await signedInUser();
    const field = a.page.getByLabel("Friend's username");

    const nobody = uniqueUsername('nobody');
    await addFriend(a.page, nobody);
    await a.page.getByText(`No one here is called “${nobody}”`).waitFor();
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    expect(await fieldError(a.page)).toContain('Check the spelling');
    expect(await field.inputValue()).toBe(nobody);

    await addFriend(a.page, a.username.toUpperCase());
    await a.page.getByText("That's you!").waitFor();
    expect(await fieldError(a.page)).toContain("That's you!");

    await addFriend(a.page, b.username);
    await a.page.getByText(`Request sent to ${b.username}.`).waitFor();
    await addFriend(a.page, b.username);
    await a.page.getByText(`You already sent ${b.username} a request.`).waitFor();

    // Typing clears the message.
    await field.fill('someone');
    expect(await field.getAttribute('aria-invalid')).toBe('false');

    expect([...a.pageErrors, ...b.pageErrors]).toEqual([]);
    await Promise.all([a.close(), b.close()]);
  });
});
