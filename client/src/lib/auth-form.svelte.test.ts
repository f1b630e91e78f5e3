import { describe, expect, it, vi } from 'vitest';
import type { Credentials } from '../../../shared/api.js';
import { ApiError } from './api-error.js';
import { AuthForm, type AccountMemory, type AuthActions } from './auth-form.svelte.js';

function memory(hasAccount = false): AccountMemory & { remembered: boolean } {
  return {
    remembered: false,
    hasAccount: () => hasAccount,
    rememberAccount() {
      this.remembered = true;
    },
  };
}

function actions(overrides: Partial<AuthActions> = {}): AuthActions {
  return {
    register: vi.fn(() => Promise.resolve()),
    signIn: vi.fn(() => Promise.resolve()),
    ...overrides,
  };
}

describe('AuthForm', () => {
  it('opens on "Create account" for a new browser and on "Sign in" for a returning one', () => {
    expect(new AuthForm(actions(), memory(false)).mode).toBe('create_account');
    expect(new AuthForm(actions(), memory(true)).mode).toBe('sign_in');
  });

  it('checks fields before sending and points at the first bad one', async () => {
    const act = actions();
    const form = new AuthForm(act, memory());
    form.username = 'ada';
    form.password = 'short';
    expect(await form.submit()).toEqual({ ok: false, focus: 'password' });
    expect(form.fieldError('password')).toBe('Password must be at least 8 characters');
    expect(act.register).not.toHaveBeenCalled();
    form.edited('password');
    expect(form.fieldError('password')).toBeUndefined();
  });

  it('registers with normalized credentials, remembers the account and clears the password', async () => {
    const act = actions();
    const mem = memory();
    const form = new AuthForm(act, mem);
    form.username = ' Ada ';
    form.password = 'long enough';
    expect(await form.submit()).toEqual({ ok: true });
    expect(act.register).toHaveBeenCalledWith({
      username: 'ada',
      password: 'long enough',
    } satisfies Credentials);
    expect(mem.remembered).toBe(true);
    expect(form.password).toBe('');
  });

  it('is submitting while the request runs', async () => {
    let finish: () => void = () => {};
    const form = new AuthForm(
      actions({ signIn: () => new Promise<void>((resolve) => (finish = resolve)) }),
      memory(true),
    );
    form.username = 'ada';
    form.password = 'whatever';
    const pending = form.submit();
    expect(form.submitting).toBe(true);
    expect(await form.submit()).toEqual({ ok: false, focus: 'form' });
    finish();
    await pending;
    expect(form.submitting).toBe(false);
  });

  it('shows server errors inline: taken username under the field, wrong password for the form', async () => {
    const taken = new AuthForm(
      actions({ register: () => Promise.reject(new ApiError({ code: 'username_taken', status: 409 })) }),
      memory(),
    );
    taken.username = 'ada';
    taken.password = 'long enough';
    expect(await taken.submit()).toEqual({ ok: false, focus: 'username' });
    expect(taken.fieldError('username')).toMatch(/taken/);

    const wrong = new AuthForm(
      actions({ signIn: () => Promise.reject(new ApiError({ code: 'invalid_credentials', status: 401 })) }),
      memory(true),
    );
    wrong.username = 'ada';
    wrong.password = 'nope nope';
    expect(await wrong.submit()).toEqual({ ok: false, focus: 'password' });
    expect(wrong.formError).toBe('Wrong username or password.');
    wrong.edited('username');
    expect(wrong.formError).toBeNull();
  });

  it('switching modes keeps what was typed and drops old errors', async () => {
    const form = new AuthForm(actions(), memory());
    form.username = 'ada';
    await form.submit();
    expect(form.fieldError('password')).toBeDefined();
    form.setMode('sign_in');
    expect(form.mode).toBe('sign_in');
    expect(form.username).toBe('ada');
    expect(form.fieldError('password')).toBeUndefined();
  });
});
