/**
 * File transfers that survive a dropped link (issue 6), in real Chromium against the real server.
 * The receiver saves through the real `DiskSink` into the origin private file system (a save picker
 * that hands out OPFS files), and the page hashes the saved file itself. The drops are abrupt: the
 * receiver's RTCPeerConnection is closed under the app (no `bye`), and its signaling WebSocket is
 * closed so that it comes back under a new connection id. The sender's page records, through the
 * debug hooks, the receiver's `file_accept` offsets: a resume asks from a non-zero offset.
 * Also a transfer over the forced TURN path (a real coturn, relay-only ICE).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoturn, type CoturnHandle } from '../signaling/test/coturn.js';
import { chatting, expectBadge, LIVE_MS, type User } from './chat-page.js';
import { card, diskUser, fileSuite, savedSha256, sendFile, writeRandomFile } from './file-page.js';
import { relayOnly, startApp, type RunningApp } from './harness.js';
import {
  closePeerConnections,
  closeSignaling,
  connectionIdOf,
  progressPast,
  recordAccepts,
  recordProgress,
  recordWebSockets,
  withDebugHooks,
} from './link-drops.js';

const suite = fileSuite('resume');

/** Two friends who save to disk, with the debug hooks on, in a chat with each other. */
async function friends(on: RunningApp, badge = 'Direct'): Promise<[User, User]> {
  const a = await diskUser(suite.browser, on, 'ra', { onPage: recordWebSockets });
  const b = await diskUser(suite.browser, on, 'rb', { onPage: recordWebSockets });
  await withDebugHooks(a.page, on);
  await withDebugHooks(b.page, on);
  await chatting(a, b, badge);
  return [a, b];
}

/** The receiver accepts `name` (saved to OPFS through the picker); every value of its bar is kept. */
async function accept(b: User, name: string): Promise<() => Promise<number[]>> {
  const progress = await recordProgress(b.page, name);
  await card(b.page, name).getByRole('button', { name: 'Accept' }).click({ timeout: LIVE_MS });
  return progress;
}

/** Once bytes arrived, the receiver's bar never went back to zero, and it ended full. */
function expectNoRestart(progress: number[], size: number): void {
  const started = progress.findIndex((bytes) => bytes > 0);
  expect(started).toBeGreaterThanOrEqual(0);
  expect(Math.min(...progress.slice(started))).toBeGreaterThan(0);
  expect(progress.at(-1)).toBe(size);
}

/** Both cards say Verified, and the file the receiver's page saved hashes like the original. */
async function expectVerified(a: User, b: User, name: string, sha256: string): Promise<void> {
  await card(b.page, name).getByText('Verified', { exact: true }).waitFor({ timeout: 120_000 });
  await card(a.page, name).getByText('Verified', { exact: true }).waitFor({ timeout: LIVE_MS });
  expect(await savedSha256(b.page, name)).toBe(sha256);
}

describe('a transfer survives a dropped link', () => {
  it('goes on from the verified offset after the data channel drops abruptly, and verifies', async () => {
    const [a, b] = await friends(suite.app);
    const file = await writeRandomFile(suite.dir, 'dropped-link.bin', 40 * 1024 * 1024);
    const accepts = await recordAccepts(a.page);
    await sendFile(a.page, file.path);
    const progress = await accept(b, 'dropped-link.bin');
    const atDrop = await progressPast(b.page, 'dropped-link.bin', 0.2);
    const connection = await connectionIdOf(b.page);
    expect(await closePeerConnections(b.page)).toBeGreaterThan(0);
    // No speed frozen on the card while no link is open.
    await card(b.page, 'dropped-link.bin')
      .getByText('Waiting for the connection…', { exact: true })
      .waitFor({ timeout: LIVE_MS });
    await expectVerified(a, b, 'dropped-link.bin', file.sha256);

    const asked = await accepts();
    expect(asked[0]).toEqual({ connectionId: connection, offset: 0 });
    // The new link asked again from where the receiver had verified, not from zero.
    const resumed = asked.slice(1).filter((accept) => accept.offset > 0);
    expect(resumed.length).toBeGreaterThan(0);
    expect(resumed[0]!.offset).toBeGreaterThanOrEqual(atDrop);
    expect(await connectionIdOf(b.page)).toBe(connection);
    expectNoRestart(await progress(), file.bytes.length);
    expect([...a.pageErrors, ...b.pageErrors]).toEqual([]);
    await Promise.all([a.context.close(), b.context.close()]);
  }, 240_000);

  it('resumes on a link to the new connection id after the receiver’s signaling reconnects', async () => {
    const [a, b] = await friends(suite.app);
    const file = await writeRandomFile(suite.dir, 'new-connection.bin', 64 * 1024 * 1024);
    const accepts = await recordAccepts(a.page);
    await sendFile(a.page, file.path);
    const progress = await accept(b, 'new-connection.bin');
    await progressPast(b.page, 'new-connection.bin', 0.05);
    const before = await connectionIdOf(b.page);
    // The WebSocket drops; the data channel does not need it and carries on meanwhile.
    await closeSignaling(b.page);
    await b.page.waitForFunction((old) => {
      const now = window.__parley?.peers.connectionId;
      return typeof now === 'string' && now !== old;
    }, before);
    const after = await connectionIdOf(b.page);
    // Then the data channel drops too: the only way back is a link to the new connection id.
    expect(await closePeerConnections(b.page)).toBeGreaterThan(0);
    await expectVerified(a, b, 'new-connection.bin', file.sha256);

    const asked = await accepts();
    expect(asked[0]).toEqual({ connectionId: before, offset: 0 });
    const resumed = asked.filter((accept) => accept.connectionId === after);
    expect(resumed.length).toBeGreaterThan(0);
    expect(resumed[0]!.offset).toBeGreaterThan(0);
    expectNoRestart(await progress(), file.bytes.length);
    expect([...a.pageErrors, ...b.pageErrors]).toEqual([]);
    await Promise.all([a.context.close(), b.context.close()]);
  }, 240_000);
});

describe('a transfer over TURN', () => {
  let coturn: CoturnHandle;
  let turnApp: RunningApp;

  beforeAll(async () => {
    coturn = await startCoturn();
    turnApp = await startApp(relayOnly(coturn.url, coturn.secret));
  });

  afterAll(async () => {
    await turnApp?.close();
    await coturn?.stop();
  });

  it('sends a 10 MiB file through coturn with relay-only ICE: badge "TURN relay", equal SHA-256', async () => {
    const [a, b] = await friends(turnApp, 'TURN relay');
    const file = await writeRandomFile(suite.dir, 'through-turn.bin', 10 * 1024 * 1024);
    await sendFile(a.page, file.path);
    await accept(b, 'through-turn.bin');
    await expectVerified(a, b, 'through-turn.bin', file.sha256);
    await expectBadge(a.page, 'TURN relay');
    expect([...a.pageErrors, ...b.pageErrors]).toEqual([]);
    await Promise.all([a.context.close(), b.context.close()]);
  }, 180_000);
});
