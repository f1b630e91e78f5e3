/** `/api/friends/*`: the buddy list and friend requests. All routes need a signed-in user. */
import { Router, type Request } from 'express';
import { z } from 'zod';
import { friendRequestBodySchema, type FriendResponse, type FriendsSnapshot } from '../../../shared/api.js';
import { ServerError } from '../errors.js';
import type { FriendsService } from '../friends/friends-service.js';
import type { AuthUser } from '../auth/auth.js';
import { methodNotAllowed } from './errors.js';
import { requireUser } from './session-middleware.js';
import { parseBody } from './validate.js';

const userIdSchema = z.uuid();

function userIdParam(req: Request): string {
  const parsed = userIdSchema.safeParse(req.params.userId);
  if (!parsed.success) throw new ServerError('invalid_param', 'userId must be a user id (a UUID)');
  return parsed.data;
}

function me(res: { locals: { signedIn: { user: AuthUser } | null } }): AuthUser {
  const signedIn = res.locals.signedIn;
  if (!signedIn) throw new ServerError('unauthenticated');
  return signedIn.user;
}

export function friendsRoutes(friends: FriendsService): Router {
  const router = Router();
  router.use('/friends', requireUser);

  router
    .route('/friends')
    .get(async (_req, res) => {
      res.json((await friends.snapshot(me(res).id)) satisfies FriendsSnapshot);
    })
    .all(methodNotAllowed);

  router
    .route('/friends/requests')
    .post(async (req, res) => {
      const { username } = parseBody(friendRequestBodySchema, req.body);
      const { created, body } = await friends.request(me(res), username);
      res.status(created ? 201 : 200).json(body);
    })
    .all(methodNotAllowed);

  router
    .route('/friends/requests/:userId/accept')
    .post(async (req, res) => {
      const friend = await friends.accept(me(res), userIdParam(req));
      res.json({ friend } satisfies FriendResponse);
    })
    .all(methodNotAllowed);

  router
    .route('/friends/requests/:userId/decline')
    .post(async (req, res) => {
      await friends.decline(me(res), userIdParam(req));
      res.status(204).end();
    })
    .all(methodNotAllowed);

  router
    .route('/friends/requests/:userId')
    .delete(async (req, res) => {
      await friends.cancel(me(res), userIdParam(req));
      res.status(204).end();
    })
    .all(methodNotAllowed);

  router
    .route('/friends/:userId')
    .delete(async (req, res) => {
      await friends.remove(me(res), userIdParam(req));
      res.status(204).end();
    })
    .all(methodNotAllowed);

  return router;
}
