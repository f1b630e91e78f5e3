/**
 * What the friends panel tells people: the client-side check of a typed username (the server stays
 * the authority) and a friendly inline message for each API error of each friends action.
 */
import { usernameSchema } from '../../../shared/api.js';
import { FRIENDS_MAX } from '../../../shared/limits.js';
import type { ApiError } from './api-error.js';
import { sentence } from './auth-feedback.js';

/** The actions on a request or a friend, each with its own busy and error state. */
export type FriendAction = 'accept' | 'decline' | 'cancel' | 'remove';

export type UsernameCheck = { ok: true; username: string } | { ok: false; message: string };

/** Checks a username typed into "Add friend" with the shared rules; returns it trimmed and folded. */
export function checkFriendUsername(input: string): UsernameCheck {
  if (input.trim() === '') return { ok: false, message: "Enter your friend's username." };
  const parsed = usernameSchema.safeParse(input);
  if (parsed.success) return { ok: true, username: parsed.data };
  return { ok: false, message: `${sentence(parsed.error.issues[0]?.message ?? 'invalid username')}.` };
}

/** The message under "Friend's username" after a failed request to `username`. */
export function describeAddFriendError(error: ApiError, username: string): string {
  switch (error.code) {
    case 'user_not_found':
      return `No one here is called “${username}”. Check the spelling.`;
    case 'cannot_add_self':
      return "That's you! Enter a friend's username.";
    case 'invalid_body':
      return `${sentence(error.message).replace(/\.$/, '')}.`;
    case 'already_friends':
      return `You and ${username} are already friends.`;
    case 'already_requested':
      return `You already sent ${username} a request. It's waiting for an answer.`;
    case 'pending_limit':
      return 'Too many requests are waiting for an answer (yours or theirs). Cancel some, or try later.';
    case 'friend_limit':
      return `You or ${username} already have ${FRIENDS_MAX} friends, the most Parley allows.`;
    case 'rate_limited':
      return `You've sent a lot of requests lately. Try again ${retryIn(error.retryAfterSeconds)}.`;
    default:
      return describeCommonError(error);
  }
}

/** The inline message of a failed accept, decline, cancel or unfriend. */
export function describeFriendActionError(error: ApiError): string {
  switch (error.code) {
    case 'friend_limit':
      return `One of you already has ${FRIENDS_MAX} friends, the most Parley allows.`;
    case 'request_not_found':
      return 'That request is no longer pending.';
    case 'not_friends':
      return 'You are no longer friends.';
    case 'rate_limited':
      return `Too many changes at once. Try again ${retryIn(error.retryAfterSeconds)}.`;
    default:
      return describeCommonError(error);
  }
}

/** Answers that mean the same whatever was asked. */
function describeCommonError(error: ApiError): string {
  switch (error.code) {
    case 'unauthenticated':
      return 'Your session ended. Sign in again to continue.';
    case 'network_error':
      return "Can't reach Parley. Check your connection and try again.";
    case 'timeout':
      return 'Parley is taking too long to answer. Try again in a moment.';
    case 'store_unavailable':
    case 'internal':
    case 'bad_response':
      return 'Something went wrong on our side. Try again in a moment.';
    default:
      return `${sentence(error.message).replace(/\.$/, '')}.`;
  }
}

/** "in 40 s", "in 12 min", or "later" when the server did not say. */
function retryIn(seconds: number | undefined): string {
  if (seconds === undefined) return 'later';
  if (seconds < 60) return `in ${Math.max(1, Math.ceil(seconds))} s`;
  return `in ${Math.ceil(seconds / 60)} min`;
}
