import { describe, expect, it, vi } from 'vitest';
import type { Friend, FriendsSnapshot, PublicUser } from '../../../shared/api.js';
import type { FriendEventFrame } from '../../../shared/protocol.js';
import { ApiError } from './api-error.js';
import { Emitter } from './emitter.js';
import type { FriendsApi } from './friends-api.js';
import { FriendsState } from './friends.svelte.js';
import type { ServerFrameEvents } from './gateway.js';

const bob: PublicUser = { id: 'b', username: 'bob' };
const cy: PublicUser = { id: 'c', username: 'cy' };
const online = (user: PublicUser): Friend => ({ ...user, status: 'online', lastSeen: null });

/** A promise the test settles by hand, to look at the state while a call is in flight. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function unused(): never {
  throw new Error('unexpected API call');
}

function setup(api: Partial<FriendsApi> = {}) {
  const frames = new Emitter<ServerFrameEvents>();
  const friends = new FriendsState({
    api: {
      list: unused,
      sendRequest: unused,
      accept: unused,
      decline: unused,
      cancel: unused,
      remove: unused,
      ...api,
    },
    gateway: { on: (type, handler) => frames.on(type, handler) },
  });
  const hello = (snapshot: Partial<FriendsSnapshot> = {}) =>
    frames.emit('hello', {
      type: 'hello',
      protocolVersion: 1,
      user: { id: 'a', username: 'ada' },
      connectionId: 'c1',
      friends: [],
      incoming: [],
      outgoing: [],
      ...snapshot,
    });
  const event = (frame: FriendEventFrame) => {
    // Through the emitter by type, as the gateway dispatches.
    switch (frame.type) {
      case 'presence':
        return frames.emit(frame.type, frame);
      case 'friend_request':
        return frames.emit(frame.type, frame);
      case 'friend_request_removed':
        return frames.emit(frame.type, frame);
      case 'friend_accepted':
        return frames.emit(frame.type, frame);
      case 'friend_removed':
        return frames.emit(frame.type, frame);
    }
  };
  return { friends, hello, event };
}

const apiError = (code: ConstructorParameters<typeof ApiError>[0]['code'], status = 409) =>
  new ApiError({ code, status });

describe('FriendsState from the server', () => {
  it('is empty and not loaded until hello, then holds the sorted snapshot', () => {
    const t = setup();
    expect(t.friends.loaded).toBe(false);
    expect(t.friends.friends).toEqual([]);
    t.hello({
      friends: [{ ...cy, status: 'offline', lastSeen: 1 }, online(bob)],
      incoming: [{ id: 'd', username: 'dan' }],
    });
    expect(t.friends.loaded).toBe(true);
    expect(t.friends.friends.map((f) => f.username)).toEqual(['bob', 'cy']);
    expect(t.friends.incoming).toEqual([{ id: 'd', username: 'dan' }]);
    expect(t.friends.onlineCount).toBe(1);
  });

  it('replaces everything on a later hello (a resync)', () => {
    const t = setup();
    t.hello({ friends: [online(bob)], outgoing: [cy] });
    t.hello({ incoming: [cy] });
    expect(t.friends.friends).toEqual([]);
    expect(t.friends.outgoing).toEqual([]);
    expect(t.friends.incoming).toEqual([cy]);
  });

  it('applies events live, and duplicates change nothing', () => {
    const t = setup();
    t.hello();
    const request: FriendEventFrame = { type: 'friend_request', direction: 'incoming', user: bob };
    t.event(request);
    t.event(request);
    expect(t.friends.incoming).toEqual([bob]);
    t.event({ type: 'friend_accepted', friend: online(bob) });
    t.event({ type: 'friend_accepted', friend: online(bob) });
    expect(t.friends.friends).toEqual([online(bob)]);
    expect(t.friends.incoming).toEqual([]);
    expect(t.friends.onlineCount).toBe(1);
    t.event({ type: 'presence', userId: 'b', status: 'away', lastSeen: null });
    expect(t.friends.friends[0]?.status).toBe('away');
    expect(t.friends.onlineCount).toBe(0);
    t.event({ type: 'presence', userId: 'b', status: 'offline', lastSeen: 9 });
    expect(t.friends.friends[0]?.lastSeen).toBe(9);
    t.event({ type: 'friend_removed', userId: 'b' });
    expect(t.friends.friends).toEqual([]);
  });
});

describe('FriendsState actions', () => {
  it('adds the outgoing request from the answer; the later event does not duplicate it', async () => {
    const t = setup({ sendRequest: () => Promise.resolve({ outgoing: bob }) });
    t.hello();
    await expect(t.friends.addFriend('bob')).resolves.toEqual({ kind: 'requested', user: bob });
    expect(t.friends.outgoing).toEqual([bob]);
    t.event({ type: 'friend_request', direction: 'outgoing', user: bob });
    expect(t.friends.outgoing).toEqual([bob]);
  });

  it('becomes friends at once when the other person had already asked', async () => {
    const t = setup({ sendRequest: () => Promise.resolve({ friend: online(bob) }) });
    t.hello({ incoming: [bob] });
    await expect(t.friends.addFriend('bob')).resolves.toEqual({ kind: 'friends', friend: online(bob) });
    expect(t.friends.friends).toEqual([online(bob)]);
    expect(t.friends.incoming).toEqual([]);
  });

  it('lets an event that arrived while the call was in flight win over its older answer', async () => {
    const answer = deferred<{ outgoing: PublicUser }>();
    const t = setup({ sendRequest: () => answer.promise });
    t.hello();
    const adding = t.friends.addFriend('bob');
    // The request went out and bob accepted before our answer arrived.
    t.event({ type: 'friend_request', direction: 'outgoing', user: bob });
    t.event({ type: 'friend_accepted', friend: online(bob) });
    answer.resolve({ outgoing: bob });
    await adding;
    expect(t.friends.outgoing).toEqual([]);
    expect(t.friends.friends).toEqual([online(bob)]);
  });

  it('passes add errors to the caller', async () => {
    const t = setup({ sendRequest: () => Promise.reject(apiError('user_not_found', 404)) });
    t.hello();
    await expect(t.friends.addFriend('nobody')).rejects.toMatchObject({ code: 'user_not_found' });
  });

  it('accepts: busy while in flight, then a friend', async () => {
    const answer = deferred<Friend>();
    const accept = vi.fn(() => answer.promise);
    const t = setup({ accept });
    t.hello({ incoming: [bob] });
    const accepting = t.friends.accept('b');
    expect(t.friends.busy('b')).toBe('accept');
    // A second click while busy does nothing.
    void t.friends.accept('b');
    expect(accept).toHaveBeenCalledOnce();
    answer.resolve(online(bob));
    await accepting;
    expect(t.friends.busy('b')).toBeUndefined();
    expect(t.friends.incoming).toEqual([]);
    expect(t.friends.friends).toEqual([online(bob)]);
  });

  it('shows an inline error on the row, and clears it on the next try', async () => {
    let fail = true;
    const t = setup({
      accept: () => (fail ? Promise.reject(apiError('friend_limit')) : Promise.resolve(online(bob))),
    });
    t.hello({ incoming: [bob] });
    await t.friends.accept('b');
    expect(t.friends.error('b')).toMatch(/1000 friends/);
    expect(t.friends.incoming).toEqual([bob]);
    fail = false;
    const retry = t.friends.accept('b');
    expect(t.friends.error('b')).toBeUndefined();
    await retry;
    expect(t.friends.friends).toEqual([online(bob)]);
  });

  it('drops a request that vanished meanwhile, and says so when accepting it', async () => {
    const t = setup({
      accept: () => Promise.reject(apiError('request_not_found', 404)),
      decline: () => Promise.reject(apiError('request_not_found', 404)),
    });
    t.hello({ incoming: [bob, cy] });
    await t.friends.accept('b');
    expect(t.friends.incoming).toEqual([cy]);
    expect(t.friends.error('b')).toBeUndefined();
    expect(t.friends.notice).toBe("bob's request was withdrawn before you could accept it.");
    t.friends.dismissNotice();
    await t.friends.decline('c');
    expect(t.friends.incoming).toEqual([]);
    expect(t.friends.notice).toBeNull();
  });

  it('declines, cancels and unfriends', async () => {
    const t = setup({
      decline: () => Promise.resolve(),
      cancel: () => Promise.resolve(),
      remove: () => Promise.reject(apiError('not_friends', 404)),
    });
    t.hello({ incoming: [bob], outgoing: [cy], friends: [online({ id: 'd', username: 'dan' })] });
    await t.friends.decline('b');
    await t.friends.cancel('c');
    // Not friends any more is what unfriending wanted.
    await t.friends.remove('d');
    expect(t.friends.incoming).toEqual([]);
    expect(t.friends.outgoing).toEqual([]);
    expect(t.friends.friends).toEqual([]);
    expect(t.friends.error('d')).toBeUndefined();
  });

  it('keeps the row and says why when the network fails', async () => {
    const t = setup({ remove: () => Promise.reject(new ApiError({ code: 'network_error', status: 0 })) });
    t.hello({ friends: [online(bob)] });
    await t.friends.remove('b');
    expect(t.friends.friends).toEqual([online(bob)]);
    expect(t.friends.error('b')).toMatch(/^Can't reach Parley/);
    // The row changing under it clears the message.
    t.event({ type: 'friend_removed', userId: 'b' });
    expect(t.friends.error('b')).toBeUndefined();
  });

  it('a cancel answered "not found" after the other side accepted keeps the friendship', async () => {
    const answer = deferred<void>();
    const t = setup({ cancel: () => answer.promise });
    t.hello({ outgoing: [bob] });
    const cancelling = t.friends.cancel('b');
    t.event({ type: 'friend_accepted', friend: online(bob) });
    answer.reject(apiError('request_not_found', 404));
    await cancelling;
    expect(t.friends.friends).toEqual([online(bob)]);
  });

  it('forgets everything on reset, including answers still in flight', async () => {
    const answer = deferred<Friend>();
    const t = setup({ accept: () => answer.promise });
    t.hello({ incoming: [bob] });
    const accepting = t.friends.accept('b');
    t.friends.reset();
    expect(t.friends.loaded).toBe(false);
    expect(t.friends.incoming).toEqual([]);
    expect(t.friends.busy('b')).toBeUndefined();
    answer.resolve(online(bob));
    await accepting;
    expect(t.friends.friends).toEqual([]);
  });
});
