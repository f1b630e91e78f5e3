import { describe, expect, it } from 'vitest';
import {
  CHUNK_HEADER_BYTES,
  decodeChunk,
  TRANSFER_ACK_INTERVAL,
  type TransferControl,
} from '../../../../shared/transfer-protocol.js';
import { HIGH_WATER_MARK } from './chunk-channel.js';
import { TransferSender, type OutgoingFile, type TransferSenderOptions } from './transfer-sender.js';
import { patternBytes, patternFile, PatternSource, testId } from './test/fixtures.js';
import { ManualChannel, settle } from './test/manual-channel.js';

const KiB = 1024;
const MiB = 1024 * KiB;

async function setup(sizes: number[], options: Partial<TransferSenderOptions> = {}) {
  const files: OutgoingFile[] = [];
  for (const [i, size] of sizes.entries()) files.push(await patternFile(size, i + 1));
  const transferId = testId();
  const sender = new TransferSender({ transferId, files, ...options });
  const channel = new ManualChannel();
  const states: string[] = [];
  sender.on('file', (e) => states.push(`${e.file.name}:${e.state}${e.error ? `:${e.error}` : ''}`));
  const accept = (i: number, offset = 0) =>
    sender.handleControl({ type: 'file_accept', transferId, fileId: files[i]!.fileId, offset });
  const control = (message: Record<string, unknown>) =>
    sender.handleControl({ transferId, ...message } as TransferControl);
  /** The frames sent so far, decoded. */
  const chunks = () =>
    channel.frames.map((frame) => {
      const chunk = decodeChunk(frame, (id) => files.find((f) => f.fileId === id)?.size);
      if (!chunk.ok) throw new Error(chunk.reason);
      return chunk;
    });
  return { files, transferId, sender, channel, states, accept, control, chunks };
}

describe('TransferSender', () => {
  it('offers on attach and sends nothing before an accept', async () => {
    const { sender, channel, files, transferId } = await setup([1000, 2000]);
    sender.attach(channel);
    expect(channel.controls).toEqual([
      { type: 'file_offer', transferId, files: files.map(({ source: _, ...file }) => file) },
    ]);
    await settle();
    expect(channel.frames).toEqual([]);
    expect(sender.files.map((f) => f.state)).toEqual(['offered', 'offered']);
  });

  it('offers again on a new link while a file waits for an answer, not after', async () => {
    const { sender, channel, accept, control } = await setup([10, 20]);
    sender.attach(channel);
    accept(0);
    const second = new ManualChannel();
    sender.attach(second);
    expect(second.sent('file_offer')).toHaveLength(1);
    control({ type: 'file_decline' });
    const third = new ManualChannel();
    sender.attach(third);
    expect(third.controls).toEqual([]);
  });

  it('sends an accepted file in chunks from the offset, framed with its id', async () => {
    const { sender, channel, accept, chunks, files } = await setup([200 * KiB + 5], { chunkSize: 64 * KiB });
    sender.attach(channel);
    accept(0);
    await settle();
    const sent = chunks();
    expect(sent.map((c) => [c.offset, c.payload.byteLength])).toEqual([
      [0, 65_536],
      [65_536, 65_536],
      [131_072, 65_536],
      [196_608, 8 * KiB + 5],
    ]);
    for (const c of sent) {
      expect(c.fileId).toBe(files[0]!.fileId);
      expect(c.payload).toEqual(patternBytes(c.offset, c.payload.byteLength, 1));
    }
    expect(sender.files[0]?.state).toBe('sending');
  });

  it('starts where the receiver says, and goes back when asked', async () => {
    const { sender, channel, accept, chunks } = await setup([100 * KiB], { chunkSize: 32 * KiB });
    sender.attach(channel);
    accept(0, 90 * KiB);
    await settle();
    expect(chunks().map((c) => c.offset)).toEqual([90 * KiB]);
    accept(0, 40 * KiB);
    await settle();
    expect(chunks().map((c) => c.offset)).toEqual([90 * KiB, 40 * KiB, 72 * KiB]);
  });

  it('reads the file a block at a time and cuts its chunks from the block', async () => {
    const { sender, channel, accept, chunks, files } = await setup([300 * KiB], {
      chunkSize: 32 * KiB,
      readBlock: 128 * KiB,
    });
    const source = files[0]!.source as PatternSource;
    const reads = () => source.reads - hashed;
    // The fixture's hash read it once.
    const hashed = source.reads;
    sender.attach(channel);
    accept(0);
    await settle();
    // Blocks at 0, 128 KiB and 256 KiB (the last one short: the file ends).
    expect(reads()).toBe(3);
    expect(chunks()).toHaveLength(10);
    // Buffer.equals: toEqual walks typed arrays element by element (seconds for a few hundred KiB).
    const intact = (c: { offset: number; payload: Uint8Array }) =>
      Buffer.from(c.payload).equals(patternBytes(c.offset, c.payload.byteLength, 1));
    expect(chunks().every(intact)).toBe(true);
    // Sent back into the last block: cut from it; before it: read again from there.
    accept(0, 288 * KiB);
    await settle();
    expect(reads()).toBe(3);
    accept(0, 100 * KiB);
    await settle();
    expect(reads()).toBe(5);
    const resent = chunks().slice(11);
    expect(resent[0]?.offset).toBe(100 * KiB);
    expect(resent.every(intact)).toBe(true);
  });

  it('keeps the send buffer under the high-water mark and refills on drain', async () => {
    const { sender, channel, accept } = await setup([12 * MiB], { chunkSize: 64 * KiB });
    sender.attach(channel);
    accept(0);
    await settle();
    expect(channel.bufferedAmount).toBeLessThanOrEqual(HIGH_WATER_MARK);
    expect(channel.bufferedAmount).toBeGreaterThan(HIGH_WATER_MARK - 64 * KiB - CHUNK_HEADER_BYTES);
    const first = channel.frames.length;
    expect(channel.drainListeners).toBe(1);
    channel.drain(MiB);
    await settle();
    expect(channel.frames.length).toBeGreaterThan(first);
    expect(channel.overLimit).toBe(false);
  });

  it('stops at the window past the last acknowledgement, and goes on with acks', async () => {
    const window = 2 * MiB;
    const { sender, channel, accept, control, files } = await setup([8 * MiB], {
      chunkSize: 64 * KiB,
      window,
    });
    sender.attach(channel);
    accept(0);
    for (let i = 0; i < 5; i += 1) {
      channel.drain(0);
      await settle();
    }
    const payload = () => channel.frames.reduce((n, f) => n + f.byteLength - CHUNK_HEADER_BYTES, 0);
    expect(payload()).toBe(window);
    control({ type: 'file_progress', fileId: files[0]!.fileId, received: TRANSFER_ACK_INTERVAL });
    await settle();
    expect(payload()).toBe(window + TRANSFER_ACK_INTERVAL);
    expect(sender.progress.bytes).toBe(TRANSFER_ACK_INTERVAL);
  });

  it('sends accepted files one at a time, in the order accepted', async () => {
    const { sender, channel, accept, chunks, files } = await setup([100, 200, 300]);
    sender.attach(channel);
    accept(2);
    accept(0);
    await settle();
    expect(chunks().map((c) => c.fileId)).toEqual([files[2]!.fileId, files[0]!.fileId]);
    expect(sender.files.map((f) => f.state)).toEqual(['sending', 'offered', 'sending']);
  });

  it('marks files verified, declined, cancelled or failed as the receiver says', async () => {
    const { sender, channel, accept, control, files, states } = await setup([10, 20, 30, 40]);
    sender.attach(channel);
    accept(0);
    accept(1);
    accept(2);
    control({ type: 'file_complete', fileId: files[0]!.fileId });
    control({ type: 'file_cancel', fileId: files[1]!.fileId, by: 'receiver' });
    control({ type: 'file_error', fileId: files[2]!.fileId, code: 'write_failed', by: 'receiver' });
    control({ type: 'file_decline' });
    expect(sender.files.map((f) => f.state)).toEqual(['verified', 'cancelled', 'failed', 'declined']);
    expect(sender.finished).toBe(true);
    expect(states.slice(-4)).toEqual([
      'file-1.bin:verified',
      'file-2.bin:cancelled',
      'file-3.bin:failed:write_failed',
      'file-4.bin:declined',
    ]);
  });

  it('ignores what is not for it: other transfers, unknown files, its own side, bad acks', async () => {
    const { sender, channel, accept, control, files } = await setup([MiB]);
    sender.attach(channel);
    accept(0);
    sender.handleControl({ type: 'file_complete', transferId: testId(), fileId: files[0]!.fileId });
    control({ type: 'file_complete', fileId: testId() });
    control({ type: 'file_cancel', by: 'sender' });
    control({ type: 'file_error', fileId: files[0]!.fileId, code: 'integrity', by: 'sender' });
    control({ type: 'file_offer', files: [] });
    control({ type: 'file_progress', fileId: files[0]!.fileId, received: 2 ** 50 });
    expect(sender.files[0]?.state).toBe('sending');
    // An acknowledgement never counts more than was sent.
    expect(sender.files[0]?.acknowledged).toBeLessThanOrEqual(MiB);
  });

  it('fails a file the receiver asks for past its end', async () => {
    const { sender, channel, accept, transferId, files } = await setup([100]);
    sender.attach(channel);
    accept(0, 101);
    expect(sender.files[0]).toMatchObject({ state: 'failed', error: 'protocol' });
    expect(channel.sent('file_error')).toEqual([
      { type: 'file_error', transferId, fileId: files[0]!.fileId, code: 'protocol', by: 'sender' },
    ]);
  });

  it('cancels: tells the receiver, stops sending, and says so again if asked for the file', async () => {
    const { sender, channel, accept, transferId, files } = await setup([8 * MiB]);
    sender.attach(channel);
    accept(0);
    await settle();
    sender.cancel();
    expect(channel.sent('file_cancel')).toEqual([{ type: 'file_cancel', transferId, by: 'sender' }]);
    const sent = channel.frames.length;
    channel.drain(0);
    await settle();
    expect(channel.frames.length).toBe(sent);
    accept(0, 1000);
    expect(channel.sent('file_cancel')).toHaveLength(2);
    expect(channel.sent('file_cancel')[1]).toMatchObject({ fileId: files[0]!.fileId });
    sender.cancel(); // nothing left to cancel: nothing sent
    expect(channel.sent('file_cancel')).toHaveLength(2);
  });

  it('fails a file it cannot read, tells the receiver, and warns with the cause', async () => {
    const file = await patternFile(MiB, 1);
    (file.source as PatternSource).failFrom = 100 * KiB;
    const warnings: unknown[][] = [];
    const sender = new TransferSender({
      transferId: testId(),
      files: [file],
      warn: (...args) => warnings.push(args),
    });
    const channel = new ManualChannel();
    sender.attach(channel);
    sender.handleControl({
      type: 'file_accept',
      transferId: sender.transferId,
      fileId: file.fileId,
      offset: 0,
    });
    await settle();
    expect(sender.files[0]).toMatchObject({ state: 'failed', error: 'read_failed' });
    expect(channel.sent('file_error')[0]).toMatchObject({ code: 'read_failed', by: 'sender' });
    expect(warnings).toEqual([
      [
        'transfer: file failed',
        expect.objectContaining({ fileId: file.fileId, code: 'read_failed', cause: expect.any(Error) }),
      ],
    ]);
  });

  it('stops when the link is gone, and waits for the receiver on the next one', async () => {
    const { sender, channel, accept, chunks } = await setup([8 * MiB]);
    sender.attach(channel);
    accept(0);
    await settle();
    channel.open = false;
    channel.drain(0);
    await settle();
    const next = new ManualChannel();
    sender.attach(next);
    await settle();
    expect(next.frames).toEqual([]);
    expect(chunks().length).toBeGreaterThan(0);
    sender.handleControl({
      type: 'file_accept',
      transferId: sender.transferId,
      fileId: sender.files[0]!.file.fileId,
      offset: 3 * MiB,
    });
    await settle();
    expect(decodeChunk(next.frames[0]!, () => 8 * MiB)).toMatchObject({ offset: 3 * MiB });
  });

  it('refuses settings that could not work', async () => {
    const files = [await patternFile(10)];
    const make = (options: Partial<TransferSenderOptions>) =>
      new TransferSender({ transferId: testId(), files, ...options });
    expect(() => make({ chunkSize: 0 })).toThrow(RangeError);
    expect(() => make({ chunkSize: 300 * KiB })).toThrow(RangeError);
    expect(() => make({ highWaterMark: MiB })).toThrow(RangeError);
    expect(() => make({ window: 64 * MiB })).toThrow(RangeError);
    expect(() => make({ window: 64 * KiB })).toThrow(RangeError);
    const wrongSize = { ...files[0]!, source: new PatternSource(11) };
    expect(() => new TransferSender({ transferId: testId(), files: [wrongSize] })).toThrow(RangeError);
  });
});
