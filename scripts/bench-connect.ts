/**
 * "Open chat" to an open data channel, on loopback, against the floor of a bare RTCPeerConnection.
 *
 *   npm run bench:connect -- [iterations=60]
 *
 * One run: the real signaling server (memory store, signal rate limits lifted) serving the built
 * client (built first when missing or older than the sources), Debian's Chromium, two users in two
 * contexts, signed up and made friends through the API, both pages open with `?debug`.
 *
 * - parley: the page calls the peer network directly through the debug hook
 *   (`window.__parley.peers.connect(friendId)`, what the chat calls when a chat opens) and the time
 *   is `parley:open:<friend>` minus `parley:connect:<friend>` (performance marks in that page).
 *   The pages take turns, so both roles of the initiator rule are measured; between iterations both
 *   sides close their links (`disconnectAll()`), so every iteration is a fresh peer connection.
 * - floor, two pages: a bare RTCPeerConnection pair between the same two pages, same iceServers
 *   (none), signaling relayed by a bare WebSocket relay in this process (the signaling server minus
 *   its checks and routing), timed in the offering page from `new RTCPeerConnection` to the data
 *   channel's `open`. (The contexts bypass CSP so the pages may reach the relay's port.)
 * - floor, one page: both ends in one page, signaling by direct calls: the absolute floor.
 *
 * Prints figures; asserts nothing (shared, noisy machines). A few warm-up rounds are not counted.
 */
import type { Page } from 'playwright-core';
import { launchBrowser } from '../e2e/chromium.js';
import {
  befriend,
  buildClientIfStale,
  closeFloor,
  connectFloor,
  offerFloor,
  openDebugPages,
  signUp,
  startBenchServer,
  type BenchUser as User,
} from './bench-app.js';
import { summary } from './bench-stats.js';

const ITERATIONS = Number(process.argv[2] ?? 60);
const WARMUP = 5;

// ---- figures --------------------------------------------------------------------------------------

function row(label: string, samples: number[]): string {
  const { p50, p95, n } = summary(samples);
  return `${label.padEnd(44)} p50 ${p50.toFixed(1).padStart(6)} ms   p95 ${p95.toFixed(1).padStart(6)} ms   (n=${n})`;
}

// ---- parley: connect() to open --------------------------------------------------------------------

/** In `page`: connect to `friendId` and resolve with open - connect from the performance marks. */
function timeConnect(page: Page, friendId: string): Promise<number> {
  return page.evaluate(async (friend) => {
    const peers = window.__parley!.peers;
    performance.clearMarks();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no open link within 15 s')), 15_000);
      const off = peers.on('link', (event) => {
        if (event.friendId !== friend || !event.open) return;
        off();
        clearTimeout(timer);
        resolve();
      });
      peers.connect(friend);
    });
    const started = performance.getEntriesByName(`parley:connect:${friend}`)[0];
    const opened = performance.getEntriesByName(`parley:open:${friend}`)[0];
    if (!started || !opened) throw new Error('marks missing (debug hooks off?)');
    return opened.startTime - started.startTime;
  }, friendId);
}

/** Closes the links on both sides and waits until neither has a link nor anything under way. */
async function closeBoth(a: User, b: User): Promise<void> {
  const idle = (user: User, friend: string) =>
    user.page.evaluate((f) => {
      const peers = window.__parley!.peers;
      return peers.openLinks(f).length === 0 && peers.path(f) === 'none';
    }, friend);
  for (let round = 0; round < 50; round += 1) {
    await Promise.all([a, b].map((user) => user.page.evaluate(() => window.__parley!.peers.disconnectAll())));
    // Let byes cross and the old connections' teardown finish before looking.
    await new Promise((resolve) => setTimeout(resolve, 30));
    if ((await idle(a, b.id)) && (await idle(b, a.id))) return;
  }
  throw new Error('links did not close');
}

// ---- floor: both ends in one page ---------------------------------------------------------------

/** Both ends in one page. */
function timeFloorOnePage(page: Page): Promise<number> {
  return page.evaluate(
    () =>
      new Promise<number>((resolve, reject) => {
        const t0 = performance.now();
        const offerer = new RTCPeerConnection({ iceServers: [] });
        const answerer = new RTCPeerConnection({ iceServers: [] });
        offerer.onicecandidate = (e) => void (e.candidate && answerer.addIceCandidate(e.candidate));
        answerer.onicecandidate = (e) => void (e.candidate && offerer.addIceCandidate(e.candidate));
        const channel = offerer.createDataChannel('floor');
        channel.onopen = () => {
          const elapsed = performance.now() - t0;
          offerer.close();
          answerer.close();
          resolve(elapsed);
        };
        setTimeout(() => reject(new Error('floor: no open within 15 s')), 15_000);
        void (async () => {
          await offerer.setLocalDescription();
          await answerer.setRemoteDescription(offerer.localDescription!);
          await answerer.setLocalDescription();
          await offerer.setRemoteDescription(answerer.localDescription!);
        })();
      }),
  );
}

// ---- run ------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  buildClientIfStale();
  const server = await startBenchServer();
  const browser = await launchBrowser();
  try {
    const suffix = Date.now().toString(36);
    const a = await signUp(browser, server.url, `bench-a-${suffix}`);
    const b = await signUp(browser, server.url, `bench-b-${suffix}`);
    await befriend(a, b);
    const [idA = '', idB = ''] = await openDebugPages(server.url, [a, b]);
    const ids = { a: idA, b: idB };
    console.log(
      `chromium ${browser.version()}, ${ITERATIONS} iterations (+${WARMUP} warm-up), loopback, no ICE servers`,
    );

    // parley: the pages take turns opening the chat.
    const parley: number[] = [];
    const callerDials: number[] = [];
    const calleeDials: number[] = [];
    for (let i = 0; i < WARMUP + ITERATIONS; i += 1) {
      const [caller, callee] = i % 2 === 0 ? [a, b] : [b, a];
      const ms = await timeConnect(caller.page, callee.id);
      await closeBoth(a, b);
      if (i < WARMUP) continue;
      parley.push(ms);
      // The smaller connection id dials: the caller's knock is answered by a knock, then it dials.
      const callerId = caller === a ? ids.a : ids.b;
      const calleeId = caller === a ? ids.b : ids.a;
      (callerId < calleeId ? callerDials : calleeDials).push(ms);
    }

    const closeRelay = await connectFloor(a.page, b.page);
    const floorTwoPages: number[] = [];
    for (let i = 0; i < WARMUP + ITERATIONS; i += 1) {
      const ms = await offerFloor(i % 2 === 0 ? a.page : b.page, i);
      await closeFloor(a.page, b.page);
      if (i >= WARMUP) floorTwoPages.push(ms);
    }
    await closeRelay();

    const floorOnePage: number[] = [];
    for (let i = 0; i < WARMUP + ITERATIONS; i += 1) {
      const ms = await timeFloorOnePage(i % 2 === 0 ? a.page : b.page);
      if (i >= WARMUP) floorOnePage.push(ms);
    }

    console.log('');
    console.log(row('parley: connect() -> first link open', parley));
    console.log(row('  caller dials (knock, knock back, offer)', callerDials));
    console.log(row('  callee dials (knock, offer)', calleeDials));
    console.log(row('floor: bare pair, two pages, ws relay', floorTwoPages));
    console.log(row('floor: bare pair, one page', floorOnePage));
    const p50 = (samples: number[]) => summary(samples).p50;
    console.log('');
    console.log(
      `p50 difference, parley - floor (two pages): ${(p50(parley) - p50(floorTwoPages)).toFixed(1)} ms`,
    );
    console.log(
      `p50 difference, parley - floor (one page):  ${(p50(parley) - p50(floorOnePage)).toFixed(1)} ms`,
    );
  } finally {
    await browser.close();
    await server.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
