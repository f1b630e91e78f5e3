/**
 * Streamed downloads, as browsers without the File System Access API receive files: the receiver's
 * Chromium has no save picker, so Accept starts a download that the download service worker
 * (`/download-sw.js`, scope `/download/`) streams as the bytes arrive. A 20 MiB random file
 * downloads intact under its safe name; a file the sender cancels mid-way fails its download, so
 * no partial file passes for a complete one.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Download } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { chatting, LIVE_MS, type User } from './chat-page.js';
import { card, downloadUser, fileSuite, memoryUser, sendFile, writeRandomFile } from './file-page.js';

const suite = fileSuite('download');

/** A sender and a receiver whose browser streams to downloads, friends, in each other's chat. */
async function friends(): Promise<[User, User]> {
  const a = await memoryUser(suite.browser, suite.app, 'da');
  const b = await downloadUser(suite.browser, suite.app, 'db');
  await chatting(a, b);
  return [a, b];
}

/** Clicks Accept on the card of `name` and catches the download it starts. */
async function acceptDownload(receiver: User, name: string): Promise<Download> {
  const [download] = await Promise.all([
    receiver.page.waitForEvent('download', { timeout: LIVE_MS }),
    card(receiver.page, name).getByRole('button', { name: 'Accept' }).click({ timeout: LIVE_MS }),
  ]);
  return download;
}

describe('streamed download', () => {
  it('is a classic script at the site root, nothing imported', async () => {
    const script = await readFile('dist/client/download-sw.js', 'utf8');
    expect(script).not.toMatch(/(^|[;}\s])(import|export)\s*[{*"'`\w]/);
    expect(script).not.toMatch(/\bimport\s*\(/);
  });

  it('streams a 20 MiB file into a download that arrives intact under its safe name', async () => {
    const [a, b] = await friends();
    const name = 'Résumé "final".bin';
    const file = await writeRandomFile(suite.dir, name, 20 * 1024 * 1024);
    await sendFile(a.page, file.path);
    const download = await acceptDownload(b, name);
    // Quotes are not allowed in saved names; the accented letters are, through filename*.
    expect(download.suggestedFilename()).toBe('Résumé _final_.bin');

    const incoming = card(b.page, name);
    await incoming.getByText('Verified', { exact: true }).waitFor({ timeout: 120_000 });
    await incoming.getByText('In your downloads').waitFor({ timeout: LIVE_MS });
    expect(await incoming.getByRole('button', { name: 'Save' }).count()).toBe(0);
    await card(a.page, name).getByText('Verified', { exact: true }).waitFor({ timeout: LIVE_MS });
    const path = await download.path();
    expect(await download.failure()).toBeNull();
    expect(
      createHash('sha256')
        .update(await readFile(path))
        .digest('hex'),
    ).toBe(file.sha256);

    // The worker sees only the downloads: it does not control the app's page.
    const worker = await b.page.evaluate(async () => ({
      scopes: (await navigator.serviceWorker.getRegistrations()).map((r) => r.scope),
      controlled: navigator.serviceWorker.controller !== null,
    }));
    expect(worker).toEqual({ scopes: [`${suite.app.url}/download/`], controlled: false });
    expect(a.pageErrors).toEqual([]);
    expect(b.pageErrors).toEqual([]);
  }, 240_000);

  it('fails the download when the sender cancels mid-way', async () => {
    const [a, b] = await friends();
    const name = 'cancelled.bin';
    const file = await writeRandomFile(suite.dir, name, 256 * 1024 * 1024);
    await sendFile(a.page, file.path);
    const download = await acceptDownload(b, name);
    const bar = card(a.page, name).getByRole('progressbar');
    await expect
      .poll(async () => Number(await bar.getAttribute('aria-valuenow')), { timeout: 60_000, interval: 20 })
      .toBeGreaterThan(0);
    await card(a.page, name).getByRole('button', { name: 'Cancel' }).click();
    await card(b.page, name).getByText('Cancelled', { exact: true }).waitFor({ timeout: LIVE_MS });
    await card(a.page, name).getByText('Cancelled', { exact: true }).waitFor({ timeout: LIVE_MS });
    // The stream was errored, not closed: the browser marks the download failed.
    expect(await download.failure()).not.toBeNull();
    const received = Number(await card(b.page, name).getByRole('progressbar').getAttribute('aria-valuenow'));
    expect(received).toBeLessThan(file.bytes.length);
    expect(a.pageErrors).toEqual([]);
    expect(b.pageErrors).toEqual([]);
  }, 240_000);
});
