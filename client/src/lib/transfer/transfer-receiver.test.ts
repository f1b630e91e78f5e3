import { describe, expect, it } from 'vitest';
import {
  encodeChunk,
  decodeChunk,
  TRANSFER_WINDOW_MAX,
  type Chunk,
  type OfferedFile,
} from '../../../../shared/transfer-protocol.js';
import { MemorySink } from './file-sink.js';
import { TransferReceiver, type TransferReceiverOptions } from './transfer-receiver.js';
import { HashingSink, patternBytes, patternFile, testId } from './test/fixtures.js';
import { ManualChannel, settle } from './test/manual-channel.js';

const KiB = 1024;
const MiB = 1024 * KiB;

async function setup(sizes: number[], options: Partial<TransferReceiverOptions> = {}) {
  const files: OfferedFile[] = [];
  for (const [i, size] of sizes.entries()) {
    const { source: _, ...file } = await patternFile(size, i + 1);
    files.push(file);
  }
  const transferId = testId();
  const receiver = new TransferReceiver({ offer: { type: 'file_offer', transferId, files }, ...options });
  const channel = new ManualChannel();
  receiver.attach(channel);
  /** Feeds bytes of file `i` at `offset` as the sender would (through a real frame). */
  const chunk = (i: number, offset: number, length: number, seed = i + 1) => {
    const file = files[i]!;
    const decoded = decodeChunk(encodeChunk(file.fileId, offset, patternBytes(offset, length, seed)), (id) =>
      receiver.sizeOf(id),
    );
    if (!decoded.ok) throw new Error(decoded.reason);
    return receiver.handleChunk(decoded satisfies Chunk);
  };
  /** Feeds file `i` from `from` to its end in `size` chunks. */
  const rest = (i: number, from: number, size = 64 * KiB) => {
    for (let offset = from; offset < files[i]!.size; offset += size)
      chunk(i, offset, Math.min(size, files[i]!.size - offset));
  };
  return { files, transferId, receiver, channel, chunk, rest };
}

describe('TransferReceiver', () => {
  it('writes nothing before the file is accepted, then asks for it from 0', async () => {
    const { receiver, channel, chunk, files, transferId } = await setup([100 * KiB]);
    expect(chunk(0, 0, 1000)).toBe('ignored');
    expect(channel.controls).toEqual([]);
    const sink = new HashingSink();
    await receiver.accept(files[0]!.fileId, sink);
    expect(sink.writes).toBe(0);
    expect(channel.sent('file_accept')).toEqual([
      { type: 'file_accept', transferId, fileId: files[0]!.fileId, offset: 0 },
    ]);
    expect(receiver.files[0]?.state).toBe('receiving');
  });

  it('writes chunks in order, ignores duplicates, verifies, and acknowledges as it goes', async () => {
    const { receiver, channel, chunk, rest, files, transferId } = await setup([300 * KiB], {
      ackInterval: 100 * KiB,
    });
    const sink = new MemorySink('');
    await receiver.accept(files[0]!.fileId, sink);
    expect(chunk(0, 0, 64 * KiB)).toBe('accepted');
    expect(chunk(0, 0, 64 * KiB)).toBe('duplicate');
    expect(chunk(0, 32 * KiB, 64 * KiB)).toBe('duplicate');
    rest(0, 64 * KiB);
    await settle();
    const status = receiver.files[0]!;
    expect(status).toMatchObject({ state: 'verified', received: 300 * KiB });
    if (status.saved?.kind !== 'blob') return expect.fail('no blob');
    expect(new Uint8Array(await status.saved.blob.arrayBuffer())).toEqual(patternBytes(0, 300 * KiB, 1));
    expect(channel.sent('file_progress').map((m) => m.received)).toEqual([128 * KiB, 256 * KiB]);
    expect(channel.sent('file_complete')).toEqual([
      { type: 'file_complete', transferId, fileId: files[0]!.fileId },
    ]);
  });

  it('asks once from the gap when chunks were skipped', async () => {
    const { receiver, channel, chunk, files } = await setup([MiB]);
    await receiver.accept(files[0]!.fileId, new HashingSink());
    chunk(0, 0, 1000);
    expect(chunk(0, 5000, 1000)).toBe('gap');
    expect(chunk(0, 6000, 1000)).toBe('gap');
    expect(channel.sent('file_accept').map((m) => m.offset)).toEqual([0, 1000]);
    expect(chunk(0, 1000, 1000)).toBe('accepted');
  });

  it('fails a transfer whose sender ignores the window', async () => {
    const { receiver, channel, chunk, files } = await setup([64 * MiB]);
    const sink = new HashingSink();
    sink.delayMs = 50; // nothing gets written, so nothing is acknowledged
    await receiver.accept(files[0]!.fileId, sink);
    const step = 256 * KiB - 24;
    let offset = 0;
    while (offset + step <= TRANSFER_WINDOW_MAX) {
      expect(chunk(0, offset, step)).toBe('accepted');
      offset += step;
    }
    expect(chunk(0, offset, step)).toBe('rejected');
    expect(receiver.files[0]).toMatchObject({ state: 'failed', error: 'protocol' });
    expect(channel.sent('file_error')[0]).toMatchObject({ code: 'protocol', by: 'receiver' });
    await settle();
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(sink.aborted).toBe(true);
  });

  it('fails with integrity when the bytes do not match the offered SHA-256', async () => {
    const { receiver, channel, chunk, rest, files } = await setup([200 * KiB]);
    const sink = new HashingSink();
    await receiver.accept(files[0]!.fileId, sink);
    chunk(0, 0, 64 * KiB, 99); // other bytes than the file's
    rest(0, 64 * KiB);
    await settle();
    expect(receiver.files[0]).toMatchObject({ state: 'failed', error: 'integrity' });
    expect(receiver.files[0]?.saved).toBeUndefined();
    expect(sink).toMatchObject({ closed: false, aborted: true });
    expect(channel.sent('file_complete')).toEqual([]);
    expect(channel.sent('file_error')[0]).toMatchObject({ code: 'integrity' });
  });

  it('refuses a sink too small for the file, and the file stays offered', async () => {
    const { receiver, channel, files } = await setup([2 * MiB]);
    const small = new MemorySink('', MiB);
    await expect(receiver.accept(files[0]!.fileId, small)).rejects.toMatchObject({ code: 'too_large' });
    expect(receiver.files[0]?.state).toBe('offered');
    expect(channel.controls).toEqual([]);
    await receiver.accept(files[0]!.fileId, new HashingSink());
    expect(receiver.files[0]?.state).toBe('receiving');
    await expect(receiver.accept(files[0]!.fileId, new HashingSink())).rejects.toThrow(RangeError);
  });

  it('verifies an empty file at once', async () => {
    const { receiver, channel, files } = await setup([0]);
    const sink = new HashingSink();
    await receiver.accept(files[0]!.fileId, sink);
    await settle();
    expect(receiver.files[0]?.state).toBe('verified');
    expect(sink.closed).toBe(true);
    expect(channel.sent('file_complete')).toHaveLength(1);
  });

  it('declines what is not accepted', async () => {
    const { receiver, channel, files, transferId } = await setup([10, 20]);
    await receiver.accept(files[0]!.fileId, new HashingSink());
    receiver.decline();
    receiver.decline();
    expect(receiver.files.map((f) => f.state)).toEqual(['receiving', 'declined']);
    expect(channel.sent('file_decline')).toEqual([{ type: 'file_decline', transferId }]);
  });

  it('cancels one file or all, throwing away what was written', async () => {
    const { receiver, channel, chunk, files, transferId } = await setup([MiB, MiB]);
    const sinks = [new HashingSink(), new HashingSink()];
    await receiver.accept(files[0]!.fileId, sinks[0]!);
    chunk(0, 0, 1000);
    receiver.cancel(files[0]!.fileId);
    expect(chunk(0, 1000, 1000)).toBe('ignored');
    receiver.cancel();
    await settle();
    expect(receiver.files.map((f) => f.state)).toEqual(['cancelled', 'cancelled']);
    expect(sinks[0]!.aborted).toBe(true);
    expect(channel.sent('file_cancel')).toEqual([
      { type: 'file_cancel', transferId, fileId: files[0]!.fileId, by: 'receiver' },
      { type: 'file_cancel', transferId, by: 'receiver' },
    ]);
  });

  it('ends files as the sender says, ignoring its own side and other transfers', async () => {
    const { receiver, files, transferId } = await setup([MiB, MiB, MiB]);
    const sink = new HashingSink();
    await receiver.accept(files[0]!.fileId, sink);
    receiver.handleControl({ type: 'file_cancel', transferId, by: 'receiver' });
    receiver.handleControl({ type: 'file_cancel', transferId: testId(), by: 'sender' });
    expect(receiver.files[0]?.state).toBe('receiving');
    receiver.handleControl({ type: 'file_cancel', transferId, fileId: files[0]!.fileId, by: 'sender' });
    receiver.handleControl({
      type: 'file_error',
      transferId,
      fileId: files[1]!.fileId,
      code: 'read_failed',
      by: 'sender',
    });
    await settle();
    expect(receiver.files.map((f) => [f.state, f.error])).toEqual([
      ['cancelled', undefined],
      ['failed', 'read_failed'],
      ['offered', undefined],
    ]);
    expect(sink.aborted).toBe(true);
  });

  it('fails the file and tells the sender when the disk fails', async () => {
    const { receiver, channel, rest, files } = await setup([MiB]);
    const sink = new HashingSink();
    sink.failFrom = 200 * KiB;
    await receiver.accept(files[0]!.fileId, sink);
    rest(0, 0);
    await settle();
    expect(receiver.files[0]).toMatchObject({ state: 'failed', error: 'write_failed' });
    expect(channel.sent('file_error')[0]).toMatchObject({ code: 'write_failed', by: 'receiver' });
  });

  it('pauses without a link and resumes from the verified offset with the hash state kept', async () => {
    const { receiver, chunk, rest, files, transferId } = await setup([MiB + 7]);
    const sink = new HashingSink();
    await receiver.accept(files[0]!.fileId, sink);
    for (let offset = 0; offset < 400 * KiB; offset += 50 * KiB) chunk(0, offset, 50 * KiB);
    receiver.detach();
    expect(chunk(0, 400 * KiB, 50 * KiB)).toBe('ignored');
    await settle();
    const next = new ManualChannel();
    receiver.attach(next);
    await settle();
    expect(next.sent('file_accept')).toEqual([
      { type: 'file_accept', transferId, fileId: files[0]!.fileId, offset: 400 * KiB },
    ]);
    rest(0, 400 * KiB, 30 * KiB);
    await settle();
    expect(receiver.files[0]?.state).toBe('verified');
    expect(sink.digest()).toBe(files[0]!.sha256);
  });

  it('leaves the hash to a sink that hashes as it writes (a worker), also across a dropped link', async () => {
    /** Says the SHA-256 of what it wrote, as the disk writer's sink does; `wrong` says another one. */
    class WorkerLikeSink extends HashingSink {
      wrong = false;
      async writtenSha256(): Promise<string> {
        return this.wrong ? '0'.repeat(64) : this.digest();
      }
    }
    const { receiver, chunk, rest, files } = await setup([MiB + 7, 300 * KiB]);
    const sink = new WorkerLikeSink();
    await receiver.accept(files[0]!.fileId, sink);
    for (let offset = 0; offset < 400 * KiB; offset += 50 * KiB) chunk(0, offset, 50 * KiB);
    receiver.detach();
    await settle();
    receiver.attach(new ManualChannel());
    await settle();
    rest(0, 400 * KiB, 30 * KiB);
    await settle();
    expect(receiver.files[0]).toMatchObject({ state: 'verified', saved: { kind: 'disk' } });
    expect(sink.digest()).toBe(files[0]!.sha256);

    // What the receiver compares with the offer is the sink's hash: a wrong one fails the file.
    const lying = new WorkerLikeSink();
    lying.wrong = true;
    await receiver.accept(files[1]!.fileId, lying);
    rest(1, 0);
    await settle();
    expect(receiver.files[1]).toMatchObject({ state: 'failed', error: 'integrity' });
    expect(lying.aborted).toBe(true);
  });

  it('tells a new link how files ended (the messages may have been lost)', async () => {
    const { receiver, files, transferId } = await setup([0, 10, 10, 10]);
    await receiver.accept(files[0]!.fileId, new HashingSink());
    receiver.cancel(files[1]!.fileId);
    receiver.decline();
    await settle();
    const next = new ManualChannel();
    receiver.attach(next);
    expect(next.controls).toEqual([
      { type: 'file_complete', transferId, fileId: files[0]!.fileId },
      { type: 'file_cancel', transferId, fileId: files[1]!.fileId, by: 'receiver' },
      { type: 'file_decline', transferId },
    ]);
  });
});
