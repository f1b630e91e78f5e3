import { afterEach, describe, expect, it } from 'vitest';
import {
  CONSUMED_REPORT_BYTES,
  contentDisposition,
  DownloadDesk,
  type DownloadPortMessage,
  type DownloadPortReply,
} from './download-stream.js';
import { patternBytes } from './test/fixtures.js';

const SCOPE = 'https://parley.test/download/';
const ID = 'Zq3-_x9TbW2kLm8NpR4s';
const KiB = 1024;

const opened: MessagePort[] = [];
afterEach(() => {
  for (const port of opened.splice(0)) port.close();
});

/**
 * A download offered to a desk over a real MessageChannel, as the page does: `send` is the page's
 * end, `replies` what the worker answered on it.
 */
function offer(size: number, name = 'film.mkv', desk = new DownloadDesk(SCOPE), id = ID) {
  const { port1: page, port2 } = new MessageChannel();
  opened.push(page);
  const replies: DownloadPortReply[] = [];
  page.onmessage = (event: MessageEvent<DownloadPortReply>) => replies.push(event.data);
  desk.handleMessage({ type: 'download', id, name, size }, port2);
  const send = (message: DownloadPortMessage) =>
    page.postMessage(message, message.type === 'chunk' ? [message.data.buffer] : []);
  const answer = (method = 'GET') => desk.respond(new Request(`${SCOPE}${id}`, { method }));
  const request = (method = 'GET') => answer(method).response;
  return { desk, page, replies, send, answer, request };
}

async function until(check: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

const types = (replies: DownloadPortReply[]) => replies.map((reply) => reply.type);
const chunk = (offset: number, length: number) => patternBytes(offset, length).slice();

/** Everything the body holds until it ends, as one array. */
async function readAll(response: Response): Promise<Uint8Array> {
  return new Uint8Array(await response.arrayBuffer());
}

describe('DownloadDesk', () => {
  it('answers a waiting download once, with a stream under headers that make the browser save it', async () => {
    const { replies, request, send } = offer(5, 'Résumé "final" (v2).pdf');
    await until(() => replies.length === 1);
    expect(types(replies)).toEqual(['ready']);
    const response = request();
    expect(response.status).toBe(200);
    expect(Object.fromEntries(response.headers)).toEqual({
      'content-type': 'application/octet-stream',
      'content-disposition':
        'attachment; filename="R_sum_ _final_ (v2).pdf"; ' +
        "filename*=UTF-8''R%C3%A9sum%C3%A9%20%22final%22%20%28v2%29.pdf",
      'content-length': '5',
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
    });
    await until(() => replies.length === 2);
    expect(replies[1]).toEqual({ type: 'started' });
    // Each id is served once: a second request, even while the first streams, finds nothing.
    expect(request().status).toBe(404);
    send({ type: 'chunk', data: new Uint8Array([1, 2, 3, 4, 5]) });
    send({ type: 'close' });
    expect([...(await readAll(response))]).toEqual([1, 2, 3, 4, 5]);
  });

  it('answers 404 for an unknown id, another path, another method, or a download aborted before it was asked for', async () => {
    const desk = new DownloadDesk(SCOPE);
    const { replies, send, request } = offer(10, 'a.bin', desk);
    await until(() => replies.length === 1);
    const unknown = desk.respond(new Request(`${SCOPE}AAAAAAAAAAAAAAAAAAAA`)).response;
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('cache-control')).toBe('no-store');
    expect(await unknown.text()).toMatch(/No such download/);
    expect(desk.respond(new Request(`https://parley.test/other/${ID}`)).response.status).toBe(404);
    expect(request('HEAD').status).toBe(404);
    send({ type: 'abort', message: 'cancelled' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(request().status).toBe(404);
  });

  it('fails a download it cannot answer on its port, and answers 500, never "started"', async () => {
    // Half a surrogate pair: no UTF-8 for the Content-Disposition (the page's safeFileName replaces it).
    const { replies, request } = offer(5, 'report\ud800.pdf');
    await until(() => replies.length === 1);
    const response = request();
    expect(response.status).toBe(500);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.text()).toMatch(/could not be answered/);
    await until(() => replies.length === 2);
    expect(replies[1]).toEqual({ type: 'failed', message: expect.stringMatching(/could not be answered/) });
    // Failed is failed: it is not served later either.
    expect(request().status).toBe(404);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(types(replies)).toEqual(['ready', 'failed']);
  });

  it('refuses a malformed download message on its port, saying why', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ id: 'short', name: 'a', size: 1 }, /id/],
      [{ id: ID, name: '', size: 1 }, /name/],
      [{ id: ID, name: 'x'.repeat(256), size: 1 }, /name/],
      [{ id: ID, name: 'a', size: -1 }, /size/],
      [{ id: ID, name: 'a', size: 1.5 }, /size/],
      [{ id: ID, name: 'a', size: '1' }, /size/],
    ];
    for (const [fields, reason] of cases) {
      const desk = new DownloadDesk(SCOPE);
      const { port1: page, port2 } = new MessageChannel();
      opened.push(page);
      const replies: DownloadPortReply[] = [];
      page.onmessage = (event: MessageEvent<DownloadPortReply>) => replies.push(event.data);
      desk.handleMessage({ type: 'download', ...fields }, port2);
      await until(() => replies.length === 1);
      expect(replies[0]).toEqual({ type: 'failed', message: expect.stringMatching(reason) });
      expect(desk.respond(new Request(`${SCOPE}${ID}`)).response.status).toBe(404);
    }
  });
});

describe('a download stream', () => {
  it('gives out the chunks in order, byte for byte, and ends only after the close', async () => {
    const size = 3 * 100 * KiB + 17;
    const { request, send, replies } = offer(size);
    const reader = request().body!.getReader();
    const parts: Uint8Array[] = [];
    for (const [offset, length] of [
      [0, 100 * KiB],
      [100 * KiB, 100 * KiB],
      [200 * KiB, 100 * KiB + 17],
    ] as const) {
      send({ type: 'chunk', data: chunk(offset, length) });
      const { value } = await reader.read();
      parts.push(value!);
    }
    // Every byte is there, but the page has not said the file is verified: the stream waits.
    const last = reader.read();
    const pending = await Promise.race([
      last.then(() => 'ended'),
      new Promise((r) => setTimeout(r, 30, 'waits')),
    ]);
    expect(pending).toBe('waits');
    send({ type: 'close' });
    expect((await last).done).toBe(true);
    expect(Buffer.compare(Buffer.concat(parts), chunk(0, size))).toBe(0);
    // The browser's reading is reported, up to the whole file before the stream ends.
    expect(replies.filter((r) => r.type === 'consumed').at(-1)).toEqual({ type: 'consumed', bytes: size });
  });

  it('says when the stream has ended, however it ends, so the worker can keep running until then', async () => {
    const settled = (promise: Promise<void>) =>
      Promise.race([promise.then(() => true), new Promise((r) => setTimeout(r, 20, false))]);
    const desk = new DownloadDesk(SCOPE);
    expect(await settled(desk.respond(new Request(`${SCOPE}${ID}`)).ended)).toBe(true);

    const closed = offer(5, 'a.bin', desk);
    const { response, ended } = closed.answer();
    closed.send({ type: 'chunk', data: chunk(0, 5) });
    expect(await settled(ended)).toBe(false);
    closed.send({ type: 'close' });
    expect(await settled(ended)).toBe(false);
    await readAll(response);
    expect(await settled(ended)).toBe(true);

    const aborted = offer(5, 'b.bin', desk, 'Ab'.repeat(10));
    const abortedEnd = aborted.answer().ended;
    aborted.send({ type: 'abort', message: 'damaged' });
    expect(await settled(abortedEnd)).toBe(true);

    const cancelled = offer(5, 'c.bin', desk, 'Cd'.repeat(10));
    const answer = cancelled.answer();
    expect(await settled(answer.ended)).toBe(false);
    await answer.response.body!.cancel();
    expect(await settled(answer.ended)).toBe(true);
  });

  it('ends a zero-byte file on the close alone', async () => {
    const { request, send } = offer(0);
    const response = request();
    send({ type: 'close' });
    expect((await readAll(response)).byteLength).toBe(0);
  });

  it('fails the download on an abort, even with bytes still queued', async () => {
    const { request, send } = offer(300 * KiB);
    const response = request();
    send({ type: 'chunk', data: chunk(0, 100 * KiB) });
    send({ type: 'abort', message: 'the file arrived damaged' });
    await expect(readAll(response)).rejects.toThrow('the file arrived damaged');
  });

  it('fails the download when the page closes it short, or sends more than its size, and says so', async () => {
    const short = offer(200 * KiB);
    const shortBody = readAll(short.request());
    short.send({ type: 'chunk', data: chunk(0, 100 * KiB) });
    short.send({ type: 'close' });
    await expect(shortBody).rejects.toThrow('closed the file at 102400 of 204800 bytes');
    await until(() => short.replies.some((r) => r.type === 'failed'));

    const long = offer(100 * KiB, 'b.bin', new DownloadDesk(SCOPE));
    const longBody = readAll(long.request());
    long.send({ type: 'chunk', data: chunk(0, 100 * KiB) });
    long.send({ type: 'chunk', data: chunk(0, 1) });
    await expect(longBody).rejects.toThrow('more bytes than the file has');
  });

  it('holds what the browser has not read, and reports its reading at least every MiB', async () => {
    const size = 6 * 1024 * KiB;
    const { request, send, replies } = offer(size);
    const reader = request().body!.getReader();
    for (let offset = 0; offset < size; offset += 256 * KiB)
      send({ type: 'chunk', data: chunk(offset, 256 * KiB) });
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Nothing read, nothing reported: the page's backlog counts every byte it sent.
    expect(replies.filter((r) => r.type === 'consumed')).toEqual([]);
    let read = 0;
    while (read < size) read += (await reader.read()).value!.byteLength;
    await until(() => replies.some((r) => r.type === 'consumed' && r.bytes === size));
    const reports = replies.flatMap((r) => (r.type === 'consumed' ? [r.bytes] : []));
    expect(reports.length).toBeGreaterThanOrEqual(size / CONSUMED_REPORT_BYTES);
    for (let i = 1; i < reports.length; i += 1)
      expect(reports[i]! - reports[i - 1]!).toBeLessThanOrEqual(CONSUMED_REPORT_BYTES);
  });

  it('tells the page when the browser cancels the download', async () => {
    const { request, send, replies } = offer(300 * KiB);
    const body = request().body!;
    send({ type: 'chunk', data: chunk(0, 100 * KiB) });
    await body.cancel('the user cancelled');
    await until(() => replies.some((r) => r.type === 'cancelled'));
    expect(types(replies)).toEqual(['ready', 'started', 'cancelled']);
  });
});

describe('contentDisposition', () => {
  it.each([
    ['report.pdf', 'attachment; filename="report.pdf"; filename*=UTF-8\'\'report.pdf'],
    [
      '日本語 ☃.txt',
      'attachment; filename="___ _.txt"; filename*=UTF-8\'\'%E6%97%A5%E6%9C%AC%E8%AA%9E%20%E2%98%83.txt',
    ],
    [
      'a\\b"c%41\'d*.bin',
      "attachment; filename=\"a_b_c_41'd*.bin\"; filename*=UTF-8''a%5Cb%22c%2541%27d%2A.bin",
    ],
  ])('quotes %j safely, and exactly as UTF-8', (name, header) => {
    expect(contentDisposition(name)).toBe(header);
  });

  it('round-trips any name through the RFC 8187 form', () => {
    const name = "ünïcödé 𝄞 (1) it's *100%*.tar.gz";
    const encoded = /filename\*=UTF-8''(.+)$/.exec(contentDisposition(name))![1]!;
    expect(encoded).toMatch(/^[A-Za-z0-9!#$&+\-.^_`|~%]+$/);
    expect(decodeURIComponent(encoded)).toBe(name);
  });
});
