/**
 * The transfers with one peer connection: routes its control messages and chunk frames to the
 * right sender or receiver, creates a receiver for each new offer, and moves every transfer to a
 * new link (`attach`) or pauses them all when the link drops (`detach`). Input for transfers it
 * does not know is dropped.
 */
import {
  decodeChunk,
  type ChunkRejection,
  type FileOffer,
  type TransferControl,
} from '../../../../shared/transfer-protocol.js';
import type { ChunkChannel } from './chunk-channel.js';
import { TransferReceiver, type ChunkOutcome, type TransferReceiverOptions } from './transfer-receiver.js';
import type { TransferSender } from './transfer-sender.js';

/** Offers from one peer still waiting for an answer or running; more are declined at once. */
export const OPEN_OFFERS_MAX = 32;

export interface TransferRouterOptions {
  /** A new offer from the peer: show it (names as text, sizes, types) with Accept and Decline. */
  onOffer(receiver: TransferReceiver): void;
  /** Options for the receivers this router creates (clock, warnings). */
  receiver?: Omit<TransferReceiverOptions, 'offer'>;
}

export class TransferRouter {
  readonly #onOffer: TransferRouterOptions['onOffer'];
  readonly #receiverOptions: Omit<TransferReceiverOptions, 'offer'>;
  readonly #senders = new Map<string, TransferSender>();
  readonly #receivers = new Map<string, TransferReceiver>();
  /** Receivers by the ids of their files: chunks name a file, not a transfer. */
  readonly #byFile = new Map<string, TransferReceiver>();
  #channel: ChunkChannel | null = null;

  constructor(options: TransferRouterOptions) {
    this.#onOffer = options.onOffer;
    this.#receiverOptions = options.receiver ?? {};
  }

  /** Starts a transfer to the peer: its offer goes out now, or when a link opens. */
  send(sender: TransferSender): void {
    if (this.#senders.has(sender.transferId)) throw new RangeError('transfer id in use');
    this.#senders.set(sender.transferId, sender);
    if (this.#channel) sender.attach(this.#channel);
  }

  /** Drops a transfer that has ended (its state stays with whoever holds the sender or receiver). */
  forget(transferId: string): void {
    this.#senders.delete(transferId);
    const receiver = this.#receivers.get(transferId);
    if (!receiver) return;
    this.#receivers.delete(transferId);
    for (const { file } of receiver.files) this.#byFile.delete(file.fileId);
  }

  /** A link to the peer opened (or replaced the old one): every transfer goes on over it. */
  attach(channel: ChunkChannel): void {
    this.detach();
    this.#channel = channel;
    for (const sender of this.#senders.values()) sender.attach(channel);
    for (const receiver of this.#receivers.values()) receiver.attach(channel);
  }

  /** The link dropped: every transfer pauses where it is. */
  detach(): void {
    if (!this.#channel) return;
    this.#channel = null;
    for (const sender of this.#senders.values()) sender.detach();
    for (const receiver of this.#receivers.values()) receiver.detach();
  }

  /** A validated control message from the peer. */
  handleControl(message: TransferControl): void {
    switch (message.type) {
      case 'file_offer':
        return this.#handleOffer(message);
      case 'file_accept':
      case 'file_decline':
      case 'file_progress':
      case 'file_complete':
        return this.#senders.get(message.transferId)?.handleControl(message);
      case 'file_cancel':
      case 'file_error':
        // `by` says whose transfer it is: the peer as receiver talks to our sender, and back.
        if (message.by === 'receiver') this.#senders.get(message.transferId)?.handleControl(message);
        else this.#receivers.get(message.transferId)?.handleControl(message);
        return;
      default:
        throw new TypeError(
          `unhandled control message ${(message satisfies never as { type: string }).type}`,
        );
    }
  }

  /**
   * A binary frame from the peer: decoded, checked (also against the largest file the attached
   * channel carries), and given to its receiver.
   */
  handleChunk(frame: ArrayBuffer | Uint8Array): ChunkOutcome | ChunkRejection {
    const chunk = decodeChunk(frame, (fileId) => this.#byFile.get(fileId)?.sizeOf(fileId));
    if (!chunk.ok) return chunk.reason;
    return this.#byFile.get(chunk.fileId)?.handleChunk(chunk, this.#channel?.maxFileSize) ?? 'unknown_file';
  }

  #handleOffer(offer: FileOffer): void {
    // A repeated offer (resent on a new link) or ids that are taken: not a new transfer.
    if (this.#receivers.has(offer.transferId) || offer.files.some((f) => this.#byFile.has(f.fileId))) return;
    const open = [...this.#receivers.values()].filter((r) => !r.finished).length;
    if (open >= OPEN_OFFERS_MAX) {
      this.#channel?.sendControl({ type: 'file_decline', transferId: offer.transferId });
      return;
    }
    const receiver = new TransferReceiver({ ...this.#receiverOptions, offer });
    this.#receivers.set(offer.transferId, receiver);
    for (const file of offer.files) this.#byFile.set(file.fileId, receiver);
    if (this.#channel) receiver.attach(this.#channel);
    this.#onOffer(receiver);
  }
}
