/**
 * Setup shared by the browser benchmarks: the built client (rebuilt when stale), the real signaling
 * server on the memory store with signal rate limits lifted, users signed up and made friends
 * through the API, their pages opened with `?debug` (so `window.__parley.peers` is there), and a
 * bare RTCPeerConnection pair between two pages with its signaling relayed by this process (the
 * floor the app is compared with).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { WebSocketServer, type WebSocket as RelaySocket } from 'ws';
import { startServer } from '../signaling/src/server.js';
import { testConfig } from '../signaling/test/test-config.js';

/** The built client the benchmarks serve: `STATIC_DIR` (as the server's setting), else dist/client. */
export const STATIC_DIR = path.resolve(process.env.STATIC_DIR || 'dist/client');
export const PASSWORD = 'correct horse battery staple';

// ---- the app ----------------------------------------------------------------------------------------

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/**
 * Builds dist/client when it is missing or older than the sources. A build named by `STATIC_DIR`
 * is the caller's (a readable one, say): it is used as it is, never rebuilt (a build empties its
 * folder), only said to be stale.
 */
export function buildClientIfStale(): void {
  const index = path.join(STATIC_DIR, 'index.html');
  const sources = Math.max(newestMtime(path.resolve('client')), newestMtime(path.resolve('shared')));
  const fresh = existsSync(index) && statSync(index).mtimeMs >= sources;
  if (process.env.STATIC_DIR) {
    if (!existsSync(index)) throw new Error(`STATIC_DIR=${STATIC_DIR} has no index.html: build it first`);
    if (!fresh) console.warn(`STATIC_DIR=${STATIC_DIR} is older than the sources: measuring it as it is`);
    return;
  }
  if (fresh) return;
  console.log('building the client (dist/client is missing or older than the sources)...');
  execFileSync('npx', ['vite', 'build', '--logLevel', 'warn'], { stdio: 'inherit' });
}

/** The signaling server serving the built client: memory store, signal rate limits lifted. */
export function startBenchServer(): ReturnType<typeof startServer> {
  return startServer(
    testConfig({ staticDir: STATIC_DIR, ws: { signalsPerWindow: 1_000_000, messagesPerWindow: 1_000_000 } }),
  );
}

export interface BenchUser {
  id: string;
  username: string;
  context: BrowserContext;
  page: Page;
}

export interface SignUpOptions {
  /** Runs in every page of the user's context before the app (e.g. to stand in for a browser API). */
  initScript?: () => void;
}

/**
 * A context with host candidates (media permission), a new account, and its page. The context is
 * a new one of `browser` (off the record: its storage, the Origin Private File System included,
 * lives in memory within a quota), or `context` as it is (e.g. a persistent one, whose storage is
 * on disk).
 */
export async function signUp(
  from: Browser | BrowserContext,
  appUrl: string,
  username: string,
  options: SignUpOptions = {},
): Promise<BenchUser> {
  // The floor's relay is on another port than the app, whose CSP allows only its own origin.
  const context = 'newContext' in from ? await from.newContext({ bypassCSP: true }) : from;
  await context.grantPermissions(['microphone', 'camera'], { origin: appUrl });
  // tsx compiles with esbuild's keepNames, which wraps named functions in `__name(...)`: give the
  // pages that helper, since functions sent to them travel as source text.
  await context.addInitScript({ content: 'globalThis.__name = (fn) => fn;' });
  if (options.initScript) await context.addInitScript(options.initScript);
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`page error (${username}):`, error.message));
  // A development build (`NODE_ENV=development npx vite build`) logs what the app warns about.
  page.on('console', (message) => {
    if (message.type() !== 'warning' && message.type() !== 'error') return;
    void Promise.all(message.args().map((arg) => arg.evaluate(describeLogged).catch(() => '?'))).then(
      (args) =>
        console.error(`page ${message.type()} (${username}):`, ...(args.length ? args : [message.text()])),
    );
  });
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
  return { id, username, context, page };
}

/** A value the page logged, as text (errors, and errors inside objects, with their names and messages). */
function describeLogged(value: unknown): string {
  const plain = (_key: string, x: unknown) =>
    x instanceof Error ? `${x.name}: ${x.message}${x.cause ? ` (cause: ${String(x.cause)})` : ''}` : x;
  return typeof value === 'object' && value !== null ? JSON.stringify(value, plain) : String(value);
}

export async function apiCall(page: Page, method: string, url: string, body?: unknown): Promise<void> {
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

/** `a` asks, `b` accepts. */
export async function befriend(a: BenchUser, b: BenchUser): Promise<void> {
  await apiCall(a.page, 'POST', '/api/friends/requests', { username: b.username });
  await apiCall(b.page, 'POST', `/api/friends/requests/${a.id}/accept`);
}

/** Waits until the page's peer network knows its connection id (the gateway said hello). */
export async function waitForNetwork(page: Page): Promise<string> {
  await page.waitForFunction(() => window.__parley?.peers.connectionId, undefined, { timeout: 15_000 });
  return page.evaluate(() => window.__parley!.peers.connectionId!);
}

/** Opens every user's page on the app with `?debug`; resolves with their connection ids, in order. */
export async function openDebugPages(appUrl: string, users: readonly BenchUser[]): Promise<string[]> {
  await Promise.all(users.map((user) => user.page.goto(`${appUrl}/?debug`)));
  const ids: string[] = [];
  for (const user of users) ids.push(await waitForNetwork(user.page));
  return ids;
}

// ---- floor: bare RTCPeerConnection pairs ----------------------------------------------------------

/** What `installFloor` puts on `window.__floor`. */
export interface FloorHooks {
  offer(round: number): Promise<number>;
  receive(message: unknown): void;
  close(): void;
  /** This page's end of the current pair's data channel (the offerer's at once, the answerer's on open). */
  channel(): RTCDataChannel | null;
  /** This page's end of the current pair. */
  connection(): RTCPeerConnection | null;
}

/**
 * Installs `window.__floor` in a page: one end of a bare pair, signaling through the relay at `relayUrl`.
 * Messages carry the round, so late candidates of a closed pair never reach the next one. Each pair
 * handles its messages in order on its own chain: operations on a closed RTCPeerConnection never
 * settle, so a new pair must not wait behind the old one's.
 */
async function installFloor(relayUrl: string): Promise<void> {
  type Message = { round: number; sdp?: RTCSessionDescriptionInit; candidate?: RTCIceCandidateInit };
  const w = window as unknown as { __floor: FloorHooks };
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
    receive(raw) {
      const message = raw as Message;
      if (message.sdp?.type === 'offer') fresh(message.round);
      const target = pc;
      if (message.round !== current || !target) return;
      chain = chain.then(() => handle(target, message)).catch(() => {});
    },
    close() {
      pc?.close();
      pc = channel = null;
    },
    channel: () => channel,
    connection: () => pc,
  };
}

/**
 * A WebSocket relay in this process between the two pages, like the signaling server minus its work,
 * and `window.__floor` in both. Resolves with the relay's close.
 */
export async function connectFloor(a: Page, b: Page): Promise<() => Promise<void>> {
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
  for (const page of [a, b]) await page.evaluate(installFloor, url);
  return () =>
    new Promise((resolve) => {
      for (const socket of sockets) socket.terminate();
      server.close(() => resolve());
    });
}

/** In `offerer`: a new bare pair (round `round`); resolves with the ms from `new RTCPeerConnection` to open. */
export function offerFloor(offerer: Page, round: number): Promise<number> {
  return offerer.evaluate((r) => (window as unknown as { __floor: FloorHooks }).__floor.offer(r), round);
}

export async function closeFloor(a: Page, b: Page): Promise<void> {
  for (const page of [a, b]) {
    await page.evaluate(() => (window as unknown as { __floor: FloorHooks }).__floor.close());
  }
}
