/** Debian's Chromium as the tests and benchmarks launch it (no vitest here: scripts import it too). */
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

/** Flags measured to work in CI (see FINDINGS.md); playwright adds a fresh temporary profile. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--allow-loopback-in-peer-connection',
];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/**
 * A browser of its own whose one context keeps its storage on disk in `userDataDir` (a new context
 * of `launchBrowser` is off the record: its storage lives in memory, within a quota of a few GB).
 */
export function launchPersistentContext(userDataDir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    bypassCSP: true,
  });
}
