/**
 * The transport ladder in real Chromium against the real server: TURN through a real coturn when ICE
 * is forced to relay candidates; the end-to-end encrypted server relay when ICE cannot work at all
 * (relay-only policy and a TURN URL where nothing listens), and the switch to a data channel once
 * coturn appears on that URL; a tap on every WebSocket frame showing that the server relays
 * ciphertext only; and a file over the server relay, paced and capped, its bytes never in clear.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RELAY_FILE_MAX_BYTES } from '../shared/transfer-protocol.js';
import { RELAY_CHUNK_SIZE } from '../client/src/lib/transfer/relay-chunk-channel.js';
import { overRelayCapMessage, relayCapHint } from '../client/src/lib/transfer/transfer-format.js';
import { freeTcpPort, startCoturn, type CoturnHandle } from '../signaling/test/coturn.js';
import {
  befriend,
  expectBadge,
  expectState,
  expectTexts,
  openChat,
  selectedPairs,
  send,
  signedInUser,
  texts,
  LIVE_MS,
  type User,
} from './chat-page.js';
import { card, memoryUser, saveAndHash, sendFile, writeRandomFile } from './file-page.js';
import { launchBrowser, relayOnly, startApp, type RunningApp } from './harness.js';

let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
});

async function friends(app: RunningApp, options: { onPage?: (page: Page) => void } = {}) {
  const a = await signedInUser(browser, app, 'ra', options);
  const b = await signedInUser(browser, app, 'rb', options);
  await befriend(a, b);
  return { a, b };
}

/** Every selected pair of both pages is relayed by TURN on both ends. */
async function expectTurnPairs(...users: User[]): Promise<void> {
  for (const user of users) {
    const pairs = await selectedPairs(user.page);
    expect(pairs.length).toBeGreaterThan(0);
    for (const pair of pairs) expect(pair).toEqual({ local: 'relay', remote: 'relay' });
  }
}

/** How often each text shows in the chat with `username` on that page. */
async function counts(page: Page, username: string): Promise<Record<string, number>> {
  const result: Record<string, number> = {};
  for (const text of await texts(page, username)) result[text] = (result[text] ?? 0) + 1;
  return result;
}

describe('TURN relay (coturn)', () => {
  let coturn: CoturnHandle;
  let app: RunningApp;

  beforeAll(async () => {
    coturn = await startCoturn();
    app = await startApp(relayOnly(coturn.url, coturn.secret));
  });

  afterAll(async () => {
    await app?.close();
    await coturn?.stop();
  });

  it('chats both ways through coturn with relay-only ICE: badge "TURN relay", relay candidate pairs', async () => {
    const { a, b } = await friends(app);
    await openChat(a.page, b.username);
    await expectBadge(a.page, 'TURN relay');
    await send(a.page, 'through the TURN server');
    await expectState(a.page, b.username, 'through the TURN server', 'Delivered');
    await openChat(b.page, a.username);
    await expectBadge(b.page, 'TURN relay');
    await send(b.page, 'and back through it');
    await expectTexts(a.page, b.username, ['through the TURN server', 'and back through it']);
    await expectTexts(b.page, a.username, ['through the TURN server', 'and back through it']);
    await expectState(b.page, a.username, 'and back through it', 'Delivered');
    await expectTurnPairs(a, b);
    expect([...a.pageErrors, ...b.pageErrors]).toEqual([]);
    await Promise.all([a.context.close(), b.context.close()]);
  });
});

describe('server relay when ICE cannot work', () => {
  it(
    'chats over the server relay, then moves to TURN when coturn appears, every message once',
    { timeout: 180_000 },
    async () => {
      // A TURN URL where nothing listens (yet), with the secret coturn will have.
      const port = await freeTcpPort();
      const secret = randomBytes(24).toString('hex');
      const app = await startApp(relayOnly(`turn:127.0.0.1:${port}?transport=udp`, secret));
      let coturn: CoturnHandle | undefined;
      try {
        const { a, b } = await friends(app);
        const opened = Date.now();
        await openChat(a.page, b.username);
        await openChat(b.page, a.username);
        await expectBadge(a.page, 'Server relay', 30_000);
        await expectBadge(b.page, 'Server relay', 30_000);
        const fallbackMs = Date.now() - opened;

        const relayed = ['relayed from a 1', 'relayed from a 2', 'relayed from b 1', 'relayed from b 2'];
        await send(a.page, relayed[0]!);
        await send(a.page, relayed[1]!);
        await send(b.page, relayed[2]!);
        await send(b.page, relayed[3]!);
        for (const [user, friend] of [
          [a, b],
          [b, a],
        ] as const) {
          await expectTexts(user.page, friend.username, relayed);
        }
        await expectState(a.page, b.username, relayed[1]!, 'Delivered');
        await expectState(b.page, a.username, relayed[3]!, 'Delivered');

        // coturn starts on that URL: the next attempt opens a data channel through it.
        coturn = await startCoturn({ port, secret });
        const started = Date.now();
        const switching = ['while switching from a', 'while switching from b'];
        await send(a.page, switching[0]!);
        await send(b.page, switching[1]!);
        await expectBadge(a.page, 'TURN relay', 90_000);
        await expectBadge(b.page, 'TURN relay', 30_000);
        const switchMs = Date.now() - started;
        const after = ['after the switch from a', 'after the switch from b'];
        await send(a.page, after[0]!);
        await send(b.page, after[1]!);

        const all = [...relayed, ...switching, ...after];
        for (const [user, friend] of [
          [a, b],
          [b, a],
        ] as const) {
          await expect
            .poll(async () => Object.keys(await counts(user.page, friend.username)).sort(), {
              timeout: 15_000,
            })
            .toEqual([...all].sort());
        }
        for (const text of [switching[0]!, after[0]!])
          await expectState(a.page, b.username, text, 'Delivered');
        for (const text of [switching[1]!, after[1]!])
          await expectState(b.page, a.username, text, 'Delivered');
        // Exactly once on both pages, also after a moment for stragglers.
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        for (const [user, friend] of [
          [a, b],
          [b, a],
        ] as const) {
          const seen = await counts(user.page, friend.username);
          expect(seen).toEqual(Object.fromEntries(all.map((text) => [text, 1])));
        }
        await expectTurnPairs(a, b);
        console.info(
          `relay e2e: server relay after ${fallbackMs} ms; TURN ${switchMs} ms after coturn started`,
        );
        expect([...a.pageErrors, ...b.pageErrors]).toEqual([]);
        await Promise.all([a.context.close(), b.context.close()]);
      } finally {
        await app.close();
        await coturn?.stop();
      }
    },
  );
});

describe('what the server relays', () => {
  it('carries relay frames with no plaintext of the messages, not even in base64', async () => {
    const port = await freeTcpPort();
    const app = await startApp(
      relayOnly(`turn:127.0.0.1:${port}?transport=udp`, randomBytes(24).toString('hex')),
    );
    try {
      const frames: string[] = [];
      const tap = (page: Page) =>
        page.on('websocket', (socket) => {
          socket.on('framesent', ({ payload }) => frames.push(String(payload)));
          socket.on('framereceived', ({ payload }) => frames.push(String(payload)));
        });
      const { a, b } = await friends(app, { onPage: tap });
      await openChat(a.page, b.username);
      await openChat(b.page, a.username);
      await expectBadge(a.page, 'Server relay', 30_000);

      const secrets = [
        'Kumquat-7 meets at the lighthouse at dawn',
        'The vault code is 4417-ZEBRA-9',
        'Ümlaut & emoji 🦊 stay private too',
      ];
      await send(a.page, secrets[0]!);
      await send(b.page, secrets[1]!);
      await send(a.page, secrets[2]!);
      await expectTexts(b.page, a.username, secrets);
      await expectTexts(a.page, b.username, secrets);
      await expectState(a.page, b.username, secrets[2]!, 'Delivered');

      const relayFrames = frames.filter((frame) => frame.includes('"type":"relay"'));
      expect(relayFrames.filter((frame) => frame.includes('"kind":"box"')).length).toBeGreaterThanOrEqual(6);
      expect(relayFrames.filter((frame) => frame.includes('"kind":"key"')).length).toBeGreaterThanOrEqual(2);
      const wire = frames.join('\n');
      // The detector finds a secret encoded at any offset of a longer text.
      for (const prefix of ['', 'x', 'xy']) {
        const encoded = Buffer.from(`${prefix}{"text":"${secrets[1]}"}`).toString('base64');
        expect(base64Forms(secrets[1]!).some((form) => encoded.includes(form))).toBe(true);
      }
      for (const secret of secrets) {
        for (const word of [secret, ...secret.split(' ').filter((w) => w.length >= 5)]) {
          expect(wire).not.toContain(word);
          expect(wire).not.toContain(JSON.stringify(word).slice(1, -1));
          for (const encoded of base64Forms(word)) expect(wire).not.toContain(encoded);
        }
      }
      expect([...a.pageErrors, ...b.pageErrors]).toEqual([]);
      await Promise.all([a.context.close(), b.context.close()]);
    } finally {
      await app.close();
    }
  });
});

describe('files over the server relay', () => {
  it(
    'sends a 2 MiB file end-to-end encrypted at the relay’s pace while chat flows, and refuses one over the cap',
    { timeout: 240_000 },
    async () => {
      const port = await freeTcpPort();
      const app = await startApp(
        relayOnly(`turn:127.0.0.1:${port}?transport=udp`, randomBytes(24).toString('hex')),
      );
      const dir = await mkdtemp(join(tmpdir(), 'parley-relay-files-'));
      try {
        const frames: string[] = [];
        /** When each box of a chunk left Ada's page (chunk boxes fill a frame; messages are small). */
        const chunkBoxesSent: number[] = [];
        const tap = (page: Page, sender: boolean) =>
          page.on('websocket', (socket) => {
            socket.on('framesent', ({ payload }) => {
              const text = String(payload);
              frames.push(text);
              if (sender && text.includes('"kind":"box"') && text.length > 40_000)
                chunkBoxesSent.push(Date.now());
            });
            socket.on('framereceived', ({ payload }) => frames.push(String(payload)));
          });
        const a = await memoryUser(browser, app, 'fra', { onPage: (page) => tap(page, true) });
        const b = await memoryUser(browser, app, 'frb', { onPage: (page) => tap(page, false) });
        await befriend(a, b);
        await openChat(a.page, b.username);
        await openChat(b.page, a.username);
        await expectBadge(a.page, 'Server relay', 30_000);
        await expectBadge(b.page, 'Server relay', 30_000);
        await a.page.getByText(relayCapHint(), { exact: false }).waitFor({ timeout: LIVE_MS });

        const size = 2 * 1024 * 1024;
        const file = await writeRandomFile(dir, 'relayed-2.bin', size);
        await sendFile(a.page, file.path);
        const incoming = card(b.page, 'relayed-2.bin');
        await incoming.getByText('2.1 MB').waitFor({ timeout: LIVE_MS });
        await incoming.getByRole('button', { name: 'Accept' }).click();
        const accepted = Date.now();
        // Chat goes on during the transfer, over the same relay sessions and pacers.
        const during = ['chat during the relayed file', 'and back during it'];
        const typed = Date.now();
        await send(a.page, during[0]!);
        await expectTexts(b.page, a.username, [during[0]!]);
        const chatMs = Date.now() - typed;
        const chatBeforeFile = (await incoming.getByText('Verified', { exact: true }).count()) === 0;
        await send(b.page, during[1]!);
        await expectState(a.page, b.username, during[0]!, 'Delivered');
        await expectState(b.page, a.username, during[1]!, 'Delivered');

        await incoming.getByText('Verified', { exact: true }).waitFor({ timeout: 120_000 });
        const seconds = (Date.now() - accepted) / 1000;
        await card(a.page, 'relayed-2.bin')
          .getByText('Verified', { exact: true })
          .waitFor({ timeout: LIVE_MS });
        expect(await saveAndHash(b.page, 'relayed-2.bin')).toBe(file.sha256);
        await expectBadge(a.page, 'Server relay');

        // The pace once the pacer's burst is spent: chunk boxes after the first 30.
        const steady = chunkBoxesSent.slice(30);
        // Every full chunk went once (the last, shorter box may not count as a full frame here).
        expect(chunkBoxesSent.length).toBeGreaterThanOrEqual(Math.floor(size / RELAY_CHUNK_SIZE));
        expect(chunkBoxesSent.length).toBeLessThanOrEqual(Math.ceil(size / RELAY_CHUNK_SIZE));
        const steadyKiBps =
          steady.length > 1
            ? ((steady.length - 1) * RELAY_CHUNK_SIZE) / 1024 / ((steady.at(-1)! - steady[0]!) / 1000)
            : NaN;
        console.info(
          `relay file e2e: 2 MiB verified ${seconds.toFixed(1)} s after Accept ` +
            `(${(size / 1024 / seconds).toFixed(0)} KiB/s with the burst), steady ${steadyKiBps.toFixed(0)} KiB/s ` +
            `over ${steady.length} boxes; a chat message during it arrived in ${chatMs} ms` +
            `${chatBeforeFile ? ', before the file' : ''}`,
        );

        // No part of the file in clear on the wire, not even in base64; nothing was rate limited.
        const wire = frames.join('\n');
        expect(wire).not.toContain('rate_limited');
        for (let offset = 0; offset < size; offset += size / 16) {
          const slice = file.bytes.subarray(offset, offset + 27);
          for (let shift = 0; shift < 3; shift++)
            expect(wire).not.toContain(slice.subarray(shift, shift + 24).toString('base64'));
        }

        // A file over the cap is refused while only the relay reaches the friend, and says why.
        const tooBig = join(dir, 'too-big.bin');
        await writeFile(tooBig, Buffer.alloc(RELAY_FILE_MAX_BYTES + 1));
        await sendFile(a.page, tooBig);
        await a.page
          .getByRole('alert')
          .getByText(overRelayCapMessage(['too-big.bin']), { exact: true })
          .waitFor({ timeout: LIVE_MS });
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        expect(await card(a.page, 'too-big.bin').count()).toBe(0);
        expect(await card(b.page, 'too-big.bin').count()).toBe(0);
        expect([...a.pageErrors, ...b.pageErrors]).toEqual([]);
        await Promise.all([a.context.close(), b.context.close()]);
      } finally {
        await app.close();
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});

/**
 * What `text` looks like in base64 wherever it sits in a longer string: its encoding at each of the
 * three byte alignments, without the characters that depend on the neighbouring bytes.
 */
function base64Forms(text: string): string[] {
  const bytes = new TextEncoder().encode(text);
  const forms: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    const padded = new Uint8Array(shift + bytes.length);
    padded.set(bytes, shift);
    const encoded = Buffer.from(padded).toString('base64').replace(/=+$/, '');
    // Drop the characters that mix in the padding before and the unknown bytes after.
    forms.push(encoded.slice(shift === 0 ? 0 : Math.ceil((shift * 4) / 3), -2));
  }
  return forms;
}
