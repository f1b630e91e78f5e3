import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DownloadPortMessage } from './lib/transfer/download-stream.js';

const SCOPE = 'https://parley.test/download/';
const ID = 'Zq3-_x9TbW2kLm8NpR4s';

afterEach(() => {
  vi.unstubAllGlobals();
  vi.resetModules();
});

type Listener = (event: unknown) => void;

/** Loads the worker's script into a fake worker scope; its listeners, by event type. */
async function loadWorker(): Promise<Map<string, Listener>> {
  const listeners = new Map<string, Listener>();
  vi.stubGlobal('registration', { scope: SCOPE });
  vi.stubGlobal('addEventListener', (type: string, listener: Listener) => listeners.set(type, listener));
  await import('./download-sw.js');
  return listeners;
}

const settled = (promise: Promise<unknown>) =>
  Promise.race([promise.then(() => true), new Promise((r) => setTimeout(r, 20, false))]);

describe('the download service worker', () => {
  it('keeps its fetch event open until the download stream ends', async () => {
    const listeners = await loadWorker();
    const { port1: page, port2 } = new MessageChannel();
    const ready = new Promise((resolve) => (page.onmessage = resolve));
    listeners.get('message')!({ data: { type: 'download', id: ID, name: 'a.bin', size: 3 }, ports: [port2] });
    await ready;

    const extended: Array<Promise<unknown>> = [];
    let response: Promise<Response> | undefined;
    listeners.get('fetch')!({
      request: new Request(`${SCOPE}${ID}`),
      respondWith: (answer: Response | Promise<Response>) => (response = Promise.resolve(answer)),
      waitUntil: (promise: Promise<unknown>) => extended.push(promise),
    });
    expect(extended).toHaveLength(1);
    const body = (await response!).arrayBuffer();
    expect(await settled(extended[0]!)).toBe(false);
    const send = (message: DownloadPortMessage) => page.postMessage(message);
    send({ type: 'chunk', data: new Uint8Array([1, 2, 3]) });
    send({ type: 'close' });
    expect((await body).byteLength).toBe(3);
    expect(await settled(extended[0]!)).toBe(true);
    page.close();
  });
});
