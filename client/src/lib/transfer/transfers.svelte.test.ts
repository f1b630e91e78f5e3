import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { PeerMessage } from '../../../../shared/peer-protocol.js';
import { Emitter } from '../emitter.js';
import type { PeerNetwork, PeerNetworkEvents, PeerPath } from '../peer/peer-network.js';
import type { ChunkChannel } from './chunk-channel.js';
import type { DownloadFile } from './download-sink.js';
import { MEMORY_SINK_MAX_BYTES, type SavedFile } from './file-sink.js';
import { HashingSink, patternBytes } from './test/fixtures.js';
import { MemoryLink, type MemoryEnd } from './test/memory-link.js';
import { TransferError } from './transfer-error.js';
import { TransfersState, type TransferItem, type TransfersStateOptions } from './transfers.svelte.js';

/**
 * A device's peer network: links to friends' devices, each a {@link MemoryLink} end under the
 * connection id it sees the other side by, to the other side's page instance (told by its hello).
 */
class LinkedNetwork implements PeerNetwork {
  readonly events = new Emitter<PeerNetworkEvents>();
  readonly #links = new Map<string, { end: MemoryEnd; instance: string | null }>();

  connect(): void {}
  send(): number {
    return 0;
  }
  sendTo(): boolean {
    return false;
  }
  fileChannel(friendId: string, connectionId: string): ChunkChannel | null {
    return this.#open(friendId, connectionId)?.end ?? null;
  }
  instanceOf(friendId: string, connectionId: string): string | null {
    return this.#open(friendId, connectionId)?.instance ?? null;
  }
  openLinks(friendId: string): string[] {
    return [...this.#links]
      .filter(([id, link]) => id.startsWith(`${friendId}/`) && link.end.open)
      .map(([id]) => id.slice(friendId.length + 1));
  }
  path(friendId: string): PeerPath {
    return this.openLinks(friendId).length > 0 ? 'direct' : 'none';
  }
  on<K extends keyof PeerNetworkEvents>(event: K, handler: (e: PeerNetworkEvents[K]) => void): () => void {
    return this.events.on(event, handler);
  }
  close(): void {}

  /** A link opens (replacing one to the same connection); `helloLate`: its hello comes after the open. */
  open(friendId: string, connectionId: string, end: MemoryEnd, instance: string, helloLate: boolean): void {
    end.handlers = {
      chunk: (frame) => this.events.emit('chunk', { friendId, connectionId, frame }),
      control: (message: PeerMessage) => this.events.emit('message', { friendId, connectionId, message }),
    };
    const link = { end, instance: helloLate ? null : instance };
    this.#links.set(`${friendId}/${connectionId}`, link);
    this.events.emit('link', { friendId, connectionId, open: true });
    if (!helloLate) return;
    link.instance = instance;
    this.events.emit('instance', { friendId, connectionId, instance });
  }

  /** The link on `end` dropped: reported unless a newer link to that connection replaced it. */
  drop(friendId: string, connectionId: string, end: MemoryEnd): void {
    const id = `${friendId}/${connectionId}`;
    if (this.#links.get(id)?.end !== end) return;
    this.#links.delete(id);
    this.events.emit('link', { friendId, connectionId, open: false });
  }

  #open(friendId: string, connectionId: string) {
    const link = this.#links.get(`${friendId}/${connectionId}`);
    return link?.end.open ? link : undefined;
  }
}

/** One page of a user: its own instance, network and transfers. */
interface Device {
  userId: string;
  page: string;
  net: LinkedNetwork;
  transfers: TransfersState;
}

/** `options`: how the device's browser saves what it receives (no save picker in Node: memory). */
function device(userId: string, options: Omit<TransfersStateOptions, 'peers'> = {}): Device {
  const net = new LinkedNetwork();
  return {
    userId,
    page: crypto.randomUUID(),
    net,
    transfers: new TransfersState({ peers: net, ...options }),
  };
}

/**
 * A link between two pages; `x` has connection id `xAs` (as `y` sees it) and `y` has `yAs`. `cut()`
 * drops it with what was in flight.
 */
function link(x: Device, xAs: string, y: Device, yAs: string, options: { helloLate?: boolean } = {}) {
  const memory = new MemoryLink({ bytesPerTick: 256 * 1024 });
  x.net.open(y.userId, yAs, memory.a, y.page, options.helloLate ?? false);
  y.net.open(x.userId, xAs, memory.b, x.page, options.helloLate ?? false);
  return Object.assign(memory, {
    drop() {
      memory.cut();
      x.net.drop(y.userId, yAs, memory.a);
      y.net.drop(x.userId, xAs, memory.b);
    },
  });
}

function pair() {
  const alice = device('alice');
  const bob = device('bob');
  return { alice, bob, a: alice.transfers, b: bob.transfers, connect: () => link(alice, 'a1', bob, 'b1') };
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

  it('resumes on a new link to the same connections and still verifies', async () => {
    const { a, b, connect } = pair();
    const first = connect();
    const bytes = patternBytes(0, 8 * 1024 * 1024);
    await a.send('bob', [new File([bytes.slice()], 'big.bin')]);
    await until(() => b.items.length === 1);
    const incoming = b.items[0]!;
    await b.accept(incoming, incoming.files[0]!.file.fileId);
    await until(() => incoming.progress.bytes >= 2 * 1024 * 1024);
    first.drop();
    const resumedFrom = incoming.progress.bytes;
    connect();
    await until(() => stateOf(incoming) === 'verified');
    expect(resumedFrom).toBeGreaterThan(0);
    expect(first.a.bytesSent).toBeLessThan(bytes.length);
    const saved = incoming.files[0]?.saved;
    if (saved?.kind !== 'blob') throw new Error('not in memory');
    expect(Buffer.compare(new Uint8Array(await saved.blob.arrayBuffer()), bytes)).toBe(0);
  });

  it('resumes from the verified offset when the pages come back under new connection ids', async () => {
    const { alice, bob, a, b } = pair();
    const first = link(alice, 'a1', bob, 'b1');
    const bytes = patternBytes(0, 8 * 1024 * 1024, 7);
    await a.send('bob', [new File([bytes.slice()], 'big.bin')]);
    await until(() => b.items.length === 1);
    const incoming = b.items[0]!;
    const outgoing = a.items[0]!;
    await b.accept(incoming, incoming.files[0]!.file.fileId);
    await until(() => incoming.progress.bytes >= 2 * 1024 * 1024);
    first.drop();
    // Nothing moves without a link, and the cards say so instead of showing the last speed.
    expect([incoming.waiting, outgoing.waiting]).toEqual([true, true]);
    expect([incoming.progress.bytesPerSecond, outgoing.progress.bytesPerSecond]).toEqual([0, 0]);
    const stalledAt = incoming.progress.bytes;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(incoming.progress.bytes).toBe(stalledAt);

    // Both signaling connections came back with new ids; the new link says its hello after opening.
    const second = link(alice, 'a2', bob, 'b2', { helloLate: true });
    expect([incoming.waiting, outgoing.waiting]).toEqual([false, false]);
    await until(() => stateOf(incoming) === 'verified' && stateOf(outgoing) === 'verified');
    const asked = second.b.controlSent.flatMap((m) => (m.type === 'file_accept' ? [m.offset] : []));
    expect(asked.length).toBeGreaterThan(0);
    // From what was verified: at least what the card showed at the drop (chunks already taken off
    // the link may still be written after it), at most what the old link carried.
    expect(asked[0]).toBeGreaterThanOrEqual(stalledAt);
    expect(asked[0]).toBeLessThanOrEqual(first.a.bytesSent);
    // Only what was not verified before the drop went again.
    expect(first.a.bytesSent + second.a.bytesSent).toBeLessThan(bytes.length + 4 * 1024 * 1024);
    const saved = incoming.files[0]?.saved;
    if (saved?.kind !== 'blob') throw new Error('not in memory');
    expect(Buffer.compare(new Uint8Array(await saved.blob.arrayBuffer()), bytes)).toBe(0);
  });

  it('stays on the newer link when an older link to the same page closes after it opened', async () => {
    const { alice, bob, a, b } = pair();
    const old = link(alice, 'a1', bob, 'b1');
    const bytes = patternBytes(0, 6 * 1024 * 1024, 3);
    await a.send('bob', [new File([bytes.slice()], 'big.bin')]);
    await until(() => b.items.length === 1);
    const incoming = b.items[0]!;
    await b.accept(incoming, incoming.files[0]!.file.fileId);
    await until(() => incoming.progress.bytes >= 1024 * 1024);
    // Bob's page reconnected to the server as b2 and a new link opened; the old one lingers a moment.
    const renewed = link(alice, 'a1', bob, 'b2');
    await until(() => renewed.a.bytesSent > 0);
    old.drop();
    expect(incoming.waiting).toBe(false);
    expect(a.items[0]?.waiting).toBe(false);
    await until(() => stateOf(incoming) === 'verified');
    const saved = incoming.files[0]?.saved;
    if (saved?.kind !== 'blob') throw new Error('not in memory');
    expect(Buffer.compare(new Uint8Array(await saved.blob.arrayBuffer()), bytes)).toBe(0);
  });

  it('keeps the transfers with each page of a friend apart (two devices)', async () => {
    const alice = device('alice');
    const phone = device('bob');
    const laptop = device('bob');
    const toPhone = link(alice, 'a1', phone, 'b1');
    link(alice, 'a1', laptop, 'b2');
    // Offered to one page of the friend (the first open link's), not to every device.
    await alice.transfers.send('bob', [new File([patternBytes(0, 4 * 1024 * 1024).slice()], 'one.bin')]);
    await until(() => phone.transfers.items.length === 1);
    await laptop.transfers.send('alice', [new File([patternBytes(0, 1000, 5).slice()], 'two.bin')]);
    await until(() => alice.transfers.items.length === 2);
    expect(laptop.transfers.items.map((item) => item.direction)).toEqual(['outgoing']);
    const [toBob, fromLaptop] = alice.transfers.items;
    const onPhone = phone.transfers.items[0]!;
    await phone.transfers.accept(onPhone, onPhone.files[0]!.file.fileId);
    await until(() => onPhone.progress.bytes > 0);

    // The phone's link drops: only the phone's transfer waits; the laptop's goes on and verifies.
    toPhone.drop();
    expect([toBob?.waiting, fromLaptop?.waiting]).toEqual([true, false]);
    await alice.transfers.accept(fromLaptop!, fromLaptop!.files[0]!.file.fileId);
    await until(() => stateOf(fromLaptop) === 'verified');
    expect(stateOf(toBob)).toBe('sending');

    // The phone's page comes back under a new connection id: its transfer resumes there.
    link(alice, 'a1', phone, 'b3');
    await until(() => stateOf(onPhone) === 'verified' && stateOf(toBob) === 'verified');
  });

  it('refuses to send without an open link', async () => {
    const { a } = pair();
    await expect(a.send('bob', [new File(['x'], 'x.txt')])).rejects.toThrow('not connected');
  });
});

/** A download as the browser streams it: hashes what it is given; the file is in the downloads. */
class DownloadingSink extends HashingSink {
  override async close(): Promise<SavedFile> {
    await super.close();
    return { kind: 'download', name: 'streamed' };
  }
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const notStarted = async (): Promise<never> => {
  throw new TransferError('unavailable', 'the download did not start: no worker');
};

describe('TransfersState in a browser without the save picker', () => {
  it('streams an accepted file into a download under its safe name', async () => {
    const asked: DownloadFile[] = [];
    const sink = new DownloadingSink();
    const alice = device('alice');
    const bob = device('bob', { openDownload: async (file) => (asked.push(file), sink) });
    link(alice, 'a1', bob, 'b1');
    const bytes = patternBytes(0, 2 * 1024 * 1024 + 5);
    await alice.transfers.send('bob', [new File([bytes.slice()], '../notes: "draft".txt')]);
    await until(() => bob.transfers.items.length === 1);
    const incoming = bob.transfers.items[0]!;
    await bob.transfers.accept(incoming, incoming.files[0]!.file.fileId);
    await until(() => stateOf(incoming) === 'verified');
    expect(asked).toEqual([{ name: '_notes_ _draft_.txt', size: bytes.length }]);
    expect(incoming.files[0]?.saved).toEqual({ kind: 'download', name: 'streamed' });
    expect(sink.digest()).toBe(sha256(bytes));
  });

  it('keeps a file in memory when the download does not start, if it fits there', async () => {
    const warnings: string[] = [];
    const alice = device('alice');
    const bob = device('bob', { openDownload: notStarted, warn: (message) => warnings.push(message) });
    link(alice, 'a1', bob, 'b1');
    const bytes = patternBytes(0, 1024 * 1024, 9);
    await alice.transfers.send('bob', [new File([bytes.slice()], 'small.bin')]);
    await until(() => bob.transfers.items.length === 1);
    const incoming = bob.transfers.items[0]!;
    await bob.transfers.accept(incoming, incoming.files[0]!.file.fileId);
    await until(() => stateOf(incoming) === 'verified');
    const saved = incoming.files[0]?.saved;
    if (saved?.kind !== 'blob') throw new Error('not in memory');
    expect(sha256(new Uint8Array(await saved.blob.arrayBuffer()))).toBe(sha256(bytes));
    expect(warnings).toContain('transfer: the streamed download did not start');
    expect(incoming.problem).toBeNull();
  });

  it('says why a file larger than memory holds cannot be received, and leaves it offered', async () => {
    const size = MEMORY_SINK_MAX_BYTES + 1;
    const offerTo = async (bob: Device) => {
      const alice = device('alice');
      const memory = link(alice, 'a1', bob, 'b1');
      const file = { fileId: crypto.randomUUID(), name: 'huge.iso', size, type: '', sha256: 'a'.repeat(64) };
      memory.a.sendControl({ type: 'file_offer', transferId: crypto.randomUUID(), files: [file] });
      await until(() => bob.transfers.items.length === 1);
      const incoming = bob.transfers.items[0]!;
      await bob.transfers.accept(incoming, file.fileId);
      expect(stateOf(incoming)).toBe('offered');
      return incoming.problem;
    };
    expect(await offerTo(device('bob', { openDownload: notStarted }))).toBe(
      'The download could not start (the download did not start: no worker); without it this browser ' +
        'keeps received files in memory, up to 256 MiB.',
    );
    expect(await offerTo(device('bob', { openDownload: null }))).toBe(
      'This browser keeps received files in memory (up to 256 MiB): use Chromium for larger files.',
    );
  });

  it('aborts a download that opened after the file had ended', async () => {
    const sink = new DownloadingSink();
    let open = () => {};
    const alice = device('alice');
    const bob = device('bob', {
      openDownload: () => new Promise((resolve) => (open = () => resolve(sink))),
    });
    link(alice, 'a1', bob, 'b1');
    await alice.transfers.send('bob', [new File([patternBytes(0, 1000).slice()], 'late.bin')]);
    await until(() => bob.transfers.items.length === 1);
    const incoming = bob.transfers.items[0]!;
    const accepting = bob.transfers.accept(incoming, incoming.files[0]!.file.fileId);
    // The sender cancels while the browser is still setting the download up.
    alice.transfers.cancel(alice.transfers.items[0]!);
    await until(() => stateOf(incoming) === 'cancelled');
    open();
    await accepting;
    expect(sink.aborted).toBe(true);
    // The card already says Cancelled: no problem text about a file no longer waiting.
    expect(incoming.problem).toBeNull();
  });

  it('opens one download however often Accept is clicked while it opens', async () => {
    const sink = new DownloadingSink();
    let opens = 0;
    let open = () => {};
    const alice = device('alice');
    const bob = device('bob', {
      openDownload: () => ((opens += 1), new Promise((resolve) => (open = () => resolve(sink)))),
    });
    link(alice, 'a1', bob, 'b1');
    await alice.transfers.send('bob', [new File([patternBytes(0, 1000).slice()], 'once.bin')]);
    await until(() => bob.transfers.items.length === 1);
    const incoming = bob.transfers.items[0]!;
    const fileId = incoming.files[0]!.file.fileId;
    const first = bob.transfers.accept(incoming, fileId);
    expect(incoming.accepting).toEqual([fileId]);
    await bob.transfers.accept(incoming, fileId);
    open();
    await first;
    expect(opens).toBe(1);
    expect(incoming.accepting).toEqual([]);
    await until(() => stateOf(incoming) === 'verified');
  });

  it('aborts a download whose browser stopped reading when the file is cancelled', async () => {
    /** A download the browser stopped reading: from the second write on, writes never finish. */
    class StalledSink extends DownloadingSink {
      #writes = 0;
      override write(offset: number, data: Uint8Array): Promise<void> {
        this.#writes += 1;
        return this.#writes > 1 ? new Promise(() => {}) : super.write(offset, data);
      }
    }
    const sink = new StalledSink();
    const alice = device('alice');
    const bob = device('bob', { openDownload: async () => sink });
    link(alice, 'a1', bob, 'b1');
    await alice.transfers.send('bob', [new File([patternBytes(0, 4 * 1024 * 1024).slice()], 'stuck.bin')]);
    await until(() => bob.transfers.items.length === 1);
    const incoming = bob.transfers.items[0]!;
    await bob.transfers.accept(incoming, incoming.files[0]!.file.fileId);
    await new Promise((resolve) => setTimeout(resolve, 50));
    bob.transfers.cancel(incoming);
    expect(stateOf(incoming)).toBe('cancelled');
    await until(() => sink.aborted);
  });

  it('cancels every transfer on sign-out, so no download is left hanging', async () => {
    const sink = new DownloadingSink();
    const alice = device('alice');
    const bob = device('bob', { openDownload: async () => sink });
    link(alice, 'a1', bob, 'b1');
    await alice.transfers.send('bob', [new File([patternBytes(0, 8 * 1024 * 1024).slice()], 'big.bin')]);
    await until(() => bob.transfers.items.length === 1);
    const incoming = bob.transfers.items[0]!;
    await bob.transfers.accept(incoming, incoming.files[0]!.file.fileId);
    await until(() => incoming.progress.bytes > 0);
    bob.transfers.dispose();
    expect(stateOf(incoming)).toBe('cancelled');
    await until(() => sink.aborted);
    await until(() => stateOf(alice.transfers.items[0]) === 'cancelled');
  });
});
