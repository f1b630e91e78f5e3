/**
 * Test helper: an in-memory stand-in for the peer layer. Devices (a user's connections) join one
 * `FakePeerHub`; the test opens and cuts links between them. Messages cross a link asynchronously,
 * as JSON, and are validated with the real `parsePeerMessage`, like a data channel and the peer layer.
 */
import { Emitter } from '../../emitter.js';
import { parsePeerMessage, type PeerMessage } from '../../../../../shared/peer-protocol.js';
import type { ChunkChannel } from '../../transfer/chunk-channel.js';
import type { PeerNetwork, PeerNetworkEvents, PeerPath } from '../../peer/peer-network.js';

interface Link {
  peer: FakePeerNetwork;
  /** Bumped when the link closes: frames still in flight on the old link are lost. */
  epoch: number;
  path: Exclude<PeerPath, 'connecting' | 'none'>;
}

export class FakePeerHub {
  readonly devices: FakePeerNetwork[] = [];
  /** When set, `connect(friendId)` links to every online device of the friend, like the real layer. */
  autoConnect = true;

  /** A device (a signed-in page) of `userId`; online from the start. */
  device(userId: string, connectionId = `${userId}-${this.devices.length + 1}`): FakePeerNetwork {
    const device = new FakePeerNetwork(this, userId, connectionId);
    this.devices.push(device);
    return device;
  }

  /** Opens a link between two devices (both see `link` open and a `path`). */
  link(a: FakePeerNetwork, b: FakePeerNetwork, path: Link['path'] = 'direct'): void {
    if (a.hasLink(b)) return;
    a.attach(b, path);
    b.attach(a, path);
  }

  /** Closes the link between two devices; frames in flight on it are lost. */
  cut(a: FakePeerNetwork, b: FakePeerNetwork): void {
    a.detach(b);
    b.detach(a);
  }

  /** The device goes away (page closed): every link of it closes. */
  leave(device: FakePeerNetwork): void {
    device.online = false;
    for (const other of this.devices) if (other !== device) this.cut(device, other);
  }
}

export class FakePeerNetwork implements PeerNetwork {
  readonly userId: string;
  readonly connectionId: string;
  online = true;
  /** Friend ids `connect` was called with, in order. */
  readonly connects: string[] = [];
  /** Every message that went out on a link, with where to. */
  readonly sent: { friendId: string; connectionId: string; message: PeerMessage }[] = [];
  /** Set to drop incoming frames silently (a receiver that crashed before storing). */
  deaf = false;

  readonly #hub: FakePeerHub;
  readonly #events = new Emitter<PeerNetworkEvents>();
  readonly #links = new Map<FakePeerNetwork, Link>();
  #epochs = 0;

  constructor(hub: FakePeerHub, userId: string, connectionId: string) {
    this.#hub = hub;
    this.userId = userId;
    this.connectionId = connectionId;
  }

  connect(friendId: string): void {
    this.connects.push(friendId);
    if (!this.#hub.autoConnect || !this.online) return;
    for (const device of this.#hub.devices) {
      if (device.userId === friendId && device.online) this.#hub.link(this, device);
    }
  }

  send(friendId: string, message: PeerMessage): number {
    let count = 0;
    for (const peer of this.#linksTo(friendId)) {
      if (this.sendTo(friendId, peer.connectionId, message)) count += 1;
    }
    return count;
  }

  sendTo(friendId: string, connectionId: string, message: PeerMessage): boolean {
    const entry = [...this.#links].find(
      ([peer]) => peer.userId === friendId && peer.connectionId === connectionId,
    );
    if (!entry) return false;
    const [peer, link] = entry;
    this.sent.push({ friendId, connectionId, message });
    const raw = JSON.stringify(message);
    const epoch = link.epoch;
    setTimeout(() => {
      if (this.#links.get(peer)?.epoch !== epoch) return;
      peer.#receive(this, raw);
    }, 0);
    return true;
  }

  /** No file channels here: chat tests do not transfer files (`transfer/test` has its own links). */
  fileChannel(): ChunkChannel | null {
    return null;
  }

  /** One connection per page here: the connection id stands for the instance. */
  instanceOf(friendId: string, connectionId: string): string | null {
    return this.#linksTo(friendId).some((peer) => peer.connectionId === connectionId) ? connectionId : null;
  }

  openLinks(friendId: string): string[] {
    return this.#linksTo(friendId).map((peer) => peer.connectionId);
  }

  path(friendId: string): PeerPath {
    const links = [...this.#links].filter(([peer]) => peer.userId === friendId).map(([, link]) => link);
    if (links.length === 0) return 'none';
    return links.some((link) => link.path === 'direct') ? 'direct' : 'turn';
  }

  on<K extends keyof PeerNetworkEvents>(event: K, handler: (e: PeerNetworkEvents[K]) => void): () => void {
    return this.#events.on(event, handler);
  }

  close(): void {
    for (const peer of [...this.#links.keys()]) this.#hub.cut(this, peer);
  }

  /** Messages of one type that went out, for assertions. */
  sentOf<T extends PeerMessage['type']>(type: T): Extract<PeerMessage, { type: T }>[] {
    return this.sent
      .map((entry) => entry.message)
      .filter((message): message is Extract<PeerMessage, { type: T }> => message.type === type);
  }

  hasLink(peer: FakePeerNetwork): boolean {
    return this.#links.has(peer);
  }

  attach(peer: FakePeerNetwork, path: Link['path']): void {
    this.#epochs += 1;
    this.#links.set(peer, { peer, epoch: this.#epochs, path });
    this.#events.emit('link', { friendId: peer.userId, connectionId: peer.connectionId, open: true });
    this.#events.emit('path', { friendId: peer.userId, path: this.path(peer.userId) });
  }

  detach(peer: FakePeerNetwork): void {
    if (!this.#links.delete(peer)) return;
    this.#events.emit('link', { friendId: peer.userId, connectionId: peer.connectionId, open: false });
    this.#events.emit('path', { friendId: peer.userId, path: this.path(peer.userId) });
  }

  #linksTo(friendId: string): FakePeerNetwork[] {
    return [...this.#links.keys()].filter((peer) => peer.userId === friendId);
  }

  #receive(from: FakePeerNetwork, raw: string): void {
    if (this.deaf) return;
    const parsed = parsePeerMessage(raw);
    if (!parsed.ok) return;
    this.#events.emit('message', {
      friendId: from.userId,
      connectionId: from.connectionId,
      message: parsed.value,
    });
  }
}
