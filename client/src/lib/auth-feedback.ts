/**
 * What the auth screen tells people: client-side checks that mirror the server's schemas (the server
 * stays the authority) and the inline message for each API error.
 */
import { credentialsSchema, type Credentials } from '../../../shared/api.js';
import type { ApiError } from './api-error.js';

export type AuthMode = 'sign_in' | 'create_account';
export type AuthField = 'username' | 'password';
export type FieldErrors = Partial<Record<AuthField, string>>;

/** An inline message: under a field, or for the whole form when `field` is null. */
export interface AuthMessage {
  field: AuthField | null;
  message: string;
}

export type CredentialsCheck = { ok: true; credentials: Credentials } | { ok: false; errors: FieldErrors };

/**
 * Checks what was typed before it is sent. Creating an account applies the shared schema (length,
 * characters); signing in only asks for both fields, since the server answers wrong credentials
 * uniformly anyway.
 */
export function checkCredentials(
  input: { username: string; password: string },
  mode: AuthMode,
): CredentialsCheck {
  const errors: FieldErrors = {};
  if (input.username.trim() === '') {
    errors.username = mode === 'create_account' ? 'Choose a username' : 'Enter your username';
  }
  if (input.password === '') {
    errors.password = mode === 'create_account' ? 'Choose a password' : 'Enter your password';
  }
  if (mode === 'sign_in') {
    return hasErrors(errors) ? { ok: false, errors } : { ok: true, credentials: { ...input } };
  }
  const parsed = credentialsSchema.safeParse(input);
  if (parsed.success && !hasErrors(errors)) return { ok: true, credentials: parsed.data };
  for (const issue of parsed.success ? [] : parsed.error.issues) {
    const field = issue.path[0];
    if ((field === 'username' || field === 'password') && errors[field] === undefined) {
      errors[field] = sentence(issue.message);
    }
  }
  return { ok: false, errors };
}

/** The inline message for a failed register or sign-in call. */
export function describeAuthError(error: ApiError): AuthMessage {
  switch (error.code) {
    case 'username_taken':
      return { field: 'username', message: 'That username is taken. Try another one.' };
    case 'invalid_body':
      return { field: asAuthField(error.field), message: sentence(error.message) };
    case 'invalid_credentials':
      return { field: null, message: 'Wrong username or password.' };
    case 'rate_limited':
      return {
        field: null,
        message:
          error.retryAfterSeconds === undefined
            ? 'Too many attempts. Try again in a little while.'
            : `Too many attempts. Try again in ${Math.max(1, Math.ceil(error.retryAfterSeconds))} s.`,
      };
    case 'network_error':
      return { field: null, message: "Can't reach Parley. Check your connection and try again." };
    case 'timeout':
      return { field: null, message: 'Parley is taking too long to answer. Try again in a moment.' };
    case 'store_unavailable':
    case 'internal':
    case 'bad_response':
      return { field: null, message: 'Something went wrong on our side. Try again in a moment.' };
    default:
      return { field: null, message: sentence(error.message) };
  }
}

function asAuthField(field: string | undefined): AuthField | null {
  return field === 'username' || field === 'password' ? field : null;
}

function hasErrors(errors: FieldErrors): boolean {
  return errors.username !== undefined || errors.password !== undefined;
}

/** Server and schema messages are lower-case fragments ("password must be ..."): make them sentences. */
export function sentence(message: string): string {
  const trimmed = message.trim();
  if (trimmed === '') return 'Something went wrong.';
  return trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
}
