/**
 * Presence at scale, on loopback: one signaling node (a child process) on a real Redis, N users
 * connected at once (default 10,000), each with one friend. Prints the node's memory per connection,
 * how fast connections are set up, and the latency of presence events while all are connected.
 *
 *   npm run bench:presence -- [users=10000]
 *
 * Prints figures; asserts nothing (these machines are shared and noisy).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { StoreSessionAdapter } from '../signaling/src/auth/session-adapter.js';
import { hashPassword } from '../signaling/src/auth/passwords.js';
import { silentLogger } from '../signaling/src/logger.js';
import { createRedisStore } from '../signaling/src/store/redis-store.js';
import { startNodeProcess } from '../signaling/test/node-process.js';
import { startRedisServer } from '../signaling/test/redis-server.js';
import type { ServerFrame } from '../shared/protocol.js';
import { percentile } from './bench-stats.js';

const USERS = Number(process.argv[2] ?? 10_000);
const CONCURRENCY = 200;
const PROBES = 500;
const LIMITS = { maxFriends: 10, maxPendingOutgoing: 10, maxPendingIncoming: 10 };

interface Client {
  userId: string;
  status: 'online' | 'away';
  ws: WebSocket;
  frames: Array<(f: ServerFrame) => void>;
}

function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return Number(line?.[1] ?? 0) / 1024;
}

async function main(): Promise<void> {
  const redis = await startRedisServer();
  const store = await createRedisStore(redis.url, silentLogger);
  const node = await startNodeProcess({ REDIS_URL: redis.url, LOG_LEVEL: 'error' });
  const pid = node.pid;

  // Accounts, sessions and friendships straight into the store: argon2 per user would take minutes.
  const passwordHash = await hashPassword(randomBytes(16).toString('hex'));
  const sessions = new StoreSessionAdapter(store);
  const users: Array<{ id: string; cookie: string }> = [];
  const setupStart = performance.now();
  for (let i = 0; i < USERS; i += CONCURRENCY) {
    const batch = Array.from({ length: Math.min(CONCURRENCY, USERS - i) }, async (_, j) => {
      const id = randomUUID();
      await store.createUser({ id, username: `bench${i + j}`, passwordHash, createdAt: Date.now() });
      const sessionId = randomBytes(20).toString('hex');
      await sessions.setSession({
        id: sessionId,
        userId: id,
        expiresAt: new Date(Date.now() + 3600_000),
        attributes: {},
      });
      return { id, cookie: `parley_session=${sessionId}` };
    });
    users.push(...(await Promise.all(batch)));
  }
  for (let i = 0; i + 1 < users.length; i += 2) {
    await store.sendFriendRequest(users[i]!.id, users[i + 1]!.id, LIMITS);
    await store.acceptFriendRequest(users[i + 1]!.id, users[i]!.id, LIMITS);
  }
  console.log(
    `setup: ${USERS} users, ${USERS / 2} friendships in ${((performance.now() - setupStart) / 1000).toFixed(1)} s`,
  );

  const idleRss = rssMiB(pid);
  const wsUrl = node.url.replace('http', 'ws') + '/ws?v=1';
  const clients: Client[] = [];
  const connectTimes: number[] = [];
  const connectStart = performance.now();
  for (let i = 0; i < users.length; i += CONCURRENCY) {
    const batch = users.slice(i, i + CONCURRENCY).map(
      (u) =>
        new Promise<Client>((resolve, reject) => {
          const t = performance.now();
          const ws = new WebSocket(wsUrl, { headers: { cookie: u.cookie }, origin: node.url });
          const client: Client = { userId: u.id, status: 'online', ws, frames: [] };
          ws.once('error', reject);
          ws.on('message', (data) => {
            const frame = JSON.parse(data.toString()) as ServerFrame;
            if (frame.type === 'hello') {
              connectTimes.push(performance.now() - t);
              resolve(client);
            }
            for (const waiter of client.frames.splice(0)) waiter(frame);
          });
        }),
    );
    clients.push(...(await Promise.all(batch)));
  }
  const connectSeconds = (performance.now() - connectStart) / 1000;
  await new Promise((r) => setTimeout(r, 2_000));
  const fullRss = rssMiB(pid);
  connectTimes.sort((a, b) => a - b);

  // Presence latency with everyone connected: one user goes away, the friend on the node hears it.
  const latencies: number[] = [];
  for (let k = 0; k < PROBES; k++) {
    const pair = (k % Math.floor(clients.length / 2)) * 2;
    const [a, b] = [clients[pair]!, clients[pair + 1]!];
    a.status = a.status === 'online' ? 'away' : 'online';
    const status = a.status;
    const heard = new Promise<void>((resolve) => {
      const listen = (f: ServerFrame) => {
        if (f.type === 'presence' && f.userId === a.userId) resolve();
        else b.frames.push(listen);
      };
      b.frames.push(listen);
    });
    const t = performance.now();
    a.ws.send(JSON.stringify({ type: 'set_status', status }));
    await heard;
    latencies.push(performance.now() - t);
  }
  latencies.sort((x, y) => x - y);

  console.log(
    `connections: ${clients.length} open in ${connectSeconds.toFixed(1)} s ` +
      `(${Math.round(clients.length / connectSeconds)}/s at ${CONCURRENCY} in flight); ` +
      `upgrade->hello p50 ${percentile(connectTimes, 50).toFixed(1)} ms, p95 ${percentile(connectTimes, 95).toFixed(1)} ms`,
  );
  console.log(
    `node memory: ${idleRss.toFixed(0)} MiB idle -> ${fullRss.toFixed(0)} MiB with ${clients.length} connections ` +
      `(${(((fullRss - idleRss) * 1024) / clients.length).toFixed(1)} KiB per connection)`,
  );
  console.log(
    `presence event latency with all connected (${PROBES} probes): ` +
      `p50 ${percentile(latencies, 50).toFixed(2)} ms, p99 ${percentile(latencies, 99).toFixed(2)} ms`,
  );

  for (const c of clients) c.ws.terminate();
  await node.kill();
  await store.close();
  await redis.stop();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
