/**
 * What `bench:transfer` runs inside the pages. Each function travels to the page as source text
 * (`page.evaluate`, `addInitScript`), so it uses nothing from its module scope but types.
 */
import type { PeerMessage } from '../shared/peer-protocol.js';
import type { FloorHooks } from './bench-app.js';

/** What the bench keeps on `window.__bench` in a page. */
interface BenchGlobals {
  /** When the last "Accept" button was clicked (the receiver's start of a transfer). */
  acceptedAt?: number;
  /** When a file was last picked through the file input (the sender's start of hashing). */
  pickedAt?: number;
  raw?: { expected: number; received: number };
  rawPings?: RTCDataChannel;
  oneWay?: number[];
  stopLag?: () => number[];
  stopRawPings?: () => number[];
  pings?: { stop(): PingResults };
}

export interface PingResults {
  /** ms from sending to the first `chat_ack` (the receiving page's echo, sent at once). */
  echo: number[];
  /** ms from sending to the app's own `chat_ack` (after storing the message, batched). */
  app: number[];
  /** Messages without an echo when the pings stopped. */
  unanswered: number;
  /** ms from sending to the receiving page's handler (filled in by the bench from `takeOneWay`). */
  oneWay?: number[];
}

/**
 * Init script of both pages: `showSaveFilePicker` returns a file of the Origin Private File System
 * (so the receiver's DiskSink streams into a real file through `createWritable`, with no dialog),
 * and clicks on "Accept" and picks on a file input are timed.
 */
export function installPageHooks(): void {
  Object.defineProperty(window, 'showSaveFilePicker', {
    configurable: true,
    value: async (options: { suggestedName?: string } = {}) => {
      const root = await navigator.storage.getDirectory();
      return root.getFileHandle(options.suggestedName ?? 'download', { create: true });
    },
  });
  const globals = ((window as unknown as { __bench?: BenchGlobals }).__bench ??= {});
  window.addEventListener(
    'click',
    (event) => {
      const button = (event.target as Element | null)?.closest?.('button');
      if (button?.textContent?.trim() === 'Accept') globals.acceptedAt = performance.now();
    },
    true,
  );
  window.addEventListener(
    'change',
    (event) => {
      if ((event.target as HTMLInputElement | null)?.type === 'file') globals.pickedAt = performance.now();
    },
    true,
  );
}

/**
 * Resolves with `performance.now()` once the transfer card shows file `name` in `state`
 * (`li.file[data-state]`), at once if it does already.
 */
export function fileStateAt({ name, state }: { name: string; state: string }): Promise<number> {
  const find = () =>
    [...document.querySelectorAll(`li.file[data-state="${state}"]`)].some(
      (li) => li.querySelector('.name')?.textContent === name,
    );
  return new Promise((resolve, reject) => {
    if (find()) return resolve(performance.now());
    const failed = () =>
      [...document.querySelectorAll('li.file[data-state="failed"], li.file[data-state="cancelled"]')].some(
        (li) => li.querySelector('.name')?.textContent === name,
      );
    const observer = new MutationObserver(() => {
      if (find()) {
        observer.disconnect();
        resolve(performance.now());
      } else if (failed()) {
        observer.disconnect();
        reject(new Error(`${name} failed or was cancelled`));
      }
    });
    // Only what can change a file's state: progress updates change other attributes and text.
    observer.observe(document.body, { subtree: true, childList: true, attributeFilter: ['data-state'] });
  });
}

export function acceptedAt(): number | undefined {
  return (window as unknown as { __bench?: BenchGlobals }).__bench?.acceptedAt;
}

export function pickedAt(): number | undefined {
  return (window as unknown as { __bench?: BenchGlobals }).__bench?.pickedAt;
}

/** Size of a file in the Origin Private File System, which is then removed; -1 when missing. */
export async function takeOpfsFile(name: string): Promise<number> {
  const root = await navigator.storage.getDirectory();
  let size = -1;
  try {
    size = (await (await root.getFileHandle(name)).getFile()).size;
  } catch {
    return size;
  }
  await root.removeEntry(name);
  return size;
}

// ---- chat round trips ----------------------------------------------------------------------------

/**
 * In the receiving page: acknowledges the bench's chat messages at once, on the link they came on,
 * and keeps how long each took to come (the sender's clock is in the text: both pages read one clock).
 */
export function echoPings(): void {
  const peers = window.__parley!.peers;
  const globals = ((window as unknown as { __bench?: BenchGlobals }).__bench ??= {});
  globals.oneWay = [];
  peers.on('message', ({ friendId, connectionId, message }) => {
    if (message.type !== 'chat_message' || !message.text.startsWith('bench ping')) return;
    peers.sendTo(friendId, connectionId, { type: 'chat_ack', ids: [message.id] });
    const sentAt = Number(message.text.split(' ').at(-1));
    globals.oneWay?.push(performance.timeOrigin + performance.now() - sentAt);
  });
}

/** The one-way times `echoPings` kept since the last call. */
export function takeOneWay(): number[] {
  const globals = (window as unknown as { __bench?: BenchGlobals }).__bench;
  const oneWay = globals?.oneWay ?? [];
  if (globals) globals.oneWay = [];
  return oneWay;
}

/**
 * In the sending page: a chat message to `friendId` every `intervalMs` (through the peer network,
 * as the chat sends them) until `stopPings`; times the echo and the app's own ack of each.
 */
export function startPings({ friendId, intervalMs }: { friendId: string; intervalMs: number }): void {
  const peers = window.__parley!.peers;
  const globals = ((window as unknown as { __bench?: BenchGlobals }).__bench ??= {});
  const sent = new Map<string, { at: number; acks: number }>();
  const echo: number[] = [];
  const app: number[] = [];
  let seq = Number(sessionStorage.getItem('bench-seq') ?? 0);
  const off = peers.on('message', ({ friendId: from, message }) => {
    if (from !== friendId || message.type !== 'chat_ack') return;
    const now = performance.now();
    for (const id of message.ids) {
      const ping = sent.get(id);
      if (!ping) continue;
      ping.acks += 1;
      (ping.acks === 1 ? echo : app).push(now - ping.at);
      if (ping.acks === 2) sent.delete(id);
    }
  });
  const timer = setInterval(() => {
    const id = crypto.randomUUID();
    seq += 1;
    const message: PeerMessage = {
      type: 'chat_message',
      id,
      seq,
      ts: Date.now(),
      text: `bench ping ${seq} ${performance.timeOrigin + performance.now()}`,
    };
    sent.set(id, { at: performance.now(), acks: 0 });
    peers.send(friendId, message);
  }, intervalMs);
  globals.pings = {
    stop() {
      clearInterval(timer);
      off();
      sessionStorage.setItem('bench-seq', String(seq));
      const unanswered = [...sent.values()].filter((ping) => ping.acks === 0).length;
      return { echo, app, unanswered };
    },
  };
}

export function stopPings(): PingResults {
  const pings = (window as unknown as { __bench?: BenchGlobals }).__bench?.pings;
  if (!pings) throw new Error('no pings running');
  return pings.stop();
}

// ---- raw ceiling: the bare floor pair ------------------------------------------------------------

/** In the receiving floor page: counts the next `expected` bytes, then says `done`. */
export function expectRaw(expected: number): void {
  const channel = (window as unknown as { __floor: FloorHooks }).__floor.channel();
  if (!channel) throw new Error('floor: no channel');
  const globals = ((window as unknown as { __bench?: BenchGlobals }).__bench ??= {});
  const raw = { expected, received: 0 };
  globals.raw = raw;
  channel.binaryType = 'arraybuffer';
  channel.onmessage = (event: MessageEvent<ArrayBuffer>) => {
    raw.received += event.data.byteLength;
    if (raw.received === raw.expected) channel.send('done');
  };
}

/**
 * In the sending floor page: pushes `bytes` in messages of `chunk` bytes, keeping between `low` and
 * `high` bytes queued (`bufferedamountlow`); resolves with the ms until the receiver's `done`.
 */
export async function pushRaw({
  bytes,
  chunk,
  high,
  low,
}: {
  bytes: number;
  chunk: number;
  high: number;
  low: number;
}): Promise<number> {
  const channel = (window as unknown as { __floor: FloorHooks }).__floor.channel();
  if (!channel) throw new Error('floor: no channel');
  // Woken at `low`, it must then have room for a chunk (as Parley's sender checks).
  if (high - low < chunk) throw new Error(`queued ${high}:${low} leaves no room for a ${chunk}-byte chunk`);
  const payload = new Uint8Array(chunk);
  // getRandomValues fills at most 64 KiB at a time.
  for (let i = 0; i < chunk; i += 65_536) crypto.getRandomValues(payload.subarray(i, i + 65_536));
  channel.bufferedAmountLowThreshold = low;
  const done = new Promise<void>((resolve) => {
    channel.onmessage = (event) => {
      if (event.data === 'done') resolve();
    };
  });
  const t0 = performance.now();
  let sent = 0;
  await new Promise<void>((resolve, reject) => {
    const pump = () => {
      try {
        while (sent < bytes && channel.bufferedAmount + chunk <= high) {
          const length = Math.min(chunk, bytes - sent);
          channel.send(length === chunk ? payload : payload.subarray(0, length));
          sent += length;
        }
      } catch (error) {
        reject(error as Error);
      }
      if (sent < bytes) return;
      channel.onbufferedamountlow = null;
      resolve();
    };
    channel.onbufferedamountlow = pump;
    pump();
  });
  await done;
  return performance.now() - t0;
}

/**
 * In both floor pages: a second channel on the pair beside the one that carries the bytes (as
 * Parley's chat channel is beside its file channel), negotiated with the same id on both sides;
 * the receiving page (`echo`) sends back whatever comes. Resolves when it is open.
 */
export function openRawPingChannel(echo: boolean): Promise<void> {
  const pc = (window as unknown as { __floor: FloorHooks }).__floor.connection();
  if (!pc) throw new Error('floor: no connection');
  const channel = pc.createDataChannel('pings', { negotiated: true, id: 100 });
  ((window as unknown as { __bench?: BenchGlobals }).__bench ??= {}).rawPings = channel;
  if (echo) channel.onmessage = (event) => channel.send(event.data as string);
  return new Promise((resolve) => {
    if (channel.readyState === 'open') resolve();
    else channel.onopen = () => resolve();
  });
}

/** In the sending floor page: a message every `intervalMs` on the ping channel, timed until its echo. */
export function startRawPings(intervalMs: number): void {
  const globals = ((window as unknown as { __bench?: BenchGlobals }).__bench ??= {});
  const channel = globals.rawPings;
  if (!channel) throw new Error('no ping channel');
  const rtt: number[] = [];
  channel.onmessage = (event) => rtt.push(performance.now() - Number(event.data));
  const timer = setInterval(() => channel.send(String(performance.now())), intervalMs);
  globals.stopRawPings = () => {
    clearInterval(timer);
    channel.onmessage = null;
    return rtt;
  };
}

export function stopRawPings(): number[] {
  const stop = (window as unknown as { __bench?: BenchGlobals }).__bench?.stopRawPings;
  if (!stop) throw new Error('no raw pings running');
  return stop();
}

// ---- main-thread lag -----------------------------------------------------------------------------

/** Starts timing how late a 20 ms timer fires in this page: how long its main thread is blocked. */
export function startLagProbe(): void {
  const globals = ((window as unknown as { __bench?: BenchGlobals }).__bench ??= {});
  const lags: number[] = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    lags.push(Math.max(0, now - last - 20));
    last = now;
  }, 20);
  globals.stopLag = () => {
    clearInterval(timer);
    return lags;
  };
}

export function stopLagProbe(): number[] {
  const stop = (window as unknown as { __bench?: BenchGlobals }).__bench?.stopLag;
  if (!stop) throw new Error('no lag probe running');
  return stop();
}
