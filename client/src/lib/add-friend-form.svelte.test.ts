import { describe, expect, it, vi } from 'vitest';
import { ApiError } from './api-error.js';
import { AddFriendForm } from './add-friend-form.svelte.js';
import type { AddFriendResult } from './friends.svelte.js';

const bob = { id: 'b', username: 'bob' };

function setup(addFriend: (username: string) => Promise<AddFriendResult>) {
  const spy = vi.fn(addFriend);
  return { form: new AddFriendForm({ addFriend: spy }), addFriend: spy };
}

describe('AddFriendForm', () => {
  it('sends the folded username, clears the field and confirms the request', async () => {
    const t = setup(() => Promise.resolve({ kind: 'requested', user: bob }));
    t.form.username = ' Bob ';
    await expect(t.form.submit()).resolves.toBe(true);
    expect(t.addFriend).toHaveBeenCalledWith('bob');
    expect(t.form.username).toBe('');
    expect(t.form.error).toBeUndefined();
    expect(t.form.confirmation).toBe('Request sent to bob.');
  });

  it('confirms an instant friendship', async () => {
    const t = setup(() =>
      Promise.resolve({ kind: 'friends', friend: { ...bob, status: 'online', lastSeen: null } }),
    );
    t.form.username = 'bob';
    await t.form.submit();
    expect(t.form.confirmation).toBe('You and bob are now friends.');
  });

  it('checks the name before sending it', async () => {
    const t = setup(() => Promise.reject(new Error('not called')));
    t.form.username = 'a b';
    await expect(t.form.submit()).resolves.toBe(false);
    expect(t.form.error).toMatch(/may contain only/);
    expect(t.addFriend).not.toHaveBeenCalled();
  });

  it('keeps the field and shows the error inline; editing clears it', async () => {
    const t = setup(() => Promise.reject(new ApiError({ code: 'user_not_found', status: 404 })));
    t.form.username = 'nobody';
    const submitting = t.form.submit();
    expect(t.form.submitting).toBe(true);
    await expect(submitting).resolves.toBe(false);
    expect(t.form.submitting).toBe(false);
    expect(t.form.username).toBe('nobody');
    expect(t.form.error).toBe('No one here is called “nobody”. Check the spelling.');
    t.form.edited();
    expect(t.form.error).toBeUndefined();
  });
});
