/**
 * The one error class of the client's HTTP layer: every failed API call becomes an `ApiError` with a
 * code the UI can switch on, so screens show inline messages instead of guessing from statuses.
 */
import { API_ERROR_CODES, apiErrorSchema, type ApiErrorCode } from '../../../shared/api.js';

/** Failures the client detects itself, beside the codes the server answers with. */
export const CLIENT_ERROR_CODES = {
  network_error: 'Could not reach the server',
  timeout: 'The server took too long to answer',
  bad_response: 'The server answered with something unexpected',
} as const;
export type ClientErrorCode = keyof typeof CLIENT_ERROR_CODES;

export type ApiErrorKind = ApiErrorCode | ClientErrorCode;

export interface ApiErrorInit {
  code: ApiErrorKind;
  /** HTTP status; 0 when no response arrived. */
  status: number;
  message?: string;
  /** The request field a 400 is about, e.g. `username`. */
  field?: string;
  /** How long to wait before retrying, from the body or the `Retry-After` header. */
  retryAfterSeconds?: number;
  cause?: unknown;
}

export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly code: ApiErrorKind;
  readonly status: number;
  readonly field: string | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(init: ApiErrorInit) {
    super(
      init.message ?? defaultMessage(init.code),
      init.cause === undefined ? undefined : { cause: init.cause },
    );
    this.code = init.code;
    this.status = init.status;
    this.field = init.field;
    this.retryAfterSeconds = init.retryAfterSeconds;
  }
}

export function isApiErrorCode(code: string): code is ApiErrorCode {
  return Object.hasOwn(API_ERROR_CODES, code);
}

function defaultMessage(code: ApiErrorKind): string {
  return isApiErrorCode(code) ? API_ERROR_CODES[code] : CLIENT_ERROR_CODES[code];
}

/**
 * Builds the error for a non-2xx response from its status, parsed JSON body (or `undefined` when the
 * body was not JSON) and `Retry-After` header. Never throws.
 */
export function errorFromResponse(status: number, body: unknown, retryAfterHeader: string | null): ApiError {
  const headerSeconds = parseRetryAfter(retryAfterHeader);
  const parsed = apiErrorSchema.safeParse(body);
  if (!parsed.success) {
    return new ApiError({
      code: 'bad_response',
      status,
      message: `${CLIENT_ERROR_CODES.bad_response} (HTTP ${status})`,
      retryAfterSeconds: headerSeconds,
    });
  }
  const { code, message, field, retryAfterSeconds } = parsed.data.error;
  return new ApiError({
    // A code this client does not know yet (a newer server) still carries the server's message.
    code: isApiErrorCode(code) ? code : 'bad_response',
    status,
    message,
    field,
    retryAfterSeconds: retryAfterSeconds ?? headerSeconds,
  });
}

/** `Retry-After` as whole seconds; the HTTP-date form is accepted too. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  // An HTTP date names its weekday and month; Date.parse alone would read "-5" as a year.
  const date = /[a-z]/i.test(trimmed) ? Date.parse(trimmed) : Number.NaN;
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

/** Wraps whatever a `fetch` threw (offline, DNS, abort by timeout) in an `ApiError`. */
export function errorFromFetchFailure(cause: unknown): ApiError {
  const timedOut = cause instanceof DOMException && cause.name === 'TimeoutError';
  return new ApiError({ code: timedOut ? 'timeout' : 'network_error', status: 0, cause });
}

/** Anything caught, as an `ApiError` (unexpected throws become `bad_response`, keeping the cause). */
export function toApiError(caught: unknown): ApiError {
  if (caught instanceof ApiError) return caught;
  return new ApiError({
    code: 'bad_response',
    status: 0,
    message: caught instanceof Error ? caught.message : String(caught),
    cause: caught,
  });
}
