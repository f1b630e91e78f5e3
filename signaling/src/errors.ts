/** The signaling server's one error class: a code from the API's union, its HTTP status and cause. */
import { API_ERROR_CODES, type ApiErrorBody, type ApiErrorCode } from '../../shared/api.js';
import { StoreUnavailableError } from './store/store.js';

const STATUS: Record<ApiErrorCode, number> = {
  invalid_json: 400,
  invalid_body: 400,
  unsupported_media_type: 415,
  payload_too_large: 413,
  unauthenticated: 401,
  invalid_credentials: 401,
  username_taken: 409,
  forbidden_origin: 403,
  rate_limited: 429,
  not_found: 404,
  method_not_allowed: 405,
  store_unavailable: 503,
  invalid_param: 400,
  user_not_found: 404,
  cannot_add_self: 400,
  already_friends: 409,
  already_requested: 409,
  request_not_found: 404,
  not_friends: 404,
  friend_limit: 409,
  pending_limit: 409,
  internal: 500,
};

export class ServerError extends Error {
  override readonly name = 'ServerError';
  readonly code: ApiErrorCode;
  readonly status: number;
  readonly field: string | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: ApiErrorCode,
    message: string = API_ERROR_CODES[code],
    options: { cause?: unknown; field?: string; retryAfterSeconds?: number } = {},
  ) {
    super(message, { cause: options.cause });
    this.code = code;
    this.status = STATUS[code];
    this.field = options.field;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  /** The JSON body sent to the client: never a stack trace. */
  toBody(): ApiErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.field !== undefined ? { field: this.field } : {}),
        ...(this.retryAfterSeconds !== undefined ? { retryAfterSeconds: this.retryAfterSeconds } : {}),
      },
    };
  }
}

/** Turns anything caught into an Error. */
export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/** Maps anything caught to a ServerError; unknown failures become `internal` (500). */
export function toServerError(value: unknown): ServerError {
  if (value instanceof ServerError) return value;
  if (value instanceof StoreUnavailableError)
    return new ServerError('store_unavailable', undefined, { cause: value });
  return new ServerError('internal', undefined, { cause: value });
}

/** A 429 with whole seconds to wait, at least 1. */
export function rateLimited(msBeforeNext: number, message = 'Too many attempts; retry later'): ServerError {
  return new ServerError('rate_limited', message, {
    retryAfterSeconds: Math.max(1, Math.ceil(msBeforeNext / 1000)),
  });
}
