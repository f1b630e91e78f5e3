/**
 * Test doubles for the peer layer: a gateway that records what is sent and delivers frames on
 * demand, and a peer factory whose peers the test drives (signals, open, data, ICE, close).
 */
import type { Friend, PresenceStatus } from '../../../../../shared/api.js';
import {
  PROTOCOL_VERSION,
  type ClientFrame,
  type PeerSignal,
  type RelayPayload,
  type SignalPayload,
} from '../../../../../shared/protocol.js';
import { Emitter, type Handler } from '../../emitter.js';
import type { ServerFrameEvents } from '../../gateway.js';
import type { StatsEntry } from '../link-path.js';
import type {
  FileChannelHandle,
  PeerFactory,
  PeerHandle,
  PeerHandleEvents,
  PeerOptions,
} from '../peer-factory.js';
import type { PeerGateway } from '../peer-mesh.js';

type SignalFrame = Extract<ClientFrame, { type: 'signal' }>;
export type RelayFrame = Extract<ClientFrame, { type: 'relay' }>;

export class FakeGateway implements PeerGateway {
  readonly #frames = new Emitter<ServerFrameEvents>();
  /** Signal frames sent, oldest first; `take()` empties it. */
  sent: SignalFrame[] = [];
  /** Relay frames sent, oldest first. */
  relayed: RelayFrame[] = [];
  online = true;
  /** Called with every frame sent while online (a fake server routes them). */
  onSend: ((frame: ClientFrame) => void) | undefined;

  on<T extends keyof ServerFrameEvents>(type: T, handler: Handler<ServerFrameEvents[T]>): () => void {
    return this.#frames.on(type, handler);
  }

  send(frame: ClientFrame): boolean {
    if (!this.online) return false;
    if (frame.type === 'signal') this.sent.push(frame);
    if (frame.type === 'relay') this.relayed.push(frame);
    this.onSend?.(frame);
    return true;
  }

  /** The signal frames sent since the last call. */
  take(): SignalFrame[] {
    const sent = this.sent;
    this.sent = [];
    return sent;
  }

  hello(connectionId: string, friends: Record<string, PresenceStatus> = {}): void {
    const list: Friend[] = Object.entries(friends).map(([id, status]) => ({
      id,
      username: `user-${id}`,
      status,
      lastSeen: null,
    }));
    this.#frames.emit('hello', {
      type: 'hello',
      protocolVersion: PROTOCOL_VERSION,
      user: { id: 'me', username: 'me' },
      connectionId,
      friends: list,
      incoming: [],
      outgoing: [],
    });
  }

  presence(userId: string, status: PresenceStatus): void {
    this.#frames.emit('presence', { type: 'presence', userId, status, lastSeen: null });
  }

  friendAccepted(userId: string, status: PresenceStatus): void {
    this.#frames.emit('friend_accepted', {
      type: 'friend_accepted',
      friend: { id: userId, username: `user-${userId}`, status, lastSeen: null },
    });
  }

  friendRemoved(userId: string): void {
    this.#frames.emit('friend_removed', { type: 'friend_removed', userId });
  }

  /** A signal from a friend's connection. */
  signal(userId: string, connectionId: string, data: SignalPayload): void {
    this.#frames.emit('signal', { type: 'signal', from: { userId, connectionId }, data });
  }

  /** A relay payload from a friend's connection. */
  relay(userId: string, connectionId: string, data: RelayPayload): void {
    this.#frames.emit('relay', { type: 'relay', from: { userId, connectionId }, data });
  }

  errorFrame(code: string, ref = 'signal', to?: { userId: string; connectionId?: string }): void {
    this.#frames.emit('error', { type: 'error', code, message: code, ref, ...(to ? { to } : {}) });
  }
}

/** A stats report whose selected pair has these candidate types. */
export function statsWith(localType: string, remoteType = 'host'): StatsEntry[] {
  return [
    { id: 'T', type: 'transport', selectedCandidatePairId: 'P' },
    { id: 'P', type: 'candidate-pair', localCandidateId: 'L', remoteCandidateId: 'R', state: 'succeeded' },
    { id: 'L', type: 'local-candidate', candidateType: localType },
    { id: 'R', type: 'remote-candidate', candidateType: remoteType },
  ];
}

/** The file channel of a {@link FakePeer}: records what is sent; the test drains it. */
export class FakeFileChannel implements FileChannelHandle {
  readonly sent: Array<ArrayBuffer | string> = [];
  bufferedAmount = 0;
  /** Set by the fake peer when it is destroyed (a closed channel throws on send). */
  closed = false;
  readonly #drains = new Set<() => void>();

  send(data: ArrayBuffer | string): void {
    if (this.closed) throw new Error('RTCDataChannel.readyState is not open');
    this.sent.push(data);
  }

  onDrain(listener: () => void): () => void {
    this.#drains.add(listener);
    return () => this.#drains.delete(listener);
  }

  /** `bufferedamountlow`. */
  drain(): void {
    this.bufferedAmount = 0;
    for (const listener of [...this.#drains]) listener();
  }
}

export class FakePeer implements PeerHandle {
  readonly options: PeerOptions;
  readonly #events: PeerHandleEvents;
  /** Signals fed by the mesh. */
  readonly received: PeerSignal[] = [];
  /** Text sent on the channel. */
  readonly sent: string[] = [];
  destroyed = false;
  bufferedAmount = 0;
  readonly files = new FakeFileChannel();
  /** Configurations handed over by `setConfiguration`. */
  readonly configured: RTCConfiguration[] = [];
  /** Called with everything sent (to pipe two fake peers together). */
  onSend: ((data: string) => void) | undefined;
  report: StatsEntry[] = statsWith('host');

  constructor(options: PeerOptions, events: PeerHandleEvents) {
    this.options = options;
    this.#events = events;
  }

  signal(signal: PeerSignal): void {
    if (this.destroyed) throw new Error('cannot signal after peer is destroyed');
    this.received.push(signal);
  }

  send(data: string): void {
    if (this.destroyed) throw new Error('cannot send after peer is destroyed');
    this.sent.push(data);
    this.onSend?.(data);
  }

  stats(): Promise<StatsEntry[]> {
    return Promise.resolve(this.report);
  }

  setConfiguration(config: RTCConfiguration): void {
    if (this.destroyed) throw new Error('cannot configure after peer is destroyed');
    this.configured.push(config);
  }

  destroy(): void {
    this.destroyed = true;
    this.files.closed = true;
  }

  /** The messages sent, parsed. */
  sentMessages(): unknown[] {
    return this.sent.map((text) => JSON.parse(text) as unknown);
  }

  // What the browser would report:
  emitSignal(signal: PeerSignal): void {
    this.#events.signal(signal);
  }
  open(): void {
    this.#events.open();
  }
  data(raw: unknown): void {
    this.#events.data(raw);
  }
  fileData(raw: unknown): void {
    this.#events.fileData(raw);
  }
  ice(state: RTCIceConnectionState): void {
    this.#events.iceState(state);
  }
  closeByItself(error?: Error): void {
    this.#events.close(error);
  }
}

export function fakePeerFactory(): { factory: PeerFactory; peers: FakePeer[]; last(): FakePeer } {
  const peers: FakePeer[] = [];
  return {
    factory: (options, events) => {
      const peer = new FakePeer(options, events);
      peers.push(peer);
      return peer;
    },
    peers,
    last() {
      const peer = peers.at(-1);
      if (!peer) throw new Error('no peer created');
      return peer;
    },
  };
}

export const OFFER: PeerSignal = { type: 'offer', sdp: 'v=0 offer' };
export const ANSWER: PeerSignal = { type: 'answer', sdp: 'v=0 answer' };
export const CANDIDATE: PeerSignal = {
  type: 'candidate',
  candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMLineIndex: 0, sdpMid: '0' },
};
