import { describe, expect, it } from 'vitest';
import { ApiError } from './api-error.js';
import {
  checkFriendUsername,
  describeAddFriendError,
  describeFriendActionError,
} from './friends-feedback.js';

const error = (code: ConstructorParameters<typeof ApiError>[0]['code'], extra: object = {}) =>
  new ApiError({ code, status: 400, ...extra });

describe('checkFriendUsername', () => {
  it('trims and folds a valid name', () => {
    expect(checkFriendUsername('  Bob.Smith ')).toEqual({ ok: true, username: 'bob.smith' });
  });

  it('asks for a name, and explains a malformed one', () => {
    expect(checkFriendUsername('   ')).toEqual({ ok: false, message: "Enter your friend's username." });
    expect(checkFriendUsername('ab')).toEqual({
      ok: false,
      message: 'Username must be at least 3 characters.',
    });
    expect(checkFriendUsername('bob smith')).toMatchObject({ ok: false, message: /may contain only/ });
  });
});

describe('describeAddFriendError', () => {
  it.each([
    ['user_not_found', 'No one here is called “bob”. Check the spelling.'],
    ['cannot_add_self', "That's you! Enter a friend's username."],
    ['already_friends', 'You and bob are already friends.'],
    ['already_requested', "You already sent bob a request. It's waiting for an answer."],
    ['pending_limit', expect.stringMatching(/^Too many requests are waiting/)],
    ['friend_limit', expect.stringMatching(/already have 1000 friends/)],
    ['network_error', "Can't reach Parley. Check your connection and try again."],
    ['internal', 'Something went wrong on our side. Try again in a moment.'],
  ] as const)('%s', (code, message) => {
    expect(describeAddFriendError(error(code), 'bob')).toEqual(message);
  });

  it('says when to retry after too many requests', () => {
    expect(describeAddFriendError(error('rate_limited', { retryAfterSeconds: 600 }), 'bob')).toBe(
      "You've sent a lot of requests lately. Try again in 10 min.",
    );
    expect(describeAddFriendError(error('rate_limited', { retryAfterSeconds: 12 }), 'bob')).toMatch(
      /in 12 s\.$/,
    );
    expect(describeAddFriendError(error('rate_limited'), 'bob')).toMatch(/Try again later\.$/);
  });

  it("turns the server's field message into a sentence", () => {
    const invalid = error('invalid_body', {
      message: 'username must be at most 32 characters',
      field: 'username',
    });
    expect(describeAddFriendError(invalid, 'x')).toBe('Username must be at most 32 characters.');
  });
});

describe('describeFriendActionError', () => {
  it('explains gone requests, limits and failures', () => {
    expect(describeFriendActionError(error('request_not_found'))).toBe('That request is no longer pending.');
    expect(describeFriendActionError(error('friend_limit'))).toMatch(/1000 friends/);
    expect(describeFriendActionError(error('timeout'))).toMatch(/taking too long/);
  });
});
