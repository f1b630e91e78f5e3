import { describe, expect, it } from 'vitest';
import {
  ApiError,
  errorFromFetchFailure,
  errorFromResponse,
  parseRetryAfter,
  toApiError,
} from './api-error.js';

describe('errorFromResponse', () => {
  it('reads code, message and field of a 400', () => {
    const error = errorFromResponse(
      400,
      {
        error: { code: 'invalid_body', message: 'password must be at least 8 characters', field: 'password' },
      },
      null,
    );
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({
      code: 'invalid_body',
      status: 400,
      message: 'password must be at least 8 characters',
      field: 'password',
      retryAfterSeconds: undefined,
    });
  });

  it('takes retryAfterSeconds from the body, else from Retry-After', () => {
    const body = { error: { code: 'rate_limited', message: 'slow down', retryAfterSeconds: 42 } };
    expect(errorFromResponse(429, body, '7').retryAfterSeconds).toBe(42);
    const bare = { error: { code: 'rate_limited', message: 'slow down' } };
    expect(errorFromResponse(429, bare, '7').retryAfterSeconds).toBe(7);
  });

  it('turns a body that is not an API error into bad_response with the status', () => {
    const error = errorFromResponse(502, undefined, null);
    expect(error.code).toBe('bad_response');
    expect(error.status).toBe(502);
    expect(error.message).toContain('502');
    expect(errorFromResponse(500, { error: 'nope' }, null).code).toBe('bad_response');
  });

  it('keeps the message of a code this client does not know', () => {
    const error = errorFromResponse(418, { error: { code: 'teapot', message: 'I am a teapot' } }, null);
    expect(error).toMatchObject({ code: 'bad_response', status: 418, message: 'I am a teapot' });
  });
});

describe('parseRetryAfter', () => {
  it('accepts seconds and HTTP dates', () => {
    expect(parseRetryAfter('120')).toBe(120);
    expect(parseRetryAfter(' 3 ')).toBe(3);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
  });

  it('ignores missing or garbled values', () => {
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('')).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter('-5')).toBeUndefined();
  });
});

describe('fetch failures and unknown throws', () => {
  it('maps a timeout abort to timeout and anything else to network_error', () => {
    expect(errorFromFetchFailure(new DOMException('late', 'TimeoutError')).code).toBe('timeout');
    const offline = errorFromFetchFailure(new TypeError('Failed to fetch'));
    expect(offline).toMatchObject({ code: 'network_error', status: 0 });
    expect(offline.cause).toBeInstanceOf(TypeError);
  });

  it('toApiError keeps ApiErrors and wraps the rest', () => {
    const original = new ApiError({ code: 'internal', status: 500 });
    expect(toApiError(original)).toBe(original);
    expect(toApiError(new Error('boom'))).toMatchObject({ code: 'bad_response', message: 'boom' });
    expect(toApiError('weird')).toMatchObject({ code: 'bad_response', message: 'weird' });
  });
});
