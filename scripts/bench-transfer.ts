/**
 * File transfer on loopback: Parley's verified, streamed-to-disk transfer against the raw ceiling of
 * a bare data channel, chat round trips during the transfer, and the receiving page's memory.
 *
 *   npm run bench:transfer -- [MiB=256] [--runs=3] [--small=64] [--raw-chunks=16,64,256]
 *                             [--raw-marks=4096:1024,...] [--profile]
 *   npm run bench:transfer -- 4352 --parley-only [--runs=1]
 *
 * One run: the real signaling server (memory store) serving the built client (built first when
 * missing or older than the sources), Debian's Chromium, two users in two contexts, signed up and
 * made friends through the API, both pages open with `?debug`, the chat open on both (Direct).
 *
 * - raw ceiling: a bare RTCPeerConnection pair between the same two pages (signaling relayed by this
 *   process, as in bench:connect), one data channel pushing MiB bytes from one page with flow control
 *   on `bufferedAmount` (at most HIGH_WATER_MARK queued, refilled on `bufferedamountlow` at
 *   LOW_WATER_MARK, as Parley's sender). The receiver counts bytes and says `done`; the time is from
 *   the first send to `done`. The chunk size is the best of a sweep (a quarter-size run for each
 *   `--raw-chunks` KiB and `--raw-marks` high:low KiB). Meanwhile a second channel of the pair
 *   carries a message every 50 ms, echoed at once: the chat round trip a bare pair allows.
 * - parley: the same size as a real file of random bytes picked through the chat's file input
 *   (`setInputFiles`) and accepted on the receiver's card: simple-peer's link, the file channel,
 *   TransferSender/TransferReceiver, SHA-256 with hash-wasm on both sides, DiskSink. The receiving
 *   page's `showSaveFilePicker` returns a file of its Origin Private File System, so the file really
 *   streams to disk through `createWritable`; after each run its size is checked and it is removed.
 *   Timed in the receiving page from the click on Accept to the card's "Verified". The sender's
 *   hashing before the offer (file picked to offered) is reported apart.
 * - chat round trips: in one more run of MiB, every 50 ms the sending page sends a chat message
 *   through the peer network (`__parley.peers.send`, as the chat does) and times the `chat_ack`s.
 *   The receiving page answers each at once on the link it came from (the echo: the channel's round
 *   trip, which a transfer can slow; also timed one way, both pages reading one clock), and its
 *   chat stores the message and acknowledges it too (the app's ack: adds IndexedDB and the chat's
 *   25 ms ack batching). Without a transfer, during the sender's hashing, during the transfer; and
 *   how late a 20 ms timer fires on each page meanwhile (main-thread blocking).
 * - receiver memory: the receiving page's JS heap and ArrayBuffer backing store (CDP
 *   `Runtime.getHeapUsage`) and its renderer's resident set (`/proc/<pid>/status`; the renderer is
 *   found by touching 128 MiB in the page), after a full GC before Accept, then every 100 ms; peak
 *   minus that baseline, for MiB and for `--small` MiB: flat means the growth does not scale.
 * - CPU: the time of every thread of every Chromium process over the measured runs, per MiB
 *   (`/proc/<pid>/task/<tid>/stat`): what the work costs, whatever else keeps the machine busy.
 *
 * Warm-up first (the first transfer on a fresh connection is slower): 16 MiB raw and through Parley.
 * Medians of `--runs`. `--profile` adds one Parley run, with the chat messages going, with a CPU
 * profile of both pages (their heaviest functions by self time; for readable names build with
 * `npx vite build --minify false --outDir /tmp/bench-dist` and run with `STATIC_DIR=/tmp/bench-dist`).
 * `--parley-only`: only Parley's runs of MiB, with the receiver's memory (no raw pair, no chat, no
 * small runs): for very large files (4352 MiB is past 2^32 bytes). The receiving page then runs in a
 * browser of its own with a persistent profile, so its Origin Private File System is on disk (off
 * the record it lives in memory, and its quota ends a 4 GiB file: "exceed its storage quota").
 * Needs the file's size free on disk three times (the source, the received file, its swap file).
 *
 * Prints figures; asserts nothing (shared, noisy machines).
 */
import { randomFillSync } from 'node:crypto';
import { link, mkdtemp, open, rm, stat } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { HIGH_WATER_MARK, LOW_WATER_MARK } from '../client/src/lib/transfer/chunk-channel.js';
import { launchBrowser, launchPersistentContext } from '../e2e/chromium.js';
import {
  befriend,
  buildClientIfStale,
  closeFloor,
  connectFloor,
  offerFloor,
  openDebugPages,
  signUp,
  startBenchServer,
  type BenchUser,
  type FloorHooks,
} from './bench-app.js';
import {
  browserProcesses,
  cpuSpent,
  findRenderer,
  MemoryWatch,
  threadCpu,
  type ProcessLabel,
} from './bench-process.js';
import { PageProfile } from './bench-profile.js';
import { mbps, mib, parleyOnlyReport, report, type ParleyRun, type RawRun } from './bench-transfer-report.js';
import {
  acceptedAt,
  echoPings,
  expectRaw,
  fileStateAt,
  installPageHooks,
  openRawPingChannel,
  pickedAt,
  pushRaw,
  startPings,
  startRawPings,
  stopPings,
  stopRawPings,
  startLagProbe,
  stopLagProbe,
  takeOneWay,
  takeOpfsFile,
  type PingResults,
} from './bench-transfer-page.js';

const MiB = 1024 * 1024;
const WARMUP_BYTES = 16 * MiB;
const PING_INTERVAL_MS = 50;
const BASELINE_PINGS_MS = 5_000;

function option(name: string, fallback: string): string {
  const prefix = `--${name}=`;
  return process.argv.find((arg) => arg.startsWith(prefix))?.slice(prefix.length) ?? fallback;
}

const positional = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const SIZE = Number(positional[0] ?? 256) * MiB;
const SMALL = Number(option('small', '64')) * MiB;
const RUNS = Number(option('runs', '3'));
const RAW_CHUNKS = option('raw-chunks', '16,64,256')
  .split(',')
  .map((k) => Number(k) * 1024);
/** Flow control marks (`high:low` KiB) for the raw sweep; the measured runs use Parley's. */
const RAW_MARKS = option('raw-marks', `${HIGH_WATER_MARK / 1024}:${LOW_WATER_MARK / 1024}`)
  .split(',')
  .map((marks) => marks.split(':').map((k) => Number(k) * 1024) as [number, number]);
const PROFILE = process.argv.includes('--profile');
const PARLEY_ONLY = process.argv.includes('--parley-only');

// ---- files ----------------------------------------------------------------------------------------

/** Writes `size` random bytes to `file`, 16 MiB at a time. */
async function writeRandomFile(file: string, size: number): Promise<void> {
  const handle = await open(file, 'w');
  try {
    const block = Buffer.alloc(16 * MiB);
    for (let written = 0; written < size; written += block.length) {
      const length = Math.min(block.length, size - written);
      randomFillSync(block, 0, length);
      await handle.write(block, 0, length);
    }
  } finally {
    await handle.close();
  }
}

/** A file with the bytes of `source` under a name of its own (a hard link: the card finds it by name). */
async function named(source: string, name: string): Promise<string> {
  const file = path.join(path.dirname(source), name);
  await link(source, file);
  return file;
}

// ---- raw ceiling ----------------------------------------------------------------------------------

/**
 * One push of `bytes` on the bare pair, in chunks of `chunk`, between `low` and `high` queued (by
 * default Parley's marks), with pings on the second channel.
 */
async function rawRun(
  a: Page,
  b: Page,
  bytes: number,
  chunk: number,
  processes: () => Promise<ProcessLabel[]>,
  [high, low] = [HIGH_WATER_MARK, LOW_WATER_MARK],
): Promise<RawRun> {
  await b.evaluate(expectRaw, bytes);
  const running = await processes();
  const before = threadCpu(running);
  await a.evaluate(startRawPings, PING_INTERVAL_MS);
  const ms = await a.evaluate(pushRaw, { bytes, chunk, high, low });
  const pings = await a.evaluate(stopRawPings);
  return { chunk, high, low, mbps: mbps(bytes, ms), cpu: cpuSpent(before, threadCpu(running)), pings };
}

// ---- parley ---------------------------------------------------------------------------------------

/** Stops the pings from `a` and takes how long they took to reach `b`. */
async function stopPingsOf(a: BenchUser, b: BenchUser): Promise<PingResults> {
  return { ...(await a.page.evaluate(stopPings)), oneWay: await b.page.evaluate(takeOneWay) };
}

const card = (page: Page, name: string) => page.locator('li[data-transfer]').filter({ hasText: name });

/** What file `name`'s card says, for an error. */
const cardText = (page: Page, name: string) =>
  card(page, name)
    .first()
    .innerText({ timeout: 1_000 })
    .then((text) => JSON.stringify(text.replace(/\s+/g, ' ')))
    .catch(() => '(no card)');

interface ParleyOptions {
  processes: () => Promise<ProcessLabel[]>;
  pings?: boolean;
  memory?: MemoryWatch;
  profile?: boolean;
}

/** Sends `file` from `a` to `b` through the UI; the OPFS file on `b` must have every byte. */
async function parleyRun(
  a: BenchUser,
  b: BenchUser,
  file: string,
  options: ParleyOptions,
): Promise<ParleyRun> {
  const name = path.basename(file);
  const ping = { friendId: b.id, intervalMs: PING_INTERVAL_MS };
  const offered = a.page.evaluate(fileStateAt, { name, state: 'offered' });
  if (options.pings) await a.page.evaluate(startPings, ping);
  await a.page.locator('input[type="file"]').setInputFiles(file);
  const hashedAt = await offered;
  const pingsHashing = options.pings ? await stopPingsOf(a, b) : null;
  const hashMs = hashedAt - (await a.page.evaluate(pickedAt))!;
  await b.page.evaluate(fileStateAt, { name, state: 'offered' });

  if (options.pings) {
    await a.page.evaluate(startPings, ping);
    await Promise.all([a.page.evaluate(startLagProbe), b.page.evaluate(startLagProbe)]);
  }
  await options.memory?.start();
  const profiles = options.profile
    ? await Promise.all([PageProfile.start(a.page), PageProfile.start(b.page)])
    : null;
  const verified = b.page.evaluate(fileStateAt, { name, state: 'verified' });
  const running = await options.processes();
  const cpuBefore = threadCpu(running);
  await card(b.page, name).getByRole('button', { name: 'Accept' }).click();
  const verifiedAt = await verified.catch(async (error: unknown) => {
    throw new Error(
      `${(error as Error).message}; sender's card: ${await cardText(a.page, name)}; ` +
        `receiver's card: ${await cardText(b.page, name)}`,
    );
  });
  const cpu = cpuSpent(cpuBefore, threadCpu(running));
  const [sender, receiver] = profiles ? await Promise.all(profiles.map((p) => p.stop())) : [];
  const memory = (await options.memory?.stop()) ?? null;
  const pings = options.pings ? await stopPingsOf(a, b) : null;
  const lag = options.pings
    ? { sender: await a.page.evaluate(stopLagProbe), receiver: await b.page.evaluate(stopLagProbe) }
    : null;
  const ms = verifiedAt - (await b.page.evaluate(acceptedAt))!;

  await a.page.evaluate(fileStateAt, { name, state: 'verified' });
  const onDisk = await b.page.evaluate(takeOpfsFile, name);
  if (onDisk !== (await stat(file)).size) throw new Error(`${name}: ${onDisk} bytes on the receiver's disk`);
  return {
    mbps: mbps(onDisk, ms),
    cpu,
    hashMs,
    pingsHashing,
    pings,
    lag,
    memory,
    profiles: sender && receiver ? { sender, receiver } : null,
  };
}

async function openChatWith(user: BenchUser, friend: BenchUser): Promise<void> {
  await user.page
    .getByRole('list', { name: 'Friends', exact: true })
    .getByRole('listitem')
    .filter({ hasText: friend.username })
    .getByRole('button', { name: friend.username })
    .click({ timeout: 15_000 });
  await user.page
    .getByRole('status', { name: 'Connection: Direct', exact: true })
    .waitFor({ timeout: 15_000 });
}

// ---- run ------------------------------------------------------------------------------------------

/** The raw ceiling on its own pair, closed before Parley's runs so the two never compete. */
async function measureRaw(a: Page, b: Page, processes: () => Promise<ProcessLabel[]>) {
  const closeRelay = await connectFloor(a, b);
  try {
    await offerFloor(a, 0);
    await b.waitForFunction(() => {
      const floor = (window as unknown as { __floor: FloorHooks }).__floor;
      return floor.channel()?.readyState === 'open';
    });
    await Promise.all([a.evaluate(openRawPingChannel, false), b.evaluate(openRawPingChannel, true)]);
    await rawRun(a, b, WARMUP_BYTES, 64 * 1024, processes);
    const sweep: RawRun[] = [];
    for (const marks of RAW_MARKS)
      for (const chunk of RAW_CHUNKS)
        sweep.push(await rawRun(a, b, Math.max(WARMUP_BYTES, SIZE / 4), chunk, processes, marks));
    // The ceiling is measured with Parley's marks when the sweep tried them.
    const parleys = sweep.filter((r) => r.high === HIGH_WATER_MARK && r.low === LOW_WATER_MARK);
    const best = (parleys.length > 0 ? parleys : sweep).reduce((x, y) => (y.mbps > x.mbps ? y : x)).chunk;
    const raw: RawRun[] = [];
    for (let i = 0; i < RUNS; i += 1) raw.push(await rawRun(a, b, SIZE, best, processes));
    await closeFloor(a, b);
    return { sweep, best, raw };
  } finally {
    await closeRelay();
  }
}

/** Chat with no transfer, then Parley: warm-up, the measured runs, the small runs, the profiled one. */
async function measureParley(
  a: BenchUser,
  b: BenchUser,
  dir: string,
  receiverPid: number | null,
  processes: () => Promise<ProcessLabel[]>,
) {
  const sources = { big: path.join(dir, 'source-big'), small: path.join(dir, 'source-small') };
  const warmup = path.join(dir, 'warmup.bin');
  await writeRandomFile(sources.big, SIZE);
  await writeRandomFile(sources.small, SMALL);
  await writeRandomFile(warmup, WARMUP_BYTES);

  await a.page.evaluate(startPings, { friendId: b.id, intervalMs: PING_INTERVAL_MS });
  await new Promise((resolve) => setTimeout(resolve, BASELINE_PINGS_MS));
  const idle = await stopPingsOf(a, b);
  await parleyRun(a, b, warmup, { processes });
  const memory = await MemoryWatch.open(b.page, receiverPid);
  try {
    const big: ParleyRun[] = [];
    for (let i = 1; i <= RUNS; i += 1) {
      const file = await named(sources.big, `bench-${SIZE / MiB}MiB-${i}.bin`);
      big.push(await parleyRun(a, b, file, { processes, memory }));
    }
    const chat = await parleyRun(a, b, await named(sources.big, `bench-${SIZE / MiB}MiB-chat.bin`), {
      processes,
      pings: true,
    });
    const small: ParleyRun[] = [];
    for (let i = 1; i <= RUNS; i += 1) {
      const file = await named(sources.small, `bench-${SMALL / MiB}MiB-without-chat-${i}.bin`);
      small.push(await parleyRun(a, b, file, { processes, memory }));
    }
    const profiled = PROFILE
      ? await parleyRun(a, b, await named(sources.big, 'bench-profile.bin'), {
          processes,
          profile: true,
          pings: true,
        })
      : null;
    return { idle, big, chat, smallRuns: small, profiled };
  } finally {
    await memory.close();
  }
}

/** `--parley-only`: a warm-up, then `RUNS` transfers of `SIZE` with the receiver's memory watched. */
async function measureParleyOnly(
  a: BenchUser,
  b: BenchUser,
  dir: string,
  receiverPid: number | null,
  processes: () => Promise<ProcessLabel[]>,
): Promise<string> {
  const source = path.join(dir, 'source-big');
  const warmup = path.join(dir, 'warmup.bin');
  await writeRandomFile(source, SIZE);
  await writeRandomFile(warmup, WARMUP_BYTES);
  await parleyRun(a, b, warmup, { processes });
  const memory = await MemoryWatch.open(b.page, receiverPid);
  try {
    const runs: ParleyRun[] = [];
    for (let i = 1; i <= RUNS; i += 1) {
      const file = await named(source, `bench-${SIZE / MiB}MiB-${i}.bin`);
      runs.push(await parleyRun(a, b, file, { processes, memory }));
      console.log(`  run ${i}: ${runs.at(-1)!.mbps.toFixed(1)} MB/s`);
    }
    return parleyOnlyReport(SIZE, runs);
  } finally {
    await memory.close();
  }
}

async function main(): Promise<void> {
  buildClientIfStale();
  const server = await startBenchServer();
  const browser = await launchBrowser();
  const dir = await mkdtemp(path.join(tmpdir(), 'parley-bench-'));
  let receiverContext: BrowserContext | null = null;
  // Ctrl-C on a stalled run still removes the temporary folder (gigabytes with --parley-only).
  const interrupted = () => void cleanUp().finally(() => process.exit(130));
  process.once('SIGINT', interrupted);
  const cleanUp = async () => {
    // Each step on its own: one failing must not leave the others (and the folder) behind.
    for (const step of [() => receiverContext?.close(), () => browser.close(), () => server.close()])
      await Promise.resolve()
        .then(step)
        .catch((error: unknown) => console.error('cleaning up:', error));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    // --parley-only: the receiver in a browser of its own whose storage is on disk (a new context's
    // Origin Private File System lives in memory, and a quota of a few GB ends a 4 GiB file there).
    if (PARLEY_ONLY) receiverContext = await launchPersistentContext(path.join(dir, 'receiver-profile'));
    const receiverBrowser = receiverContext?.browser() ?? browser;
    const suffix = Date.now().toString(36);
    const a = await signUp(browser, server.url, `bench-a-${suffix}`, { initScript: installPageHooks });
    const b = await signUp(receiverContext ?? browser, server.url, `bench-b-${suffix}`, {
      initScript: installPageHooks,
    });
    await befriend(a, b);
    await openDebugPages(server.url, [a, b]);
    const senderPid = await findRenderer(browser, a.page);
    const receiverPid = await findRenderer(receiverBrowser, b.page);
    const named: ProcessLabel[] = [];
    if (senderPid !== null) named.push({ pid: senderPid, label: 'sender' });
    if (receiverPid !== null) named.push({ pid: receiverPid, label: 'receiver' });
    const processes = async () => {
      const senders = await browserProcesses(browser, named);
      if (receiverBrowser === browser) return senders;
      const receivers = await browserProcesses(receiverBrowser, named);
      return [
        ...senders,
        ...receivers.map((p) => (p.pid === receiverPid ? p : { ...p, label: `receiver's ${p.label}` })),
      ];
    };
    await openChatWith(a, b);
    await openChatWith(b, a);
    await b.page.evaluate(echoPings);
    console.log(
      `chromium ${browser.version()}, ${mib(SIZE)} (and ${mib(SMALL)}), ${RUNS} runs each after a ` +
        `${mib(WARMUP_BYTES)} warm-up, loopback; renderer pids: sender ${senderPid ?? '?'}, ` +
        `receiver ${receiverPid ?? '?'}; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`,
    );
    if (PARLEY_ONLY) {
      console.log(await measureParleyOnly(a, b, dir, receiverPid, processes));
      return;
    }
    const raw = await measureRaw(a.page, b.page, processes);
    const parley = await measureParley(a, b, dir, receiverPid, processes);
    console.log(
      report({
        size: SIZE,
        small: SMALL,
        sweepBytes: Math.max(WARMUP_BYTES, SIZE / 4),
        pingIntervalMs: PING_INTERVAL_MS,
        ...raw,
        ...parley,
      }),
    );
  } finally {
    process.off('SIGINT', interrupted);
    await cleanUp();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
