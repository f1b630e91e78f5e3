/**
 * Starts a real, throwaway `redis-server` for tests: loopback only, a free port, no persistence.
 * Tests that need to take Redis down (resilience) start their own; everything else shares the one
 * from `redis-global-setup.ts`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running test Redis. */
export interface RedisServerHandle {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** SIGTERM, then waits for the process to exit. Safe to call when already stopped. */
  stop(): Promise<void>;
  /** SIGKILL: Redis vanishes without closing anything gracefully. Resolves once it has exited. */
  kill(): Promise<void>;
  /** Stops (if running) and starts again on the same port; resolves once it answers PING. */
  restart(): Promise<void>;
}

export interface StartRedisServerOptions {
  /** How long to wait for PING after spawning. Default 10 s. */
  readyTimeoutMs?: number;
  /** Keep data across `restart()` (append-only file in the temp dir), as a production Redis would. */
  persist?: boolean;
}

const PORT_ATTEMPTS = 5;
const STOP_TIMEOUT_MS = 5_000;
const OUTPUT_TAIL_CHARS = 2_000;

// Children alive in this process, killed synchronously on exit so a crashed or interrupted test run
// leaves no redis-server behind.
const liveChildren = new Set<ChildProcess>();
const liveDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of liveChildren) child.kill('SIGKILL');
    for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
  });
}

/** The `redis-server` binary: `$REDIS_SERVER_BIN`, else whatever is on PATH. */
function redisServerBinary(): string {
  return process.env.REDIS_SERVER_BIN ?? 'redis-server';
}

/** A port that was free a moment ago (listen on 0, read it, close). */
async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not determine a free port'));
      });
    });
  });
}

/** One PING over a raw socket; `true` on `+PONG`. */
function pingOnce(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

class RedisStartError extends Error {
  override readonly name = 'RedisStartError';
  constructor(
    message: string,
    /** A different port may succeed (e.g. this one was taken in the meantime). */
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

interface Running {
  child: ChildProcess;
  exited: Promise<void>;
}

/** Spawns redis-server on `port` and waits until it answers PING. */
async function spawnRedis(
  port: number,
  dir: string,
  readyTimeoutMs: number,
  persist = false,
): Promise<Running> {
  const binary = redisServerBinary();
  const child = spawn(
    binary,
    [
      '--save',
      '',
      '--appendonly',
      persist ? 'yes' : 'no',
      '--appendfsync',
      'always',
      '--bind',
      '127.0.0.1',
      '--port',
      String(port),
      '--dir',
      dir,
      '--daemonize',
      'no',
      '--loglevel',
      'warning',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  liveChildren.add(child);
  installExitHook();

  // Keep only the tail of the output, for the error message if it fails to start; reading it also
  // keeps a full pipe from ever blocking Redis.
  let output = '';
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  let exitInfo: { code: number | null; signal: NodeJS.Signals | null; error?: Error } | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('error', (error) => {
      // ENOENT and friends: the process never started, so 'exit' may not follow.
      exitInfo = { code: null, signal: null, error };
      liveChildren.delete(child);
      resolve();
    });
    child.once('exit', (code, signal) => {
      exitInfo ??= { code, signal };
      liveChildren.delete(child);
      resolve();
    });
  });

  const deadline = Date.now() + readyTimeoutMs;
  while (Date.now() < deadline) {
    if (exitInfo) break;
    if (await pingOnce(port)) return { child, exited };
    await new Promise((r) => setTimeout(r, 50));
  }

  if (exitInfo?.error) {
    const code = (exitInfo.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new RedisStartError(
        `redis-server not found (tried "${binary}"). Tests need a real Redis: ` +
          `apt-get install -y redis-server (or set REDIS_SERVER_BIN).`,
        false,
      );
    }
    throw new RedisStartError(`could not spawn ${binary}: ${exitInfo.error.message}`, false);
  }
  if (exitInfo) {
    throw new RedisStartError(
      `redis-server exited during startup on port ${port} ` +
        `(code ${exitInfo.code}, signal ${exitInfo.signal}):\n${output.trim()}`,
      /already in use/i.test(output),
    );
  }
  child.kill('SIGKILL');
  await exited;
  throw new RedisStartError(
    `redis-server on port ${port} did not answer PING within ${readyTimeoutMs} ms:\n${output.trim()}`,
    true,
  );
}

async function terminate(running: Running, signal: NodeJS.Signals): Promise<void> {
  const { child, exited } = running;
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Spawns `redis-server` on a free loopback port without persistence and resolves once it answers
 * PING. Retries on another port if the chosen one was taken in the meantime. The process is killed
 * when this process exits, even if `stop()` is never called.
 */
export async function startRedisServer(options: StartRedisServerOptions = {}): Promise<RedisServerHandle> {
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
  const dir = await mkdtemp(join(tmpdir(), 'parley-redis-'));
  liveDirs.add(dir);
  installExitHook();

  let port = 0;
  let running: Running | undefined;
  for (let attempt = 1; !running; attempt++) {
    port = await findFreePort();
    try {
      running = await spawnRedis(port, dir, readyTimeoutMs, options.persist);
    } catch (error) {
      if (!(error instanceof RedisStartError && error.retryable) || attempt >= PORT_ATTEMPTS) {
        await rm(dir, { recursive: true, force: true });
        liveDirs.delete(dir);
        throw error;
      }
    }
  }

  const stop = async (): Promise<void> => {
    if (running) await terminate(running, 'SIGTERM');
  };

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
      liveDirs.delete(dir);
    },
    kill: async () => {
      if (running) await terminate(running, 'SIGKILL');
    },
    restart: async () => {
      await stop();
      await mkdir(dir, { recursive: true });
      liveDirs.add(dir);
      // The same port on purpose: clients reconnect to the address they know. It is ours until
      // someone else grabs it, which on loopback in a test run is unlikely; retry briefly anyway.
      let lastError: unknown;
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          running = await spawnRedis(port, dir, readyTimeoutMs, options.persist);
          return;
        } catch (error) {
          lastError = error;
          if (!(error instanceof RedisStartError && error.retryable)) break;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      throw lastError;
    },
  };
}
