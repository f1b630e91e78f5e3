/** Builds and starts one signaling node: store, auth, HTTP app and WebSocket gateway on one port. */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Auth } from './auth/auth.js';
import type { Config } from './config.js';
import { toError } from './errors.js';
import { createApp } from './http/app.js';
import { silentLogger, type Logger } from './logger.js';
import { FriendsService } from './friends/friends-service.js';
import { PresenceService } from './presence/presence-service.js';
import { Gateway } from './realtime/gateway.js';
import { PeerRouter } from './realtime/peer-router.js';
import { UserEvents } from './realtime/user-events.js';
import { createStore } from './store/index.js';
import type { PresenceLease, Store } from './store/store.js';

export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  url: string;
  port: number;
  store: Store;
  gateway: Gateway;
  http: HttpServer;
  /** Stops accepting, closes sockets (1001) and the store. */
  close(): Promise<void>;
}

const EXPIRED_SESSION_SWEEP_MS = 60 * 60 * 1000;

export async function startServer(config: Config, options: { logger?: Logger } = {}): Promise<RunningServer> {
  const logger = options.logger ?? silentLogger;
  const store = await createStore(config.redisUrl, logger);
  const auth = new Auth(store, config, logger);
  const events = new UserEvents(store.bus, logger);
  const friends = new FriendsService({ store, events, limits: config.limits });
  const presence = new PresenceService({
    store,
    events,
    settings: config.presence,
    logger,
    liveLeases: (): PresenceLease[] => gateway.leases(),
  });
  const peers = new PeerRouter({ store, events, limits: config.ws });
  const gateway: Gateway = new Gateway({ config, store, auth, friends, presence, peers, logger });
  const app = createApp({
    config,
    store,
    auth,
    friends,
    logger,
    onSessionEnded: (idHash) => gateway.endSession(idHash),
  });
  const http = createServer(app);
  // Slowloris guard: headers must arrive promptly.
  http.headersTimeout = 15_000;
  http.requestTimeout = 30_000;
  await gateway.start(http);
  presence.start();

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.port, config.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const { port } = http.address() as AddressInfo;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const sweep = setInterval(() => {
    store.deleteExpiredSessions().catch((err: unknown) => {
      logger.warn({ err: toError(err) }, 'expired-session sweep failed');
    });
  }, EXPIRED_SESSION_SWEEP_MS);
  sweep.unref();

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      clearInterval(sweep);
      presence.stop();
      await gateway.stop();
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
      await store.close();
    })());

  logger.info({ url, store: store.kind }, 'signaling server listening');
  return { url, port, store, gateway, http, close };
}
