import { afterEach, describe, expect, it, vi } from 'vitest';
import { DOWNLOAD_PING_MS } from './download-sink.js';
import { DownloadDesk, type DownloadWorkerMessage } from './download-stream.js';
import { REGISTRATION_TIMEOUT_MS } from './download-worker.js';

const ORIGIN = 'https://parley.test';
const SCOPE = `${ORIGIN}/download/`;

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  vi.resetModules();
});

/** A service worker whose messages reach `desk` on a later task; `posted` is what it was sent. */
function fakeServiceWorker(desk = new DownloadDesk(SCOPE)) {
  const posted: DownloadWorkerMessage[] = [];
  return {
    state: 'activated',
    posted,
    postMessage(message: DownloadWorkerMessage, transfer: Transferable[] = []) {
      posted.push(message);
      const port = transfer.find((item): item is MessagePort => item instanceof MessagePort);
      setTimeout(() => desk.handleMessage(message, port));
    },
    addEventListener() {},
    removeEventListener() {},
  };
}

type FakeServiceWorker = ReturnType<typeof fakeServiceWorker>;

/**
 * The page's browser: `register` answers with `registered` (or what `registering` gives), and a frame
 * added to the page asks `desk` for its download. Returns the module, loaded afresh (it keeps its
 * registration), and the `register` mock.
 */
async function loadPage(
  registered: { active: FakeServiceWorker | null; installing: null; waiting: null },
  desk: DownloadDesk,
  registering = () => Promise.resolve(registered),
) {
  const register = vi.fn(registering);
  vi.stubGlobal('navigator', { serviceWorker: { register } });
  vi.stubGlobal('document', {
    createElement: () => ({ hidden: false, src: '', remove() {} }),
    body: {
      append(frame: { src: string }) {
        setTimeout(() => desk.respond(new Request(new URL(frame.src, ORIGIN))));
      },
    },
  });
  return { ...(await import('./download-worker.js')), register };
}

describe('openStreamDownload', () => {
  it('keeps to the worker it opened the download with, after a newer one took over', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const desk = new DownloadDesk(SCOPE);
    const opened = fakeServiceWorker(desk);
    const registered = { active: opened as FakeServiceWorker | null, installing: null, waiting: null };
    const { openStreamDownload } = await loadPage(registered, desk);
    const sink = await openStreamDownload({ name: 'a.bin', size: 10 });
    const newer = fakeServiceWorker();
    registered.active = newer;
    await vi.advanceTimersByTimeAsync(3 * DOWNLOAD_PING_MS);
    expect(opened.posted.map((m) => m.type)).toEqual(['download', 'ping', 'ping', 'ping']);
    expect(newer.posted).toEqual([]);
    await sink.abort();
  });

  it('gives up on a registration that never ends, and registers again on the next download', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { openStreamDownload, register } = await loadPage(
      { active: null, installing: null, waiting: null },
      new DownloadDesk(SCOPE),
      () => new Promise<never>(() => {}),
    );
    const opening = openStreamDownload({ name: 'a.bin', size: 10 });
    const failed = expect(opening).rejects.toThrow('not ready in time');
    await vi.advanceTimersByTimeAsync(REGISTRATION_TIMEOUT_MS);
    await failed;
    const again = openStreamDownload({ name: 'a.bin', size: 10 });
    expect(register).toHaveBeenCalledTimes(2);
    const failedAgain = expect(again).rejects.toThrow('not ready in time');
    await vi.advanceTimersByTimeAsync(REGISTRATION_TIMEOUT_MS);
    await failedAgain;
  });

  it('registers again after a download that did not start', async () => {
    const desk = new DownloadDesk(SCOPE);
    const registered = { active: fakeServiceWorker(desk), installing: null, waiting: null };
    const { openStreamDownload, register } = await loadPage(registered, desk);
    // The worker refuses it (a name the page's safeFileName would never give).
    await expect(openStreamDownload({ name: '', size: 10 })).rejects.toMatchObject({ code: 'unavailable' });
    const sink = await openStreamDownload({ name: 'a.bin', size: 10 });
    expect(register).toHaveBeenCalledTimes(2);
    // A download that started keeps the registration for the next.
    await sink.abort();
    await (await openStreamDownload({ name: 'b.bin', size: 10 })).abort();
    expect(register).toHaveBeenCalledTimes(2);
  });
});
