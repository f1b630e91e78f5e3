/**
 * State of the "Add friend" form: the typed username, the inline error under it, and the
 * confirmation after a success. The component binds the field and renders the rest.
 */
import { toApiError } from './api-error.js';
import type { AddFriendResult } from './friends.svelte.js';
import { checkFriendUsername, describeAddFriendError } from './friends-feedback.js';

export interface AddFriendAction {
  addFriend(username: string): Promise<AddFriendResult>;
}

export class AddFriendForm {
  readonly #actions: AddFriendAction;

  /** Bound to the input. */
  username = $state('');

  #submitting = $state(false);
  #error = $state<string | undefined>(undefined);
  #confirmation = $state<string | null>(null);

  constructor(actions: AddFriendAction) {
    this.#actions = actions;
  }

  get submitting(): boolean {
    return this.#submitting;
  }

  /** The message under the field. */
  get error(): string | undefined {
    return this.#error;
  }

  /** "Request sent to bob." or "You and bob are now friends." after a success. */
  get confirmation(): string | null {
    return this.#confirmation;
  }

  /** The person is typing: old messages no longer describe what is there. */
  edited(): void {
    this.#error = undefined;
    this.#confirmation = null;
  }

  /** Sends the request; resolves true on success (the field is cleared), false with an inline error. */
  async submit(): Promise<boolean> {
    if (this.#submitting) return false;
    this.#confirmation = null;
    const check = checkFriendUsername(this.username);
    if (!check.ok) {
      this.#error = check.message;
      return false;
    }
    this.#error = undefined;
    this.#submitting = true;
    try {
      const result = await this.#actions.addFriend(check.username);
      this.username = '';
      this.#confirmation =
        result.kind === 'requested'
          ? `Request sent to ${result.user.username}.`
          : `You and ${result.friend.username} are now friends.`;
      return true;
    } catch (caught) {
      this.#error = describeAddFriendError(toApiError(caught), check.username);
      return false;
    } finally {
      this.#submitting = false;
    }
  }
}
