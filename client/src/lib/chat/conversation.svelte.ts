/**
 * One conversation as the chat pane shows it: the loaded part of the history in conversation order,
 * and the draft. `ChatState` owns it and feeds it from the store and the peer network.
 */
import type { StoredMessage } from './chat-store.js';
import { mergeMessages } from './message-order.js';

export class ConversationState {
  /** The friend's user id. */
  readonly friendId: string;
  /** What is typed in the field and not sent yet; kept while other chats are open. */
  draft = $state('');

  #messages = $state.raw<readonly StoredMessage[]>([]);
  #loaded = $state(false);
  #hasOlder = $state(false);
  #loadingOlder = $state(false);

  constructor(friendId: string) {
    this.friendId = friendId;
  }

  /** Loaded messages, oldest first, one per id. */
  get messages(): readonly StoredMessage[] {
    return this.#messages;
  }

  /** Whether the newest page of history has been read from the store. */
  get loaded(): boolean {
    return this.#loaded;
  }

  /** Whether the store may hold messages older than the first loaded one. */
  get hasOlder(): boolean {
    return this.#hasOlder;
  }

  get loadingOlder(): boolean {
    return this.#loadingOlder;
  }

  /** New messages, state changes and history pages land here, each in place. */
  merge(messages: readonly StoredMessage[]): void {
    if (messages.length > 0) this.#messages = mergeMessages(this.#messages, messages);
  }

  /** A page of history arrived: `full` pages mean there may be more before it. */
  addPage(page: readonly StoredMessage[], full: boolean): void {
    this.merge(page);
    this.#loaded = true;
    this.#hasOlder = full;
    this.#loadingOlder = false;
  }

  /** Starts loading older history; false when there is none or it is already on its way. */
  beginLoadingOlder(): boolean {
    if (!this.#loaded || !this.#hasOlder || this.#loadingOlder) return false;
    this.#loadingOlder = true;
    return true;
  }
}
