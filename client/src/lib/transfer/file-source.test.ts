import { describe, expect, it } from 'vitest';
import { BlobSource } from './file-source.js';

describe('BlobSource', () => {
  const data = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff);
  const source = new BlobSource(new Blob([data]));

  it('reads slices at offsets', async () => {
    expect(source.size).toBe(1000);
    expect(await source.read(0, 10)).toEqual(data.subarray(0, 10));
    expect(await source.read(990, 10)).toEqual(data.subarray(990));
    expect(await source.read(1000, 0)).toEqual(new Uint8Array(0));
  });

  it('refuses ranges outside the file', async () => {
    await expect(source.read(995, 10)).rejects.toThrow(RangeError);
    await expect(source.read(-1, 1)).rejects.toThrow(RangeError);
    await expect(source.read(0.5, 1)).rejects.toThrow(RangeError);
  });

  it('fails with read_failed when the blob cannot be read', async () => {
    const broken = {
      size: 10,
      slice: () => ({ arrayBuffer: () => Promise.reject(new DOMException('gone', 'NotReadableError')) }),
    } as unknown as Blob;
    await expect(new BlobSource(broken).read(0, 5)).rejects.toMatchObject({ code: 'read_failed' });
    const short = {
      size: 10,
      slice: () => ({ arrayBuffer: () => Promise.resolve(new ArrayBuffer(2)) }),
    } as unknown as Blob;
    await expect(new BlobSource(short).read(0, 5)).rejects.toMatchObject({ code: 'read_failed' });
  });
});
