import { describe, expect, it } from 'vitest';
import {
  CLOSE_CODES,
  parseClientFrame,
  parseServerFrame,
  PROTOCOL_VERSION,
  serverFrameSchema,
  type ServerFrame,
} from './protocol.js';

describe('protocol', () => {
  it('pins the protocol version (bump it on every incompatible change)', () => {
    expect(PROTOCOL_VERSION).toBe(1);
  });

  it('keeps application close codes in 4000-4999 and unique', () => {
    const codes = Object.values(CLOSE_CODES);
    expect(new Set(codes).size).toBe(codes.length);
    for (const [reason, code] of Object.entries(CLOSE_CODES)) {
      if (!['policy_violation', 'message_too_big', 'going_away', 'try_again_later'].includes(reason)) {
        expect(code).toBeGreaterThanOrEqual(4000);
        expect(code).toBeLessThan(5000);
      }
    }
  });

  it('round-trips every server frame', () => {
    const frames: ServerFrame[] = [
      {
        type: 'hello',
        protocolVersion: 1,
        user: { id: 'u1', username: 'alice' },
        connectionId: 'c1',
        friends: [{ id: 'u2', username: 'bob', status: 'away', lastSeen: null }],
        incoming: [{ id: 'u3', username: 'carol' }],
        outgoing: [],
      },
      { type: 'presence', userId: 'u2', status: 'offline', lastSeen: 1_700_000_000_000 },
      { type: 'friend_request', direction: 'incoming', user: { id: 'u3', username: 'carol' } },
      { type: 'friend_request_removed', direction: 'outgoing', userId: 'u4', reason: 'declined' },
      { type: 'friend_accepted', friend: { id: 'u3', username: 'carol', status: 'online', lastSeen: null } },
      { type: 'friend_removed', userId: 'u2' },
      { type: 'signal', from: { userId: 'u2', connectionId: 'c2' }, data: { kind: 'knock' } },
      {
        type: 'signal',
        from: { userId: 'u2', connectionId: 'c2' },
        data: { kind: 'signal', link: 'l1', signal: { type: 'answer', sdp: 'v=0' } },
      },
      { type: 'signal', from: { userId: 'u2', connectionId: 'c2' }, data: { kind: 'bye', link: 'l1' } },
      { type: 'pong', id: 'p' },
      { type: 'pong' },
      { type: 'error', code: 'bad_frame', message: 'no', ref: 'x' },
    ];
    for (const frame of frames) {
      expect(parseServerFrame(JSON.stringify(frame))).toEqual({ ok: true, value: frame });
      expect(serverFrameSchema.parse(frame)).toEqual(frame);
    }
  });

  it('round-trips every client frame', () => {
    for (const frame of [
      { type: 'ping' },
      { type: 'ping', id: 'abc' },
      { type: 'set_status', status: 'away' },
      { type: 'set_status', status: 'online' },
      { type: 'signal', to: { userId: 'u2' }, data: { kind: 'knock' } },
      {
        type: 'signal',
        to: { userId: 'u2', connectionId: 'c2' },
        data: {
          kind: 'signal',
          link: 'l1',
          signal: {
            type: 'candidate',
            candidate: { candidate: 'candidate:1', sdpMid: '0', sdpMLineIndex: 0 },
          },
        },
      },
      { type: 'signal', to: { userId: 'u2', connectionId: 'c2' }, data: { kind: 'bye', link: 'l1' } },
    ]) {
      expect(parseClientFrame(JSON.stringify(frame))).toEqual({ ok: true, value: frame });
    }
  });

  it.each([
    ['not json', 'bad_json'],
    ['', 'bad_json'],
    ['null', 'bad_frame'],
    ['42', 'bad_frame'],
    ['[]', 'bad_frame'],
    ['{}', 'bad_frame'],
    ['{"type":"nope"}', 'bad_frame'],
    ['{"type":"ping","id":5}', 'bad_frame'],
    [`{"type":"ping","id":"${'x'.repeat(65)}"}`, 'bad_frame'],
    ['{"type":{"nested":true}}', 'bad_frame'],
    ['{"type":"set_status","status":"offline"}', 'bad_frame'],
    ['{"type":"set_status"}', 'bad_frame'],
  ])('rejects %s with %s, never throwing', (raw, code) => {
    const result = parseClientFrame(raw);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatchObject({ type: 'error', code });
  });

  it('survives random input (fuzz)', () => {
    const alphabet = '{}[]":,typeingo0123456789 \\ntrufalsnul';
    for (let i = 0; i < 5_000; i++) {
      let raw = '';
      const length = Math.floor(Math.random() * 40);
      for (let j = 0; j < length; j++) raw += alphabet[Math.floor(Math.random() * alphabet.length)];
      if (Math.random() < 0.3) raw = `{"type":"ping",${raw}`;
      const result = parseClientFrame(raw);
      expect(typeof result.ok).toBe('boolean');
    }
  });

  it('echoes the offending type, truncated', () => {
    const result = parseClientFrame(JSON.stringify({ type: 'y'.repeat(500) }));
    expect(!result.ok && result.error.ref?.length).toBe(64);
  });
});
