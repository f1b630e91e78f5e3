/**
 * e2e helpers for chat scenarios: signed-in users in their own Chromium contexts, friendships made
 * through the API from inside the pages, and reading and driving the chat UI. Pages record every
 * RTCPeerConnection they create, so tests read the selected candidate pair from the browser itself,
 * independently of what the app shows.
 */
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { expect } from 'vitest';
import { openPage, PASSWORD, uniqueUsername, type RunningApp } from './harness.js';

/** Live updates and peer connections on loopback must arrive well within this. */
export const LIVE_MS = 15_000;

/** Runs in the page before the app: keeps every RTCPeerConnection created in `__peerConnections`. */
function recordPeerConnections(): void {
  const Native = window.RTCPeerConnection;
  const created: RTCPeerConnection[] = [];
  (window as unknown as { __peerConnections: RTCPeerConnection[] }).__peerConnections = created;
  window.RTCPeerConnection = class extends Native {
    constructor(...args: ConstructorParameters<typeof RTCPeerConnection>) {
      super(...args);
      created.push(this);
    }
  };
}

export interface User {
  username: string;
  context: BrowserContext;
  page: Page;
  pageErrors: Error[];
}

/** A context whose pages get host candidates (media permission) and record their peer connections. */
async function newUserContext(browser: Browser, appUrl: string) {
  const { context, page, pageErrors } = await openPage(browser);
  await context.grantPermissions(['microphone', 'camera'], { origin: appUrl });
  await context.addInitScript(recordPeerConnections);
  return { context, page, pageErrors };
}

/**
 * A new account, signed in on its own page. `onPage` sees the page before it first loads the app
 * (e.g. to listen to its WebSockets).
 */
export async function signedInUser(
  browser: Browser,
  app: RunningApp,
  prefix: string,
  options: { onPage?: (page: Page) => void } = {},
): Promise<User> {
  const username = uniqueUsername(prefix);
  const { context, page, pageErrors } = await newUserContext(browser, app.url);
  options.onPage?.(page);
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
  await connected(page);
  return { username, context, page, pageErrors };
}

/** A new page in the user's context (the session cookie and IndexedDB carry over): a comeback. */
export async function reopen(user: User, app: RunningApp): Promise<void> {
  const page = await user.context.newPage();
  page.on('pageerror', (error) => user.pageErrors.push(error));
  await page.goto(app.url);
  await connected(page);
  user.page = page;
}

export async function connected(page: Page, timeout = LIVE_MS): Promise<void> {
  await page.getByRole('banner').getByText('Connected', { exact: true }).waitFor({ timeout });
}

export async function befriend(a: User, b: User): Promise<void> {
  const call = (user: User, path: string, body: unknown) =>
    user.page.evaluate(
      async ([p, b]) =>
        (
          await fetch(p, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify(b),
          })
        ).status,
      [path, body] as const,
    );
  expect(await call(a, '/api/friends/requests', { username: b.username })).toBe(201);
  const aId = await b.page.evaluate(async (name) => {
    const snapshot = (await (await fetch('/api/friends')).json()) as {
      incoming: { id: string; username: string }[];
    };
    return snapshot.incoming.find((u) => u.username === name)?.id;
  }, a.username);
  expect(await call(b, `/api/friends/requests/${aId}/accept`, {})).toBe(200);
  await expectStatus(a.page, b.username, 'online');
  await expectStatus(b.page, a.username, 'online');
}

export function friendRow(page: Page, username: string): Locator {
  return page
    .getByRole('list', { name: 'Friends', exact: true })
    .getByRole('listitem')
    .filter({ hasText: username });
}

export async function expectStatus(page: Page, username: string, status: string | RegExp): Promise<void> {
  await friendRow(page, username)
    .getByText(status, { exact: typeof status === 'string' })
    .first()
    .waitFor({ timeout: LIVE_MS });
}

export async function openChat(page: Page, username: string): Promise<void> {
  await friendRow(page, username).getByRole('button', { name: username }).click();
  // The log has no height while empty: wait for it in the page, and for the field to write in.
  await messageLog(page, username).waitFor({ state: 'attached' });
  await page.getByLabel('Message', { exact: true }).waitFor();
}

export function messageLog(page: Page, username: string): Locator {
  return page.getByRole('log', { name: `Messages with ${username}`, exact: true });
}

export function messageItem(page: Page, username: string, text: string): Locator {
  return messageLog(page, username)
    .locator('li.message')
    .filter({ has: page.getByText(text, { exact: true }) });
}

/** The texts in the open chat with `username`, top to bottom. */
export async function texts(page: Page, username: string): Promise<string[]> {
  return messageLog(page, username).locator('li.message .text').allInnerTexts();
}

export async function send(page: Page, text: string): Promise<void> {
  await page.getByLabel('Message', { exact: true }).fill(text);
  await page.getByLabel('Message', { exact: true }).press('Enter');
}

/** Waits until the chat with `username` shows exactly `expected`, in order. */
export async function expectTexts(
  page: Page,
  username: string,
  expected: string[],
  timeout = LIVE_MS,
): Promise<void> {
  await expect.poll(() => texts(page, username), { timeout }).toEqual(expected);
}

export async function expectState(
  page: Page,
  username: string,
  text: string,
  state: string,
  timeout = LIVE_MS,
): Promise<void> {
  await messageItem(page, username, text).getByText(state, { exact: true }).waitFor({ timeout });
}

export async function expectBadge(page: Page, label: string, timeout = LIVE_MS): Promise<void> {
  await page.getByRole('status', { name: `Connection: ${label}`, exact: true }).waitFor({ timeout });
}

/** `a` and `b` become friends and open their chat with each other, whose badge then says `badge`. */
export async function chatting(a: User, b: User, badge = 'Direct'): Promise<void> {
  await befriend(a, b);
  await openChat(a.page, b.username);
  await openChat(b.page, a.username);
  await expectBadge(a.page, badge);
  await expectBadge(b.page, badge);
}

/** Candidate types of the selected pair of every connected peer connection of the page. */
export function selectedPairs(page: Page): Promise<{ local: string; remote: string }[]> {
  return page.evaluate(async () => {
    const created = (window as unknown as { __peerConnections: RTCPeerConnection[] }).__peerConnections;
    const pairs: { local: string; remote: string }[] = [];
    for (const pc of created) {
      if (pc.connectionState !== 'connected') continue;
      const stats = await pc.getStats();
      let pairId: string | undefined;
      stats.forEach((entry: { type: string; selectedCandidatePairId?: string }) => {
        if (entry.type === 'transport' && entry.selectedCandidatePairId)
          pairId = entry.selectedCandidatePairId;
      });
      const pair = pairId ? stats.get(pairId) : undefined;
      if (!pair) continue;
      pairs.push({
        local: stats.get(pair.localCandidateId)?.candidateType,
        remote: stats.get(pair.remoteCandidateId)?.candidateType,
      });
    }
    return pairs;
  });
}
