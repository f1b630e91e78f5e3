/**
 * WebSocket protocol of `/ws`: every frame is JSON `{type, ...}`, one schema per frame, unions keyed
 * on `type`. TypeScript types are inferred from the schemas, never written twice.
 */
import { z } from 'zod';
import { friendSchema, friendsSnapshotSchema, presenceStatusSchema, publicUserSchema } from './api.js';

/** Bumped on every incompatible change. The client sends it as `?v=` on the upgrade URL. */
export const PROTOCOL_VERSION = 1;

/** Close codes of fatal conditions (RFC 6455 leaves 4000-4999 to applications). */
export const CLOSE_CODES = {
  /** Standard: a frame broke the per-connection message rate limit. */
  policy_violation: 1008,
  /** Standard: a frame was larger than the gateway accepts. */
  message_too_big: 1009,
  /** Standard: the server is shutting down. */
  going_away: 1001,
  /** The client speaks a protocol version the server does not. */
  protocol_mismatch: 4000,
  /** The session was signed out or expired. */
  session_revoked: 4001,
  /** The socket could not keep up with what was sent to it. */
  slow_consumer: 4002,
  /** Standard: the server could not set the connection up (store unreachable); reconnect later. */
  try_again_later: 1013,
} as const;
export type CloseReason = keyof typeof CLOSE_CODES;

/** Error codes carried by `error` frames. The connection goes on after an error frame. */
export const WS_ERROR_CODES = {
  bad_json: 'The frame is not valid JSON',
  bad_frame: 'The frame does not match any known message',
  unsupported: 'The server does not handle this message yet',
  unavailable: 'The server cannot do that right now; retry later',
  not_friends: 'Signals go only between friends',
  peer_offline: 'That user or connection is not connected',
  rate_limited: 'Too many signals or relayed bytes; slow down',
  internal: 'Internal error',
} as const;
export type WsErrorCode = keyof typeof WS_ERROR_CODES;

// ---- client -> server -------------------------------------------------------------------------

/** Application-level liveness check; the server answers `pong` with the same `id`. */
export const pingFrameSchema = z.object({
  type: z.literal('ping'),
  id: z.string().max(64).optional(),
});

/**
 * The status this connection reports: `away` once the page has been hidden or idle for a while,
 * `online` again on return. A user is online while any connection is online.
 */
export const setStatusFrameSchema = z.object({
  type: z.literal('set_status'),
  status: z.enum(['online', 'away']),
});

// ---- peer connection signaling -------------------------------------------------------------------

/** Largest SDP accepted in a signal (a data-channel SDP is ~1 KiB; audio/video a few KiB). */
export const SDP_MAX_CHARS = 32 * 1024;

const idField = z.string().min(1).max(64);

/** One ICE candidate, as `RTCIceCandidate.toJSON()` gives it. */
export const iceCandidateSchema = z.object({
  candidate: z.string().max(2048),
  sdpMid: z.string().max(64).nullable().optional(),
  sdpMLineIndex: z.number().int().min(0).max(1024).nullable().optional(),
  usernameFragment: z.string().max(256).nullable().optional(),
});

/** The signal objects a peer library emits (simple-peer's shapes), bounded field by field. */
export const peerSignalSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('offer'), sdp: z.string().max(SDP_MAX_CHARS) }),
  z.object({ type: z.literal('answer'), sdp: z.string().max(SDP_MAX_CHARS) }),
  z.object({ type: z.literal('candidate'), candidate: iceCandidateSchema }),
  z.object({ type: z.literal('renegotiate'), renegotiate: z.literal(true) }),
  z.object({
    type: z.literal('transceiverRequest'),
    transceiverRequest: z.object({
      kind: z.enum(['audio', 'video']),
      init: z.record(z.string(), z.unknown()).optional(),
    }),
  }),
]);
export type PeerSignal = z.infer<typeof peerSignalSchema>;

/**
 * What travels between two connections through the server:
 * - `knock`: "I want a peer connection with you; here is my connection id". Sent without a target
 *   connection it reaches every connection of the friend, which is how devices find each other.
 * - `signal`: SDP or ICE for one peer connection attempt, named by `link` (a fresh id per attempt,
 *   so signals of an old attempt are recognized and dropped).
 * - `bye`: the sender closed that attempt on purpose.
 */
export const signalPayloadSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('knock') }),
  z.object({ kind: z.literal('signal'), link: idField, signal: peerSignalSchema }),
  z.object({ kind: z.literal('bye'), link: idField }),
]);
export type SignalPayload = z.infer<typeof signalPayloadSchema>;

/** A connection of a user: who and which tab/device. */
export const connectionRefSchema = z.object({ userId: idField, connectionId: idField });
export type ConnectionRef = z.infer<typeof connectionRefSchema>;

/**
 * Client -> server: signal data for a friend. Without `to.connectionId` it goes to every connection
 * of that friend (only `knock` may be sent so). The server adds the sender from the socket.
 */
export const signalFrameSchema = z.object({
  type: z.literal('signal'),
  to: z.object({ userId: idField, connectionId: idField.optional() }),
  data: signalPayloadSchema,
});

// ---- server relay (last resort) ---------------------------------------------------------------------

/** Largest relayed ciphertext (base64 characters) in one frame; the frame stays under 64 KiB. */
export const RELAY_DATA_MAX_CHARS = 48 * 1024;

const base64 = (max: number) =>
  z
    .string()
    .max(max)
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');

/**
 * What the server relays when no peer connection can be opened. Opaque to the server: the browsers
 * agree on keys end to end (ECDH P-256 public keys in `key`, fresh per relay session), then exchange
 * AES-GCM `box`es. `session` names one pairing; a new session means new keys.
 */
export const relayPayloadSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('key'),
    session: idField,
    publicKey: base64(256),
    reply: z.boolean().optional(),
  }),
  z.object({
    kind: z.literal('box'),
    session: idField,
    iv: base64(32),
    data: base64(RELAY_DATA_MAX_CHARS),
  }),
  z.object({ kind: z.literal('close'), session: idField }),
]);
export type RelayPayload = z.infer<typeof relayPayloadSchema>;

/** Client -> server: an opaque relay payload for one connection of a friend. */
export const relayFrameSchema = z.object({
  type: z.literal('relay'),
  to: connectionRefSchema,
  data: relayPayloadSchema,
});

export const clientFrameSchema = z.discriminatedUnion('type', [
  pingFrameSchema,
  setStatusFrameSchema,
  signalFrameSchema,
  relayFrameSchema,
]);
export type ClientFrame = z.infer<typeof clientFrameSchema>;

// ---- server -> client -------------------------------------------------------------------------

/**
 * First frame on every connection: who you are, which connection this is, the protocol version, and
 * the friend list with live statuses. Sent again whenever the server resynchronizes (e.g. after a
 * Redis restart): the client replaces its state with it.
 */
export const helloFrameSchema = friendsSnapshotSchema.extend({
  type: z.literal('hello'),
  protocolVersion: z.number().int(),
  user: publicUserSchema,
  connectionId: z.string(),
});

/** A friend's status changed. */
export const presenceFrameSchema = z.object({
  type: z.literal('presence'),
  userId: z.string(),
  status: presenceStatusSchema,
  lastSeen: z.number().nullable(),
});

/** A friend request involving you appeared: sent to you (`outgoing`, any tab) or to you (`incoming`). */
export const friendRequestFrameSchema = z.object({
  type: z.literal('friend_request'),
  direction: z.enum(['incoming', 'outgoing']),
  user: publicUserSchema,
});

/** A pending request involving you went away without a friendship: declined or cancelled. */
export const friendRequestRemovedFrameSchema = z.object({
  type: z.literal('friend_request_removed'),
  direction: z.enum(['incoming', 'outgoing']),
  userId: z.string(),
  reason: z.enum(['declined', 'cancelled']),
});

/** You and `friend` are now friends (any pending request between you is gone). */
export const friendAcceptedFrameSchema = z.object({
  type: z.literal('friend_accepted'),
  friend: friendSchema,
});

/** Server -> client: signal data from a friend's connection; `from` is decided by the server. */
export const incomingSignalFrameSchema = z.object({
  type: z.literal('signal'),
  from: connectionRefSchema,
  data: signalPayloadSchema,
});

/** Server -> client: a relayed payload from a friend's connection; `from` is decided by the server. */
export const incomingRelayFrameSchema = z.object({
  type: z.literal('relay'),
  from: connectionRefSchema,
  data: relayPayloadSchema,
});

/** You and that user are no longer friends. */
export const friendRemovedFrameSchema = z.object({
  type: z.literal('friend_removed'),
  userId: z.string(),
});

/** Answer to `ping`. */
export const pongFrameSchema = z.object({
  type: z.literal('pong'),
  id: z.string().optional(),
});

/** A frame could not be handled. `ref` echoes the offending frame's `type` when it had one. */
export const errorFrameSchema = z.object({
  type: z.literal('error'),
  code: z.string(),
  message: z.string(),
  ref: z.string().optional(),
  /** For a refused `signal` or `relay`: the target it was addressed to, so the client knows which. */
  to: z.object({ userId: z.string(), connectionId: z.string().optional() }).optional(),
});

export const serverFrameSchema = z.discriminatedUnion('type', [
  helloFrameSchema,
  pongFrameSchema,
  errorFrameSchema,
  presenceFrameSchema,
  friendRequestFrameSchema,
  friendRequestRemovedFrameSchema,
  friendAcceptedFrameSchema,
  friendRemovedFrameSchema,
  incomingSignalFrameSchema,
  incomingRelayFrameSchema,
]);
export type ServerFrame = z.infer<typeof serverFrameSchema>;
export type HelloFrame = z.infer<typeof helloFrameSchema>;
export type ErrorFrame = z.infer<typeof errorFrameSchema>;
export type PresenceFrame = z.infer<typeof presenceFrameSchema>;
export type IncomingSignalFrame = z.infer<typeof incomingSignalFrameSchema>;
export type IncomingRelayFrame = z.infer<typeof incomingRelayFrameSchema>;
/** Frames the server pushes about friends and presence (routed between nodes over the bus). */
export type FriendEventFrame = Extract<
  ServerFrame,
  { type: 'presence' | 'friend_request' | 'friend_request_removed' | 'friend_accepted' | 'friend_removed' }
>;
/** Frames routed between nodes over the bus. */
export type RoutedFrame = FriendEventFrame | IncomingSignalFrame | IncomingRelayFrame;

/** A parse result: edges never throw past themselves. */
export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: ErrorFrame };

/** Parses one client frame (raw text) into a typed frame, or the `error` frame to answer with. */
export function parseClientFrame(raw: string): ParseResult<ClientFrame> {
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return { ok: false, error: wsError('bad_json') };
  }
  const result = clientFrameSchema.safeParse(data);
  if (result.success) return { ok: true, value: result.data };
  const ref = typeFieldOf(data);
  const issue = result.error.issues[0];
  const where = issue && issue.path.length > 0 ? ` at "${issue.path.join('.')}"` : '';
  return {
    ok: false,
    error: wsError('bad_frame', `${WS_ERROR_CODES.bad_frame}${where}: ${issue?.message ?? 'invalid'}`, ref),
  };
}

/** Parses one server frame (raw text), for clients. */
export function parseServerFrame(raw: string): ParseResult<ServerFrame> {
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return { ok: false, error: wsError('bad_json') };
  }
  const result = serverFrameSchema.safeParse(data);
  return result.success
    ? { ok: true, value: result.data }
    : { ok: false, error: wsError('bad_frame', undefined, typeFieldOf(data)) };
}

/** Builds an `error` frame with the code's standard message unless one is given. */
export function wsError(
  code: WsErrorCode,
  message?: string,
  ref?: string,
  to?: ErrorFrame['to'],
): ErrorFrame {
  return {
    type: 'error',
    code,
    message: message ?? WS_ERROR_CODES[code],
    ...(ref ? { ref } : {}),
    ...(to ? { to } : {}),
  };
}

function typeFieldOf(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null || !('type' in data)) return undefined;
  const t = (data as { type: unknown }).type;
  return typeof t === 'string' ? t.slice(0, 64) : undefined;
}

/** Marks a switch over a union as exhaustive: compile error when a case is missing. */
export function exhaustive(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
}
