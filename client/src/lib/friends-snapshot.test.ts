import { describe, expect, it } from 'vitest';
import type { Friend, FriendsSnapshot } from '../../../shared/api.js';
import type { FriendEventFrame } from '../../../shared/protocol.js';
import {
  applyFriendEvent,
  compareFriends,
  EMPTY_SNAPSHOT,
  normalizeSnapshot,
  relationOf,
  withFriend,
  withoutFriend,
  withoutRequest,
  withPresence,
  withRequest,
} from './friends-snapshot.js';

const friend = (id: string, username: string, status: Friend['status'] = 'online'): Friend => ({
  id,
  username,
  status,
  lastSeen: status === 'offline' ? 1_000 : null,
});

const names = (list: { username: string }[]) => list.map((entry) => entry.username);

describe('compareFriends and normalizeSnapshot', () => {
  it('orders online, away, offline, each by username', () => {
    const list = [
      friend('1', 'zed', 'offline'),
      friend('2', 'amy', 'away'),
      friend('3', 'bob', 'online'),
      friend('4', 'abe', 'offline'),
      friend('5', 'yan', 'online'),
    ];
    expect(names([...list].sort(compareFriends))).toEqual(['bob', 'yan', 'amy', 'abe', 'zed']);
  });

  it('dedupes by id, sorts, and drops requests pending with a friend', () => {
    const snapshot = normalizeSnapshot({
      friends: [friend('1', 'bob', 'offline'), friend('2', 'cy'), friend('1', 'bob', 'away')],
      incoming: [
        { id: '4', username: 'eve' },
        { id: '3', username: 'dan' },
        { id: '4', username: 'eve' },
      ],
      outgoing: [{ id: '2', username: 'cy' }],
    });
    expect(snapshot.friends).toEqual([friend('2', 'cy'), friend('1', 'bob', 'away')]);
    expect(names(snapshot.incoming)).toEqual(['dan', 'eve']);
    expect(snapshot.outgoing).toEqual([]);
  });
});

describe('snapshot updates', () => {
  const base: FriendsSnapshot = normalizeSnapshot({
    friends: [friend('1', 'bob', 'offline')],
    incoming: [{ id: '2', username: 'cy' }],
    outgoing: [{ id: '3', username: 'dan' }],
  });

  it('withFriend adds once, updates in place and clears pending requests both ways', () => {
    const accepted = withFriend(base, friend('2', 'cy'));
    expect(names(accepted.friends)).toEqual(['cy', 'bob']);
    expect(accepted.incoming).toEqual([]);
    expect(withFriend(accepted, friend('2', 'cy'))).toEqual(accepted);

    const viaOutgoing = withFriend(base, friend('3', 'dan', 'away'));
    expect(viaOutgoing.outgoing).toEqual([]);
    expect(names(viaOutgoing.friends)).toEqual(['dan', 'bob']);
  });

  it('withoutFriend removes, and is a no-op (same object) for a stranger', () => {
    expect(withoutFriend(base, '1').friends).toEqual([]);
    expect(withoutFriend(base, 'nobody')).toBe(base);
  });

  it('withRequest adds once in username order, and ignores a friend', () => {
    const more = withRequest(base, 'incoming', { id: '5', username: 'abe' });
    expect(names(more.incoming)).toEqual(['abe', 'cy']);
    expect(withRequest(more, 'incoming', { id: '5', username: 'abe' })).toBe(more);
    expect(withRequest(base, 'outgoing', { id: '1', username: 'bob' })).toBe(base);
  });

  it('withoutRequest removes from one direction only', () => {
    expect(withoutRequest(base, 'incoming', '2').incoming).toEqual([]);
    expect(withoutRequest(base, 'outgoing', '2')).toBe(base);
  });

  it('withPresence updates a friend and re-sorts; strangers and repeats change nothing', () => {
    const withAmy = withFriend(base, friend('9', 'amy', 'away'));
    const online = withPresence(withAmy, '1', 'online', null);
    expect(online.friends.map((f) => [f.username, f.status])).toEqual([
      ['bob', 'online'],
      ['amy', 'away'],
    ]);
    expect(withPresence(online, '1', 'online', null)).toBe(online);
    expect(withPresence(online, '2', 'online', null)).toBe(online);
  });

  it('relationOf tells friends, pending requests and strangers apart', () => {
    expect(relationOf(base, '1')).toBe('friend');
    expect(relationOf(base, '2')).toBe('incoming');
    expect(relationOf(base, '3')).toBe('outgoing');
    expect(relationOf(base, '4')).toBe('none');
  });
});

describe('applyFriendEvent', () => {
  const bob = { id: 'b', username: 'bob' };
  const events: FriendEventFrame[] = [
    { type: 'friend_request', direction: 'incoming', user: bob },
    { type: 'friend_accepted', friend: { ...bob, status: 'online', lastSeen: null } },
    { type: 'presence', userId: 'b', status: 'away', lastSeen: null },
    { type: 'presence', userId: 'b', status: 'offline', lastSeen: 5_000 },
  ];

  it('follows a request from arrival to friendship and presence', () => {
    const states = events.reduce<FriendsSnapshot[]>(
      (acc, event) => [...acc, applyFriendEvent(acc.at(-1) ?? EMPTY_SNAPSHOT, event)],
      [],
    );
    expect(states[0]?.incoming).toEqual([bob]);
    expect(states[1]).toEqual({
      friends: [{ ...bob, status: 'online', lastSeen: null }],
      incoming: [],
      outgoing: [],
    });
    expect(states.at(-1)?.friends).toEqual([{ ...bob, status: 'offline', lastSeen: 5_000 }]);
  });

  it('is idempotent: every event applied twice gives the same result as once', () => {
    const once = events.reduce(applyFriendEvent, EMPTY_SNAPSHOT);
    const twice = events.flatMap((event) => [event, event]).reduce(applyFriendEvent, EMPTY_SNAPSHOT);
    expect(twice).toEqual(once);
  });

  it('does not duplicate what a snapshot already reflects', () => {
    const snapshot = normalizeSnapshot({
      friends: [{ ...bob, status: 'online', lastSeen: null }],
      incoming: [],
      outgoing: [],
    });
    // A late request event for someone who is already a friend.
    expect(applyFriendEvent(snapshot, events[0]!)).toBe(snapshot);
    expect(applyFriendEvent(snapshot, events[1]!)).toEqual(snapshot);
  });

  it('removes declined and cancelled requests, and unfriends', () => {
    const pending = applyFriendEvent(EMPTY_SNAPSHOT, {
      type: 'friend_request',
      direction: 'outgoing',
      user: bob,
    });
    expect(
      applyFriendEvent(pending, {
        type: 'friend_request_removed',
        direction: 'outgoing',
        userId: 'b',
        reason: 'declined',
      }).outgoing,
    ).toEqual([]);
    const friends = applyFriendEvent(pending, events[1]!);
    expect(applyFriendEvent(friends, { type: 'friend_removed', userId: 'b' }).friends).toEqual([]);
    expect(applyFriendEvent(EMPTY_SNAPSHOT, { type: 'friend_removed', userId: 'b' })).toBe(EMPTY_SNAPSHOT);
  });
});
