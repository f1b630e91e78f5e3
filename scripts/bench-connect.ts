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
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { WebSocketServer, type WebSocket as RelaySocket } from 'ws';
import { startServer } from '../signaling/src/server.js';
import { testConfig } from '../signaling/test/test-config.js';
import { launchBrowser } from '../e2e/chromium.js';
import { summary } from './bench-stats.js';

const ITERATIONS = Number(process.argv[2] ?? 60);
const WARMUP = 5;
const STATIC_DIR = path.resolve('dist/client');
const PASSWORD = 'correct horse battery staple';

// ---- figures --------------------------------------------------------------------------------------

function row(label: string, samples: number[]): string {
  const { p50, p95, n } = summary(samples);
  return `${label.padEnd(44)} p50 ${p50.toFixed(1).padStart(6)} ms   p95 ${p95.toFixed(1).padStart(6)} ms   (n=${n})`;
}

// ---- setup ----------------------------------------------------------------------------------------

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

function buildClientIfStale(): void {
  const index = path.join(STATIC_DIR, 'index.html');
  const sources = Math.max(newestMtime(path.resolve('client')), newestMtime(path.resolve('shared')));
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return;
  console.log('building the client (dist/client is missing or older than the sources)...');
  execFileSync('npx', ['vite', 'build', '--logLevel', 'warn'], { stdio: 'inherit' });
}

interface User {
  id: string;
  page: Page;
}

/** A context with host candidates (media permission), a new account, and its page. */
async function signUp(browser: Browser, appUrl: string, username: string): Promise<User> {
  // The floor's relay is on another port than the app, whose CSP allows only its own origin.
  const context = await browser.newContext({ bypassCSP: true });
  await context.grantPermissions(['microphone', 'camera'], { origin: appUrl });
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`page error (${username}):`, error.message));
  await page.goto(appUrl);
  const id = await page.evaluate(
    async ([u, p]) => {
      const response = await fetch('/api/auth/register', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: u, password: p }),
      });
      if (response.status !== 201) throw new Error(`register answered ${response.status}`);
      return ((await response.json()) as { user: { id: string } }).user.id;
    },
    [username, PASSWORD] as const,
  );
  return { id, page };
}

async function apiCall(page: Page, method: string, url: string, body?: unknown): Promise<void> {
  const status = await page.evaluate(
    async ([m, u, b]) => {
      const response = await fetch(u, {
        method: m,
        headers: { 'Content-Type': 'application/json' },
        ...(b === undefined ? {} : { body: JSON.stringify(b) }),
      });
      return response.status;
    },
    [method, url, body] as const,
  );
  if (status >= 300) throw new Error(`${method} ${url} answered ${status}`);
}

/** Waits until the page's peer network knows its connection id (the gateway said hello). */
async function waitForNetwork(page: Page): Promise<string> {
  await page.waitForFunction(() => window.__parley?.peers.connectionId, undefined, { timeout: 15_000 });
  return page.evaluate(() => window.__parley!.peers.connectionId!);
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

// ---- floor: bare RTCPeerConnection pairs ----------------------------------------------------------

/**
 * Installs `window.__floor` in a page: one end of a bare pair, signaling through the relay at `relayUrl`.
 * Messages carry the round, so late candidates of a closed pair never reach the next one. Each pair
 * handles its messages in order on its own chain: operations on a closed RTCPeerConnection never
 * settle, so a new pair must not wait behind the old one's.
 */
async function installFloor(relayUrl: string): Promise<void> {
  type Message = { round: number; sdp?: RTCSessionDescriptionInit; candidate?: RTCIceCandidateInit };
  const w = window as unknown as {
    __floor: { offer(round: number): Promise<number>; receive(message: Message): void; close(): void };
  };
  const relay = new WebSocket(relayUrl);
  await new Promise((resolve, reject) => {
    relay.onopen = resolve;
    relay.onerror = reject;
  });
  relay.onmessage = (event) => w.__floor.receive(JSON.parse(String(event.data)) as Message);
  const send = (message: Message) => relay.send(JSON.stringify(message));
  let pc: RTCPeerConnection | null = null;
  let channel: RTCDataChannel | null = null;
  let current = -1;
  let chain = Promise.resolve();
  let pending: RTCIceCandidateInit[] = [];
  const fresh = (round: number) => {
    pc?.close();
    current = round;
    chain = Promise.resolve();
    pending = [];
    const created = new RTCPeerConnection({ iceServers: [] });
    created.onicecandidate = (event) => {
      if (event.candidate) send({ round, candidate: event.candidate.toJSON() });
    };
    // Held, as an app would: Chromium closes a data channel that is garbage collected.
    created.ondatachannel = (event) => {
      channel = event.channel;
    };
    pc = created;
    return created;
  };
  const addCandidates = async (target: RTCPeerConnection, candidates: RTCIceCandidateInit[]) => {
    for (const candidate of candidates) await target.addIceCandidate(candidate);
  };
  const handle = async (target: RTCPeerConnection, message: Message) => {
    if (message.sdp?.type === 'offer') {
      await target.setRemoteDescription(message.sdp);
      await target.setLocalDescription();
      send({ round: message.round, sdp: target.localDescription!.toJSON() });
      await addCandidates(target, pending.splice(0));
    } else if (message.sdp) {
      await target.setRemoteDescription(message.sdp);
      await addCandidates(target, pending.splice(0));
    } else if (message.candidate) {
      if (target.remoteDescription) await addCandidates(target, [message.candidate]);
      else pending.push(message.candidate);
    }
  };
  w.__floor = {
    offer: (round) =>
      new Promise<number>((resolve, reject) => {
        const t0 = performance.now();
        const created = fresh(round);
        channel = created.createDataChannel('floor');
        const timer = setTimeout(() => reject(new Error('floor: no open within 15 s')), 15_000);
        channel.onopen = () => {
          clearTimeout(timer);
          resolve(performance.now() - t0);
        };
        void created
          .setLocalDescription()
          .then(() => send({ round, sdp: created.localDescription!.toJSON() }));
      }),
    receive(message) {
      if (message.sdp?.type === 'offer') fresh(message.round);
      const target = pc;
      if (message.round !== current || !target) return;
      chain = chain.then(() => handle(target, message)).catch(() => {});
    },
    close() {
      pc?.close();
      pc = channel = null;
    },
  };
}

/** A WebSocket relay in this process between the two pages, like the signaling server minus its work. */
async function connectFloor(a: Page, b: Page): Promise<() => Promise<void>> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  const sockets: RelaySocket[] = [];
  server.on('connection', (socket) => {
    sockets.push(socket);
    socket.on('message', (data) => {
      for (const other of sockets) if (other !== socket) other.send(String(data));
    });
  });
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // tsx compiles with esbuild's keepNames, which wraps named functions in `__name(...)`: give the
  // pages that helper, since functions sent to them travel as source text.
  for (const page of [a, b]) {
    await page.evaluate('globalThis.__name = (fn) => fn');
    await page.evaluate(installFloor, url);
  }
  return () =>
    new Promise((resolve) => {
      for (const socket of sockets) socket.terminate();
      server.close(() => resolve());
    });
}

function timeFloorTwoPages(offerer: Page, round: number): Promise<number> {
  return offerer.evaluate(
    (r) => (window as unknown as { __floor: { offer(round: number): Promise<number> } }).__floor.offer(r),
    round,
  );
}

async function closeFloor(a: Page, b: Page): Promise<void> {
  for (const page of [a, b]) {
    await page.evaluate(() => (window as unknown as { __floor: { close(): void } }).__floor.close());
  }
}

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
  const server = await startServer(
    testConfig({ staticDir: STATIC_DIR, ws: { signalsPerWindow: 1_000_000, messagesPerWindow: 1_000_000 } }),
  );
  const browser = await launchBrowser();
  try {
    const suffix = Date.now().toString(36);
    const a = await signUp(browser, server.url, `bench-a-${suffix}`);
    const b = await signUp(browser, server.url, `bench-b-${suffix}`);
    await apiCall(a.page, 'POST', '/api/friends/requests', { username: `bench-b-${suffix}` });
    await apiCall(b.page, 'POST', `/api/friends/requests/${a.id}/accept`);
    await Promise.all([a, b].map((user) => user.page.goto(`${server.url}/?debug`)));
    const ids = { a: await waitForNetwork(a.page), b: await waitForNetwork(b.page) };
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
      const ms = await timeFloorTwoPages(i % 2 === 0 ? a.page : b.page, i);
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
