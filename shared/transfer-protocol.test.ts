import { describe, expect, it } from 'vitest';
import { PEER_MESSAGE_MAX_BYTES } from './peer-protocol.js';
import {
  bytesToUuid,
  CHUNK_HEADER_BYTES,
  CHUNK_PAYLOAD_DEFAULT,
  CHUNK_PAYLOAD_MAX,
  DATA_CHANNEL_MESSAGE_MAX,
  decodeChunk,
  encodeChunk,
  FILE_NAME_MAX,
  FILE_SIZE_MAX,
  OFFER_FILES_MAX,
  parseTransferControl,
  TRANSFER_ERROR_CODES,
  uuidToBytes,
  type OfferedFile,
  type TransferControl,
} from './transfer-protocol.js';

const transferId = '0b6f1c44-3d0e-4c57-9e3a-7f1f2a6f5a10';
const fileId = '7d9f3a52-61b2-4e0f-8c1d-2b3a4c5d6e7f';
const otherId = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';
const sha256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const file: OfferedFile = { fileId, name: 'holiday <1>.jpg', size: 1234, type: 'image/jpeg', sha256 };

describe('transfer control messages', () => {
  it('round-trips every message', () => {
    const messages: TransferControl[] = [
      { type: 'file_offer', transferId, files: [file, { ...file, fileId: otherId, size: 0, type: '' }] },
      { type: 'file_offer', transferId, files: [{ ...file, size: FILE_SIZE_MAX }] },
      { type: 'file_accept', transferId, fileId, offset: 0 },
      { type: 'file_accept', transferId, fileId, offset: 2 ** 40 },
      { type: 'file_decline', transferId },
      { type: 'file_cancel', transferId, by: 'sender' },
      { type: 'file_cancel', transferId, fileId, by: 'receiver' },
      { type: 'file_progress', transferId, fileId, received: 1 << 20 },
      { type: 'file_complete', transferId, fileId },
      ...TRANSFER_ERROR_CODES.map((code) => ({
        type: 'file_error' as const,
        transferId,
        fileId,
        code,
        by: 'receiver' as const,
      })),
    ];
    for (const m of messages) {
      expect(parseTransferControl(JSON.stringify(m))).toEqual({ ok: true, value: m });
      expect(parseTransferControl(m)).toEqual({ ok: true, value: m });
    }
  });

  it('fits a worst-case offer in one peer message', () => {
    // Lone surrogates are escaped as \uXXXX: six bytes of JSON per character.
    const files = Array.from({ length: OFFER_FILES_MAX }, (_, i) => ({
      ...file,
      fileId: `${String(i).padStart(8, '0')}-3d0e-4c57-9e3a-7f1f2a6f5a10`,
      name: '\ud800'.repeat(FILE_NAME_MAX),
      size: FILE_SIZE_MAX,
      type: '"'.repeat(255),
    }));
    const raw = JSON.stringify({ type: 'file_offer', transferId, files });
    expect(parseTransferControl(raw).ok).toBe(true);
    expect(new TextEncoder().encode(raw).byteLength).toBeLessThanOrEqual(PEER_MESSAGE_MAX_BYTES);
  });

  const offer = (patch: Partial<OfferedFile>, extra: object = {}) =>
    JSON.stringify({ type: 'file_offer', transferId, files: [{ ...file, ...patch }], ...extra });

  it.each([
    ['not JSON', '{'],
    ['a number', 42],
    ['null', null],
    ['unknown type', JSON.stringify({ type: 'file_nope', transferId })],
    ['huge', 'x'.repeat(70_000)],
    ['no files', JSON.stringify({ type: 'file_offer', transferId, files: [] })],
    [
      'too many files',
      JSON.stringify({ type: 'file_offer', transferId, files: Array(OFFER_FILES_MAX + 1).fill(file) }),
    ],
    ['duplicate file ids', JSON.stringify({ type: 'file_offer', transferId, files: [file, file] })],
    ['bad transfer id', JSON.stringify({ type: 'file_offer', transferId: 'x', files: [file] })],
    ['upper-case id', offer({ fileId: fileId.toUpperCase() })],
    ['empty name', offer({ name: '' })],
    ['long name', offer({ name: 'x'.repeat(FILE_NAME_MAX + 1) })],
    ['negative size', offer({ size: -1 })],
    ['fractional size', offer({ size: 1.5 })],
    ['size past 2^53', offer({ size: 2 ** 53 })],
    ['size as text', offer({ size: '12' as unknown as number })],
    ['type with a newline', offer({ type: 'text/plain\n' })],
    ['long type', offer({ type: 'x'.repeat(256) })],
    ['short sha256', offer({ sha256: 'abc' })],
    ['upper-case sha256', offer({ sha256: sha256.toUpperCase() })],
    ['negative offset', JSON.stringify({ type: 'file_accept', transferId, fileId, offset: -1 })],
    ['accept without file', JSON.stringify({ type: 'file_accept', transferId, offset: 0 })],
    ['cancel by someone else', JSON.stringify({ type: 'file_cancel', transferId, by: 'server' })],
    ['unknown error', JSON.stringify({ type: 'file_error', transferId, fileId, code: 'x', by: 'sender' })],
    ['progress past 2^53', JSON.stringify({ type: 'file_progress', transferId, fileId, received: 2 ** 60 })],
  ])('drops %s without throwing', (_name, raw) => {
    expect(parseTransferControl(raw).ok).toBe(false);
  });

  it('never throws on random input', () => {
    const pieces = ['{', '}', '"type"', ':', '"file_offer"', ',', '[', ']', '1e309', 'null', '"files"', '-0'];
    for (let i = 0; i < 2000; i += 1) {
      let raw = '';
      for (let j = 0; j < 12; j += 1) raw += pieces[Math.floor(Math.random() * pieces.length)];
      expect(() => parseTransferControl(raw)).not.toThrow();
    }
  });
});

describe('chunk frames', () => {
  const sizes = new Map([
    [fileId, 10_000],
    [otherId, FILE_SIZE_MAX],
  ]);
  const sizeOf = (id: string) => sizes.get(id);

  it('keeps the frame within one data channel message', () => {
    expect(CHUNK_HEADER_BYTES + CHUNK_PAYLOAD_MAX).toBe(DATA_CHANNEL_MESSAGE_MAX);
    expect(CHUNK_PAYLOAD_DEFAULT).toBeLessThanOrEqual(CHUNK_PAYLOAD_MAX);
  });

  it('round-trips ids, offsets and payloads', () => {
    const payload = Uint8Array.from({ length: 100 }, (_, i) => i);
    const frame = encodeChunk(fileId, 9_900, payload);
    expect(frame.byteLength).toBe(CHUNK_HEADER_BYTES + 100);
    const decoded = decodeChunk(frame, sizeOf);
    expect(decoded).toEqual({ ok: true, fileId, offset: 9_900, payload });

    // Offsets past 4 GiB use the high word.
    const far = FILE_SIZE_MAX - 1;
    expect(decodeChunk(encodeChunk(otherId, far, payload.subarray(0, 1)), sizeOf)).toMatchObject({
      ok: true,
      offset: far,
    });
    expect(decodeChunk(new Uint8Array(encodeChunk(otherId, 5 * 2 ** 32 + 7, payload)), sizeOf)).toMatchObject(
      {
        offset: 5 * 2 ** 32 + 7,
      },
    );
  });

  it('converts ids to bytes and back', () => {
    expect(bytesToUuid(uuidToBytes(fileId))).toBe(fileId);
    expect(() => uuidToBytes('nope')).toThrow(TypeError);
  });

  it('refuses to build frames it could not send', () => {
    expect(() => encodeChunk(fileId, 0, new Uint8Array(CHUNK_PAYLOAD_MAX + 1))).toThrow(RangeError);
    expect(() => encodeChunk(fileId, -1, new Uint8Array(1))).toThrow(RangeError);
    expect(() => encodeChunk(fileId, 0.5, new Uint8Array(1))).toThrow(RangeError);
  });

  it('rejects frames that do not fit the declared file', () => {
    const one = new Uint8Array(1);
    expect(decodeChunk(new ArrayBuffer(CHUNK_HEADER_BYTES), sizeOf)).toEqual({ ok: false, reason: 'short' });
    expect(decodeChunk(new ArrayBuffer(3), sizeOf)).toEqual({ ok: false, reason: 'short' });
    expect(decodeChunk(new ArrayBuffer(DATA_CHANNEL_MESSAGE_MAX + 1), sizeOf)).toEqual({
      ok: false,
      reason: 'too_large',
    });
    const unknown = encodeChunk('ffffffff-ffff-4fff-bfff-ffffffffffff', 0, one);
    expect(decodeChunk(unknown, sizeOf)).toEqual({ ok: false, reason: 'unknown_file' });
    expect(decodeChunk(encodeChunk(fileId, 10_000, one), sizeOf)).toEqual({
      ok: false,
      reason: 'bad_offset',
    });
    expect(decodeChunk(encodeChunk(fileId, 9_999, new Uint8Array(2)), sizeOf)).toEqual({
      ok: false,
      reason: 'overrun',
    });
    // An offset field past 2^53 (never written by encodeChunk).
    const huge = new Uint8Array(encodeChunk(otherId, 0, one));
    new DataView(huge.buffer).setUint32(16, 0x0020_0000);
    expect(decodeChunk(huge, sizeOf)).toEqual({ ok: false, reason: 'bad_offset' });
  });

  it('never throws on random frames', () => {
    for (let i = 0; i < 2000; i += 1) {
      const frame = new Uint8Array(Math.floor(Math.random() * 64));
      for (let j = 0; j < frame.length; j += 1) frame[j] = Math.floor(Math.random() * 256);
      if (i % 2 === 0) frame.set(uuidToBytes(fileId).subarray(0, Math.min(16, frame.length)));
      expect(() => decodeChunk(frame, sizeOf)).not.toThrow();
    }
  });
});
