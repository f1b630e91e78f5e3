/**
 * Messages between two browsers over a peer connection (the data channel). The server never sees
 * them. Every message is validated by the receiver with `parsePeerMessage`; bad input is dropped.
 */
import { z } from 'zod';
import { transferControlSchema, type TransferControl } from './transfer-protocol.js';

/** Bumped on every incompatible change; peers exchange it in `peer_hello`. */
export const PEER_PROTOCOL_VERSION = 1;

/** Longest chat message, in characters. */
export const CHAT_TEXT_MAX = 4000;
/** Largest peer message accepted, in bytes of JSON (chunks of files come as binary later). */
export const PEER_MESSAGE_MAX_BYTES = 64 * 1024;

const uuid = z.uuid();

/**
 * First message on every open channel: the peer protocol version, and the sender's page `instance`:
 * random per sign-in and kept across signaling reconnects (which change the connection id), so that
 * a file transfer goes on over whichever link reaches the same page again. Optional (older peers):
 * without it, each connection counts as an instance of its own.
 */
export const peerHelloSchema = z.object({
  type: z.literal('peer_hello'),
  version: z.number().int(),
  instance: uuid.optional(),
});
export type PeerHello = z.infer<typeof peerHelloSchema>;

/**
 * A chat message. `id` is unique (dedup); `seq` counts the sending device's messages in this
 * conversation from 1 (order); `ts` is the sender's clock in ms, never decreasing per device.
 */
export const chatMessageSchema = z.object({
  type: z.literal('chat_message'),
  id: uuid,
  seq: z.number().int().min(1),
  ts: z.number().int().min(0),
  text: z.string().min(1).max(CHAT_TEXT_MAX),
});
export type ChatMessage = z.infer<typeof chatMessageSchema>;

/** The receiver stored these messages; the sender marks them delivered. */
export const chatAckSchema = z.object({
  type: z.literal('chat_ack'),
  ids: z.array(uuid).min(1).max(256),
});

/** The sender is typing (`true`), or stopped (`false`). Sent at most every couple of seconds. */
export const typingSchema = z.object({
  type: z.literal('typing'),
  active: z.boolean(),
});

export const peerMessageSchema = z.discriminatedUnion('type', [
  peerHelloSchema,
  chatMessageSchema,
  chatAckSchema,
  typingSchema,
  // File transfer control (offer, accept, acks, cancel...): `transfer-protocol.ts`.
  ...transferControlSchema.options,
]);
export type PeerMessage = z.infer<typeof peerMessageSchema>;

/** Whether a peer message belongs to a file transfer (the transfer layer's, not chat's). */
export function isTransferControl(message: PeerMessage): message is TransferControl {
  return message.type.startsWith('file_');
}

export type PeerParseResult = { ok: true; value: PeerMessage } | { ok: false; reason: string };

/** Parses one message from a peer; never throws. */
export function parsePeerMessage(raw: unknown): PeerParseResult {
  if (typeof raw !== 'string') return { ok: false, reason: 'not text' };
  if (raw.length > PEER_MESSAGE_MAX_BYTES) return { ok: false, reason: 'too large' };
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  const result = peerMessageSchema.safeParse(data);
  if (result.success) return { ok: true, value: result.data };
  const issue = result.error.issues[0];
  return { ok: false, reason: `${issue?.path.join('.') || 'message'}: ${issue?.message ?? 'invalid'}` };
}
