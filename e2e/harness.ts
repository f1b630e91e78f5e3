/**
 * e2e harness: the real signaling server (on a random port, against the shared test Redis) serving
 * the built client, and Debian's Chromium driven by playwright-core.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { inject } from 'vitest';
import type { Config } from '../signaling/src/config.js';
import { startServer } from '../signaling/src/server.js';
import { testConfig } from '../signaling/test/test-config.js';

export { CHROMIUM_ARGS, launchBrowser } from './chromium.js';

export interface RunningApp {
  /** Base URL of the app, e.g. `http://127.0.0.1:41234`. */
  url: string;
  close(): Promise<void>;
}

const STATIC_DIR = path.resolve('dist/client');

/** Starts a signaling server on port 0 serving `dist/client`; `overrides` tune the config. */
export async function startApp(overrides: Partial<Config> = {}): Promise<RunningApp> {
  if (!existsSync(path.join(STATIC_DIR, 'index.html'))) {
    throw new Error(`${STATIC_DIR}/index.html is missing: build the client first (npm run test:e2e does)`);
  }
  const server = await startServer(
    testConfig({ redisUrl: inject('redisUrl'), staticDir: STATIC_DIR, ...overrides }),
  );
  return { url: server.url, close: () => server.close() };
}

/** The server's TURN settings: relay candidates only (ICE policy `relay`), with this URL and secret. */
export function relayOnly(url: string, secret: string): Partial<Config> {
  return {
    turn: { stunUrls: [], turnUrls: [url], secret, ttlSeconds: 3600, transportPolicy: 'relay' },
  };
}

/**
 * A username no other test uses: the tests share one Redis that is never flushed. Fits the
 * username rules (3-32 of a-z 0-9 _ . -).
 */
export function uniqueUsername(prefix = 'e2e'): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`.slice(0, 32);
}

/** A password that passes the rules. */
export const PASSWORD = 'correct horse battery staple';

/** A new context and page; uncaught page errors are collected so a test can assert there were none. */
export async function openPage(
  browser: Browser,
  options: { viewport?: { width: number; height: number } } = {},
) {
  const context: BrowserContext = await browser.newContext(options);
  const page: Page = await context.newPage();
  const pageErrors: Error[] = [];
  page.on('pageerror', (error) => pageErrors.push(error));
  return { context, page, pageErrors };
}

/** Creates an account through the API from inside a page of the app (same origin, like the UI). */
export async function registerAccount(browser: Browser, appUrl: string, username: string): Promise<void> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(appUrl);
    const status = await page.evaluate(
      async ([u, p]) => {
        const response = await fetch('/api/auth/register', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ username: u, password: p }),
        });
        return response.status;
      },
      [username, PASSWORD] as const,
    );
    if (status !== 201) throw new Error(`registering ${username} answered ${status}`);
  } finally {
    await context.close();
  }
}
