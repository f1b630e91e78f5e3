/**
 * The browser's processes while something runs, from Node:
 * - memory of one page: its JS heap and ArrayBuffer backing store (CDP `Runtime.getHeapUsage`) and
 *   the resident set of its renderer process (`/proc/<pid>/status`), sampled periodically;
 * - CPU time of every thread of every Chromium process (`/proc/<pid>/task/<tid>/stat`), which tells
 *   where the work goes (a page's main thread, its WebRTC network thread, the browser's file I/O)
 *   whatever else loads the machine.
 * Linux only for what comes from /proc (elsewhere it reads as unknown or empty).
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Browser, CDPSession, Page } from 'playwright-core';

export interface MemorySample {
  /** Bytes used in the JS heap. */
  heap: number;
  /** Bytes of ArrayBuffer backing stores (file chunks live there, outside the JS heap). */
  buffers: number;
  /** Resident set of the page's renderer process, NaN when unknown. */
  rss: number;
}

const MiB = 1024 * 1024;

/** VmRSS of a process in bytes; NaN when it cannot be read. */
function residentSet(pid: number | null): number {
  if (pid === null) return NaN;
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

async function rendererPids(session: CDPSession): Promise<number[]> {
  const { processInfo } = await session.send('SystemInfo.getProcessInfo');
  return processInfo.filter((info) => info.type === 'renderer').map((info) => info.id);
}

/**
 * The pid of `page`'s renderer: the page touches 128 MiB, and the renderer whose resident set grows
 * by at least half of that is the one (CDP names renderer pids but not which page each runs).
 * `null` when none or several grew.
 */
export async function findRenderer(browser: Browser, page: Page): Promise<number | null> {
  const session = await browser.newBrowserCDPSession();
  try {
    const pids = await rendererPids(session);
    const before = new Map(pids.map((pid) => [pid, residentSet(pid)]));
    await page.evaluate((bytes) => {
      const marker = new Uint8Array(bytes);
      marker.fill(1);
      (window as unknown as { __marker?: Uint8Array }).__marker = marker;
    }, 128 * MiB);
    const grown = pids.filter((pid) => residentSet(pid) - (before.get(pid) ?? NaN) > 64 * MiB);
    await page.evaluate(() => delete (window as unknown as { __marker?: Uint8Array }).__marker);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('HeapProfiler.collectGarbage');
    await cdp.detach();
    return grown.length === 1 ? grown[0]! : null;
  } finally {
    await session.detach();
  }
}

export interface MemoryReport {
  baseline: MemorySample;
  peak: MemorySample;
  samples: number;
}

/** Samples a page's memory every `intervalMs` between `start` and `stop`; peaks are per measure. */
export class MemoryWatch {
  readonly #cdp: CDPSession;
  readonly #pid: number | null;
  #timer: ReturnType<typeof setInterval> | null = null;
  #baseline: MemorySample | null = null;
  #peak: MemorySample = { heap: 0, buffers: 0, rss: NaN };
  #samples = 0;
  #inFlight: Promise<void> = Promise.resolve();

  private constructor(cdp: CDPSession, pid: number | null) {
    this.#cdp = cdp;
    this.#pid = pid;
  }

  static async open(page: Page, pid: number | null): Promise<MemoryWatch> {
    return new MemoryWatch(await page.context().newCDPSession(page), pid);
  }

  async sample(): Promise<MemorySample> {
    const usage = await this.#cdp.send('Runtime.getHeapUsage');
    return { heap: usage.usedSize, buffers: usage.backingStorageSize, rss: residentSet(this.#pid) };
  }

  /** The baseline after a full garbage collection, then a sample every `intervalMs`. */
  async start(intervalMs = 100): Promise<void> {
    await this.#cdp.send('HeapProfiler.collectGarbage');
    const baseline = await this.sample();
    this.#baseline = baseline;
    this.#peak = { ...baseline };
    this.#samples = 1;
    this.#timer = setInterval(() => {
      // One sample at a time: a busy renderer answers late, and samples must not pile up.
      this.#inFlight = this.#inFlight.then(async () => {
        const sample = await this.sample().catch(() => null);
        if (!sample) return;
        this.#samples += 1;
        this.#peak = {
          heap: Math.max(this.#peak.heap, sample.heap),
          buffers: Math.max(this.#peak.buffers, sample.buffers),
          rss: Math.max(this.#peak.rss, sample.rss),
        };
      });
    }, intervalMs);
  }

  async stop(): Promise<MemoryReport> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#inFlight;
    if (!this.#baseline) throw new Error('memory watch not started');
    return { baseline: this.#baseline, peak: this.#peak, samples: this.#samples };
  }

  async close(): Promise<void> {
    await this.#cdp.detach().catch(() => {});
  }
}

// ---- CPU time per thread --------------------------------------------------------------------------

export interface ProcessLabel {
  pid: number;
  /** e.g. `sender`, `receiver`, `browser`, `utility`. */
  label: string;
}

/** Every Chromium process, named by `named` where it lists the pid, else by its CDP type. */
export async function browserProcesses(browser: Browser, named: ProcessLabel[]): Promise<ProcessLabel[]> {
  const session = await browser.newBrowserCDPSession();
  try {
    const { processInfo } = await session.send('SystemInfo.getProcessInfo');
    return processInfo.map((info) => ({
      pid: info.id,
      label: named.find((n) => n.pid === info.id)?.label ?? info.type,
    }));
  } finally {
    await session.detach();
  }
}

/** Linux's USER_HZ: /proc counts CPU time in hundredths of a second. */
const MS_PER_TICK = 10;

/** CPU ms so far of the threads of `processes`, summed by `label thread-name`. */
export function threadCpu(processes: ProcessLabel[]): Map<string, number> {
  const times = new Map<string, number>();
  for (const { pid, label } of processes) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      let stat: string;
      try {
        stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      } catch {
        continue;
      }
      // `pid (comm) state ...`: the name may hold spaces and parentheses; fields follow the last `)`.
      const close = stat.lastIndexOf(')');
      const name = stat.slice(stat.indexOf('(') + 1, close);
      const fields = stat.slice(close + 2).split(' ');
      const ms = (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK;
      const key = `${label} ${name}`;
      times.set(key, (times.get(key) ?? 0) + ms);
    }
  }
  return times;
}

/** CPU ms per thread name between two `threadCpu` readings, most first (threads gone count as 0). */
export function cpuSpent(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const spent = new Map<string, number>();
  for (const [key, ms] of after) {
    const delta = ms - (before.get(key) ?? 0);
    if (delta > 0) spent.set(key, delta);
  }
  return new Map([...spent].sort((x, y) => y[1] - x[1]));
}

/** Adds `more` into `total` (CPU ms per thread name). */
export function addCpu(total: Map<string, number>, more: Map<string, number>): void {
  for (const [key, ms] of more) total.set(key, (total.get(key) ?? 0) + ms);
}
