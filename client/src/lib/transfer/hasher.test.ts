import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BlobSource } from './file-source.js';
import { createSha256, hashSource } from './hasher.js';
import { TransferError } from './transfer-error.js';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
const bytes = (length: number) => Uint8Array.from({ length }, (_, i) => (i * 31 + 7) & 0xff);

describe('createSha256', () => {
  it('hashes in pieces like in one go', async () => {
    const data = bytes(100_000);
    const hash = await createSha256();
    for (let i = 0; i < data.length; i += 777) hash.update(data.subarray(i, i + 777));
    expect(hash.digest()).toBe(sha256(data));
  });

  it('continues from a saved state, also mid-block', async () => {
    const data = bytes(10_001);
    for (const cut of [0, 1, 63, 64, 65, 5_000, 10_001]) {
      const first = await createSha256();
      first.update(data.subarray(0, cut));
      const state = first.save();
      first.update(new Uint8Array([1, 2, 3])); // what happens to the old hasher later does not matter
      const resumed = await createSha256(state);
      resumed.update(data.subarray(cut));
      expect(resumed.digest()).toBe(sha256(data));
    }
  });

  it('hashes nothing as the empty string', async () => {
    expect((await createSha256()).digest()).toBe(sha256(new Uint8Array(0)));
  });
});

describe('hashSource', () => {
  it('hashes a source block by block and reports progress', async () => {
    const data = bytes(1_000_000);
    const progress: number[] = [];
    const hex = await hashSource(new BlobSource(new Blob([data])), {
      blockSize: 300_000,
      onProgress: (hashed, total) => {
        expect(total).toBe(data.length);
        progress.push(hashed);
      },
    });
    expect(hex).toBe(sha256(data));
    expect(progress).toEqual([300_000, 600_000, 900_000, 1_000_000]);
  });

  it('hashes an empty file', async () => {
    expect(await hashSource(new BlobSource(new Blob([])))).toBe(sha256(new Uint8Array(0)));
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    const hashing = hashSource(new BlobSource(new Blob([bytes(1000)])), {
      blockSize: 100,
      signal: controller.signal,
      onProgress: (hashed) => {
        if (hashed >= 300) controller.abort();
      },
    });
    await expect(hashing).rejects.toMatchObject({ code: 'aborted' });
    await expect(hashing).rejects.toBeInstanceOf(TransferError);
  });
});
