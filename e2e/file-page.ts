/**
 * e2e helpers for file transfers: users whose browser keeps received files in memory (the File
 * System Access API and service workers are taken away, so Save downloads the file), streams them
 * to a download (no File System Access API: the download service worker), or streams them to disk
 * (a save picker into the origin private file system), random files on disk with their SHA-256,
 * sending through the file input, and the transfer cards.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { signedInUser, type User } from './chat-page.js';
import { launchBrowser, startApp, type RunningApp } from './harness.js';

/** What a file of file-transfer tests shares: one browser, the app, a folder for its files. */
export interface FileSuite {
  browser: Browser;
  app: RunningApp;
  dir: string;
}

/**
 * Starts the suite's browser, app and folder (named after `name`) before the file's tests, and
 * closes and removes them after. Read its fields inside tests and hooks, not at import.
 */
export function fileSuite(name: string): FileSuite {
  const suite = {} as FileSuite;
  beforeAll(async () => {
    suite.browser = await launchBrowser();
    suite.app = await startApp();
    suite.dir = await mkdtemp(join(tmpdir(), `parley-${name}-`));
  });
  afterAll(async () => {
    await suite.browser?.close();
    await suite.app?.close();
    if (suite.dir) await rm(suite.dir, { recursive: true, force: true });
  });
  return suite;
}

/** Signs in a user whose pages run `init` before the app (to take a browser API away, or stand in for one). */
function userWith(init: () => void) {
  return (
    browser: Browser,
    app: RunningApp,
    prefix: string,
    options: { onPage?: (page: Page) => void } = {},
  ): Promise<User> =>
    signedInUser(browser, app, prefix, {
      onPage: (page) => {
        void page.addInitScript(init);
        options.onPage?.(page);
      },
    });
}

/**
 * A user whose browser keeps received files in memory: no File System Access API and no service
 * workers (like Firefox's private windows), so no streamed download either.
 */
export const memoryUser = userWith(() => {
  Object.defineProperty(window, 'showSaveFilePicker', { value: undefined, configurable: true });
  delete (Navigator.prototype as { serviceWorker?: unknown }).serviceWorker;
});

/**
 * A user whose browser streams received files to a download through the download service worker,
 * as Firefox and Safari do: Chromium without the File System Access API.
 */
export const downloadUser = userWith(() => {
  Object.defineProperty(window, 'showSaveFilePicker', { value: undefined, configurable: true });
});

/**
 * A user whose browser streams received files to disk through the real `DiskSink`: the save picker
 * (which would need a person) hands out files of the origin private file system instead.
 */
export const diskUser = userWith(() => {
  const pick = async ({ suggestedName }: { suggestedName?: string } = {}) =>
    (await navigator.storage.getDirectory()).getFileHandle(suggestedName ?? 'unnamed', { create: true });
  Object.defineProperty(window, 'showSaveFilePicker', { value: pick, configurable: true });
});

/** The SHA-256 (hex) of a file a {@link diskUser}'s page saved, read back and hashed in the page. */
export function savedSha256(page: Page, name: string): Promise<string> {
  return page.evaluate(async (fileName) => {
    const handle = await (await navigator.storage.getDirectory()).getFileHandle(fileName);
    const digest = await crypto.subtle.digest('SHA-256', await (await handle.getFile()).arrayBuffer());
    return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, '0')).join('');
  }, name);
}

export interface RandomFile {
  path: string;
  sha256: string;
  bytes: Buffer;
}

/** Writes `size` random bytes to `dir/name`. */
export async function writeRandomFile(dir: string, name: string, size: number): Promise<RandomFile> {
  const bytes = randomBytes(size);
  const path = join(dir, name);
  await writeFile(path, bytes);
  return { path, sha256: createHash('sha256').update(bytes).digest('hex'), bytes };
}

/** Picks the file with "Send file" (its hidden input). */
export async function sendFile(page: Page, path: string): Promise<void> {
  await page.locator('input[type="file"]').setInputFiles(path);
}

/** The transfer card that shows the file `name`. */
export function card(page: Page, name: string): Locator {
  return page.locator('li[data-transfer]').filter({ hasText: name });
}

/** Clicks Save on a verified card (a memory sink: the file downloads); the download's SHA-256. */
export async function saveAndHash(page: Page, name: string): Promise<string> {
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    card(page, name).getByRole('button', { name: 'Save' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe(name);
  return createHash('sha256')
    .update(await readFile(await download.path()))
    .digest('hex');
}
