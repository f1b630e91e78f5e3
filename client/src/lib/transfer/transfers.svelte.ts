/**
 * File transfers of the signed-in user (issue 6), and the transfers as the UI shows them. Created
 * per sign-in by the session; components call `send`, `accept`, `decline`, `cancel`.
 *
 * A transfer belongs to a page of the friend (its instance, said in `peer_hello`), not to one of its
 * connections: a signaling reconnect on either side gives the friend's page a new connection id,
 * and the link that comes back goes to that new id. So there is one {@link TransferRouter} per
 * friend page, attached to the file channel of whichever link to that page opened last, detached
 * only when that very link closes (an older link closing late changes nothing). On each attach every
 * transfer goes on from the receiver's verified offset.
 */
import { isTransferControl } from '../../../../shared/peer-protocol.js';
import {
  OFFER_FILES_MAX,
  RELAY_FILE_MAX_BYTES,
  type OfferedFile,
  type TransferErrorCode,
} from '../../../../shared/transfer-protocol.js';
import type { PeerNetwork, PeerNetworkEvents } from '../peer/peer-network.js';
import type { DownloadFile } from './download-sink.js';
import { canStreamDownloads, openStreamDownload } from './download-worker.js';
import { safeFileName } from './file-name.js';
import {
  canSaveToDisk,
  DiskSink,
  MEMORY_SINK_MAX_BYTES,
  MemorySink,
  pickSaveTarget,
  type FileSink,
  type SavedFile,
} from './file-sink.js';
import { prepareFiles, type PickedFile } from './outgoing-files.js';
import type { TransferProgress } from './progress-meter.js';
import { TransferError, toError } from './transfer-error.js';
import { overRelayCapMessage } from './transfer-format.js';
import type { ReceiverFileStatus, TransferReceiver } from './transfer-receiver.js';
import { TransferRouter } from './transfer-router.js';
import { TransferSender, type SenderFileStatus } from './transfer-sender.js';
import type { TransferSide } from './transfer-side.js';

/** One file of a transfer as shown: `preparing` while the sender hashes it before offering. */
export interface TransferFileView {
  file: OfferedFile;
  state: 'preparing' | 'offered' | 'sending' | 'receiving' | 'verified' | 'declined' | 'cancelled' | 'failed';
  /** Bytes acknowledged (sender) or written and verified so far (receiver). */
  bytes: number;
  error?: TransferErrorCode;
  saved?: SavedFile;
}

const IDLE: TransferProgress = { bytes: 0, total: 0, bytesPerSecond: 0, secondsLeft: null };

/** One offer, sent or received, with its live state. */
export class TransferItem {
  readonly id: string;
  readonly friendId: string;
  readonly direction: 'outgoing' | 'incoming';
  files = $state.raw<TransferFileView[]>([]);
  progress = $state.raw<TransferProgress>(IDLE);
  /** What went wrong outside the protocol (hashing, the save dialog), for the user. */
  problem = $state<string | null>(null);
  /** No link to the friend's page is open: the transfer waits for one, then goes on. */
  waiting = $state(false);
  /** Incoming files whose Accept is under way (the save dialog, or the download opening). */
  accepting = $state.raw<readonly string[]>([]);
  sender: TransferSender | null = null;
  receiver: TransferReceiver | null = null;

  constructor(id: string, friendId: string, direction: 'outgoing' | 'incoming') {
    this.id = id;
    this.friendId = friendId;
    this.direction = direction;
  }

  /** Whether every file has ended (verified, declined, cancelled or failed). */
  get finished(): boolean {
    return this.files.every((f) => ['verified', 'declined', 'cancelled', 'failed'].includes(f.state));
  }
}

export interface TransfersStateOptions {
  peers: PeerNetwork;
  warn?: (message: string, detail?: unknown) => void;
  /**
   * A file is verified: the friend has it intact (`out`), or it arrived intact here (`in`). Called
   * once per file, for the chat history.
   */
  onVerified?: (friendId: string, direction: 'out' | 'in', file: OfferedFile) => void;
  /**
   * Starts a streamed download of an accepted file, for browsers without the save picker; null where
   * the browser cannot stream one. Defaults to the download service worker where there can be one.
   */
  openDownload?: ((file: DownloadFile) => Promise<FileSink>) | null;
}

/** The transfers with one page of a friend, and the connection whose link they are on now. */
interface PageTransfers {
  friendId: string;
  instance: string;
  router: TransferRouter;
  /** null while no link to the page is open. */
  connectionId: string | null;
}

export class TransfersState {
  readonly #peers: PeerNetwork;
  readonly #warn: (message: string, detail?: unknown) => void;
  readonly #onVerified: NonNullable<TransfersStateOptions['onVerified']>;
  readonly #openDownload: TransfersStateOptions['openDownload'];
  // Looked up in methods only; what the UI shows is in `#items`.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  readonly #pages = new Map<string, PageTransfers>();
  /** The page each item is with. */
  readonly #itemPages = new WeakMap<TransferItem, PageTransfers>();
  readonly #unsubscribe: Array<() => void>;
  #items = $state.raw<TransferItem[]>([]);

  constructor(options: TransfersStateOptions) {
    this.#peers = options.peers;
    this.#warn = options.warn ?? (() => {});
    this.#onVerified = options.onVerified ?? (() => {});
    this.#openDownload = options.openDownload === undefined ? browserDownloads() : options.openDownload;
    this.#unsubscribe = [
      this.#peers.on('link', (e) => this.#handleLink(e)),
      this.#peers.on('instance', ({ friendId, connectionId, instance }) => {
        if (this.#pages.get(key(friendId, instance))?.connectionId !== connectionId)
          this.#attach(friendId, connectionId);
      }),
      this.#peers.on('message', ({ friendId, connectionId, message }) => {
        if (!isTransferControl(message)) return;
        const page = this.#pageBehind(friendId, connectionId);
        // The hello goes first on every channel: only a peer that broke the order gets here.
        if (!page) return this.#warn('transfer: dropped a message from an unknown page');
        page.router.handleControl(message);
      }),
      this.#peers.on('chunk', ({ friendId, connectionId, frame }) => {
        const instance = this.#peers.instanceOf(friendId, connectionId);
        if (instance !== null) this.#pages.get(key(friendId, instance))?.router.handleChunk(frame);
      }),
    ];
  }

  /** Every transfer of this session, oldest first. */
  get items(): TransferItem[] {
    return this.#items;
  }

  /** The transfers with one friend. */
  with(friendId: string): TransferItem[] {
    return this.#items.filter((item) => item.friendId === friendId);
  }

  /**
   * Hashes the files and offers them to one page of the friend (that of the first open link), in
   * offers of at most `OFFER_FILES_MAX` files. Rejects when the friend has no open link, and with a
   * `too_large` TransferError naming the files not offered while the friend is reached over the
   * server relay only and they are larger than it carries (the others are offered).
   */
  async send(friendId: string, files: readonly PickedFile[]): Promise<void> {
    const tooLarge =
      this.#peers.path(friendId) === 'server' ? files.filter((f) => f.size > RELAY_FILE_MAX_BYTES) : [];
    if (tooLarge.length > 0) files = files.filter((f) => !tooLarge.includes(f));
    const page = this.#peers
      .openLinks(friendId)
      .map((connectionId) => this.#pageBehind(friendId, connectionId))
      .find((found) => found !== null);
    if (!page) throw new Error('not connected');
    for (let start = 0; start < files.length; start += OFFER_FILES_MAX) {
      const batch = files.slice(start, start + OFFER_FILES_MAX);
      const item = new TransferItem(crypto.randomUUID(), friendId, 'outgoing');
      item.files = batch.map((f) => ({
        file: { fileId: '', name: f.name, size: f.size, type: f.type, sha256: '' },
        state: 'preparing',
        bytes: 0,
      }));
      this.#join(item, page);
      void this.#offer(item, page, batch);
    }
    if (tooLarge.length > 0)
      throw new TransferError('too_large', overRelayCapMessage(tooLarge.map((f) => f.name)));
  }

  /**
   * Accepts one offered file (call from the click: the save dialog needs it): to disk where the
   * browser has the save picker, else to a streamed download where it can have one, else in memory
   * (up to `MEMORY_SINK_MAX_BYTES`).
   */
  async accept(item: TransferItem, fileId: string): Promise<void> {
    const receiver = item.receiver;
    const file = item.files.find((f) => f.file.fileId === fileId)?.file;
    // A second click while the first one's dialog or download is opening would open another.
    if (!receiver || !file || item.accepting.includes(fileId)) return;
    item.accepting = [...item.accepting, fileId];
    let sink: FileSink | null = null;
    try {
      if (canSaveToDisk()) {
        const target = await pickSaveTarget(safeFileName(file.name));
        if (!target) return;
        sink = await DiskSink.open(target);
      } else {
        sink = await this.#downloadOrMemory(item, file);
        if (!sink) return;
      }
      await receiver.accept(fileId, sink);
    } catch (error) {
      // The file was not taken (it ended while the sink was opening): nothing may be left of it.
      await sink?.abort();
      // A file that ended meanwhile (the sender cancelled) says so on its card: no problem to add.
      const state = item.files.find((f) => f.file.fileId === fileId)?.state;
      if (state === 'offered') item.problem = toError(error).message;
    } finally {
      item.accepting = item.accepting.filter((id) => id !== fileId);
    }
  }

  decline(item: TransferItem): void {
    item.receiver?.decline();
  }

  cancel(item: TransferItem): void {
    item.sender?.cancel();
    item.receiver?.cancel();
  }

  /**
   * Stops listening and cancels every transfer (sign-out): the friend is told where a link is still
   * open, and what was received is thrown away (a streamed download fails instead of hanging).
   */
  dispose(): void {
    for (const item of this.items) this.cancel(item);
    for (const off of this.#unsubscribe) off();
    for (const page of this.#pages.values()) page.router.detach();
    this.#pages.clear();
  }

  async #offer(item: TransferItem, page: PageTransfers, batch: readonly PickedFile[]): Promise<void> {
    try {
      const outgoing = await prepareFiles(batch, {
        onProgress: (hashed, total) => {
          item.progress = { bytes: hashed, total, bytesPerSecond: 0, secondsLeft: null };
        },
      });
      const sender = new TransferSender({ transferId: item.id, files: outgoing, warn: this.#warn });
      item.sender = sender;
      this.#follow(item, sender, 'out');
      page.router.send(sender);
    } catch (error) {
      item.problem = toError(error).message;
      item.files = item.files.map((f) => ({ ...f, state: 'failed' }));
      this.#warn('transfer: could not prepare files', { error: toError(error).message });
    }
  }

  /**
   * Where a file goes without the save picker: a streamed download, else memory when it fits; null,
   * with the reason on the item, when neither can take it.
   */
  async #downloadOrMemory(item: TransferItem, file: OfferedFile): Promise<FileSink | null> {
    let failure: string | null = null;
    if (this.#openDownload) {
      try {
        return await this.#openDownload({ name: safeFileName(file.name), size: file.size });
      } catch (error) {
        failure = toError(error).message;
        this.#warn('transfer: the streamed download did not start', { error: failure });
      }
    }
    if (file.size <= MEMORY_SINK_MAX_BYTES) return new MemorySink(file.type);
    item.problem =
      failure === null
        ? 'This browser keeps received files in memory (up to 256 MiB): use Chromium for larger files.'
        : `The download could not start (${failure}); without it this browser keeps received files in ` +
          'memory, up to 256 MiB.';
    return null;
  }

  #handleOffer(page: PageTransfers, receiver: TransferReceiver): void {
    const item = new TransferItem(receiver.transferId, page.friendId, 'incoming');
    item.receiver = receiver;
    this.#follow(item, receiver, 'in');
    this.#join(item, page);
  }

  /** Mirrors the side's files and progress on the item, and tells `onVerified` of each file verified. */
  #follow<S extends SenderFileStatus | ReceiverFileStatus>(
    item: TransferItem,
    side: TransferSide<S>,
    direction: 'out' | 'in',
  ): void {
    const show = () => {
      item.files = side.files.map(fileView);
      item.progress = side.progress;
    };
    side.on('file', show);
    side.on('file', (s) => {
      if (s.state === 'verified') this.#onVerified(item.friendId, direction, s.file);
    });
    side.on('progress', show);
    show();
  }

  #page(friendId: string, instance: string): PageTransfers {
    const id = key(friendId, instance);
    const known = this.#pages.get(id);
    if (known) return known;
    const page: PageTransfers = {
      friendId,
      instance,
      connectionId: null,
      router: new TransferRouter({
        onOffer: (receiver) => this.#handleOffer(page, receiver),
        receiver: { warn: this.#warn },
      }),
    };
    this.#pages.set(id, page);
    return page;
  }

  /**
   * The transfers with the page behind an open link (put on that link if they are on none); null
   * until the link's hello said which page it is.
   */
  #pageBehind(friendId: string, connectionId: string): PageTransfers | null {
    const instance = this.#peers.instanceOf(friendId, connectionId);
    if (instance === null) return null;
    const page = this.#page(friendId, instance);
    if (page.connectionId === null) this.#attach(friendId, connectionId);
    return page;
  }

  #handleLink({ friendId, connectionId, open }: PeerNetworkEvents['link']): void {
    // Closed, or open again (a newer link replaced the old one): the channel the page was on is gone.
    for (const page of this.#pages.values()) {
      if (page.friendId !== friendId || page.connectionId !== connectionId) continue;
      page.connectionId = null;
      page.router.detach();
      this.#showWaiting(page);
    }
    if (open) this.#attach(friendId, connectionId);
  }

  /**
   * Moves the page behind that connection onto its link: every transfer goes on from the receiver's
   * verified offset. Until the link's hello says which page it is, nothing (`instance` follows).
   */
  #attach(friendId: string, connectionId: string): void {
    const instance = this.#peers.instanceOf(friendId, connectionId);
    const channel = instance === null ? null : this.#peers.fileChannel(friendId, connectionId);
    if (instance === null || !channel) return;
    const page = this.#page(friendId, instance);
    page.connectionId = connectionId;
    page.router.attach(channel);
    this.#showWaiting(page);
  }

  #join(item: TransferItem, page: PageTransfers): void {
    this.#itemPages.set(item, page);
    item.waiting = page.connectionId === null;
    this.#items = [...this.#items, item];
  }

  /** Whether the page's transfers wait for a link; no speed to show while they do. */
  #showWaiting(page: PageTransfers): void {
    const waiting = page.connectionId === null;
    for (const item of this.#items) {
      if (this.#itemPages.get(item) !== page || item.waiting === waiting) continue;
      item.waiting = waiting;
      if (waiting) item.progress = { ...item.progress, bytesPerSecond: 0, secondsLeft: null };
    }
  }
}

/** A file as shown: bytes the receiver acknowledged (outgoing), or written here and where saved (incoming). */
function fileView(s: SenderFileStatus | ReceiverFileStatus): TransferFileView {
  return 'received' in s
    ? { file: s.file, state: s.state, bytes: s.received, error: s.error, saved: s.saved }
    : { file: s.file, state: s.state, bytes: s.acknowledged, error: s.error };
}

/** Streamed downloads through the download service worker, where this browser can have one. */
function browserDownloads(): TransfersStateOptions['openDownload'] {
  return canStreamDownloads() ? openStreamDownload : null;
}

function key(friendId: string, instance: string): string {
  return `${friendId}\u0000${instance}`;
}
