/**
 * e2e helpers that drop a page's links under the app, abruptly, and watch what a transfer did
 * meanwhile. Pages record their WebSockets (`recordWebSockets`, before the app loads) and their peer
 * connections (every page of `chat-page.ts` does); with the debug hooks on (`?debug`), the sender's
 * page records the `file_accept` offsets the receiver asked for, and the receiver's page records
 * every value its progress bar showed.
 */
import type { Page } from 'playwright-core';
import { connected } from './chat-page.js';
import type { RunningApp } from './harness.js';

export interface RecordedAccept {
  /** The receiver's connection the accept came from. */
  connectionId: string;
  offset: number;
}

declare global {
  interface Window {
    __sockets?: WebSocket[];
    __accepts?: RecordedAccept[];
    __progress?: number[];
  }
}

/** Runs in the page before the app: keeps every WebSocket it opens in `__sockets`. */
export function recordWebSockets(page: Page): void {
  void page.addInitScript(() => {
    const Native = window.WebSocket;
    const sockets: WebSocket[] = [];
    window.__sockets = sockets;
    window.WebSocket = class extends Native {
      constructor(...args: ConstructorParameters<typeof WebSocket>) {
        super(...args);
        sockets.push(this);
      }
    };
  });
}

/** Loads the app again with the debug hooks on (`window.__parley`), signed in as before. */
export async function withDebugHooks(page: Page, app: RunningApp): Promise<void> {
  await page.goto(`${app.url}/?debug`);
  await connected(page);
}

/** The page's current signaling connection id (debug hooks), null before `hello`. */
export function connectionIdOf(page: Page): Promise<string | null> {
  return page.evaluate(() => {
    if (!window.__parley) throw new Error('no debug hooks: load the page with ?debug');
    return window.__parley.peers.connectionId;
  });
}

/** Records the `file_accept` messages that reach the page from now on; read them with the result. */
export async function recordAccepts(page: Page): Promise<() => Promise<RecordedAccept[]>> {
  await page.evaluate(() => {
    if (!window.__parley) throw new Error('no debug hooks: load the page with ?debug');
    const accepts: RecordedAccept[] = [];
    window.__accepts = accepts;
    window.__parley.peers.on('message', ({ connectionId, message }) => {
      if (message.type === 'file_accept') accepts.push({ connectionId, offset: message.offset });
    });
  });
  return () => page.evaluate(() => window.__accepts ?? []);
}

/** Records every value the progress bar of the card showing `name` takes from now on. */
export async function recordProgress(page: Page, name: string): Promise<() => Promise<number[]>> {
  await page.evaluate((fileName) => {
    const values: number[] = [];
    window.__progress = values;
    const read = () => {
      const bar = [...document.querySelectorAll('li[data-transfer]')]
        .find((card) => card.textContent?.includes(fileName))
        ?.querySelector('[role="progressbar"]');
      const value = Number(bar?.getAttribute('aria-valuenow'));
      if (bar && Number.isFinite(value) && values.at(-1) !== value) values.push(value);
    };
    read();
    new MutationObserver(read).observe(document.body, {
      subtree: true,
      childList: true,
      attributes: true,
      attributeFilter: ['aria-valuenow'],
    });
  }, name);
  return () => page.evaluate(() => window.__progress ?? []);
}

/** Waits in the page until the bar of the card showing `name` passes `fraction`; its value then. */
export async function progressPast(page: Page, name: string, fraction: number): Promise<number> {
  const handle = await page.waitForFunction(
    ([fileName, part]) => {
      const bar = [...document.querySelectorAll('li[data-transfer]')]
        .find((card) => card.textContent?.includes(fileName))
        ?.querySelector('[role="progressbar"]');
      const now = Number(bar?.getAttribute('aria-valuenow'));
      const max = Number(bar?.getAttribute('aria-valuemax'));
      return max > 0 && now / max > part ? now : false;
    },
    [name, fraction] as const,
    { timeout: 60_000, polling: 'raf' },
  );
  return (await handle.jsonValue()) as number;
}

/**
 * Closes every open RTCPeerConnection of the page under the app, as a dead network would: no `bye`
 * is said; each side finds its channels closed. Resolves with how many it closed.
 */
export function closePeerConnections(page: Page): Promise<number> {
  return page.evaluate(() => {
    const created = (window as unknown as { __peerConnections: RTCPeerConnection[] }).__peerConnections;
    const open = created.filter((pc) => pc.connectionState !== 'closed');
    for (const pc of open) pc.close();
    return open.length;
  });
}

/**
 * Closes the page's open signaling WebSocket under the app (it reconnects by itself and gets a new
 * connection id). Needs `recordWebSockets`.
 */
export async function closeSignaling(page: Page): Promise<void> {
  const closed = await page.evaluate(() => {
    const socket = window.__sockets?.findLast((s) => s.readyState === WebSocket.OPEN);
    socket?.close();
    return socket !== undefined;
  });
  if (!closed) throw new Error('no open WebSocket recorded: call recordWebSockets before the app loads');
}
