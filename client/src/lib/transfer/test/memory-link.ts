/**
 * Test helper: an in-memory link between two peers, standing in for a data channel. Each end is a
 * `ChunkChannel` with a simulated send buffer: frames queue (raising `bufferedAmount`), a simulated
 * network delivers `bytesPerTick` per macrotask in order, and drain listeners fire when the buffer
 * falls to the low-water mark, like `bufferedamountlow`. Control messages cross as JSON and are
 * validated with the real `parseTransferControl`, in order with the chunks (one channel) or ahead
 * of them (`controlInBand: false`: a separate channel). `cut()` drops the link and what is in flight.
 */
import { parseTransferControl, type TransferControl } from '../../../../../shared/transfer-protocol.js';
import { LOW_WATER_MARK, type ChunkChannel } from '../chunk-channel.js';

export interface MemoryLinkOptions {
  lowWaterMark?: number;
  bytesPerTick?: number;
  controlInBand?: boolean;
}

/** What an end does with what arrives (usually a TransferRouter's handlers). */
export interface MemoryEndHandlers {
  chunk(frame: ArrayBuffer): void;
  control(message: TransferControl): void;
}

export type Item = { kind: 'chunk'; frame: ArrayBuffer } | { kind: 'control'; text: string };

export class MemoryLink {
  readonly a: MemoryEnd;
  readonly b: MemoryEnd;

  constructor(options: MemoryLinkOptions = {}) {
    this.a = new MemoryEnd(options);
    this.b = new MemoryEnd(options);
    this.a.peer = this.b;
    this.b.peer = this.a;
  }

  /** The link drops: both ends close, and everything in flight is lost. */
  cut(): void {
    this.a.close();
    this.b.close();
  }
}

export class MemoryEnd implements ChunkChannel {
  peer: MemoryEnd | null = null;
  handlers: MemoryEndHandlers | null = null;
  /** Changes or drops (returns `false`) a frame before it is delivered: a faulty or hostile path. */
  tamper: ((frame: Uint8Array, index: number) => boolean) | null = null;
  bufferedAmount = 0;
  /** The most ever queued at once. */
  peakBuffered = 0;
  /** Chunk frames sent, and their payload bytes. */
  framesSent = 0;
  bytesSent = 0;
  /** Control messages sent, in order. */
  readonly controlSent: TransferControl[] = [];
  open = true;
  readonly #lowWaterMark: number;
  readonly #bytesPerTick: number;
  readonly #controlInBand: boolean;
  readonly #queue: Item[] = [];
  readonly #drainListeners = new Set<() => void>();
  #scheduled = false;
  /** Chunk frames that arrived at this end. */
  #received = 0;

  constructor(options: MemoryLinkOptions) {
    this.#lowWaterMark = options.lowWaterMark ?? LOW_WATER_MARK;
    this.#bytesPerTick = options.bytesPerTick ?? 1024 * 1024;
    this.#controlInBand = options.controlInBand ?? true;
  }

  send(frame: ArrayBuffer): boolean {
    if (!this.open) return false;
    this.framesSent += 1;
    this.bytesSent += frame.byteLength - 24;
    this.#enqueue({ kind: 'chunk', frame }, frame.byteLength);
    return true;
  }

  sendControl(message: TransferControl): boolean {
    if (!this.open) return false;
    this.controlSent.push(message);
    const text = JSON.stringify(message);
    if (this.#controlInBand) this.#enqueue({ kind: 'control', text }, text.length);
    else setImmediate(() => this.open && this.peer?.deliver({ kind: 'control', text }));
    return true;
  }

  onDrain(listener: () => void): () => void {
    const once = () => listener();
    this.#drainListeners.add(once);
    return () => this.#drainListeners.delete(once);
  }

  close(): void {
    this.open = false;
    this.#queue.length = 0;
    this.bufferedAmount = 0;
    this.#drainListeners.clear();
  }

  #enqueue(item: Item, size: number): void {
    this.#queue.push(item);
    this.bufferedAmount += size;
    this.peakBuffered = Math.max(this.peakBuffered, this.bufferedAmount);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#tick());
    }
  }

  #tick(): void {
    this.#scheduled = false;
    if (!this.open) return;
    const before = this.bufferedAmount;
    let budget = this.#bytesPerTick;
    while (budget > 0 && this.#queue.length > 0 && this.open) {
      const item = this.#queue.shift()!;
      const size = item.kind === 'chunk' ? item.frame.byteLength : item.text.length;
      this.bufferedAmount -= size;
      budget -= size;
      this.peer?.deliver(item);
    }
    if (!this.open) return;
    if (before > this.#lowWaterMark && this.bufferedAmount <= this.#lowWaterMark)
      for (const listener of [...this.#drainListeners]) listener();
    if (this.#queue.length > 0 && !this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#tick());
    }
  }

  /** Called by the other end's simulated network. */
  deliver(item: Item): void {
    if (!this.open || !this.handlers) return;
    if (item.kind === 'chunk') {
      const index = this.#received++;
      if (this.tamper && !this.tamper(new Uint8Array(item.frame), index)) return;
      this.handlers.chunk(item.frame);
      return;
    }
    const parsed = parseTransferControl(item.text);
    if (parsed.ok) this.handlers.control(parsed.value);
  }
}
