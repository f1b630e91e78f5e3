/**
 * The transport ladder in real Chromium against the real server: TURN through a real coturn when ICE
 * is forced to relay candidates; the end-to-end encrypted server relay when ICE cannot work at all
 * (relay-only policy and a TURN URL where nothing listens), and the switch to a data channel once
 * coturn appears on that URL; and a tap on every WebSocket frame showing that the server relays
 * ciphertext only.
 */
import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../signaling/src/config.js';
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
  type User,
} from './chat-page.js';
import { launchBrowser, startApp, type RunningApp } from './harness.js';

let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
});

/** The server's TURN settings: relay candidates only, with these URLs and secret. */
function relayOnly(url: string, secret: string): Partial<Config> {
  return {
    turn: { stunUrls: [], turnUrls: [url], secret, ttlSeconds: 3600, transportPolicy: 'relay' },
  };
}

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
