import { describe, expect, it } from 'vitest';
import { encodeChunk, type FileOffer, type OfferedFile } from '../../../../shared/transfer-protocol.js';
import type { TransferReceiver } from './transfer-receiver.js';
import { OPEN_OFFERS_MAX, TransferRouter } from './transfer-router.js';
import { TransferSender } from './transfer-sender.js';
import { HashingSink, patternBytes, patternFile, testId } from './test/fixtures.js';
import { ManualChannel, settle } from './test/manual-channel.js';

async function offerOf(sizes: number[]): Promise<FileOffer> {
  const files: OfferedFile[] = [];
  for (const [i, size] of sizes.entries()) {
    const { source: _, ...file } = await patternFile(size, i + 1);
    files.push(file);
  }
  return { type: 'file_offer', transferId: testId(), files };
}

function setup() {
  const offers: TransferReceiver[] = [];
  const router = new TransferRouter({ onOffer: (receiver) => offers.push(receiver) });
  const channel = new ManualChannel();
  router.attach(channel);
  return { router, offers, channel };
}

describe('TransferRouter', () => {
  it('creates one receiver per new offer and routes its chunks by file id', async () => {
    const { router, offers } = setup();
    const offer = await offerOf([1000]);
    router.handleControl(offer);
    router.handleControl(offer); // resent on a new link: the same transfer
    expect(offers).toHaveLength(1);
    const file = offer.files[0]!;
    const sink = new HashingSink();
    await offers[0]!.accept(file.fileId, sink);
    expect(router.handleChunk(encodeChunk(file.fileId, 0, patternBytes(0, 1000, 1)))).toBe('accepted');
    await settle();
    expect(offers[0]!.files[0]?.state).toBe('verified');
  });

  it('drops chunks that are unknown, short, out of range or overrunning', async () => {
    const { router, offers } = setup();
    const offer = await offerOf([1000]);
    router.handleControl(offer);
    const { fileId } = offer.files[0]!;
    await offers[0]!.accept(fileId, new HashingSink());
    const one = new Uint8Array(1);
    expect(router.handleChunk(encodeChunk(testId(), 0, one))).toBe('unknown_file');
    expect(router.handleChunk(new ArrayBuffer(10))).toBe('short');
    expect(router.handleChunk(encodeChunk(fileId, 1000, one))).toBe('bad_offset');
    expect(router.handleChunk(encodeChunk(fileId, 990, new Uint8Array(20)))).toBe('overrun');
    expect(router.handleChunk(encodeChunk(fileId, 500, one))).toBe('gap');
  });

  it('drops control messages for transfers it does not know', async () => {
    const { router } = setup();
    const transferId = testId();
    const fileId = testId();
    expect(() => {
      router.handleControl({ type: 'file_accept', transferId, fileId, offset: 0 });
      router.handleControl({ type: 'file_decline', transferId });
      router.handleControl({ type: 'file_progress', transferId, fileId, received: 5 });
      router.handleControl({ type: 'file_complete', transferId, fileId });
      router.handleControl({ type: 'file_cancel', transferId, by: 'sender' });
      router.handleControl({ type: 'file_cancel', transferId, by: 'receiver' });
      router.handleControl({ type: 'file_error', transferId, fileId, code: 'integrity', by: 'sender' });
    }).not.toThrow();
  });

  it('refuses an offer whose file ids are taken', async () => {
    const { router, offers } = setup();
    const offer = await offerOf([10]);
    router.handleControl(offer);
    router.handleControl({ ...offer, transferId: testId() });
    expect(offers).toHaveLength(1);
  });

  it('declines offers past the limit of open ones', async () => {
    const { router, offers, channel } = setup();
    for (let i = 0; i < OPEN_OFFERS_MAX; i += 1) router.handleControl(await offerOf([10]));
    const extra = await offerOf([10]);
    router.handleControl(extra);
    expect(offers).toHaveLength(OPEN_OFFERS_MAX);
    expect(channel.sent('file_decline')).toEqual([{ type: 'file_decline', transferId: extra.transferId }]);
    offers[0]!.decline();
    router.handleControl(await offerOf([10]));
    expect(offers).toHaveLength(OPEN_OFFERS_MAX + 1);
  });

  it('routes cancels and errors by the side that sent them', async () => {
    const { router, offers } = setup();
    const file = await patternFile(100);
    // The same transfer id both ways (a hostile peer could do it): `by` tells them apart.
    const sender = new TransferSender({ transferId: testId(), files: [file] });
    router.send(sender);
    const { source: _, ...offered } = { ...file, fileId: testId() };
    router.handleControl({ type: 'file_offer', transferId: sender.transferId, files: [offered] });
    router.handleControl({ type: 'file_cancel', transferId: sender.transferId, by: 'sender' });
    expect(offers[0]!.files[0]?.state).toBe('cancelled');
    expect(sender.files[0]?.state).toBe('offered');
    router.handleControl({ type: 'file_cancel', transferId: sender.transferId, by: 'receiver' });
    expect(sender.files[0]?.state).toBe('cancelled');
  });

  it('offers on send, moves transfers to a new link, pauses them without one', async () => {
    const offers: TransferReceiver[] = [];
    const router = new TransferRouter({ onOffer: (receiver) => offers.push(receiver) });
    const sender = new TransferSender({ transferId: testId(), files: [await patternFile(100)] });
    router.send(sender);
    expect(() => router.send(sender)).toThrow(RangeError);
    const channel = new ManualChannel();
    router.attach(channel);
    expect(channel.sent('file_offer')).toHaveLength(1);
    router.detach();
    router.detach();
    const next = new ManualChannel();
    router.attach(next);
    expect(next.sent('file_offer')).toHaveLength(1);
    router.forget(sender.transferId);
    router.handleControl({
      type: 'file_accept',
      transferId: sender.transferId,
      fileId: sender.files[0]!.file.fileId,
      offset: 0,
    });
    expect(sender.files[0]?.state).toBe('offered');
  });
});
