import { describe, expect, it } from 'vitest';
import { ApiError } from './api-error.js';
import { checkCredentials, describeAuthError, sentence } from './auth-feedback.js';

describe('checkCredentials', () => {
  it('asks for both fields', () => {
    expect(checkCredentials({ username: ' ', password: '' }, 'sign_in')).toEqual({
      ok: false,
      errors: { username: 'Enter your username', password: 'Enter your password' },
    });
    expect(checkCredentials({ username: '', password: '' }, 'create_account')).toEqual({
      ok: false,
      errors: { username: 'Choose a username', password: 'Choose a password' },
    });
  });

  it('applies the shared schema when creating an account', () => {
    const short = checkCredentials({ username: 'ada', password: 'short' }, 'create_account');
    expect(short).toEqual({ ok: false, errors: { password: 'Password must be at least 8 characters' } });
    const badName = checkCredentials({ username: 'a b!', password: 'long enough' }, 'create_account');
    expect(badName.ok).toBe(false);
    expect(!badName.ok && badName.errors.username).toMatch(/^Username may contain only/);
    expect(checkCredentials({ username: 'ab', password: 'long enough' }, 'create_account')).toEqual({
      ok: false,
      errors: { username: 'Username must be at least 3 characters' },
    });
  });

  it('sends the normalized username when creating an account', () => {
    expect(checkCredentials({ username: '  Ada.L ', password: 'long enough' }, 'create_account')).toEqual({
      ok: true,
      credentials: { username: 'ada.l', password: 'long enough' },
    });
  });

  it('leaves length rules to the server when signing in', () => {
    expect(checkCredentials({ username: 'ada', password: 'short' }, 'sign_in')).toEqual({
      ok: true,
      credentials: { username: 'ada', password: 'short' },
    });
  });
});

describe('describeAuthError', () => {
  const error = (init: ConstructorParameters<typeof ApiError>[0]) => new ApiError(init);

  it('puts taken usernames and invalid fields under their field', () => {
    expect(describeAuthError(error({ code: 'username_taken', status: 409 }))).toEqual({
      field: 'username',
      message: 'That username is taken. Try another one.',
    });
    expect(
      describeAuthError(
        error({
          code: 'invalid_body',
          status: 400,
          field: 'password',
          message: 'password must be at most 256 characters',
        }),
      ),
    ).toEqual({ field: 'password', message: 'Password must be at most 256 characters' });
    expect(describeAuthError(error({ code: 'invalid_body', status: 400, message: 'missing' }))).toEqual({
      field: null,
      message: 'Missing',
    });
  });

  it('explains wrong credentials, throttling and the network for the whole form', () => {
    expect(describeAuthError(error({ code: 'invalid_credentials', status: 401 })).message).toBe(
      'Wrong username or password.',
    );
    expect(describeAuthError(error({ code: 'rate_limited', status: 429, retryAfterSeconds: 37 }))).toEqual({
      field: null,
      message: 'Too many attempts. Try again in 37 s.',
    });
    expect(
      describeAuthError(error({ code: 'rate_limited', status: 429, retryAfterSeconds: 0.2 })).message,
    ).toBe('Too many attempts. Try again in 1 s.');
    expect(describeAuthError(error({ code: 'rate_limited', status: 429 })).message).toMatch(
      /^Too many attempts/,
    );
    expect(describeAuthError(error({ code: 'network_error', status: 0 })).message).toMatch(
      /^Can't reach Parley/,
    );
    expect(describeAuthError(error({ code: 'internal', status: 500 })).message).toMatch(
      /^Something went wrong/,
    );
  });
});

describe('sentence', () => {
  it('capitalizes fragments', () => {
    expect(sentence(' username taken')).toBe('Username taken');
    expect(sentence('')).toBe('Something went wrong.');
  });
});
