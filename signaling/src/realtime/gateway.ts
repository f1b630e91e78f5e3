/**
 * The WebSocket gateway at `/ws`: authenticates at the upgrade (session cookie, Origin), then runs each
 * socket's life: presence lease, event channel, `hello`, frames, and cleanup. Keeps this node's
 * connections indexed by session and by user, so events and sign-outs find them by key.
 */
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { WebSocketServer, type WebSocket } from 'ws';
import { PROTOCOL_VERSION, wsError } from '../../../shared/protocol.js';
import { WS_MAX_PAYLOAD_BYTES } from '../../../shared/limits.js';
import type { Auth, SignedIn } from '../auth/auth.js';
import type { Config } from '../config.js';
import { toError, toServerError } from '../errors.js';
import type { FriendsService } from '../friends/friends-service.js';
import { isAllowedOrigin } from '../http/origin.js';
import type { Logger } from '../logger.js';
import type { PresenceService } from '../presence/presence-service.js';
import type { PresenceLease, Store } from '../store/store.js';
import { Connection } from './connection.js';
import { LocalUsers } from './local-users.js';
import { rejectUpgrade } from './reject-upgrade.js';
import type { PeerRouter } from './peer-router.js';

/** Bus channel on which any node announces an ended session (message: its id hash). */
export const SESSION_ENDED_CHANNEL = 'parley:session-ended';

export interface GatewayDeps {
  config: Config;
  store: Store;
  auth: Auth;
  friends: FriendsService;
  presence: PresenceService;
  peers: PeerRouter;
  logger: Logger;
}

interface LiveSocket {
  connection: Connection;
  socket: WebSocket;
  alive: boolean;
  /** Setup (channel, lease, hello); cleanup runs after it, whatever its outcome. */
  setup: Promise<void>;
  /** Resolves once the connection's lease is released. */
  cleanup?: Promise<void>;
}

export class Gateway {
  readonly #deps: GatewayDeps;
  readonly #logger: Logger;
  readonly #wss: WebSocketServer;
  readonly #rateLimiter: RateLimiterMemory;
  readonly #sockets = new Map<string, LiveSocket>();
  readonly #bySession = new Map<string, Set<string>>();
  readonly #users: LocalUsers;
  #heartbeat: NodeJS.Timeout | undefined;
  readonly #teardown: Array<() => unknown> = [];
  #cleanups = new Set<Promise<void>>();

  constructor(deps: GatewayDeps) {
    this.#deps = deps;
    this.#logger = deps.logger.child({ component: 'gateway' });
    this.#users = new LocalUsers(deps.store.bus, this.#logger);
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: WS_MAX_PAYLOAD_BYTES,
      perMessageDeflate: false,
      clientTracking: false,
    });
    // Per-connection limits are local to the socket, so an in-process limiter is the right store.
    this.#rateLimiter = new RateLimiterMemory({
      keyPrefix: 'ws-frames',
      points: deps.config.ws.messagesPerWindow,
      duration: Math.max(1, Math.round(deps.config.ws.windowMs / 1000)),
    });
  }

  /** Number of open sockets on this node. */
  get size(): number {
    return this.#sockets.size;
  }

  /** The leases of this node's connections, for the presence service to renew. */
  leases(): PresenceLease[] {
    return [...this.#sockets.values()].map(({ connection }) => leaseOf(connection));
  }

  async start(server: HttpServer): Promise<void> {
    const unsubscribe = await this.#deps.store.bus.subscribe(SESSION_ENDED_CHANNEL, (idHash) =>
      this.#closeSession(idHash),
    );
    this.#teardown.push(unsubscribe);
    this.#teardown.push(this.#deps.store.onReconnect(() => void this.resync()));
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.#handleUpgrade(req, socket, head).catch((err: unknown) => {
        this.#logger.error({ err: toError(err) }, 'upgrade failed');
        rejectUpgrade(socket, 500, { error: { code: 'internal', message: 'Internal error' } });
      });
    };
    server.on('upgrade', onUpgrade);
    this.#teardown.push(() => server.off('upgrade', onUpgrade));
    this.#heartbeat = setInterval(() => this.#beat(), this.#deps.config.ws.heartbeatMs);
    this.#heartbeat.unref();
  }

  /** Announces on every node that a session ended; its sockets close within moments. */
  async endSession(idHash: string): Promise<void> {
    this.#closeSession(idHash);
    await this.#deps.store.bus.publish(SESSION_ENDED_CHANNEL, idHash);
  }

  /**
   * After a store outage: re-assert this node's leases, then send every connection a fresh `hello`
   * (one snapshot per user), since events may have been lost while the store was away.
   */
  async resync(): Promise<void> {
    this.#logger.info({ users: this.#users.size }, 'store is back: resynchronizing clients');
    this.#deps.presence.pauseSweep();
    await this.#deps.presence.renew();
    for (const [userId, connections] of [...this.#users.entries()]) {
      try {
        const snapshot = await this.#deps.friends.snapshot(userId);
        for (const connection of connections) connection.hello(snapshot);
      } catch (err) {
        this.#logger.warn({ err: toError(err), userId }, 'resync failed for a user');
      }
    }
  }

  /** Closes every socket (1001), releases their leases and stops. */
  async stop(): Promise<void> {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    for (const live of this.#sockets.values()) {
      live.connection.close('going_away');
      // Do not wait for the client's close frame: release the lease now.
      this.#forget(live);
    }
    await Promise.allSettled([...this.#cleanups]);
    for (const teardown of this.#teardown.splice(0)) await Promise.resolve(teardown()).catch(() => undefined);
  }

  async #handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', (err) => this.#logger.debug({ err }, 'socket error during upgrade'));
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/ws') {
      rejectUpgrade(socket, 404, { error: { code: 'not_found', message: 'No WebSocket at this path' } });
      return;
    }
    if (!isAllowedOrigin(req.headers, this.#deps.config.publicOrigins)) {
      rejectUpgrade(socket, 403, {
        error: { code: 'forbidden_origin', message: 'Cross-origin WebSocket refused' },
      });
      return;
    }
    let signedIn: SignedIn | null;
    try {
      const sessionId = this.#deps.auth.readSessionCookie(req.headers.cookie);
      signedIn = sessionId ? await this.#deps.auth.validate(sessionId) : null;
    } catch (err) {
      const error = toServerError(err);
      rejectUpgrade(socket, error.status, error.toBody());
      return;
    }
    if (!signedIn) {
      rejectUpgrade(socket, 401, { error: { code: 'unauthenticated', message: 'Sign in first' } });
      return;
    }
    const requested = url.searchParams.get('v');
    const session = signedIn;
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws, session, requested));
  }

  #accept(ws: WebSocket, signedIn: SignedIn, requestedVersion: string | null): void {
    const connection = new Connection({
      socket: ws,
      user: signedIn.user,
      sessionIdHash: signedIn.session.idHash,
      sessionExpiresAt: signedIn.session.expiresAt.getTime(),
      rateLimiter: this.#rateLimiter,
      logger: this.#logger,
      onStatus: (c) => this.#deps.presence.setStatus(leaseOf(c)),
      onSignal: (c, frame) => this.#deps.peers.signal(c, frame),
      onRelay: (c, frame, size) => this.#deps.peers.relay(c, frame, size),
    });
    if (requestedVersion !== null && requestedVersion !== String(PROTOCOL_VERSION)) {
      connection.send(
        wsError(
          'bad_frame',
          `Protocol version ${requestedVersion} is not supported; this server speaks ${PROTOCOL_VERSION}`,
        ),
      );
      connection.close('protocol_mismatch');
      return;
    }
    const live: LiveSocket = { connection, socket: ws, alive: true, setup: Promise.resolve() };
    this.#sockets.set(connection.id, live);
    let ids = this.#bySession.get(connection.sessionIdHash);
    if (!ids) this.#bySession.set(connection.sessionIdHash, (ids = new Set()));
    ids.add(connection.id);

    ws.on('pong', () => {
      live.alive = true;
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        connection.send(wsError('bad_frame', 'Binary frames are not accepted; send JSON text'));
        return;
      }
      connection.receive(data.toString());
    });
    ws.on('error', (err) => this.#logger.debug({ err, connectionId: connection.id }, 'socket error'));
    ws.on('close', () => this.#forget(live));
    this.#logger.debug({ userId: connection.user.id, connectionId: connection.id }, 'connection open');
    live.setup = this.#setUp(connection);
  }

  /** Channel first (so no event is missed), then the lease, then `hello` with the friend list. */
  async #setUp(connection: Connection): Promise<void> {
    try {
      await this.#users.add(connection);
      if (connection.closed) return;
      await this.#deps.presence.connect(leaseOf(connection));
      if (connection.closed) return;
      connection.hello(await this.#deps.friends.snapshot(connection.user.id));
    } catch (err) {
      this.#logger.warn({ err: toError(err), connectionId: connection.id }, 'connection setup failed');
      connection.close('try_again_later');
    }
  }

  #forget(live: LiveSocket): void {
    const { connection } = live;
    if (live.cleanup) return;
    connection.markClosed();
    this.#sockets.delete(connection.id);
    const ids = this.#bySession.get(connection.sessionIdHash);
    ids?.delete(connection.id);
    if (ids?.size === 0) this.#bySession.delete(connection.sessionIdHash);
    this.#users.remove(connection);
    const cleanup = live.setup
      .then(() => this.#deps.presence.disconnect(connection.user.id, connection.id))
      .catch((err: unknown) => {
        // The lease expires by itself; friends see the user offline after a sweep.
        this.#logger.warn({ err: toError(err), connectionId: connection.id }, 'lease not released');
      })
      .finally(() => this.#cleanups.delete(cleanup));
    live.cleanup = cleanup;
    this.#cleanups.add(cleanup);
    this.#logger.debug({ userId: connection.user.id, connectionId: connection.id }, 'connection closed');
  }

  #closeSession(idHash: string): void {
    const ids = this.#bySession.get(idHash);
    if (!ids) return;
    for (const id of [...ids]) this.#sockets.get(id)?.connection.close('session_revoked');
  }

  /** Terminates sockets that missed the last ping; re-checks sessions past their known expiry. */
  #beat(): void {
    const now = Date.now();
    for (const live of this.#sockets.values()) {
      if (!live.alive) {
        live.socket.terminate();
        continue;
      }
      live.alive = false;
      live.socket.ping();
      if (now >= live.connection.sessionExpiresAt) void this.#recheckSession(live.connection);
    }
  }

  async #recheckSession(connection: Connection): Promise<void> {
    try {
      const valid = await this.#deps.store.getSession(connection.sessionIdHash);
      if (valid) connection.sessionExpiresAt = valid.expiresAt;
      else connection.close('session_revoked');
    } catch (err) {
      this.#logger.warn({ err: toError(err) }, 'session re-check failed; will retry');
    }
  }
}

function leaseOf(connection: Connection): PresenceLease {
  return { userId: connection.user.id, connectionId: connection.id, status: connection.status };
}
