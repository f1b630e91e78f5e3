/** The express app: `/healthz`, the JSON API under `/api`, and the built client at `/`. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type RequestHandler } from 'express';
import helmet from 'helmet';
import type { Health } from '../../../shared/api.js';
import { HTTP_BODY_MAX_BYTES } from '../../../shared/limits.js';
import type { Auth } from '../auth/auth.js';
import type { Config } from '../config.js';
import type { FriendsService } from '../friends/friends-service.js';
import { ServerError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import { authRoutes } from './auth-routes.js';
import { errorHandler, notFound } from './errors.js';
import { friendsRoutes } from './friends-routes.js';
import { turnRoutes } from './turn-routes.js';
import { isAllowedOrigin } from './origin.js';
import { sessionMiddleware } from './session-middleware.js';

export interface AppDeps {
  config: Config;
  store: Store;
  auth: Auth;
  logger: Logger;
  friends: FriendsService;
  onSessionEnded(idHash: string): Promise<void>;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** 403 for a state-changing request from a foreign Origin (CSRF). */
function originGuard(allowedOrigins: readonly string[]): RequestHandler {
  return (req, _res, next) => {
    if (SAFE_METHODS.has(req.method) || isAllowedOrigin(req.headers, allowedOrigins)) return next();
    next(new ServerError('forbidden_origin', 'Cross-origin requests are not allowed'));
  };
}

/** 415 for a body that is not JSON; bodiless requests (e.g. logout) pass. */
const requireJsonBody: RequestHandler = (req, _res, next) => {
  const hasBody =
    req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (!hasBody || SAFE_METHODS.has(req.method) || req.is('application/json')) return next();
  next(new ServerError('unsupported_media_type', 'The body must be application/json'));
};

export function createApp(deps: AppDeps): express.Express {
  const { config, store, auth, logger } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          // Plain-http deployments (a LAN, localhost) must keep working.
          upgradeInsecureRequests: null,
          // File transfers hash with hash-wasm: WebAssembly, and nothing else that evaluates code.
          scriptSrc: ["'self'", "'wasm-unsafe-eval'"],
        },
      },
    }),
  );

  app.get('/healthz', async (_req, res) => {
    const healthy = await store.isHealthy();
    const body: Health = { status: healthy ? 'ok' : 'unavailable', store: store.kind };
    res.status(healthy ? 200 : 503).json(body);
  });

  const api = express.Router();
  api.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  api.use(originGuard(config.publicOrigins));
  api.use(requireJsonBody);
  api.use(express.json({ limit: HTTP_BODY_MAX_BYTES, strict: true }));
  api.use(sessionMiddleware(auth));
  api.use(authRoutes({ auth, onSessionEnded: deps.onSessionEnded }));
  api.use(friendsRoutes(deps.friends));
  api.use(turnRoutes(config.turn));
  api.use(notFound);
  app.use('/api', api);

  if (config.staticDir) {
    const root = path.resolve(config.staticDir);
    const index = path.join(root, 'index.html');
    if (!existsSync(index)) logger.warn({ staticDir: root }, 'no built client found (run `npm run build`)');
    // Downloads are served by the page's download service worker (client/src/download-sw.ts, scope
    // /download/): one that reaches the server has no worker behind it, and must not get the app
    // shell as its file (nor start the app in the hidden frame that asked).
    app.use('/download', notFound);
    app.use(express.static(root, { index: false, maxAge: '1h' }));
    // Client-side routes: any other GET that accepts HTML gets the app shell.
    app.get('/{*splat}', (req, res, next) => {
      if (!req.accepts('html') || !existsSync(index)) return next();
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile(index);
    });
  }

  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}
