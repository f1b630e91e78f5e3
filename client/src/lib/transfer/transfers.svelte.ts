/**
 * File transfers of the signed-in user (issue 6): one {@link TransferRouter} per friend connection,
 * attached to that link's file channel while it is open (so a replaced or reopened link resumes
 * every transfer from the receiver's verified offset), and the transfers as the UI shows them.
 * Created per sign-in by the session; components call `send`, `accept`, `decline`, `cancel`.
 */
import { isTransferControl } from '../../../../shared/peer-protocol.js';
import {
  OFFER_FILES_MAX,
  RELAY_FILE_MAX_BYTES,
  type OfferedFile,
  type TransferErrorCode,
} from '../../../../shared/transfer-protocol.js';
import type { PeerNetwork, PeerNetworkEvents } from '../peer/peer-network.js';
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
import type { TransferReceiver } from './transfer-receiver.js';
import { TransferRouter } from './transfer-router.js';
import { TransferSender } from './transfer-sender.js';

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
}

export class TransfersState {
  readonly #peers: PeerNetwork;
  readonly #warn: (message: string, detail?: unknown) => void;
  readonly #onVerified: NonNullable<TransfersStateOptions['onVerified']>;
  // Looked up in methods only; what the UI shows is in `#items`.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  readonly #routers = new Map<string, TransferRouter>();
  readonly #unsubscribe: Array<() => void>;
  #items = $state.raw<TransferItem[]>([]);

  constructor(options: TransfersStateOptions) {
    this.#peers = options.peers;
    this.#warn = options.warn ?? (() => {});
    this.#onVerified = options.onVerified ?? (() => {});
    this.#unsubscribe = [
      this.#peers.on('link', (e) => this.#handleLink(e)),
      this.#peers.on('message', ({ friendId, connectionId, message }) => {
        if (isTransferControl(message)) this.#router(friendId, connectionId).handleControl(message);
      }),
      this.#peers.on('chunk', ({ friendId, connectionId, frame }) => {
        this.#routers.get(key(friendId, connectionId))?.handleChunk(frame);
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
   * Hashes the files and offers them to one open connection of the friend (the first), in offers of
   * at most `OFFER_FILES_MAX` files. Rejects when the friend has no open link, and with a
   * `too_large` TransferError naming the files not offered while the friend is reached over the
   * server relay only and they are larger than it carries (the others are offered).
   */
  async send(friendId: string, files: readonly PickedFile[]): Promise<void> {
    const tooLarge =
      this.#peers.path(friendId) === 'server' ? files.filter((f) => f.size > RELAY_FILE_MAX_BYTES) : [];
    if (tooLarge.length > 0) files = files.filter((f) => !tooLarge.includes(f));
    const connectionId = this.#peers.openLinks(friendId)[0];
    if (connectionId === undefined) throw new Error('not connected');
    for (let start = 0; start < files.length; start += OFFER_FILES_MAX) {
      const batch = files.slice(start, start + OFFER_FILES_MAX);
      const item = new TransferItem(crypto.randomUUID(), friendId, 'outgoing');
      item.files = batch.map((f) => ({
        file: { fileId: '', name: f.name, size: f.size, type: f.type, sha256: '' },
        state: 'preparing',
        bytes: 0,
      }));
      this.#items = [...this.#items, item];
      void this.#offer(item, connectionId, batch);
    }
    if (tooLarge.length > 0)
      throw new TransferError('too_large', overRelayCapMessage(tooLarge.map((f) => f.name)));
  }

  /**
   * Accepts one offered file: to disk where the browser streams there (call from the click: the
   * save dialog needs it), else in memory (up to `MEMORY_SINK_MAX_BYTES`).
   */
  async accept(item: TransferItem, fileId: string): Promise<void> {
    const receiver = item.receiver;
    const file = item.files.find((f) => f.file.fileId === fileId)?.file;
    if (!receiver || !file) return;
    let sink: FileSink;
    try {
      if (canSaveToDisk()) {
        const target = await pickSaveTarget(safeFileName(file.name));
        if (!target) return;
        sink = await DiskSink.open(target);
      } else {
        if (file.size > MEMORY_SINK_MAX_BYTES) {
          item.problem =
            'This browser keeps received files in memory (up to 256 MiB): use Chromium for larger files.';
          return;
        }
        sink = new MemorySink(file.type);
      }
      await receiver.accept(fileId, sink);
    } catch (error) {
      item.problem = toError(error).message;
    }
  }

  decline(item: TransferItem): void {
    item.receiver?.decline();
  }

  cancel(item: TransferItem): void {
    item.sender?.cancel();
    item.receiver?.cancel();
  }

  /** Stops listening and pauses every transfer (sign-out). */
  dispose(): void {
    for (const off of this.#unsubscribe) off();
    for (const router of this.#routers.values()) router.detach();
    this.#routers.clear();
  }

  async #offer(item: TransferItem, connectionId: string, batch: readonly PickedFile[]): Promise<void> {
    try {
      const outgoing = await prepareFiles(batch, {
        onProgress: (hashed, total) => {
          item.progress = { bytes: hashed, total, bytesPerSecond: 0, secondsLeft: null };
        },
      });
      const sender = new TransferSender({ transferId: item.id, files: outgoing });
      item.sender = sender;
      const show = () => {
        item.files = sender.files.map((s) => ({
          file: s.file,
          state: s.state,
          bytes: s.acknowledged,
          error: s.error,
        }));
        item.progress = sender.progress;
      };
      sender.on('file', show);
      sender.on('file', (s) => {
        if (s.state === 'verified') this.#onVerified(item.friendId, 'out', s.file);
      });
      sender.on('progress', show);
      show();
      this.#router(item.friendId, connectionId).send(sender);
    } catch (error) {
      item.problem = toError(error).message;
      item.files = item.files.map((f) => ({ ...f, state: 'failed' }));
      this.#warn('transfer: could not prepare files', { error: toError(error).message });
    }
  }

  #handleOffer(friendId: string, receiver: TransferReceiver): void {
    const item = new TransferItem(receiver.transferId, friendId, 'incoming');
    item.receiver = receiver;
    const show = () => {
      item.files = receiver.files.map((s) => ({
        file: s.file,
        state: s.state,
        bytes: s.received,
        error: s.error,
        saved: s.saved,
      }));
      item.progress = receiver.progress;
    };
    receiver.on('file', show);
    receiver.on('file', (s) => {
      if (s.state === 'verified') this.#onVerified(friendId, 'in', s.file);
    });
    receiver.on('progress', show);
    show();
    this.#items = [...this.#items, item];
  }

  #router(friendId: string, connectionId: string): TransferRouter {
    const id = key(friendId, connectionId);
    let router = this.#routers.get(id);
    if (!router) {
      router = new TransferRouter({
        onOffer: (receiver) => this.#handleOffer(friendId, receiver),
        receiver: { warn: this.#warn },
      });
      this.#routers.set(id, router);
      const channel = this.#peers.fileChannel(friendId, connectionId);
      if (channel) router.attach(channel);
    }
    return router;
  }

  #handleLink({ friendId, connectionId, open }: PeerNetworkEvents['link']): void {
    const channel = open ? this.#peers.fileChannel(friendId, connectionId) : null;
    const router = this.#routers.get(key(friendId, connectionId));
    if (!router) {
      if (channel) this.#router(friendId, connectionId);
      return;
    }
    // A replaced or reopened link: every transfer goes on from the receiver's verified offset.
    if (channel) router.attach(channel);
    else router.detach();
  }
}

function key(friendId: string, connectionId: string): string {
  return `${friendId}\u0000${connectionId}`;
}
