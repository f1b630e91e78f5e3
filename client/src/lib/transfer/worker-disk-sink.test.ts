import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DiskWriterHost, type DiskWriterReply, type DiskWriterRequest } from './disk-writer.js';
import type { SaveTarget, WritableTarget } from './file-sink.js';
import { DiskWriterClient, WORKER_BACKLOG, type DiskWriterPort } from './worker-disk-sink.js';

const MiB = 1024 * 1024;
const bytes = (length: number, seed = 0) => Uint8Array.from({ length }, (_, i) => (i * 7 + seed) & 0xff);

/**
 * The worker, on this thread: a real DiskWriterHost behind a port that answers on later tasks. Write
 * requests go through `structuredClone` with their buffer transferred, as `postMessage` does (the
 * page's copy is detached); the save target stays as it is (a fake handle holds functions).
 */
function fakeWorker() {
  const onMessage: Array<(event: MessageEvent<DiskWriterReply>) => void> = [];
  const onError: Array<(event: Event) => void> = [];
  let alive = true;
  const host = new DiskWriterHost((reply) =>
    setTimeout(() => {
      if (alive) for (const listener of onMessage) listener({ data: reply } as MessageEvent<DiskWriterReply>);
    }),
  );
  const port = {
    postMessage(request: DiskWriterRequest, transfer: Transferable[] = []) {
      const sent = request.type === 'write' ? structuredClone(request, { transfer }) : request;
      setTimeout(() => alive && host.handle(sent));
    },
    addEventListener(type: 'message' | 'error', listener: (event: never) => void) {
      (type === 'message' ? onMessage : onError).push(listener as never);
    },
  } as DiskWriterPort;
  const die = () => {
    alive = false;
    for (const listener of onError) listener(new Event('error'));
  };
  return { client: new DiskWriterClient(port), die };
}

/** A fake FileSystemFileHandle; `gate` holds every disk write until it is opened. */
function fakeTarget(options: { failWrite?: boolean; failOpen?: boolean; gated?: boolean } = {}) {
  const state = { swap: new Uint8Array(0), file: null as Uint8Array | null, removed: false, writes: 0 };
  let open = () => {};
  const gate = options.gated ? new Promise<void>((resolve) => (open = resolve)) : Promise.resolve();
  const writable: WritableTarget = {
    async write({ position, data }) {
      await gate;
      if (options.failWrite) throw new DOMException('quota', 'QuotaExceededError');
      const next = new Uint8Array(Math.max(state.swap.length, position + data.byteLength));
      next.set(state.swap);
      next.set(data, position);
      state.swap = next;
      state.writes += 1;
    },
    async close() {
      state.file = state.swap;
    },
    async abort() {},
  };
  const target: SaveTarget = {
    name: 'film.mkv',
    createWritable: async () => {
      if (options.failOpen) throw new DOMException('denied', 'NotAllowedError');
      return writable;
    },
    remove: async () => {
      state.removed = true;
    },
  };
  return { target, state, open: () => open() };
}

describe('WorkerDiskSink and the disk writer', () => {
  it('hashes and writes in the worker: blocks on disk, the SHA-256 of it, the file in place', async () => {
    const { client } = fakeWorker();
    const { target, state } = fakeTarget();
    const sink = await client.open(target, 1000);
    const data = bytes(7000);
    for (let offset = 0; offset < data.length; offset += 700) {
      const chunk = data.slice(offset, offset + 700);
      await sink.write(offset, chunk);
      // Handed over, not copied: the page's buffer now belongs to the worker.
      expect(chunk.byteLength).toBe(0);
    }
    expect(await sink.writtenSha256()).toBe(createHash('sha256').update(data).digest('hex'));
    expect(await sink.close()).toEqual({ kind: 'disk', name: 'film.mkv' });
    expect(state.writes).toBe(7);
    expect(state.file).toEqual(data);
    await expect(sink.write(7000, bytes(1))).rejects.toMatchObject({ code: 'write_failed' });
  });

  it('holds a write back while the worker is behind by more than the backlog', async () => {
    const { client } = fakeWorker();
    const { target, open } = fakeTarget({ gated: true });
    const sink = await client.open(target, MiB);
    const writes = WORKER_BACKLOG / MiB;
    for (let i = 0; i < writes; i += 1) await sink.write(i * MiB, new Uint8Array(MiB));
    let resolved = false;
    const next = sink.write(WORKER_BACKLOG, new Uint8Array(MiB)).then(() => (resolved = true));
    // Long enough for the worker to answer several times over, if it could.
    for (let turn = 0; turn < 10; turn += 1) await new Promise((resolve) => setTimeout(resolve));
    expect(resolved).toBe(false);
    open();
    await next;
    expect(await sink.writtenSha256()).toBe(
      createHash('sha256')
        .update(new Uint8Array(WORKER_BACKLOG + MiB))
        .digest('hex'),
    );
  });

  it('fails the file with the disk: later requests reject, an abort still removes it', async () => {
    const { client } = fakeWorker();
    const { target, state } = fakeTarget({ failWrite: true });
    const sink = await client.open(target, 10);
    await sink.write(0, bytes(10));
    await expect(sink.writtenSha256()).rejects.toMatchObject({ code: 'write_failed' });
    await expect(sink.write(10, bytes(10))).rejects.toMatchObject({ code: 'write_failed' });
    await expect(sink.close()).rejects.toMatchObject({ code: 'write_failed' });
    await sink.abort();
    expect(state.removed).toBe(true);
  });

  it('refuses a file that cannot be opened', async () => {
    const { client } = fakeWorker();
    await expect(client.open(fakeTarget({ failOpen: true }).target, 10)).rejects.toMatchObject({
      code: 'write_failed',
    });
  });

  it('fails what waits on a worker that stopped, and opens nothing more there', async () => {
    const { client, die } = fakeWorker();
    const sink = await client.open(fakeTarget({ gated: true }).target, 10);
    await sink.write(0, bytes(10));
    const digest = sink.writtenSha256();
    die();
    await expect(digest).rejects.toMatchObject({ code: 'write_failed' });
    await sink.abort();
    expect(client.broken).toBe(true);
    await expect(client.open(fakeTarget().target, 10)).rejects.toMatchObject({ code: 'write_failed' });
  });
});
