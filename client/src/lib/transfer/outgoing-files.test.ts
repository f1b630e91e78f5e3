import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { OFFER_FILES_MAX, offeredFileSchema } from '../../../../shared/transfer-protocol.js';
import { prepareFiles } from './outgoing-files.js';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

describe('prepareFiles', () => {
  it('describes files as the offer needs them, hashed, with progress over all of them', async () => {
    const a = new Uint8Array(5 * 1024 * 1024).fill(7);
    const b = new TextEncoder().encode('hello');
    const progress: [number, number][] = [];
    const files = await prepareFiles(
      [new File([a], 'a.bin', { type: 'application/octet-stream' }), new File([b], `${'x'.repeat(300)}.txt`)],
      { onProgress: (hashed, total) => progress.push([hashed, total]) },
    );
    expect(files.map(({ source: _, ...f }) => offeredFileSchema.safeParse(f).success)).toEqual([true, true]);
    expect(files[0]).toMatchObject({
      name: 'a.bin',
      size: a.length,
      type: 'application/octet-stream',
      sha256: sha256(a),
    });
    expect(files[1]).toMatchObject({ size: 5, type: '', sha256: sha256(b) });
    expect(files[1]!.name).toHaveLength(255);
    expect(files[1]!.name.endsWith('.txt')).toBe(true);
    expect(files[0]!.fileId).not.toBe(files[1]!.fileId);
    const total = a.length + 5;
    expect(progress.at(-1)).toEqual([total, total]);
    expect(progress.every(([hashed], i) => i === 0 || hashed >= progress[i - 1]![0])).toBe(true);
  });

  it('drops a MIME type the protocol would refuse', async () => {
    const [file] = await prepareFiles([new File(['x'], 'a', { type: 'text/plain' })]);
    expect(file?.type).toBe('text/plain');
    const long = new File(['x'], 'b', { type: `application/${'x'.repeat(300)}` });
    expect((await prepareFiles([long]))[0]?.type).toBe('');
  });

  it('takes 1 to OFFER_FILES_MAX files', async () => {
    await expect(prepareFiles([])).rejects.toThrow(RangeError);
    const many = Array.from({ length: OFFER_FILES_MAX + 1 }, (_, i) => new File(['x'], `${i}`));
    await expect(prepareFiles(many)).rejects.toThrow(RangeError);
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(prepareFiles([new File(['x'], 'a')], { signal: controller.signal })).rejects.toMatchObject({
      code: 'aborted',
    });
  });
});
