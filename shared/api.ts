/**
 * HTTP API contract: request bodies, responses and error codes of `/api`.
 * Both the server (validation) and the client (types, inline errors) import from here.
 */
import { z } from 'zod';
import { PASSWORD_MAX, PASSWORD_MIN, USERNAME_MAX, USERNAME_MIN, USERNAME_PATTERN } from './limits.js';

/** A username as typed: trimmed and folded to lower case, then checked. */
export const usernameSchema = z
  .string({
    error: (issue) => (issue.input === undefined ? 'username is required' : 'username must be a string'),
  })
  .trim()
  .toLowerCase()
  .min(USERNAME_MIN, `username must be at least ${USERNAME_MIN} characters`)
  .max(USERNAME_MAX, `username must be at most ${USERNAME_MAX} characters`)
  .regex(USERNAME_PATTERN, 'username may contain only a-z, 0-9, "_", "." and "-"');

export const passwordSchema = z
  .string({
    error: (issue) => (issue.input === undefined ? 'password is required' : 'password must be a string'),
  })
  .min(PASSWORD_MIN, `password must be at least ${PASSWORD_MIN} characters`)
  .max(PASSWORD_MAX, `password must be at most ${PASSWORD_MAX} characters`);

/** `POST /api/auth/register` and `POST /api/auth/login` body. */
export const credentialsSchema = z.object({
  username: usernameSchema,
  password: passwordSchema,
});
export type Credentials = z.infer<typeof credentialsSchema>;

/** A user as every API response shows it. */
export const publicUserSchema = z.object({
  id: z.string(),
  username: z.string(),
});
export type PublicUser = z.infer<typeof publicUserSchema>;

/** `{user}`: the answer of register, login and `GET /api/me`. */
export const userResponseSchema = z.object({ user: publicUserSchema });
export type UserResponse = z.infer<typeof userResponseSchema>;

/** Every error code the API answers with, and what it means. */
export const API_ERROR_CODES = {
  invalid_json: 'The body is not valid JSON',
  invalid_body: 'A field is missing or has the wrong type or value',
  unsupported_media_type: 'The body must be application/json',
  payload_too_large: 'The body is larger than the API accepts',
  unauthenticated: 'Sign in first',
  invalid_credentials: 'Wrong username or password',
  username_taken: 'That username is taken',
  forbidden_origin: 'Request from a foreign origin',
  rate_limited: 'Too many requests; retry later',
  not_found: 'No such route',
  method_not_allowed: 'Method not allowed on this route',
  store_unavailable: 'The store is unreachable; retry later',
  internal: 'Internal error',
} as const;
export type ApiErrorCode = keyof typeof API_ERROR_CODES;

/** The body of every error response. `field` names the offending field of a 400. */
export const apiErrorSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    field: z.string().optional(),
    retryAfterSeconds: z.number().optional(),
  }),
});
export type ApiErrorBody = z.infer<typeof apiErrorSchema>;

/** `GET /healthz` body. */
export const healthSchema = z.object({
  status: z.enum(['ok', 'unavailable']),
  store: z.enum(['redis', 'memory']),
});
export type Health = z.infer<typeof healthSchema>;
