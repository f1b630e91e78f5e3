/**
 * File transfer between two browsers: JSON control messages (offer, accept, acks, cancel...) and the
 * binary frame that carries a chunk of a file on the data channel. The server never sees either.
 *
 * Control messages are peer messages like chat (`transferControlSchema.options` join the peer
 * union when the peer layer carries them); chunks travel as binary messages, each one
 * `[16-byte file id][8-byte offset, big-endian][payload]`. Every control message is validated with
 * `parseTransferControl` and every frame with `decodeChunk`; bad input is dropped.
 */
import { z } from 'zod';

/** Largest binary message a data channel carries (Chromium's `maxMessageSize`, the SCTP limit). */
export const DATA_CHANNEL_MESSAGE_MAX = 262_144;
/** Bytes before the payload in a chunk frame: the file id (16) and the offset (8). */
export const CHUNK_HEADER_BYTES = 24;
/** Largest chunk payload: a whole frame fits one data channel message. */
export const CHUNK_PAYLOAD_MAX = DATA_CHANNEL_MESSAGE_MAX - CHUNK_HEADER_BYTES;
/**
 * Chunk payload when nothing else is said: a frame as large as a message may be. Per-message costs
 * dominate the receiving page's main thread (bench:transfer: 39 CPU ms per MiB with 64 KiB chunks,
 * 25 with these), and a chat message waits for at most one frame on the wire (about 6 ms at 45 MB/s).
 */
export const CHUNK_PAYLOAD_DEFAULT = CHUNK_PAYLOAD_MAX;
/**
 * Largest file sent over the server relay (the last resort, when no data channel opens): about a
 * minute of its pace (the client paces relayed boxes to 10 per second, about 360 KiB/s of file).
 * Larger files are refused while the friend is reached only that way, and a transfer that falls
 * back to it mid-file waits for a data channel; the receiver refuses their chunks over the relay.
 */
export const RELAY_FILE_MAX_BYTES = 20_000_000;
/** Largest file size and offset: what a JS number holds exactly (2^53 - 1 bytes, 8 PiB). */
export const FILE_SIZE_MAX = Number.MAX_SAFE_INTEGER;
/** Longest file name and MIME type, in UTF-16 code units. */
export const FILE_NAME_MAX = 255;
export const FILE_TYPE_MAX = 255;
/** Most files in one offer: a worst-case offer still fits one peer message (64 KiB of JSON). */
export const OFFER_FILES_MAX = 24;
/**
 * The receiver acknowledges what it has written at least every this many bytes (and at the end of
 * a file), so the sender can keep its in-flight window moving.
 */
export const TRANSFER_ACK_INTERVAL = 1024 * 1024;
/**
 * Most bytes a sender may have sent past the receiver's last acknowledgement. The receiver fails a
 * transfer whose unwritten bytes exceed it: a peer that ignores acks cannot fill its memory.
 */
export const TRANSFER_WINDOW_MAX = 16 * 1024 * 1024;

/** Transfer and file ids: lower-case UUIDs, as `crypto.randomUUID()` makes them (frames carry the bytes). */
const uuid = z.uuid().lowercase();
/** A byte offset or size within a file. */
const byteCount = z.number().int().min(0).max(FILE_SIZE_MAX);
/** Which side sent a cancel or an error: the offer's sender or its receiver. */
const side = z.enum(['sender', 'receiver']);
export type TransferSide = z.infer<typeof side>;

/** Why a file failed, told to the other side in `file_error`. */
export const TRANSFER_ERROR_CODES = [
  /** The received bytes do not hash to the offered SHA-256. */
  'integrity',
  /** The sender could not read the file (it changed or went away on disk). */
  'read_failed',
  /** The receiver could not write the file (disk full, permission lost). */
  'write_failed',
  /** The file is larger than the receiver can store this way (a memory-only browser). */
  'too_large',
  /** The peer broke the protocol (a bad offset, more in flight than the window allows). */
  'protocol',
] as const;
export type TransferErrorCode = (typeof TRANSFER_ERROR_CODES)[number];

/** One offered file. `name` is the sender's file name, shown as text and sanitized before saving. */
export const offeredFileSchema = z.object({
  fileId: uuid,
  name: z.string().min(1).max(FILE_NAME_MAX),
  size: byteCount,
  /** MIME type as the sender's browser gave it, or empty. Printable ASCII only. */
  type: z
    .string()
    .max(FILE_TYPE_MAX)
    .regex(/^[\x20-\x7e]*$/),
  /** SHA-256 of the whole file, lower-case hex: the receiver verifies what arrives against it. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type OfferedFile = z.infer<typeof offeredFileSchema>;

/** The sender offers files; nothing is sent before the receiver accepts one. File ids are unique. */
export const fileOfferSchema = z.object({
  type: z.literal('file_offer'),
  transferId: uuid,
  files: z
    .array(offeredFileSchema)
    .min(1)
    .max(OFFER_FILES_MAX)
    .refine((files) => new Set(files.map((f) => f.fileId)).size === files.length, 'duplicate file id'),
});
export type FileOffer = z.infer<typeof fileOfferSchema>;

/**
 * The receiver wants the file from `offset` on: 0 at first, its last verified offset when resuming
 * after a new link, or the offset it expects when chunks arrived past a gap.
 */
export const fileAcceptSchema = z.object({
  type: z.literal('file_accept'),
  transferId: uuid,
  fileId: uuid,
  offset: byteCount,
});

/** The receiver declines the offer: every file it has not accepted. */
export const fileDeclineSchema = z.object({
  type: z.literal('file_decline'),
  transferId: uuid,
});

/** Either side stops one file, or the whole transfer without `fileId`. */
export const fileCancelSchema = z.object({
  type: z.literal('file_cancel'),
  transferId: uuid,
  fileId: uuid.optional(),
  by: side,
});

/** The receiver has written and hashed the file up to `received` (sent every ack interval). */
export const fileProgressSchema = z.object({
  type: z.literal('file_progress'),
  transferId: uuid,
  fileId: uuid,
  received: byteCount,
});

/** The receiver has the whole file and its SHA-256 matches the offer: verified. */
export const fileCompleteSchema = z.object({
  type: z.literal('file_complete'),
  transferId: uuid,
  fileId: uuid,
});

/** The file failed on the side `by`; it is not offered as complete. */
export const fileErrorSchema = z.object({
  type: z.literal('file_error'),
  transferId: uuid,
  fileId: uuid,
  code: z.enum(TRANSFER_ERROR_CODES),
  by: side,
});

export const transferControlSchema = z.discriminatedUnion('type', [
  fileOfferSchema,
  fileAcceptSchema,
  fileDeclineSchema,
  fileCancelSchema,
  fileProgressSchema,
  fileCompleteSchema,
  fileErrorSchema,
]);
export type TransferControl = z.infer<typeof transferControlSchema>;
/** One control message type by its `type`. */
export type TransferControlOf<T extends TransferControl['type']> = Extract<TransferControl, { type: T }>;

export type TransferControlParseResult = { ok: true; value: TransferControl } | { ok: false; reason: string };

/** Largest control message accepted, in characters of JSON (the peer message limit). */
export const TRANSFER_CONTROL_MAX_CHARS = 64 * 1024;

/** Parses one control message from a peer (JSON text, or a value already parsed); never throws. */
export function parseTransferControl(raw: unknown): TransferControlParseResult {
  let data: unknown = raw;
  if (typeof raw === 'string') {
    if (raw.length > TRANSFER_CONTROL_MAX_CHARS) return { ok: false, reason: 'too large' };
    try {
      data = JSON.parse(raw);
    } catch {
      return { ok: false, reason: 'not JSON' };
    }
  }
  const result = transferControlSchema.safeParse(data);
  if (result.success) return { ok: true, value: result.data };
  const issue = result.error.issues[0];
  return { ok: false, reason: `${issue?.path.join('.') || 'message'}: ${issue?.message ?? 'invalid'}` };
}

/** One decoded chunk: `payload` is a view into the frame (no copy). */
export interface Chunk {
  fileId: string;
  offset: number;
  payload: Uint8Array;
}

export type ChunkRejection =
  /** Shorter than the header, or no payload. */
  | 'short'
  /** Longer than one data channel message. */
  | 'too_large'
  /** The file id is not one this side is receiving. */
  | 'unknown_file'
  /** The offset is past the declared size. */
  | 'bad_offset'
  /** The payload runs past the declared size. */
  | 'overrun';

export type ChunkDecodeResult = ({ ok: true } & Chunk) | { ok: false; reason: ChunkRejection };

let lastFileId = '';
let lastFileIdBytes: Uint8Array = new Uint8Array(16);

/**
 * Builds the frame for `payload` at `offset` of file `fileId` (one copy of the payload).
 * Throws on a payload over `CHUNK_PAYLOAD_MAX` or a bad offset: those are bugs on this side.
 */
export function encodeChunk(fileId: string, offset: number, payload: Uint8Array): ArrayBuffer {
  if (payload.byteLength > CHUNK_PAYLOAD_MAX) throw new RangeError('chunk payload too large');
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError('bad chunk offset');
  const frame = new Uint8Array(CHUNK_HEADER_BYTES + payload.byteLength);
  // A file goes as thousands of chunks in a row: its id is parsed once.
  if (fileId !== lastFileId) {
    lastFileIdBytes = uuidToBytes(fileId);
    lastFileId = fileId;
  }
  frame.set(lastFileIdBytes, 0);
  const view = new DataView(frame.buffer);
  view.setUint32(16, Math.floor(offset / 2 ** 32));
  view.setUint32(20, offset >>> 0);
  frame.set(payload, CHUNK_HEADER_BYTES);
  return frame.buffer;
}

/**
 * Reads a frame from a peer and checks it against the declared size of its file: `sizeOf` gives
 * the size of a file this side receives, `undefined` for any other id. Never throws.
 */
export function decodeChunk(
  frame: ArrayBuffer | Uint8Array,
  sizeOf: (fileId: string) => number | undefined,
): ChunkDecodeResult {
  const bytes = frame instanceof Uint8Array ? frame : new Uint8Array(frame);
  if (bytes.byteLength <= CHUNK_HEADER_BYTES) return { ok: false, reason: 'short' };
  if (bytes.byteLength > DATA_CHANNEL_MESSAGE_MAX) return { ok: false, reason: 'too_large' };
  const fileId = bytesToUuid(bytes.subarray(0, 16));
  const size = sizeOf(fileId);
  if (size === undefined) return { ok: false, reason: 'unknown_file' };
  const view = new DataView(bytes.buffer, bytes.byteOffset, CHUNK_HEADER_BYTES);
  const high = view.getUint32(16);
  const offset = high * 2 ** 32 + view.getUint32(20);
  if (high > 0x1f_ffff || offset >= size) return { ok: false, reason: 'bad_offset' };
  const payload = bytes.subarray(CHUNK_HEADER_BYTES);
  if (offset + payload.byteLength > size) return { ok: false, reason: 'overrun' };
  return { ok: true, fileId, offset, payload };
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** The 16 bytes of a UUID (`8-4-4-4-12` hex); throws on anything else (ids are validated first). */
export function uuidToBytes(id: string): Uint8Array {
  const hex = id.replaceAll('-', '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new TypeError('not a UUID');
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 16; i += 1) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

/** The lower-case UUID text of 16 bytes. */
export function bytesToUuid(bytes: Uint8Array): string {
  let hex = '';
  for (let i = 0; i < 16; i += 1) hex += HEX[bytes[i] ?? 0];
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
