import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  canSaveToDisk,
  DiskSink,
  MemorySink,
  pickSaveTarget,
  type SaveTarget,
  type WritableTarget,
} from './file-sink.js';

const bytes = (length: number, seed = 0) => Uint8Array.from({ length }, (_, i) => (i + seed) & 0xff);

describe('MemorySink', () => {
  it('collects writes in order into a Blob of the offered type', async () => {
    const sink = new MemorySink('text/plain');
    const data = bytes(40_000);
    for (let i = 0; i < data.length; i += 4096) await sink.write(i, data.subarray(i, i + 4096));
    const saved = await sink.close();
    expect(saved.kind).toBe('blob');
    if (saved.kind !== 'blob') return;
    expect(saved.blob.type).toBe('text/plain');
    expect(new Uint8Array(await saved.blob.arrayBuffer())).toEqual(data);
  });

  it('copies what it is given (the caller reuses its buffer)', async () => {
    const sink = new MemorySink('');
    const buffer = bytes(10);
    await sink.write(0, buffer);
    buffer.fill(0);
    const saved = await sink.close();
    if (saved.kind === 'blob') expect(new Uint8Array(await saved.blob.arrayBuffer())).toEqual(bytes(10));
  });

  it('refuses writes out of order, past its capacity, or after closing', async () => {
    const sink = new MemorySink('', 100);
    await expect(sink.write(5, bytes(1))).rejects.toThrow(RangeError);
    await sink.write(0, bytes(60));
    await expect(sink.write(60, bytes(41))).rejects.toMatchObject({ code: 'too_large' });
    await sink.close();
    await expect(sink.write(60, bytes(1))).rejects.toMatchObject({ code: 'write_failed' });
    await expect(sink.close()).rejects.toMatchObject({ code: 'write_failed' });
  });

  it('merges parts as it goes (17 MiB in 64 KiB writes)', async () => {
    const sink = new MemorySink('');
    const chunk = bytes(65_536);
    for (let i = 0; i < 272; i += 1) await sink.write(i * chunk.length, chunk);
    const saved = await sink.close();
    if (saved.kind === 'blob') expect(saved.blob.size).toBe(272 * 65_536);
  });
});

/** A fake FileSystemFileHandle: records writes, swaps the file into place on close like Chromium. */
function fakeTarget(options: { failWrite?: boolean } = {}) {
  const writes: { position: number; length: number }[] = [];
  const state = { swap: new Uint8Array(0), file: null as Uint8Array | null, removed: false, aborted: false };
  const writable: WritableTarget = {
    async write({ position, data }) {
      if (options.failWrite) throw new DOMException('quota', 'QuotaExceededError');
      writes.push({ position, length: data.byteLength });
      const next = new Uint8Array(Math.max(state.swap.length, position + data.byteLength));
      next.set(state.swap);
      next.set(data, position);
      state.swap = next;
    },
    async close() {
      state.file = state.swap;
    },
    async abort() {
      state.aborted = true;
    },
  };
  const target: SaveTarget = {
    name: 'holiday.jpg',
    createWritable: async () => writable,
    remove: async () => {
      state.removed = true;
    },
  };
  return { target, writes, state };
}

describe('DiskSink', () => {
  it('writes at offsets in blocks, and the file appears on close', async () => {
    const { target, writes, state } = fakeTarget();
    const sink = await DiskSink.open(target, 10_000);
    const data = bytes(25_000, 3);
    for (let i = 0; i < data.length; i += 3_000) await sink.write(i, data.subarray(i, i + 3_000));
    expect(state.file).toBeNull();
    expect(await sink.close()).toEqual({ kind: 'disk', name: 'holiday.jpg' });
    expect(state.file).toEqual(data);
    expect(writes).toEqual([
      { position: 0, length: 10_000 },
      { position: 10_000, length: 10_000 },
      { position: 20_000, length: 5_000 },
    ]);
  });

  it('has no size cap', async () => {
    const sink = await DiskSink.open(fakeTarget().target);
    expect(sink.capacity).toBeGreaterThanOrEqual(4 * 2 ** 30);
  });

  it('aborts without the file appearing, and deletes what the picker created', async () => {
    const { target, state } = fakeTarget();
    const sink = await DiskSink.open(target, 10);
    await sink.write(0, bytes(25));
    await sink.abort();
    expect(state).toMatchObject({ file: null, aborted: true, removed: true });
    await expect(sink.write(25, bytes(1))).rejects.toMatchObject({ code: 'write_failed' });
    await sink.abort(); // twice is harmless
  });

  it('turns disk errors into write_failed', async () => {
    const sink = await DiskSink.open(fakeTarget({ failWrite: true }).target, 10);
    await expect(sink.write(0, bytes(10))).rejects.toMatchObject({ code: 'write_failed' });
    const refusing: SaveTarget = {
      name: 'x',
      createWritable: () => Promise.reject(new DOMException('no', 'NotAllowedError')),
    };
    await expect(DiskSink.open(refusing)).rejects.toMatchObject({ code: 'write_failed' });
  });

  it('refuses writes out of order', async () => {
    const sink = await DiskSink.open(fakeTarget().target, 10);
    await sink.write(0, bytes(4));
    await expect(sink.write(3, bytes(4))).rejects.toThrow(RangeError);
  });
});

describe('save picker', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('is unavailable without the File System Access API', async () => {
    expect(canSaveToDisk()).toBe(false);
    await expect(pickSaveTarget('a.txt')).rejects.toMatchObject({ code: 'unavailable' });
  });

  it('suggests the safe name, and gives null when the user closes the picker', async () => {
    const { target } = fakeTarget();
    const picker = vi
      .fn()
      .mockResolvedValueOnce(target)
      .mockRejectedValueOnce(new DOMException('', 'AbortError'));
    vi.stubGlobal('showSaveFilePicker', picker);
    expect(canSaveToDisk()).toBe(true);
    expect(await pickSaveTarget('holiday.jpg')).toBe(target);
    expect(picker).toHaveBeenCalledWith({ suggestedName: 'holiday.jpg' });
    expect(await pickSaveTarget('holiday.jpg')).toBeNull();
  });
});
