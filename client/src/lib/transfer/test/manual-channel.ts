/** Test helper: a ChunkChannel the test drives by hand: it records frames and drains on request. */
import type { TransferControl } from '../../../../../shared/transfer-protocol.js';
import { HIGH_WATER_MARK, type ChunkChannel } from '../chunk-channel.js';

export class ManualChannel implements ChunkChannel {
  bufferedAmount = 0;
  open = true;
  readonly frames: ArrayBuffer[] = [];
  readonly controls: TransferControl[] = [];
  /** Fails the test's expectations when a send would pass this (checked in `send`). */
  limit = HIGH_WATER_MARK;
  overLimit = false;
  readonly #drainListeners = new Set<() => void>();

  send(frame: ArrayBuffer): boolean {
    if (!this.open) return false;
    this.frames.push(frame);
    this.bufferedAmount += frame.byteLength;
    if (this.bufferedAmount > this.limit) this.overLimit = true;
    return true;
  }

  sendControl(message: TransferControl): boolean {
    if (!this.open) return false;
    this.controls.push(message);
    return true;
  }

  onDrain(listener: () => void): () => void {
    const once = () => listener();
    this.#drainListeners.add(once);
    return () => this.#drainListeners.delete(once);
  }

  get drainListeners(): number {
    return this.#drainListeners.size;
  }

  /** The network took everything but `left` bytes; drain listeners fire. */
  drain(left = 0): void {
    this.bufferedAmount = left;
    for (const listener of [...this.#drainListeners]) listener();
  }

  /** Control messages of one type. */
  sent<T extends TransferControl['type']>(type: T): Extract<TransferControl, { type: T }>[] {
    return this.controls.filter((m): m is Extract<TransferControl, { type: T }> => m.type === type);
  }
}

/** Lets pending promise callbacks and macrotasks run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await new Promise((resolve) => setImmediate(resolve));
}
