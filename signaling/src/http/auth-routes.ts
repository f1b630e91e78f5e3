/** `/api/auth/*` and `/api/me`: accounts and sessions. */
import { Router, type RequestHandler } from 'express';
import { credentialsSchema, type UserResponse } from '../../../shared/api.js';
import type { Auth } from '../auth/auth.js';
import { ServerError } from '../errors.js';
import { methodNotAllowed } from './errors.js';
import { isHttps, requireUser } from './session-middleware.js';
import { parseBody } from './validate.js';

export interface AuthRoutesDeps {
  auth: Auth;
  /** Called after a session ends, so its sockets close on every node. */
  onSessionEnded(idHash: string): Promise<void>;
}

export function authRoutes({ auth, onSessionEnded }: AuthRoutesDeps): Router {
  const router = Router();

  // Register and login answer alike: validate, sign in, set the cookie, return the user.
  const signIn =
    (action: 'register' | 'login', status: number): RequestHandler =>
    async (req, res) => {
      const credentials = parseBody(credentialsSchema, req.body);
      const { user, session } = await auth[action](credentials, req.ip ?? 'unknown');
      res.append('Set-Cookie', auth.sessionCookie(session, isHttps(req)));
      res.status(status).json({ user } satisfies UserResponse);
    };
  router.route('/auth/register').post(signIn('register', 201)).all(methodNotAllowed);
  router.route('/auth/login').post(signIn('login', 200)).all(methodNotAllowed);

  // Idempotent: signing out without a session still clears the cookie.
  router
    .route('/auth/logout')
    .post(async (req, res) => {
      const signedIn = res.locals.signedIn;
      if (signedIn) {
        const idHash = await auth.logout(signedIn.session.id);
        await onSessionEnded(idHash);
      }
      res.append('Set-Cookie', auth.blankSessionCookie(isHttps(req)));
      res.status(204).end();
    })
    .all(methodNotAllowed);

  router
    .route('/me')
    .get(requireUser, (_req, res) => {
      const signedIn = res.locals.signedIn;
      if (!signedIn) throw new ServerError('unauthenticated');
      res.json({ user: signedIn.user } satisfies UserResponse);
    })
    .all(methodNotAllowed);

  return router;
}
