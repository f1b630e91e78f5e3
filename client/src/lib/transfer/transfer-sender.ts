/**
 * The sending side of one transfer (an offer of one or more files), independent of the transport.
 *
 * Offers the files when a channel is attached, then sends each accepted file from the offset the
 * receiver asked for, in the order they were accepted. Two limits keep memory flat on both sides:
 * at most `highWaterMark` bytes queued on the channel (woken by its drain below the low-water
 * mark), and at most `window` bytes sent past the receiver's last acknowledgement (so a slow disk
 * on the other side slows the sender instead of filling the receiver's memory).
 *
 * When the link drops, `detach()` stops sending; when a new one opens, `attach()` waits for the
 * receiver's `file_accept` with its last verified offset and goes on from there. A slower channel
 * (the server relay) brings its own limits: smaller chunks, less queued, and a largest file; a
 * larger file waits on it, accepted but unsent, until a channel that carries it is attached.
 */
import {
  CHUNK_HEADER_BYTES,
  CHUNK_PAYLOAD_DEFAULT,
  CHUNK_PAYLOAD_MAX,
  encodeChunk,
  TRANSFER_ACK_INTERVAL,
  TRANSFER_WINDOW_MAX,
  type OfferedFile,
  type TransferControl,
  type TransferControlOf,
  type TransferErrorCode,
} from '../../../../shared/transfer-protocol.js';
import { HIGH_WATER_MARK, LOW_WATER_MARK, type ChunkChannel } from './chunk-channel.js';
import type { FileSource } from './file-source.js';
import { hasEnded, TransferSide, type TransferSideEvents } from './transfer-side.js';

/**
 * Bytes read from a file at a time: reading a `Blob` slice costs about the same for 64 KiB as for
 * 1 MiB (measured by `bench:transfer`: per-chunk reads took a quarter of the sender's main thread),
 * and `Blob.slice` itself still showed in the sender's profile at 1 MiB. With 4 MiB blocks two runs
 * measured the sending page's main thread at 3.9 and 4.5 CPU ms per MiB, against 4.5 to 4.6 with
 * 1 MiB: a small gain at most, within the noise here. One block per file being sent is held.
 */
export const SEND_READ_BLOCK = 4 * 1024 * 1024;

/** A file to send: what the offer says about it, and where its bytes come from. */
export interface OutgoingFile extends OfferedFile {
  source: FileSource;
}

/**
 * `offered` (no answer yet), `sending` (accepted: queued, sending, or sent and being verified),
 * `verified` (the receiver has it and the SHA-256 matched); or ended: `declined`, `cancelled`
 * (by either side), `failed` (with a code).
 */
export type SenderFileState = 'offered' | 'sending' | 'verified' | 'declined' | 'cancelled' | 'failed';

export interface SenderFileStatus {
  readonly file: OfferedFile;
  readonly state: SenderFileState;
  /** Bytes the receiver has acknowledged. */
  readonly acknowledged: number;
  readonly error?: TransferErrorCode;
}

/** A file changed state; the receiver acknowledged more bytes (about every MiB) or a file ended. */
export type TransferSenderEvents = TransferSideEvents<SenderFileStatus>;

export interface TransferSenderOptions {
  transferId: string;
  files: OutgoingFile[];
  /** Payload bytes per chunk: at most `CHUNK_PAYLOAD_MAX`; less over the server relay. */
  chunkSize?: number;
  highWaterMark?: number;
  /** Most bytes sent past the receiver's acknowledgement (at most `TRANSFER_WINDOW_MAX`). */
  window?: number;
  /** Bytes read from a file at a time, cut into chunks (at least a chunk is read). */
  readBlock?: number;
  now?: () => number;
  /** Where failures go, with ids, codes and causes (development builds log them). */
  warn?: (message: string, detail?: unknown) => void;
}

interface FileEntry {
  file: OfferedFile;
  source: FileSource;
  state: SenderFileState;
  /** Next byte to send. */
  position: number;
  acknowledged: number;
  error?: TransferErrorCode;
}

export class TransferSender extends TransferSide<SenderFileStatus, FileEntry> {
  readonly #files = new Map<string, FileEntry>();
  /** Accepted files, in the order they were accepted: sent one at a time in this order. */
  readonly #order: FileEntry[] = [];
  readonly #chunkSize: number;
  readonly #highWaterMark: number;
  readonly #window: number;
  readonly #readBlock: number;
  readonly #warn: NonNullable<TransferSenderOptions['warn']>;
  #channel: ChunkChannel | null = null;
  #stopDrainWait: (() => void) | null = null;
  /** A frame read while the channel filled up: sent first once it drains. */
  #held: { entry: FileEntry; position: number; frame: ArrayBuffer } | null = null;
  #pumping = false;
  /** Bumped by anything that invalidates a read in flight (rewind, cancel, detach). */
  #generation = 0;
  /** The last block read from a file: its chunks are cut from it without reading again. */
  #block: { entry: FileEntry; offset: number; bytes: Uint8Array } | null = null;

  constructor(options: TransferSenderOptions) {
    super(options.transferId, options.now);
    this.#chunkSize = options.chunkSize ?? CHUNK_PAYLOAD_DEFAULT;
    this.#highWaterMark = options.highWaterMark ?? HIGH_WATER_MARK;
    this.#window = options.window ?? TRANSFER_WINDOW_MAX;
    this.#readBlock = options.readBlock ?? SEND_READ_BLOCK;
    this.#warn = options.warn ?? (() => {});
    if (!Number.isInteger(this.#chunkSize) || this.#chunkSize < 1 || this.#chunkSize > CHUNK_PAYLOAD_MAX)
      throw new RangeError(`chunkSize must be 1..${CHUNK_PAYLOAD_MAX}`);
    // Waiting for a drain only works if the frame fits once the buffer is at the low-water mark.
    if (this.#highWaterMark - LOW_WATER_MARK < this.#chunkSize + CHUNK_HEADER_BYTES)
      throw new RangeError('highWaterMark leaves no room for a chunk above the low-water mark');
    if (this.#window > TRANSFER_WINDOW_MAX || this.#window < TRANSFER_ACK_INTERVAL + this.#chunkSize)
      throw new RangeError('window must hold an ack interval and a chunk, within TRANSFER_WINDOW_MAX');
    for (const { source, ...file } of options.files) {
      if (source.size !== file.size) throw new RangeError('the source size differs from the offered size');
      this.#files.set(file.fileId, { file, source, state: 'offered', position: 0, acknowledged: 0 });
    }
  }

  /** The offer as it goes to the peer. */
  get offer(): TransferControlOf<'file_offer'> {
    return {
      type: 'file_offer',
      transferId: this.transferId,
      files: [...this.#files.values()].map((e) => e.file),
    };
  }

  /**
   * A link to the receiver opened: (re)sends the offer while files wait for an answer; files being
   * sent wait for the receiver's `file_accept` with its offset.
   */
  attach(channel: ChunkChannel): void {
    this.detach();
    this.#channel = channel;
    if ([...this.#files.values()].some((entry) => entry.state === 'offered')) channel.sendControl(this.offer);
  }

  /** The link dropped: stops sending; what was in flight is lost, the receiver says where to go on. */
  detach(): void {
    this.#channel = null;
    this.#held = null;
    this.#block = null;
    this.#generation += 1;
    this.#stopDrainWait?.();
    this.#stopDrainWait = null;
    this.resetSpeed();
  }

  /** Stops one file, or every file still going; the receiver is told. */
  cancel(fileId?: string): void {
    const entries = fileId === undefined ? [...this.#files.values()] : [this.#files.get(fileId)];
    let changed = false;
    for (const entry of entries) if (entry && this.#end(entry, 'cancelled')) changed = true;
    if (changed)
      this.#channel?.sendControl({ type: 'file_cancel', transferId: this.transferId, fileId, by: 'sender' });
  }

  /** A control message from the receiver for this transfer (validated by the caller). */
  handleControl(message: TransferControl): void {
    if (message.transferId !== this.transferId) return;
    switch (message.type) {
      case 'file_accept':
        return this.#handleAccept(message.fileId, message.offset);
      case 'file_decline':
        for (const entry of this.#files.values()) if (entry.state === 'offered') this.#end(entry, 'declined');
        return;
      case 'file_progress': {
        const entry = this.#files.get(message.fileId);
        if (entry?.state !== 'sending') return;
        entry.acknowledged = Math.max(entry.acknowledged, Math.min(message.received, entry.position));
        this.sampleProgress();
        return this.#kick();
      }
      case 'file_complete': {
        const entry = this.#files.get(message.fileId);
        // An empty file is complete without an accept: there is nothing to send.
        if (entry?.state !== 'sending' && !(entry?.state === 'offered' && entry.file.size === 0)) return;
        entry.acknowledged = entry.file.size;
        this.#end(entry, 'verified');
        return;
      }
      case 'file_cancel':
        if (message.by !== 'receiver') return;
        if (message.fileId === undefined)
          for (const entry of this.#files.values()) this.#end(entry, 'cancelled');
        else {
          const entry = this.#files.get(message.fileId);
          if (entry) this.#end(entry, 'cancelled');
        }
        return;
      case 'file_error': {
        const entry = this.#files.get(message.fileId);
        if (message.by === 'receiver' && entry) this.#end(entry, 'failed', message.code);
        return;
      }
      case 'file_offer':
        return;
      default:
        throw new TypeError(
          `unhandled control message ${(message satisfies never as { type: string }).type}`,
        );
    }
  }

  #handleAccept(fileId: string, offset: number): void {
    const entry = this.#files.get(fileId);
    if (!entry) return;
    if (hasEnded(entry)) {
      // The receiver missed how the file ended (a link dropped): tell it again.
      if (entry.state === 'cancelled')
        this.#channel?.sendControl({
          type: 'file_cancel',
          transferId: this.transferId,
          fileId,
          by: 'sender',
        });
      if (entry.state === 'failed' && entry.error)
        this.#channel?.sendControl({
          type: 'file_error',
          transferId: this.transferId,
          fileId,
          code: entry.error,
          by: 'sender',
        });
      return;
    }
    if (offset > entry.file.size) {
      this.#fail(entry, 'protocol');
      return;
    }
    if (entry.state === 'offered') {
      entry.state = 'sending';
      this.#order.push(entry);
      this.emitFile(entry);
      this.emitProgress();
    }
    // A first accept, a resume after a new link, or a gap the receiver saw: go on from its offset.
    entry.position = offset;
    entry.acknowledged = offset;
    if (this.#held?.entry === entry) this.#held = null;
    this.#generation += 1;
    this.#kick();
  }

  /** Ends a file that has not ended; `false` when it already had. */
  #end(entry: FileEntry, state: SenderFileState, error?: TransferErrorCode): boolean {
    if (hasEnded(entry)) return false;
    entry.state = state;
    entry.error = error;
    if (this.#held?.entry === entry) this.#held = null;
    if (this.#block?.entry === entry) this.#block = null;
    this.#generation += 1;
    this.emitFile(entry);
    this.emitProgress();
    this.#kick();
    return true;
  }

  #fail(entry: FileEntry, code: TransferErrorCode, cause?: unknown): void {
    if (!this.#end(entry, 'failed', code)) return;
    this.#warn('transfer: file failed', {
      transferId: this.transferId,
      fileId: entry.file.fileId,
      code,
      cause,
    });
    this.#channel?.sendControl({
      type: 'file_error',
      transferId: this.transferId,
      fileId: entry.file.fileId,
      code,
      by: 'sender',
    });
  }

  /** Starts the send loop unless it runs already. */
  #kick(): void {
    if (!this.#pumping) void this.#pump();
  }

  /** Sends chunks until the channel is full, the window is used up, or nothing is left to send. */
  async #pump(): Promise<void> {
    this.#pumping = true;
    // `finally` runs in the same turn as the `return`: no kick is lost between the two.
    try {
      for (;;) {
        const channel = this.#channel;
        if (!channel) return;
        if (this.#held) {
          const { frame, entry, position } = this.#held;
          if (!this.#hasRoom(channel, frame.byteLength)) return this.#waitForDrain(channel);
          this.#held = null;
          if (!trySend(channel, frame)) return this.detach();
          entry.position = position + frame.byteLength - CHUNK_HEADER_BYTES;
          continue;
        }
        const maxFileSize = channel.maxFileSize ?? Infinity;
        const entry = this.#order.find(
          (e) => e.state === 'sending' && e.position < e.file.size && e.file.size <= maxFileSize,
        );
        if (!entry) return;
        const position = entry.position;
        const chunkSize = Math.min(this.#chunkSize, channel.chunkSize ?? Infinity);
        const length = Math.min(chunkSize, entry.file.size - position);
        // Never past the window: an acknowledgement wakes the loop again.
        if (position + length - entry.acknowledged > this.#window) return;
        if (!this.#hasRoom(channel, length + CHUNK_HEADER_BYTES)) return this.#waitForDrain(channel);
        let payload = this.#cut(entry, position, length);
        if (!payload) {
          const generation = this.#generation;
          try {
            const size = Math.min(Math.max(length, this.#readBlock), entry.file.size - position);
            const bytes = await entry.source.read(position, size);
            this.#block = { entry, offset: position, bytes };
          } catch (error) {
            if (generation === this.#generation) this.#fail(entry, 'read_failed', error);
            continue;
          }
          // Rewound, cancelled or detached while reading: this chunk is stale.
          if (generation !== this.#generation || channel !== this.#channel) continue;
          payload = this.#cut(entry, position, length)!;
        }
        // Sent on the next turn of the loop, when there is room (another transfer may share the channel).
        this.#held = { entry, position, frame: encodeChunk(entry.file.fileId, position, payload) };
      }
    } finally {
      this.#pumping = false;
    }
  }

  /** `length` bytes at `position` of the file from the block read last, or null when it has not them. */
  #cut(entry: FileEntry, position: number, length: number): Uint8Array | null {
    const block = this.#block;
    if (block?.entry !== entry || position < block.offset) return null;
    const start = position - block.offset;
    if (start + length > block.bytes.byteLength) return null;
    return block.bytes.subarray(start, start + length);
  }

  #hasRoom(channel: ChunkChannel, bytes: number): boolean {
    const highWaterMark = Math.min(this.#highWaterMark, channel.highWaterMark ?? Infinity);
    return channel.bufferedAmount + bytes <= highWaterMark;
  }

  #waitForDrain(channel: ChunkChannel): void {
    if (this.#stopDrainWait) return;
    this.#stopDrainWait = channel.onDrain(() => {
      this.#stopDrainWait?.();
      this.#stopDrainWait = null;
      this.#kick();
    });
  }

  protected entries(): Iterable<FileEntry> {
    return this.#files.values();
  }

  protected status(entry: FileEntry): SenderFileStatus {
    const { file, state, acknowledged, error } = entry;
    return error === undefined ? { file, state, acknowledged } : { file, state, acknowledged, error };
  }

  protected bytesDone(entry: FileEntry): number {
    return entry.acknowledged;
  }
}

/** `RTCDataChannel.send` throws once the channel closes; to the sender that is a lost link. */
function trySend(channel: ChunkChannel, frame: ArrayBuffer): boolean {
  try {
    return channel.send(frame);
  } catch {
    return false;
  }
}
