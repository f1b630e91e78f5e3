/**
 * File transfer through the UI (issue 6): two users in two Chromium contexts, a real data channel on
 * loopback. A 50 MiB random file arrives with an equal SHA-256 (the receiver keeps it in memory:
 * `showSaveFilePicker` is taken away, so Save downloads it) and stays in both chat histories,
 * decline, and cancel from either side.
 */
import { describe, expect, it } from 'vitest';
import { chatting, LIVE_MS, openChat, type User } from './chat-page.js';
import {
  card,
  fileSuite,
  memoryUser,
  saveAndHash,
  sendFile,
  writeRandomFile as writeFileIn,
} from './file-page.js';

const suite = fileSuite('files');

async function friends(): Promise<[User, User]> {
  const a = await memoryUser(suite.browser, suite.app, 'fa');
  const b = await memoryUser(suite.browser, suite.app, 'fb');
  await chatting(a, b);
  return [a, b];
}

const writeRandomFile = (name: string, size: number) => writeFileIn(suite.dir, name, size);

describe('file transfer', () => {
  it('sends a 50 MiB file that arrives intact (equal SHA-256), with progress on both sides', async () => {
    const [a, b] = await friends();
    const file = await writeRandomFile('random-50.bin', 50 * 1024 * 1024);
    await sendFile(a.page, file.path);

    const incoming = card(b.page, 'random-50.bin');
    await incoming.getByText('52.4 MB').waitFor({ timeout: LIVE_MS });
    await incoming.getByRole('button', { name: 'Accept' }).click();
    const bar = incoming.getByRole('progressbar');
    await expect
      .poll(async () => Number(await bar.getAttribute('aria-valuenow')), { timeout: 60_000 })
      .toBeGreaterThan(0);
    await incoming.getByText('Verified', { exact: true }).waitFor({ timeout: 120_000 });
    await card(a.page, 'random-50.bin').getByText('Verified', { exact: true }).waitFor({ timeout: LIVE_MS });
    expect(await bar.getAttribute('aria-valuenow')).toBe(String(50 * 1024 * 1024));

    expect(await saveAndHash(b.page, 'random-50.bin')).toBe(file.sha256);

    // Both histories keep the file, and still do after a reload (the live cards do not).
    const record = (user: User) =>
      user.page.locator('[data-file-record]').filter({ hasText: 'random-50.bin' });
    await record(a).getByText('52.4 MB · Sent, verified').waitFor({ timeout: LIVE_MS });
    await record(b).getByText('52.4 MB · Received, verified').waitFor({ timeout: LIVE_MS });
    await b.page.reload();
    await openChat(b.page, a.username);
    await record(b).waitFor({ timeout: LIVE_MS });
    expect(await card(b.page, 'random-50.bin').count()).toBe(0);
    expect(a.pageErrors).toEqual([]);
    expect(b.pageErrors).toEqual([]);
  }, 240_000);

  it('declines an offer, and cancels from the sender and from the receiver', async () => {
    const [a, b] = await friends();

    const declined = await writeRandomFile('declined.bin', 1024 * 1024);
    await sendFile(a.page, declined.path);
    await card(b.page, 'declined.bin').getByRole('button', { name: 'Decline' }).click({ timeout: LIVE_MS });
    await card(a.page, 'declined.bin').getByText('Declined', { exact: true }).waitFor({ timeout: LIVE_MS });
    await card(b.page, 'declined.bin').getByText('Declined', { exact: true }).waitFor({ timeout: LIVE_MS });

    const bySender = await writeRandomFile('by-sender.bin', 1024 * 1024);
    await sendFile(a.page, bySender.path);
    await card(b.page, 'by-sender.bin').getByRole('button', { name: 'Accept' }).waitFor({ timeout: LIVE_MS });
    await card(a.page, 'by-sender.bin').getByRole('button', { name: 'Cancel' }).click();
    await card(a.page, 'by-sender.bin').getByText('Cancelled', { exact: true }).waitFor({ timeout: LIVE_MS });
    await card(b.page, 'by-sender.bin').getByText('Cancelled', { exact: true }).waitFor({ timeout: LIVE_MS });

    const byReceiver = await writeRandomFile('by-receiver.bin', 1024 * 1024);
    await sendFile(a.page, byReceiver.path);
    await card(b.page, 'by-receiver.bin').getByRole('button', { name: 'Cancel' }).click({ timeout: LIVE_MS });
    await card(b.page, 'by-receiver.bin')
      .getByText('Cancelled', { exact: true })
      .waitFor({ timeout: LIVE_MS });
    await card(a.page, 'by-receiver.bin')
      .getByText('Cancelled', { exact: true })
      .waitFor({ timeout: LIVE_MS });
    expect(a.pageErrors).toEqual([]);
    expect(b.pageErrors).toEqual([]);
  }, 120_000);
});
