/**
 * State of the sign-in / create-account form: mode, fields, per-field and form-wide errors, and the
 * submit flow. The component binds the fields and renders the rest.
 */
import type { Credentials } from '../../../shared/api.js';
import { toApiError } from './api-error.js';
import {
  checkCredentials,
  describeAuthError,
  type AuthField,
  type AuthMode,
  type FieldErrors,
} from './auth-feedback.js';

export interface AuthActions {
  register(credentials: Credentials): Promise<void>;
  signIn(credentials: Credentials): Promise<void>;
}

/** Remembers that this browser has signed in before, so the form opens on "Sign in" next time. */
export interface AccountMemory {
  hasAccount(): boolean;
  rememberAccount(): void;
}

const HAS_ACCOUNT_KEY = 'parley.has-account';

/** {@link AccountMemory} in localStorage; silent when storage is unavailable (private mode, tests). */
export const localAccountMemory: AccountMemory = {
  hasAccount() {
    try {
      return globalThis.localStorage?.getItem(HAS_ACCOUNT_KEY) === '1';
    } catch {
      return false;
    }
  },
  rememberAccount() {
    try {
      globalThis.localStorage?.setItem(HAS_ACCOUNT_KEY, '1');
    } catch {
      // Storage is optional: the form just opens on "Create account" next time.
    }
  },
};

/** What `submit()` tells the component: done, or which field to move focus to. */
export type SubmitOutcome = { ok: true } | { ok: false; focus: AuthField | 'form' };

export class AuthForm {
  readonly #actions: AuthActions;
  readonly #memory: AccountMemory;

  /** Bound to the inputs. */
  username = $state('');
  password = $state('');

  #mode = $state<AuthMode>('sign_in');
  #submitting = $state(false);
  #fieldErrors = $state<FieldErrors>({});
  #formError = $state<string | null>(null);

  constructor(actions: AuthActions, memory: AccountMemory = localAccountMemory) {
    this.#actions = actions;
    this.#memory = memory;
    this.#mode = memory.hasAccount() ? 'sign_in' : 'create_account';
  }

  get mode(): AuthMode {
    return this.#mode;
  }

  get submitting(): boolean {
    return this.#submitting;
  }

  get formError(): string | null {
    return this.#formError;
  }

  fieldError(field: AuthField): string | undefined {
    return this.#fieldErrors[field];
  }

  /** Switches between "Sign in" and "Create account"; what was typed stays, old errors go. */
  setMode(mode: AuthMode): void {
    if (mode === this.#mode || this.#submitting) return;
    this.#mode = mode;
    this.#fieldErrors = {};
    this.#formError = null;
  }

  /** The person edited `field`: its error no longer describes what is there. */
  edited(field: AuthField): void {
    if (this.#fieldErrors[field] !== undefined)
      this.#fieldErrors = { ...this.#fieldErrors, [field]: undefined };
    this.#formError = null;
  }

  async submit(): Promise<SubmitOutcome> {
    if (this.#submitting) return { ok: false, focus: 'form' };
    const mode = this.#mode;
    const check = checkCredentials({ username: this.username, password: this.password }, mode);
    this.#formError = null;
    if (!check.ok) {
      this.#fieldErrors = check.errors;
      return { ok: false, focus: check.errors.username !== undefined ? 'username' : 'password' };
    }
    this.#fieldErrors = {};
    this.#submitting = true;
    try {
      if (mode === 'create_account') await this.#actions.register(check.credentials);
      else await this.#actions.signIn(check.credentials);
      this.#memory.rememberAccount();
      this.password = '';
      return { ok: true };
    } catch (caught) {
      const error = toApiError(caught);
      const { field, message } = describeAuthError(error);
      if (field === null) this.#formError = message;
      else this.#fieldErrors = { [field]: message };
      // After "wrong username or password" the password is what people retype.
      return { ok: false, focus: field ?? (error.code === 'invalid_credentials' ? 'password' : 'form') };
    } finally {
      this.#submitting = false;
    }
  }
}
