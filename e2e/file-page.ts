/**
 * e2e helpers for file transfers: users whose browser keeps received files in memory (the File
 * System Access API is taken away, so Save downloads the file), random files on disk with their
 * SHA-256, sending through the file input, and the transfer cards.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { expect } from 'vitest';
import { signedInUser, type User } from './chat-page.js';
import type { RunningApp } from './harness.js';

/** A user whose browser keeps received files in memory (no File System Access API). */
export function memoryUser(
  browser: Browser,
  app: RunningApp,
  prefix: string,
  options: { onPage?: (page: Page) => void } = {},
): Promise<User> {
  return signedInUser(browser, app, prefix, {
    onPage: (page) => {
      void page.addInitScript(() => {
        Object.defineProperty(window, 'showSaveFilePicker', { value: undefined, configurable: true });
      });
      options.onPage?.(page);
    },
  });
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
