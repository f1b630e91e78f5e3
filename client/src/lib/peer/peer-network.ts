/**
 * The contract between the peer layer (peer connections to friends' connections, opened on demand
 * over the signaling gateway) and the chat layer (messages, acks, outbox). The chat layer sees only
 * this interface, never simple-peer or RTCPeerConnection.
 */
import type { PeerMessage } from '../../../../shared/peer-protocol.js';
import type { ChunkChannel } from '../transfer/chunk-channel.js';

/**
 * How a friend is reached right now: over a data channel, read from the selected ICE candidate pair
 * of the open links, `direct` (host/srflx) or `turn` (a relayed candidate); else `server` (the
 * end-to-end encrypted server relay, the last resort); or no open link: `connecting` (dialing) or
 * `none` (not connected; the friend may be offline).
 */
export type PeerPath = 'direct' | 'turn' | 'server' | 'connecting' | 'none';

export interface PeerNetworkEvents {
  /** A validated message from one of the friend's connections. */
  message: { friendId: string; connectionId: string; message: PeerMessage };
  /**
   * A link to one of the friend's connections opened (data channel or server relay open) or closed.
   * `open: true` again for a connection already open means its link was replaced by a newer one
   * (e.g. after either side's signaling reconnected, or the conversation moved between the server
   * relay and a data channel): what was in flight on the old one may be lost.
   */
  link: { friendId: string; connectionId: string; open: boolean };
  /**
   * The page behind an open link said which instance it is (its `peer_hello` arrived after the link
   * opened; on `link` open, read `instanceOf`). One page keeps its instance while its connection id
   * changes with each signaling reconnect: what belongs to that page (a file transfer) goes on over
   * whichever link reaches it.
   */
  instance: { friendId: string; connectionId: string; instance: string };
  /** A binary frame (a chunk of a file, unvalidated) on a link's file channel. */
  chunk: { friendId: string; connectionId: string; frame: ArrayBuffer };
  /** The friend's path changed (drives the badge). */
  path: { friendId: string; path: PeerPath };
}

export interface PeerNetwork {
  /**
   * Makes sure there are links to every online connection of the friend: knocks (which reaches all
   * the friend's connections) and dials as the initiator rule says. Idempotent; cheap to call again.
   */
  connect(friendId: string): void;
  /** Sends to every open link of the friend; returns how many links it went to (0: none open). */
  send(friendId: string, message: PeerMessage): number;
  /** Sends to one link; `false` when that link is not open. */
  sendTo(friendId: string, connectionId: string, message: PeerMessage): boolean;
  /**
   * The file channel of the open link to that connection (valid until the next `link` event for
   * it): its data channel's, else the server relay session's (slower, with a file size cap: read
   * the channel's limits); null when no link to it is open.
   */
  fileChannel(friendId: string, connectionId: string): ChunkChannel | null;
  /**
   * The page instance behind the open link to that connection, from its `peer_hello` (its
   * connection id if it did not say); null before the hello or without an open link. The friend's
   * client chooses it: it can only mix up that friend's own devices.
   */
  instanceOf(friendId: string, connectionId: string): string | null;
  /** Connection ids of the friend with an open link. */
  openLinks(friendId: string): string[];
  path(friendId: string): PeerPath;
  on<K extends keyof PeerNetworkEvents>(event: K, handler: (e: PeerNetworkEvents[K]) => void): () => void;
  /** Closes every link (sign-out). */
  close(): void;
}
