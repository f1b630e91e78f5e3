import { describe, expect, it } from 'vitest';
import {
  CHAT_TEXT_MAX,
  isTransferControl,
  parsePeerMessage,
  PEER_PROTOCOL_VERSION,
  type PeerMessage,
} from './peer-protocol.js';

const id = '0b6f1c44-3d0e-4c57-9e3a-7f1f2a6f5a10';

describe('peer protocol', () => {
  it('pins the version', () => {
    expect(PEER_PROTOCOL_VERSION).toBe(1);
  });

  it('round-trips every message', () => {
    const messages: PeerMessage[] = [
      { type: 'peer_hello', version: 1 },
      { type: 'peer_hello', version: 1, instance: id },
      { type: 'chat_message', id, seq: 1, ts: 1_700_000_000_000, text: 'hi <b>there</b>' },
      { type: 'chat_ack', ids: [id] },
      { type: 'typing', active: true },
      { type: 'file_decline', transferId: id },
      { type: 'file_cancel', transferId: id, by: 'receiver' },
    ];
    for (const m of messages) expect(parsePeerMessage(JSON.stringify(m))).toEqual({ ok: true, value: m });
  });

  it.each([
    ['not text', 42],
    ['not JSON', '{'],
    ['unknown type', JSON.stringify({ type: 'nope' })],
    ['empty text', JSON.stringify({ type: 'chat_message', id, seq: 1, ts: 1, text: '' })],
    [
      'long text',
      JSON.stringify({ type: 'chat_message', id, seq: 1, ts: 1, text: 'x'.repeat(CHAT_TEXT_MAX + 1) }),
    ],
    ['bad id', JSON.stringify({ type: 'chat_message', id: 'x', seq: 1, ts: 1, text: 'a' })],
    ['seq 0', JSON.stringify({ type: 'chat_message', id, seq: 0, ts: 1, text: 'a' })],
    ['fractional seq', JSON.stringify({ type: 'chat_message', id, seq: 1.5, ts: 1, text: 'a' })],
    ['empty ack', JSON.stringify({ type: 'chat_ack', ids: [] })],
    ['huge', 'x'.repeat(70_000)],
    ['transfer control with a bad id', JSON.stringify({ type: 'file_decline', transferId: 'x' })],
    ['hello with a bad instance', JSON.stringify({ type: 'peer_hello', version: 1, instance: 'me' })],
  ])('drops %s without throwing', (_name, raw) => {
    expect(parsePeerMessage(raw).ok).toBe(false);
  });

  it('tells transfer control from chat', () => {
    expect(isTransferControl({ type: 'file_decline', transferId: id })).toBe(true);
    expect(isTransferControl({ type: 'typing', active: false })).toBe(false);
  });
});
