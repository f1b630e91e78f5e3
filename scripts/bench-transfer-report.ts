/** The figures `bench:transfer` collects, and how it prints them. */
import type { MemoryReport, MemorySample } from './bench-process.js';
import { addCpu } from './bench-process.js';
import type { ProfileLine } from './bench-profile.js';
import { summary } from './bench-stats.js';
import type { PingResults } from './bench-transfer-page.js';

const MiB = 1024 * 1024;

/** One push on the bare pair. */
export interface RawRun {
  chunk: number;
  high: number;
  low: number;
  mbps: number;
  /** CPU ms per thread of every Chromium process during the push. */
  cpu: Map<string, number>;
  /** Round trips on the pair's second channel meanwhile. */
  pings: number[];
}

/** One file through the app. */
export interface ParleyRun {
  mbps: number;
  /** CPU ms per thread of every Chromium process, from Accept to Verified. */
  cpu: Map<string, number>;
  hashMs: number;
  pingsHashing: PingResults | null;
  pings: PingResults | null;
  /** How late a 20 ms timer fired on each page during the transfer (with the pings). */
  lag: { sender: number[]; receiver: number[] } | null;
  memory: MemoryReport | null;
  profiles: { sender: ProfileLine[]; receiver: ProfileLine[] } | null;
}

export interface Figures {
  /** File sizes and what the sweep pushed each time, in bytes; the chat's message interval. */
  size: number;
  small: number;
  sweepBytes: number;
  pingIntervalMs: number;
  sweep: RawRun[];
  best: number;
  raw: RawRun[];
  idle: PingResults;
  big: ParleyRun[];
  /** One more run of the big size, with a chat message every `pingIntervalMs`. */
  chat: ParleyRun;
  smallRuns: ParleyRun[];
  profiled: ParleyRun | null;
}

export const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);
const median = (values: number[]) => summary(values).p50;
export const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;
const kib = (bytes: number) => `${bytes / 1024} KiB`;
const list = (values: number[]) => values.map((v) => v.toFixed(1)).join(', ');

function rttText(samples: number[]): string {
  const { p50, p99, n } = summary(samples);
  return `p50 ${p50.toFixed(1).padStart(6)} ms   p99 ${p99.toFixed(1).padStart(6)} ms   (n=${n})`;
}

function rttRow(label: string, samples: number[], extra = ''): string {
  return `  ${label.padEnd(40)} ${rttText(samples)}${extra}`;
}

function memoryRows(label: string, reports: MemoryReport[]): string[] {
  const measures: Array<[string, keyof MemorySample]> = [
    ['JS heap', 'heap'],
    ['ArrayBuffers', 'buffers'],
    ['renderer RSS', 'rss'],
  ];
  return measures.map(([name, key]) => {
    const growth = reports.map((r) => r.peak[key] - r.baseline[key]);
    const baselines = reports.map((r) => r.baseline[key]);
    const peaks = reports.map((r) => r.peak[key]);
    return (
      `  ${label.padEnd(9)} ${name.padEnd(13)} baseline ${mib(median(baselines)).padStart(10)}` +
      `   peak ${mib(Math.max(...peaks)).padStart(10)}   growth ${mib(Math.max(...growth)).padStart(9)}` +
      ` (max of ${reports.length})`
    );
  });
}

function profileRows(label: string, lines: ProfileLine[]): string[] {
  return [
    `  ${label}:`,
    ...lines.map(
      (l) => `    ${(100 * l.share).toFixed(1).padStart(5)}%  ${l.ms.toFixed(0).padStart(6)} ms  ${l.name}`,
    ),
  ];
}

/** CPU ms per MiB by thread over `runs` of `bytes` each: the `top` threads and the total. */
function cpuRows(label: string, runs: Array<{ cpu: Map<string, number> }>, bytes: number, top = 8): string[] {
  const total = new Map<string, number>();
  for (const run of runs) addCpu(total, run.cpu);
  const perMiB = (ms: number) => ms / ((runs.length * bytes) / MiB);
  const sum = [...total.values()].reduce((x, y) => x + y, 0);
  const threads = [...total].sort((x, y) => y[1] - x[1]).slice(0, top);
  return [
    `  ${label}: ${perMiB(sum).toFixed(1)} CPU ms per MiB in all, by thread:`,
    ...threads.map(([thread, ms]) => `    ${perMiB(ms).toFixed(2).padStart(7)}  ${thread}`),
  ];
}

function pingRows(label: string, results: PingResults[]): string[] {
  const unanswered = results.reduce((sum, r) => sum + r.unanswered, 0);
  return [
    rttRow(
      `${label}, echo`,
      results.flatMap((r) => r.echo),
      `, ${unanswered} unanswered at stop`,
    ),
    rttRow(
      `${label}, one way`,
      results.flatMap((r) => r.oneWay ?? []),
    ),
    rttRow(
      `${label}, app's ack`,
      results.flatMap((r) => r.app),
    ),
  ];
}

export function report(f: Figures): string {
  const rawMbps = median(f.raw.map((r) => r.mbps));
  const parleyMbps = median(f.big.map((r) => r.mbps));
  const hashMs = median(f.big.map((r) => r.hashMs));
  const chatPings = (key: 'pings' | 'pingsHashing') => (f.chat[key] ? [f.chat[key]] : []);
  const lines = [
    `raw sweep, ${mib(f.sweepBytes)} each (chunk, queued high:low, round trips on a second channel):`,
    ...f.sweep.map(
      (r) =>
        `  ${kib(r.chunk).padStart(8)} ${`${kib(r.high)}:${kib(r.low)}`.padStart(18)} ` +
        `${r.mbps.toFixed(1).padStart(6)} MB/s   ${rttText(r.pings)}`,
    ),
    `raw ceiling, ${kib(f.best)} chunks: ${rawMbps.toFixed(1)} MB/s  (runs: ${list(f.raw.map((r) => r.mbps))})`,
    `parley, ${mib(f.size)} verified to disk: ${parleyMbps.toFixed(1)} MB/s  (runs: ${list(f.big.map((r) => r.mbps))})`,
    `ratio parley / raw: ${(parleyMbps / rawMbps).toFixed(2)}`,
    `parley, ${mib(f.size)} with a chat message every ${f.pingIntervalMs} ms: ${f.chat.mbps.toFixed(1)} MB/s`,
    `parley, ${mib(f.small)}: ${median(f.smallRuns.map((r) => r.mbps)).toFixed(1)} MB/s  (runs: ${list(f.smallRuns.map((r) => r.mbps))})`,
    `sender's SHA-256 before the offer, ${mib(f.size)}: ${hashMs.toFixed(0)} ms (${mbps(f.size, hashMs).toFixed(0)} MB/s)`,
    '',
    'CPU time of every Chromium process (the machine may be busy with more: this is what the work costs):',
    ...cpuRows(`raw, ${kib(f.best)} chunks`, f.raw, f.size),
    ...cpuRows('parley', f.big, f.size),
    ...cpuRows(`parley with a chat message every ${f.pingIntervalMs} ms`, [f.chat], f.size),
    '',
    `chat round trips, a message every ${f.pingIntervalMs} ms:`,
    rttRow(
      'raw pair, second channel',
      f.raw.flatMap((r) => r.pings),
    ),
    ...pingRows('no transfer', [f.idle]),
    ...pingRows("sender's hashing", chatPings('pingsHashing')),
    ...pingRows(`during a ${mib(f.size)} transfer`, chatPings('pings')),
    rttRow("  sender's main thread lag (20 ms timer)", f.chat.lag?.sender ?? []),
    rttRow("  receiver's main thread lag", f.chat.lag?.receiver ?? []),
    '',
    'receiving page memory, peak minus baseline (after a full GC) during the transfer:',
    ...memoryRows(
      mib(f.small),
      f.smallRuns.flatMap((r) => r.memory ?? []),
    ),
    ...memoryRows(
      mib(f.size),
      f.big.flatMap((r) => r.memory ?? []),
    ),
  ];
  if (f.profiled?.profiles) {
    lines.push(
      '',
      `CPU profile of one ${mib(f.size)} transfer (${f.profiled.mbps.toFixed(1)} MB/s), self time:`,
      ...profileRows('sender page', f.profiled.profiles.sender),
      ...profileRows('receiver page', f.profiled.profiles.receiver),
    );
  }
  return ['', ...lines].join('\n');
}

/** `--parley-only`: throughput, CPU and the receiver's memory of `runs` transfers of `size` bytes. */
export function parleyOnlyReport(size: number, runs: ParleyRun[]): string {
  const lines = [
    `parley, ${mib(size)} verified to disk: ${median(runs.map((r) => r.mbps)).toFixed(1)} MB/s` +
      `  (runs: ${list(runs.map((r) => r.mbps))})`,
    `sender's SHA-256 before the offer: ${mbps(size, median(runs.map((r) => r.hashMs))).toFixed(0)} MB/s`,
    ...cpuRows('parley', runs, size),
    'receiving page memory, peak minus baseline (after a full GC) during the transfer:',
    ...memoryRows(
      mib(size),
      runs.flatMap((r) => r.memory ?? []),
    ),
  ];
  return ['', ...lines].join('\n');
}
