import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  DOWNLOAD_BACKLOG,
  DOWNLOAD_PING_MS,
  DOWNLOAD_START_TIMEOUT_MS,
  StreamDownloadSink,
  type DownloadWorker,
} from './download-sink.js';
import {
  DownloadDesk,
  type DownloadPortMessage,
  type DownloadPortReply,
  type DownloadWorkerMessage,
} from './download-stream.js';
import { patternBytes } from './test/fixtures.js';
import { TransferError } from './transfer-error.js';

const SCOPE = 'https://parley.test/download/';
const KiB = 1024;
const MiB = 1024 * KiB;

afterEach(() => {
  vi.useRealTimers();
});

/**
 * The browser, in this thread: a real `DownloadDesk` as the worker (messages reach it on a later
 * task, the port as `ports[0]`), and `start` asks it for the download like the hidden frame does.
 * `responses` are what the browser got.
 */
function fakeBrowser() {
  const desk = new DownloadDesk(SCOPE);
  const posted: DownloadWorkerMessage[] = [];
  const responses: Response[] = [];
  let framesOpen = 0;
  const worker: DownloadWorker = {
    post(message, transfer = []) {
      posted.push(message);
      const port = transfer.find((item): item is MessagePort => item instanceof MessagePort);
      setTimeout(() => desk.handleMessage(message, port));
    },
    start(id) {
      framesOpen += 1;
      setTimeout(() => responses.push(desk.respond(new Request(`${SCOPE}${id}`)).response));
      return () => (framesOpen -= 1);
    },
  };
  return { worker, posted, responses, framesOpen: () => framesOpen };
}

/**
 * A worker that takes every download and whose browser reads every byte at once: `received()` is what
 * came on the port, a chunk as its size, in order.
 */
function recordingWorker(): DownloadWorker & { received: () => Array<number | string> } {
  const received: Array<number | string> = [];
  let port: MessagePort | undefined;
  let read = 0;
  return {
    post(message, transfer = []) {
      if (message.type !== 'download') return;
      port = transfer.find((item): item is MessagePort => item instanceof MessagePort)!;
      port.onmessage = ({ data }: MessageEvent<DownloadPortMessage>) => {
        if (data.type !== 'chunk') return received.push(data.type);
        received.push(data.data.byteLength);
        read += data.data.byteLength;
        port!.postMessage({ type: 'consumed', bytes: read } satisfies DownloadPortReply);
      };
      port.postMessage({ type: 'ready' } satisfies DownloadPortReply);
    },
    start() {
      port!.postMessage({ type: 'started' } satisfies DownloadPortReply);
      return () => {};
    },
    received: () => received,
  };
}

const chunk = (offset: number, length: number) => patternBytes(offset, length).slice();

/** Resolves true if `promise` settles within `ms`. */
const settlesWithin = (promise: Promise<unknown>, ms: number) =>
  Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => setTimeout(resolve, ms, false)),
  ]);

describe('StreamDownloadSink', () => {
  it('streams the file into the download byte for byte, which ends once it is closed', async () => {
    const browser = fakeBrowser();
    const size = 5 * MiB + 123;
    const sink = await StreamDownloadSink.open({ name: 'film.mkv', size }, browser.worker);
    expect(browser.posted[0]).toMatchObject({ type: 'download', name: 'film.mkv', size });
    expect(browser.framesOpen()).toBe(1);
    const body = browser.responses[0]!.arrayBuffer();
    const hash = createHash('sha256');
    let last = new Uint8Array();
    for (let offset = 0; offset < size; offset += 256 * KiB) {
      last = chunk(offset, Math.min(256 * KiB, size - offset));
      hash.update(last);
      await sink.write(offset, last);
      // The buffer went to the worker: nothing of it stays on the page (but the file's last bytes).
      if (offset + last.byteLength < size) expect(last.byteLength).toBe(0);
    }
    expect(await sink.close()).toEqual({ kind: 'download', name: 'film.mkv' });
    expect(last.byteLength).toBe(0);
    const saved = new Uint8Array(await body);
    expect(saved.byteLength).toBe(size);
    expect(createHash('sha256').update(saved).digest('hex')).toBe(hash.digest('hex'));
    await expect(sink.write(size, new Uint8Array(1))).rejects.toThrow('closed');
  });

  it('hands over the write that completes the file only on the close, after the file is verified', async () => {
    const worker = recordingWorker();
    const size = 3 * 100 * KiB;
    const sink = await StreamDownloadSink.open({ name: 'a.bin', size }, worker);
    for (let offset = 0; offset < size; offset += 100 * KiB)
      await sink.write(offset, chunk(offset, 100 * KiB));
    // Every write resolved, and the worker has all but the last: the browser cannot finish yet.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(worker.received()).toEqual([100 * KiB, 100 * KiB]);
    await sink.close();
    expect(worker.received()).toEqual([100 * KiB, 100 * KiB, 100 * KiB, 'close']);
  });

  it('never hands over the last bytes of a file aborted after its last write (a damaged file)', async () => {
    const worker = recordingWorker();
    const sink = await StreamDownloadSink.open({ name: 'a.bin', size: 150 * KiB }, worker);
    await sink.write(0, chunk(0, 100 * KiB));
    await sink.write(100 * KiB, chunk(100 * KiB, 50 * KiB));
    await sink.abort();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(worker.received()).toEqual([100 * KiB, 'abort']);
  });

  it('keeps at most the backlog unread by the browser, however slowly it reads', async () => {
    const browser = fakeBrowser();
    const size = 24 * MiB;
    const step = 256 * KiB;
    const sink = await StreamDownloadSink.open({ name: 'big.bin', size }, browser.worker);
    const reader = browser.responses[0]!.body!.getReader();
    let read = 0;
    let peakUnread = 0;
    const reading = (async () => {
      while (read < size) {
        await new Promise((resolve) => setTimeout(resolve, 2));
        read += (await reader.read()).value!.byteLength;
      }
    })();
    for (let offset = 0; offset < size; offset += step) {
      await sink.write(offset, chunk(offset, step));
      peakUnread = Math.max(peakUnread, offset + step - read);
    }
    await sink.close();
    await reading;
    expect(read).toBe(size);
    // Handed over but unread: the backlog and the chunk that went past it, never the whole file.
    expect(peakUnread).toBeLessThanOrEqual(DOWNLOAD_BACKLOG + step);
    expect(peakUnread).toBeGreaterThan(DOWNLOAD_BACKLOG / 2);
  });

  it('fails its writes with write_failed once the download is cancelled in the browser', async () => {
    const browser = fakeBrowser();
    const sink = await StreamDownloadSink.open({ name: 'big.bin', size: 16 * MiB }, browser.worker);
    const body = browser.responses[0]!.body!;
    // Nothing is read: the writes fill the backlog, and the next one waits for the browser.
    let offset = 0;
    while (offset < DOWNLOAD_BACKLOG) {
      await sink.write(offset, chunk(offset, MiB));
      offset += MiB;
    }
    const waiting = sink.write(offset, chunk(offset, MiB));
    expect(await settlesWithin(waiting, 30)).toBe(false);
    await body.cancel('the user cancelled');
    const cancelled = new TransferError('write_failed', 'the download was cancelled in the browser');
    await expect(waiting).rejects.toEqual(cancelled);
    await expect(sink.write(offset + MiB, chunk(0, 1))).rejects.toEqual(cancelled);
    await expect(sink.close()).rejects.toEqual(cancelled);
    await sink.abort();
  });

  it('fails the download on an abort and removes its frame', async () => {
    const browser = fakeBrowser();
    const sink = await StreamDownloadSink.open({ name: 'a.bin', size: MiB }, browser.worker);
    const body = browser.responses[0]!.arrayBuffer();
    await sink.write(0, chunk(0, 1000));
    await sink.abort();
    await expect(body).rejects.toThrow('the transfer ended');
    expect(browser.framesOpen()).toBe(0);
    await expect(sink.write(1000, chunk(0, 1))).rejects.toThrow(TransferError);
  });

  it('does not open when the worker refuses the download, and says why', async () => {
    const browser = fakeBrowser();
    const opening = StreamDownloadSink.open({ name: '', size: 10 }, browser.worker);
    await expect(opening).rejects.toMatchObject({
      code: 'unavailable',
      message: 'the download did not start: the file name is empty or too long',
    });
    expect(browser.framesOpen()).toBe(0);
  });

  it('does not open when the worker or the browser never answers, nor wait for them for good', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const silent: DownloadWorker = { post: () => {}, start: () => () => {} };
    const opening = StreamDownloadSink.open({ name: 'a.bin', size: 10 }, silent);
    const unanswered = expect(opening).rejects.toMatchObject({
      code: 'unavailable',
      message: expect.stringMatching(/"ready"/),
    });
    await vi.advanceTimersByTimeAsync(DOWNLOAD_START_TIMEOUT_MS);
    await unanswered;

    // The worker takes the download, but the browser never asks for it (the frame did not load).
    const desk = new DownloadDesk(SCOPE);
    let id = '';
    let frames = 0;
    const unasked: DownloadWorker = {
      post(message, transfer = []) {
        if (message.type === 'download') id = message.id;
        desk.handleMessage(
          message,
          transfer.find((item): item is MessagePort => item instanceof MessagePort),
        );
      },
      start: () => {
        frames += 1;
        return () => (frames -= 1);
      },
    };
    const stalled = StreamDownloadSink.open({ name: 'a.bin', size: 10 }, unasked);
    const notStarted = expect(stalled).rejects.toMatchObject({ message: expect.stringMatching(/"started"/) });
    // The worker's "ready" is a real message: it comes on a later turn of the event loop.
    while (frames === 0) await new Promise((resolve) => setImmediate(resolve));
    await vi.advanceTimersByTimeAsync(DOWNLOAD_START_TIMEOUT_MS);
    await notStarted;
    expect(frames).toBe(0);
    // The worker was told: what it held for the browser is gone.
    vi.useRealTimers();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(desk.respond(new Request(`${SCOPE}${id}`)).response.status).toBe(404);
  });

  it('pings the worker while the download is open, and stops once it ended', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const browser = fakeBrowser();
    const sink = await StreamDownloadSink.open({ name: 'a.bin', size: 10 }, browser.worker);
    const pings = () => browser.posted.filter((m) => m.type === 'ping').length;
    // A paused transfer: no writes for a minute, and the worker still hears from the page.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(pings()).toBe(60_000 / DOWNLOAD_PING_MS);
    await sink.write(0, chunk(0, 10));
    const body = browser.responses[0]!.arrayBuffer();
    await sink.close();
    expect((await body).byteLength).toBe(10);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(pings()).toBe(60_000 / DOWNLOAD_PING_MS);
  });
});
