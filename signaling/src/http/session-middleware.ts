/** Reads the session cookie once per request and keeps the cookie in step with the session. */
import type { Request, RequestHandler } from 'express';
import type { Auth, SignedIn } from '../auth/auth.js';
import { ServerError } from '../errors.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      /** The signed-in user and session, or `null`; set by `sessionMiddleware`. */
      signedIn: SignedIn | null;
    }
  }
}

/** Whether the client reached us over https (directly or, with TRUST_PROXY, through a proxy). */
export function isHttps(req: Request): boolean {
  return req.secure;
}

export function sessionMiddleware(auth: Auth): RequestHandler {
  return async (req, res, next) => {
    res.locals.signedIn = null;
    const sessionId = auth.readSessionCookie(req.headers.cookie);
    if (!sessionId) return next();
    const signedIn = await auth.validate(sessionId);
    if (!signedIn) {
      res.append('Set-Cookie', auth.blankSessionCookie(isHttps(req)));
    } else if (signedIn.session.fresh) {
      // lucia extended the session: send the cookie with its new expiry.
      res.append('Set-Cookie', auth.sessionCookie(signedIn.session, isHttps(req)));
    }
    res.locals.signedIn = signedIn;
    next();
  };
}

/** 401 unless signed in. */
export const requireUser: RequestHandler = (_req, res, next) => {
  next(res.locals.signedIn ? undefined : new ServerError('unauthenticated'));
};
