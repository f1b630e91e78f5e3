/**
 * The peer mesh as its unit tests see it: one mesh over a fake gateway and fake peers, driven by
 * frames from Bob's connections, with the frames it should send.
 */
import { vi } from 'vitest';
import type { PresenceStatus } from '../../../../../shared/api.js';
import { PeerMesh, type PeerMeshOptions } from '../peer-mesh.js';
import type { PeerNetworkEvents } from '../peer-network.js';
import { FakeGateway, fakePeerFactory, OFFER } from './fakes.js';

// Our connection is `m5`. Bob's `b1` sorts before it (b1 dials us); his `z9` after (we dial z9).
export const ME = 'm5';
export const CHAT = {
  type: 'chat_message',
  id: '0b6a3c52-3f1e-4a8e-9a59-2f3a4c9b8d01',
  seq: 1,
  ts: 1,
  text: 'hi',
} as const;

export interface SetupOptions {
  friends?: Record<string, PresenceStatus>;
  loadFactory?: PeerMeshOptions['loadFactory'];
  hello?: boolean;
}

/**
 * A mesh whose connection is `m5`, with Bob online (unless told otherwise), fake peers, link ids
 * `L1`, `L2`... for its own dials, and every event recorded; plus shorthands for what Bob's
 * connections send.
 */
export function setupMesh(options: SetupOptions = {}) {
  const gateway = new FakeGateway();
  const fakes = fakePeerFactory();
  const marks: string[] = [];
  const debug = vi.fn();
  let linkIds = 0;
  const mesh = new PeerMesh({
    gateway,
    loadFactory: options.loadFactory ?? (() => fakes.factory),
    random: () => 0.5,
    newLinkId: () => `L${++linkIds}`,
    mark: (name) => marks.push(name),
    log: { debug, warn: vi.fn() },
  });
  const events: { [K in keyof PeerNetworkEvents]: Array<PeerNetworkEvents[K]> } = {
    link: [],
    path: [],
    message: [],
    chunk: [],
    instance: [],
  };
  mesh.on('link', (e) => events.link.push(e));
  mesh.on('path', (e) => events.path.push(e));
  mesh.on('message', (e) => events.message.push(e));
  mesh.on('chunk', (e) => events.chunk.push(e));
  mesh.on('instance', (e) => events.instance.push(e));
  if (options.hello ?? true) gateway.hello(ME, options.friends ?? { bob: 'online' });
  gateway.take();

  const knock = (remote: string) => gateway.signal('bob', remote, { kind: 'knock' });
  const offer = (remote: string, link: string) =>
    gateway.signal('bob', remote, { kind: 'signal', link, signal: OFFER });
  /** Bob's `remote` dials us with `link` and the channel opens. */
  const openFrom = (remote: string, link: string) => {
    offer(remote, link);
    const peer = fakes.last();
    peer.open();
    return peer;
  };
  /** We dial Bob's `remote` (which must sort after ME) and the channel opens. */
  const openTo = (remote: string) => {
    knock(remote);
    const peer = fakes.last();
    peer.open();
    return peer;
  };
  return { mesh, gateway, fakes, marks, events, debug, knock, offer, openFrom, openTo };
}

export const broadcastKnock = { type: 'signal', to: { userId: 'bob' }, data: { kind: 'knock' } };
export const knockTo = (connectionId: string) => ({
  type: 'signal',
  to: { userId: 'bob', connectionId },
  data: { kind: 'knock' },
});
export const byeTo = (connectionId: string, link: string) => ({
  type: 'signal',
  to: { userId: 'bob', connectionId },
  data: { kind: 'bye', link },
});
