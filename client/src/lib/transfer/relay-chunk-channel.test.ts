/**
 * The transfer over the server relay: two real RelayLinks (real WebCrypto) wired to each other the
 * way the server relays, a TransferRouter on each end on `relayChunkChannel`, and an in-memory link
 * standing in for a data channel when a transfer moves between the two mid-file.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isTransferControl } from '../../../../shared/peer-protocol.js';
import { RELAY_DATA_MAX_CHARS } from '../../../../shared/protocol.js';
import {
  CHUNK_HEADER_BYTES,
  RELAY_FILE_MAX_BYTES,
  type TransferControl,
} from '../../../../shared/transfer-protocol.js';
import { RELAY_CHUNK_FRAME_MAX } from '../peer/relay-link.js';
import { openPair, relayPair, until, type RelayEnd } from '../peer/test/relay-pair.js';
import { RELAY_PACE, type RelayPace } from '../relay/relay-pacer.js';
import type { ChunkChannel } from './chunk-channel.js';
import { MemorySink } from './file-sink.js';
import {
  RELAY_CHUNK_SIZE,
  RELAY_HIGH_WATER_MARK,
  RELAY_LOW_WATER_MARK,
  relayChunkChannel,
} from './relay-chunk-channel.js';
import { HashingSink, patternFile, testId } from './test/fixtures.js';
import { MemoryLink } from './test/memory-link.js';
import type { TransferReceiver } from './transfer-receiver.js';
import { TransferRouter } from './transfer-router.js';
import { TransferSender, type OutgoingFile } from './transfer-sender.js';

const MiB = 1024 * 1024;
/** The relay's pace, sped up (same bursts and reserve for messages), so tests take no time. */
const FAST: RelayPace = { ...RELAY_PACE, framesPerSecond: 2_000, bytesPerSecond: 100 * MiB };

/** A channel that records the most it ever saw queued. */
function watched(channel: ChunkChannel) {
  let peak = 0;
  const wrapped: ChunkChannel = {
    chunkSize: channel.chunkSize,
    highWaterMark: channel.highWaterMark,
    maxFileSize: channel.maxFileSize,
    send: (frame) => {
      const sent = channel.send(frame);
      peak = Math.max(peak, channel.bufferedAmount);
      return sent;
    },
    sendControl: (message) => channel.sendControl(message),
    get bufferedAmount() {
      return channel.bufferedAmount;
    },
    onDrain: (listener) => channel.onDrain(listener),
  };
  return { channel: wrapped, peak: () => peak };
}

/** Alice sends, Bob receives: a router on each end of a relay session, and of a data channel. */
async function peers(pace: RelayPace = FAST) {
  const offers: TransferReceiver[] = [];
  const warnings: string[] = [];
  const alice = new TransferRouter({ onOffer: () => expect.fail('alice got an offer') });
  const bob = new TransferRouter({
    onOffer: (receiver) => offers.push(receiver),
    receiver: { warn: (message) => warnings.push(message) },
  });
  const wire = (end: RelayEnd, router: TransferRouter, control: TransferControl[]) => {
    end.onMessage = (message) => {
      if (!isTransferControl(message)) return;
      control.push(message);
      router.handleControl(message);
    };
    end.onChunk = (frame) => router.handleChunk(frame);
  };
  const controlToAlice: TransferControl[] = [];
  const controlToBob: TransferControl[] = [];
  const { ada, bob: bobEnd } = relayPair({ pace });
  wire(ada, alice, controlToAlice);
  wire(bobEnd, bob, controlToBob);
  await openPair(ada, bobEnd);
  const aliceChannel = watched(relayChunkChannel(ada.link));
  const overRelay = () => {
    alice.attach(aliceChannel.channel);
    bob.attach(relayChunkChannel(bobEnd.link));
  };
  /** A data channel stand-in; the relay session stays open but unused meanwhile. */
  const overDataChannel = () => {
    const link = new MemoryLink();
    link.a.handlers = { chunk: (f) => alice.handleChunk(f), control: (m) => alice.handleControl(m) };
    link.b.handlers = { chunk: (f) => bob.handleChunk(f), control: (m) => bob.handleControl(m) };
    alice.attach(link.a);
    bob.attach(link.b);
    return link;
  };
  const send = (files: OutgoingFile[]) => {
    const sender = new TransferSender({ transferId: testId(), files });
    alice.send(sender);
    return sender;
  };
  return {
    alice,
    bob,
    ada,
    bobEnd,
    offers,
    warnings,
    controlToAlice,
    controlToBob,
    overRelay,
    overDataChannel,
    send,
    peak: aliceChannel.peak,
  };
}

const sha256 = async (blob: Blob) =>
  createHash('sha256')
    .update(new Uint8Array(await blob.arrayBuffer()))
    .digest('hex');

describe('relay chunk channel', () => {
  it('sends 3 MiB over the relay that arrive verified, in box-sized chunks, few queued', async () => {
    const p = await peers();
    p.overRelay();
    const file = await patternFile(3 * MiB + 12_345, 5);
    const sender = p.send([file]);
    await until(() => p.offers.length === 1, 'the offer');
    const sink = new MemorySink(file.type);
    await p.offers[0]!.accept(file.fileId, sink);
    await until(() => sender.finished, 'the transfer', 60_000);

    expect(sender.files[0]?.state).toBe('verified');
    const saved = p.offers[0]!.files[0]?.saved;
    if (saved?.kind !== 'blob') return expect.fail('no blob');
    expect(await sha256(saved.blob)).toBe(file.sha256);
    // Each chunk fills a box, and every box fits a relay frame.
    const sizes = p.bobEnd.chunks.map((frame) => frame.byteLength);
    expect(Math.max(...sizes)).toBe(RELAY_CHUNK_FRAME_MAX);
    expect(RELAY_CHUNK_SIZE + CHUNK_HEADER_BYTES).toBe(RELAY_CHUNK_FRAME_MAX);
    expect(sizes.reduce((sum, size) => sum + size - CHUNK_HEADER_BYTES, 0)).toBe(file.size);
    for (const payload of p.ada.sent)
      if (payload.kind === 'box') expect(payload.data.length).toBeLessThanOrEqual(RELAY_DATA_MAX_CHARS);
    expect(p.peak()).toBeGreaterThan(0);
    expect(p.peak()).toBeLessThanOrEqual(RELAY_HIGH_WATER_MARK);
    // Control went both ways as peer messages: offer one way; accept, acks and complete the other.
    expect(p.controlToBob.map((m) => m.type)).toEqual(['file_offer']);
    expect(new Set(p.controlToAlice.map((m) => m.type))).toEqual(
      new Set(['file_accept', 'file_progress', 'file_complete']),
    );
    // Nothing of the file is readable on the wire, in base64 at any alignment.
    const wire = JSON.stringify(p.ada.sent);
    const slice = await file.source.read(1_000_000, 30);
    for (let shift = 0; shift < 3; shift++)
      expect(wire).not.toContain(Buffer.from(slice.subarray(shift, shift + 24)).toString('base64'));
  });

  it('says how much waits in the relay session, and drains below the low-water mark', async () => {
    let now = 0;
    const pace: RelayPace = { ...RELAY_PACE, framesPerSecond: 1, frameBurst: 5, bulkReserveFrames: 0 };
    const { ada, bob } = relayPair({ pace, now: () => now });
    await openPair(ada, bob);
    await until(() => ada.sent.length === 2, 'the hello');
    const channel = relayChunkChannel(ada.link);
    expect(channel).toMatchObject({
      chunkSize: RELAY_CHUNK_SIZE,
      highWaterMark: RELAY_HIGH_WATER_MARK,
      maxFileSize: RELAY_FILE_MAX_BYTES,
    });
    const frame = new ArrayBuffer(RELAY_CHUNK_FRAME_MAX);
    const box = RELAY_CHUNK_FRAME_MAX + 1;
    const fill = () => {
      let queued = 0;
      while (channel.bufferedAmount + frame.byteLength <= RELAY_HIGH_WATER_MARK) {
        expect(channel.send(frame)).toBe(true);
        queued += 1;
      }
      return queued;
    };
    let drained = 0;
    const stop = channel.onDrain(() => (drained += 1));
    // Four boxes fill the session; three of the burst are left (after the key and the hello).
    expect(fill()).toBe(4);
    expect(channel.bufferedAmount).toBe(RELAY_HIGH_WATER_MARK);
    await until(() => bob.chunks.length === 3, 'the burst');
    expect(channel.bufferedAmount).toBe(box);
    // Each box that went left the backlog at or under the low-water mark.
    expect(drained).toBe(3);
    expect(fill()).toBe(3);
    now += 1_000;
    await until(() => bob.chunks.length === 4, 'one more box');
    expect(channel.bufferedAmount).toBe(RELAY_LOW_WATER_MARK);
    expect(drained).toBe(4);
    stop();
    now += 10_000;
    await until(() => bob.chunks.length === 7, 'the rest', 10_000);
    expect(drained).toBe(4);
    expect(channel.bufferedAmount).toBe(0);
    // Control messages go as peer messages, and nothing goes once the session closed.
    expect(channel.sendControl({ type: 'file_decline', transferId: testId() })).toBe(true);
    ada.link.close('local');
    expect(channel.send(frame)).toBe(false);
    expect(channel.sendControl({ type: 'file_decline', transferId: testId() })).toBe(false);
  });

  it('moves a transfer from a data channel to the relay and back mid-file, and it still verifies', async () => {
    const p = await peers();
    const first = p.overDataChannel();
    const file = await patternFile(5 * MiB, 9);
    const sender = p.send([file]);
    await until(() => p.offers.length === 1, 'the offer');
    const sink = new HashingSink();
    await p.offers[0]!.accept(file.fileId, sink);
    await until(() => sink.written >= MiB, 'a first MiB');
    first.cut();
    p.overRelay();
    const onRelay = sink.written;
    await until(() => p.bobEnd.chunks.length >= 40, 'chunks over the relay', 20_000);
    const second = p.overDataChannel();
    await until(() => sender.finished, 'the transfer', 20_000);
    expect(sender.files[0]?.state).toBe('verified');
    expect(sink.digest()).toBe(file.sha256);
    expect(onRelay).toBeLessThan(file.size);
    expect(second.a.bytesSent).toBeGreaterThan(0);
  });

  it('holds a file over the cap while only the relay is there, and goes on over a data channel', async () => {
    const p = await peers();
    const first = p.overDataChannel();
    const big = await patternFile(RELAY_FILE_MAX_BYTES + 1, 11, 'big.bin');
    const small = await patternFile(200_000, 12, 'small.bin');
    const sender = p.send([big, small]);
    await until(() => p.offers.length === 1, 'the offer');
    const receiver = p.offers[0]!;
    const bigSink = new HashingSink();
    await receiver.accept(big.fileId, bigSink);
    await until(() => bigSink.written >= MiB, 'a first MiB');
    first.cut();
    p.overRelay();
    // The small file is accepted now, over the relay: it goes; the big one waits.
    const smallSink = new HashingSink();
    await receiver.accept(small.fileId, smallSink);
    await until(() => sender.files[1]?.state === 'verified', 'the small file', 20_000);
    await until(
      () => p.controlToAlice.some((m) => m.type === 'file_accept' && m.fileId === big.fileId),
      'the resume over the relay',
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const smallChunks = Math.ceil(small.size / RELAY_CHUNK_SIZE);
    expect(p.bobEnd.chunks).toHaveLength(smallChunks);
    expect(sender.files[0]?.state).toBe('sending');
    const paused = bigSink.written;
    expect(paused).toBeLessThan(big.size);

    p.overDataChannel();
    await until(() => sender.finished, 'the big file', 30_000);
    expect(sender.files.map((f) => f.state)).toEqual(['verified', 'verified']);
    expect(bigSink.digest()).toBe(big.sha256);
    expect(smallSink.digest()).toBe(small.sha256);
    expect(p.bobEnd.chunks).toHaveLength(smallChunks);
  });

  it('refuses chunks of a file over the cap that come over the relay: that file fails', async () => {
    const p = await peers();
    const big = await patternFile(RELAY_FILE_MAX_BYTES + 1, 13, 'big.bin');
    // A sender that ignores the cap: the relay channel without its largest file.
    const honest = relayChunkChannel(p.ada.link);
    const careless: ChunkChannel = {
      chunkSize: honest.chunkSize,
      highWaterMark: honest.highWaterMark,
      send: (frame) => honest.send(frame),
      sendControl: (message) => honest.sendControl(message),
      get bufferedAmount() {
        return honest.bufferedAmount;
      },
      onDrain: (listener) => honest.onDrain(listener),
    };
    p.alice.attach(careless);
    p.bob.attach(relayChunkChannel(p.bobEnd.link));
    const sender = p.send([big]);
    await until(() => p.offers.length === 1, 'the offer');
    const sink = new HashingSink();
    await p.offers[0]!.accept(big.fileId, sink);
    await until(() => sender.finished, 'the failure', 10_000);
    expect(p.offers[0]!.files[0]).toMatchObject({ state: 'failed', error: 'protocol', received: 0 });
    expect(sender.files[0]).toMatchObject({ state: 'failed', error: 'protocol' });
    expect(sink.written).toBe(0);
    expect(sink.aborted).toBe(true);
    expect(p.warnings).toContain('transfer: a chunk of a file over the channel’s size cap');
  });
});
