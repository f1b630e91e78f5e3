/**
 * File transfer between friends: the transport-independent core (issue 6). Streamed (a file is read
 * and written one chunk at a time, never whole in memory), verified (SHA-256 of the file, hashed by
 * the sender before offering and by the receiver as bytes arrive), resumable (after a dropped link,
 * in the same page session, from the receiver's last verified offset), and flow-controlled (at most
 * 4 MiB queued on a channel, at most 16 MiB sent past the receiver's acknowledgement).
 *
 * Pieces: `prepareFiles` (hash and describe picked files) -> `TransferSender` (one offer) and
 * `TransferReceiver` (created by `TransferRouter` when an offer arrives), talking through a
 * `ChunkChannel`; receivers write into a `FileSink` (`DiskSink` via the File System Access API, a
 * `StreamDownloadSink` through a service worker elsewhere, `MemorySink` up to 256 MiB where neither
 * works) and save under `safeFileName(name)`. Wire format and limits:
 * `shared/transfer-protocol.ts`.
 *
 * What the integration needs from the peer layer:
 * - One `TransferRouter` per page of the friend (the instance its `peer_hello` names, which stays
 *   when a signaling reconnect changes its connection id), `attach(channel)` when a link to that
 *   page opens (also on an "open" again for a replaced link) and `detach()` only when the link it
 *   is on closes; control messages and binary frames from that page's links go to `handleControl`
 *   / `handleChunk` (`transfers.svelte.ts`). An offer goes to one page of the friend (the one in
 *   use), not to all of its devices.
 * - A binary channel per link, separate from chat so chat never waits behind file chunks: a second
 *   data channel on the same RTCPeerConnection, created on both sides with `negotiated: true` and a
 *   fixed id above the auto-assigned ones (simple-peer's non-initiator takes any channel announced by
 *   `datachannel` as its own, so the file channel must not be announced), `ordered: true`,
 *   `binaryType = 'arraybuffer'`, `bufferedAmountLowThreshold = LOW_WATER_MARK`. The adapter maps
 *   `send` (catching the throw of a closed channel into `false`), `bufferedAmount`, and
 *   `bufferedamountlow` to `onDrain`. Same on the TURN path.
 * - Control messages: join `transferControlSchema.options` into the peer message union (they are
 *   small JSON, validated at the edge like chat) and send them on the chat channel or the relay; the
 *   state machines accept them in any order relative to the chunks (stale chunks are ignored, a gap
 *   makes the receiver ask again from its offset). Sending them as text on the file channel also
 *   works and keeps them in order with the chunks.
 * - Over the server relay (no data channel): `relayChunkChannel` (what `PeerNetwork.fileChannel`
 *   gives for a connection only the relay reaches). Each chunk frame travels in one end-to-end
 *   encrypted box (about 36 KiB of file: the sealed, base64 box fills the gateway's frame), behind
 *   the session's messages; `bufferedAmount` is what waits in the session, `onDrain` fires as each
 *   box goes. The channel carries its limits (`chunkSize`, `highWaterMark`, `maxFileSize`), which
 *   the sender and the router respect. The pace (10 boxes a second, about 360 KiB/s) caps files
 *   there at `RELAY_FILE_MAX_BYTES` (20 MB, about a minute): `TransfersState.send` refuses larger
 *   ones while the path is `server`; one already under way waits for a data channel.
 * - The UI picks the sink on the click on "Accept" (`TransfersState.accept`):
 *   `pickSaveTarget(safeFileName(name))` then `DiskSink.open` where `canSaveToDisk()`; else a
 *   streamed download (`openStreamDownload`, any size) where `canStreamDownloads()`; else, or when
 *   the download does not start, `MemorySink` (files over 256 MiB: say why). The download service
 *   worker is `client/src/download-sw.ts`, built to `/download-sw.js` (a second Vite input) and
 *   registered with the scope `/download/`; the server answers `/download/...` itself with a 404.
 * - CPU: hash-wasm SHA-256 runs at about 150 MiB/s on a CI-class core (measured in Node), so the
 *   receiver's hash takes about a third of a core at 45 MB/s, and the sender's pre-hash of 4 GiB
 *   about 30 s (with progress). A file saved to disk is hashed and written in a worker
 *   (`DiskSink.open` -> `WorkerDiskSink`, `disk-writer.ts`): the receiving page's main thread only
 *   hands the chunks over (`bench:transfer` measures both pages, thread by thread). A streamed
 *   download is hashed on the page's main thread (the receiver's own hash): the service worker only
 *   streams the bytes.
 */
export { HIGH_WATER_MARK, LOW_WATER_MARK, type ChunkChannel, type ControlChannel } from './chunk-channel.js';
export { DOWNLOAD_BACKLOG, StreamDownloadSink, type DownloadFile } from './download-sink.js';
export { canStreamDownloads, openStreamDownload } from './download-worker.js';
export { safeFileName, offerFileName, SAVE_NAME_MAX_BYTES } from './file-name.js';
export {
  canSaveToDisk,
  DiskSink,
  MEMORY_SINK_MAX_BYTES,
  MemorySink,
  pickSaveTarget,
  type FileSink,
  type SavedFile,
  type SaveTarget,
} from './file-sink.js';
export { BlobSource, type FileSource } from './file-source.js';
export { createSha256, hashSource, type HashCheckpoint, type StreamingHash } from './hasher.js';
export { prepareFiles, type PickedFile, type PrepareFilesOptions } from './outgoing-files.js';
export { ProgressMeter, type TransferProgress } from './progress-meter.js';
export {
  RELAY_CHUNK_SIZE,
  RELAY_HIGH_WATER_MARK,
  relayChunkChannel,
  type RelayChunkLink,
} from './relay-chunk-channel.js';
export { TransferError, toError, type TransferErrorReason } from './transfer-error.js';
export {
  TransferReceiver,
  type ChunkOutcome,
  type ReceiverFileState,
  type ReceiverFileStatus,
  type TransferReceiverEvents,
  type TransferReceiverOptions,
} from './transfer-receiver.js';
export { OPEN_OFFERS_MAX, TransferRouter, type TransferRouterOptions } from './transfer-router.js';
export {
  TransferSender,
  type OutgoingFile,
  type SenderFileState,
  type SenderFileStatus,
  type TransferSenderEvents,
  type TransferSenderOptions,
} from './transfer-sender.js';
