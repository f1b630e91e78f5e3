/** `GET /api/turn`: ICE servers with short-lived TURN credentials, for signed-in users only. */
import { Router } from 'express';
import type { IceServersResponse } from '../../../shared/api.js';
import type { TurnSettings } from '../config.js';
import { ServerError } from '../errors.js';
import { iceServersFor } from '../turn/turn-credentials.js';
import { methodNotAllowed } from './errors.js';
import { requireUser } from './session-middleware.js';

export function turnRoutes(turn: TurnSettings): Router {
  const router = Router();
  router
    .route('/turn')
    .get(requireUser, (_req, res) => {
      const signedIn = res.locals.signedIn;
      if (!signedIn) throw new ServerError('unauthenticated');
      res.json(iceServersFor(signedIn.user.id, turn) satisfies IceServersResponse);
    })
    .all(methodNotAllowed);
  return router;
}
