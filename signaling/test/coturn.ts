/**
 * A real coturn (Debian's `turnserver`) for tests, on free loopback ports, with a config generated
 * into a temp folder: the REST-API shared secret, loopback peers allowed (tests only).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface CoturnHandle {
  /** `turn:127.0.0.1:<port>?transport=udp` */
  url: string;
  port: number;
  secret: string;
  realm: string;
  stop(): Promise<void>;
}

const BINARY = process.env.TURNSERVER_BIN ?? '/usr/bin/turnserver';
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** A loopback port nothing listens on right now. */
export async function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface CoturnOptions {
  /** The listening port; a free one by default. (A test can hand out the URL before starting it.) */
  port?: number;
  /** The REST-API shared secret; a random one by default. */
  secret?: string;
}

/** Starts coturn; resolves once it listens. */
export async function startCoturn(options: CoturnOptions = {}): Promise<CoturnHandle> {
  if (!existsSync(BINARY)) {
    throw new Error(`coturn not found at ${BINARY}: install it with \`apt-get install -y coturn\``);
  }
  const port = options.port ?? (await freeTcpPort());
  // A relay range of 200 ports somewhere in the dynamic range, away from the listening port.
  const minPort = 50_000 + Math.floor(Math.random() * 14_000);
  const secret = options.secret ?? randomBytes(24).toString('hex');
  const realm = 'parley.test';
  const dir = mkdtempSync(path.join(tmpdir(), 'parley-coturn-'));
  const conf = path.join(dir, 'turnserver.conf');
  writeFileSync(
    conf,
    [
      'listening-ip=127.0.0.1',
      'relay-ip=127.0.0.1',
      `listening-port=${port}`,
      `min-port=${minPort}`,
      `max-port=${minPort + 199}`,
      `realm=${realm}`,
      'use-auth-secret',
      `static-auth-secret=${secret}`,
      // Tests only: production denies loopback peers (see deploy/coturn/turnserver.conf).
      'allow-loopback-peers',
      'no-cli',
      'no-tls',
      'no-dtls',
      'fingerprint',
      'no-multicast-peers',
      `pidfile=${path.join(dir, 'turnserver.pid')}`,
      'log-file=stdout',
      'simple-log',
      '',
    ].join('\n'),
  );
  const child = spawn(BINARY, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  child.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 10_000;
  while (!(await tcpOpen(port))) {
    if (child.exitCode !== null) throw new Error(`coturn exited at startup:\n${output}`);
    if (Date.now() > deadline) throw new Error(`coturn did not listen within 10 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `turn:127.0.0.1:${port}?transport=udp`,
    port,
    secret,
    realm,
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(timer);
      live.delete(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
