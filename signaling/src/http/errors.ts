/** Express error handling: every error leaves as JSON `{error:{code,message}}`, never a stack trace. */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ServerError, toServerError } from '../errors.js';
import type { Logger } from '../logger.js';

/** body-parser failures carry a `type`; map them to API errors. */
function fromBodyParser(err: unknown): ServerError | undefined {
  if (typeof err !== 'object' || err === null || err instanceof ServerError) return undefined;
  switch ((err as { type?: unknown }).type) {
    case 'entity.parse.failed':
      return new ServerError('invalid_json', 'The body is not valid JSON', { cause: err });
    case 'entity.too.large':
      return new ServerError('payload_too_large', 'The body is larger than 16 KiB', { cause: err });
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ServerError('unsupported_media_type', 'Unsupported body encoding or charset', {
        cause: err,
      });
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return new ServerError('invalid_body', 'The body could not be read', { cause: err });
    default:
      break;
  }
  // The router's "Failed to decode param" (a malformed %-escape in the path).
  if ((err as { status?: unknown }).status === 400) {
    return new ServerError('invalid_param', 'A path parameter is malformed', { cause: err });
  }
  return undefined;
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const error = fromBodyParser(err) ?? toServerError(err);
    if (error.status >= 500) {
      logger.error({ err: error.cause ?? error, method: req.method, path: req.path }, 'request failed');
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (error.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(error.retryAfterSeconds));
    res.status(error.status).json(error.toBody());
  };
}

export const notFound: RequestHandler = (req, _res, next) => {
  next(new ServerError('not_found', `No route for ${req.method} ${req.path}`));
};

export const methodNotAllowed: RequestHandler = (req, _res, next) => {
  next(new ServerError('method_not_allowed', `${req.method} is not allowed on ${req.path}`));
};
