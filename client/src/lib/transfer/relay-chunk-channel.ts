/**
 * A {@link ChunkChannel} over a server-relay session, for a friend connection that no data channel
 * reaches. Chunk frames travel inside the session's end-to-end encrypted boxes, one frame per box
 * (marked as binary: one base64 encoding, not two), queued behind the session's messages so chat
 * and the transfers' acknowledgements never wait behind a file; control messages go as peer
 * messages like chat (the transfer state machines take them in any order relative to the chunks).
 *
 * The relay is slow and shared: the session's pacer lets about ten boxes a second through, so the
 * sender keeps only a few boxes queued (`highWaterMark`; a cancel stops the file within a second),
 * uses chunks that fill a box (`chunkSize`), and sends no file over {@link RELAY_FILE_MAX_BYTES}
 * (`maxFileSize`): those wait for a data channel.
 */
import type { PeerMessage } from '../../../../shared/peer-protocol.js';
import {
  CHUNK_HEADER_BYTES,
  RELAY_FILE_MAX_BYTES,
  type TransferControl,
} from '../../../../shared/transfer-protocol.js';
import { RELAY_CHUNK_FRAME_MAX } from '../peer/relay-link.js';
import type { ChunkChannel } from './chunk-channel.js';

/** What the channel needs of a relay session (`RelayLink`). */
export interface RelayChunkLink {
  send(message: PeerMessage): boolean;
  sendChunk(frame: ArrayBuffer): boolean;
  /** Bytes of chunk frames not yet handed to the server. */
  readonly chunkBacklog: number;
  onChunkSent(listener: () => void): () => void;
}

/** Payload bytes per chunk over the relay: header and payload fill one box. */
export const RELAY_CHUNK_SIZE = RELAY_CHUNK_FRAME_MAX - CHUNK_HEADER_BYTES;
/** Backlog bytes of one queued box (the session adds a byte that marks a chunk). */
const BOX_BYTES = RELAY_CHUNK_FRAME_MAX + 1;
/** Boxes queued at most: about 0.4 s of the relay's pace, enough to keep it busy. */
export const RELAY_HIGH_WATER_MARK = 4 * BOX_BYTES;
/** The drain fires once a whole box fits under the high-water mark again. */
export const RELAY_LOW_WATER_MARK = RELAY_HIGH_WATER_MARK - BOX_BYTES;

/** The session as a chunk channel (valid while it is open; sending says no once it closed). */
export function relayChunkChannel(link: RelayChunkLink): ChunkChannel {
  return {
    chunkSize: RELAY_CHUNK_SIZE,
    highWaterMark: RELAY_HIGH_WATER_MARK,
    maxFileSize: RELAY_FILE_MAX_BYTES,
    send: (frame) => link.sendChunk(frame),
    sendControl: (message: TransferControl) => link.send(message),
    get bufferedAmount() {
      return link.chunkBacklog;
    },
    onDrain: (listener) =>
      link.onChunkSent(() => {
        if (link.chunkBacklog <= RELAY_LOW_WATER_MARK) listener();
      }),
  };
}
