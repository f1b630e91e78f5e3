import { describe, expect, it } from 'vitest';
import type { PeerMessage } from '../../../../shared/peer-protocol.js';
import { Emitter } from '../emitter.js';
import type { PeerNetwork, PeerNetworkEvents, PeerPath } from '../peer/peer-network.js';
import type { ChunkChannel } from './chunk-channel.js';
import { patternBytes } from './test/fixtures.js';
import { MemoryLink, type MemoryEnd } from './test/memory-link.js';
import { TransfersState, type TransferItem } from './transfers.svelte.js';

/** A peer network whose one link to the other device is a {@link MemoryLink} end. */
class LinkedNetwork implements PeerNetwork {
  readonly events = new Emitter<PeerNetworkEvents>();
  end: MemoryEnd | null = null;
  constructor(
    readonly friendId: string,
    readonly connectionId: string,
  ) {}
  connect(): void {}
  send(): number {
    return 0;
  }
  sendTo(): boolean {
    return false;
  }
  fileChannel(friendId: string, connectionId: string): ChunkChannel | null {
    const open = this.end?.open && friendId === this.friendId && connectionId === this.connectionId;
    return open ? this.end : null;
  }
  instanceOf(friendId: string, connectionId: string): string | null {
    return this.fileChannel(friendId, connectionId) ? connectionId : null;
  }
  openLinks(friendId: string): string[] {
    return friendId === this.friendId && this.end?.open ? [this.connectionId] : [];
  }
  path(): PeerPath {
    return this.end?.open ? 'direct' : 'none';
  }
  on<K extends keyof PeerNetworkEvents>(event: K, handler: (e: PeerNetworkEvents[K]) => void): () => void {
    return this.events.on(event, handler);
  }
  close(): void {}
}

function pair() {
  const alice = new LinkedNetwork('bob', 'b1');
  const bob = new LinkedNetwork('alice', 'a1');
  const connect = () => {
    const link = new MemoryLink({ bytesPerTick: 256 * 1024 });
    for (const [net, end] of [
      [alice, link.a],
      [bob, link.b],
    ] as const) {
      net.end = end;
      end.handlers = {
        chunk: (frame) =>
          net.events.emit('chunk', { friendId: net.friendId, connectionId: net.connectionId, frame }),
        control: (message: PeerMessage) =>
          net.events.emit('message', { friendId: net.friendId, connectionId: net.connectionId, message }),
      };
      net.events.emit('link', { friendId: net.friendId, connectionId: net.connectionId, open: true });
    }
    return link;
  };
  const cut = (link: MemoryLink) => {
    link.cut();
    alice.events.emit('link', { friendId: 'bob', connectionId: 'b1', open: false });
    bob.events.emit('link', { friendId: 'alice', connectionId: 'a1', open: false });
  };
  return { a: new TransfersState({ peers: alice }), b: new TransfersState({ peers: bob }), connect, cut };
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const stateOf = (item: TransferItem | undefined) => item?.files[0]?.state;

describe('TransfersState', () => {
  it('sends a file that the friend accepts, receives in memory and verifies', async () => {
    const { a, b, connect } = pair();
    connect();
    const bytes = patternBytes(0, 3 * 1024 * 1024 + 17);
    await a.send('bob', [new File([bytes.slice()], 'photo.jpg', { type: 'image/jpeg' })]);
    await until(() => b.with('alice').length === 1);
    const incoming = b.with('alice')[0]!;
    expect(incoming.files[0]?.file).toMatchObject({
      name: 'photo.jpg',
      size: bytes.length,
      type: 'image/jpeg',
    });
    expect(stateOf(incoming)).toBe('offered');
    await b.accept(incoming, incoming.files[0]!.file.fileId);
    await until(() => stateOf(incoming) === 'verified' && stateOf(a.with('bob')[0]) === 'verified');
    const saved = incoming.files[0]?.saved;
    if (saved?.kind !== 'blob') throw new Error('not in memory');
    expect(Buffer.compare(new Uint8Array(await saved.blob.arrayBuffer()), bytes)).toBe(0);
    expect(a.with('bob')[0]?.progress.bytes).toBe(bytes.length);
  });

  it('declines, and cancels from either side', async () => {
    const { a, b, connect } = pair();
    connect();
    await a.send('bob', [new File([patternBytes(0, 1000).slice()], 'one.bin')]);
    await until(() => b.items.length === 1);
    b.decline(b.items[0]!);
    await until(() => stateOf(a.items[0]) === 'declined');

    await a.send('bob', [new File([patternBytes(0, 1000).slice()], 'two.bin')]);
    await until(() => b.items.length === 2);
    a.cancel(a.items[1]!);
    await until(() => stateOf(b.items[1]) === 'cancelled');

    await a.send('bob', [new File([patternBytes(0, 1000).slice()], 'three.bin')]);
    await until(() => b.items.length === 3);
    b.cancel(b.items[2]!);
    await until(() => stateOf(a.items[2]) === 'cancelled');
  });

  it('resumes on a new link and still verifies', async () => {
    const { a, b, connect, cut } = pair();
    const first = connect();
    const bytes = patternBytes(0, 8 * 1024 * 1024);
    await a.send('bob', [new File([bytes.slice()], 'big.bin')]);
    await until(() => b.items.length === 1);
    const incoming = b.items[0]!;
    await b.accept(incoming, incoming.files[0]!.file.fileId);
    await until(() => incoming.progress.bytes >= 2 * 1024 * 1024);
    cut(first);
    const resumedFrom = incoming.progress.bytes;
    connect();
    await until(() => stateOf(incoming) === 'verified');
    expect(resumedFrom).toBeGreaterThan(0);
    expect(first.a.bytesSent).toBeLessThan(bytes.length);
    const saved = incoming.files[0]?.saved;
    if (saved?.kind !== 'blob') throw new Error('not in memory');
    expect(Buffer.compare(new Uint8Array(await saved.blob.arrayBuffer()), bytes)).toBe(0);
  });

  it('refuses to send without an open link', async () => {
    const { a } = pair();
    await expect(a.send('bob', [new File(['x'], 'x.txt')])).rejects.toThrow('not connected');
  });
});
