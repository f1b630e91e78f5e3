/**
 * The pure logic of the buddy list: a {@link FriendsSnapshot} and the ways it changes (server events,
 * confirmed API calls). Every function returns a new snapshot, or the same object when nothing
 * changed, and is idempotent: applying an event twice, or an event a snapshot already reflects,
 * leaves no duplicates.
 */
import type { Friend, FriendsSnapshot, PresenceStatus, PublicUser } from '../../../shared/api.js';
import { exhaustive, type FriendEventFrame } from '../../../shared/protocol.js';

export type RequestDirection = 'incoming' | 'outgoing';

/** Before the first `hello`, and after signing out. */
export const EMPTY_SNAPSHOT: FriendsSnapshot = { friends: [], incoming: [], outgoing: [] };

const STATUS_RANK: Record<PresenceStatus, number> = { online: 0, away: 1, offline: 2 };

function byUsername(a: PublicUser, b: PublicUser): number {
  return a.username < b.username ? -1 : a.username > b.username ? 1 : 0;
}

/** Buddy-list order: online, then away, then offline; by username within each. */
export function compareFriends(a: Friend, b: Friend): number {
  return STATUS_RANK[a.status] - STATUS_RANK[b.status] || byUsername(a, b);
}

/** Keeps the last entry per id. */
function uniqueById<T extends PublicUser>(list: readonly T[]): T[] {
  return [...new Map(list.map((entry) => [entry.id, entry])).values()];
}

/**
 * A snapshot as the server sent it (hello, `GET /api/friends`), made safe to render: one entry per
 * id, friends in buddy-list order, requests by username, no request pending with a friend.
 */
export function normalizeSnapshot(snapshot: FriendsSnapshot): FriendsSnapshot {
  const friends = uniqueById(snapshot.friends).sort(compareFriends);
  const friendIds = new Set(friends.map((friend) => friend.id));
  const pending = (list: readonly PublicUser[]) =>
    uniqueById(list)
      .filter((user) => !friendIds.has(user.id))
      .map(({ id, username }) => ({ id, username }))
      .sort(byUsername);
  return { friends, incoming: pending(snapshot.incoming), outgoing: pending(snapshot.outgoing) };
}

/** Whether `userId` is a friend, or has a request pending either way. */
export function relationOf(snapshot: FriendsSnapshot, userId: string): 'friend' | RequestDirection | 'none' {
  if (snapshot.friends.some((friend) => friend.id === userId)) return 'friend';
  if (snapshot.incoming.some((user) => user.id === userId)) return 'incoming';
  if (snapshot.outgoing.some((user) => user.id === userId)) return 'outgoing';
  return 'none';
}

/** `friend` is a friend (added or updated); any request pending between you is gone. */
export function withFriend(snapshot: FriendsSnapshot, friend: Friend): FriendsSnapshot {
  const { id, username, status, lastSeen } = friend;
  const friends = [...snapshot.friends.filter((f) => f.id !== id), { id, username, status, lastSeen }];
  return {
    friends: friends.sort(compareFriends),
    incoming: dropId(snapshot.incoming, id),
    outgoing: dropId(snapshot.outgoing, id),
  };
}

/** `userId` is no longer a friend. */
export function withoutFriend(snapshot: FriendsSnapshot, userId: string): FriendsSnapshot {
  const friends = dropId(snapshot.friends, userId);
  return friends === snapshot.friends ? snapshot : { ...snapshot, friends };
}

/** A request is pending with `user`. Ignored when you are friends already (a late event). */
export function withRequest(
  snapshot: FriendsSnapshot,
  direction: RequestDirection,
  user: PublicUser,
): FriendsSnapshot {
  if (snapshot.friends.some((friend) => friend.id === user.id)) return snapshot;
  const list = snapshot[direction];
  const existing = list.find((entry) => entry.id === user.id);
  if (existing && existing.username === user.username) return snapshot;
  const entry = { id: user.id, username: user.username };
  return { ...snapshot, [direction]: [...dropId(list, user.id), entry].sort(byUsername) };
}

/** The request pending with `userId` in `direction` went away. */
export function withoutRequest(
  snapshot: FriendsSnapshot,
  direction: RequestDirection,
  userId: string,
): FriendsSnapshot {
  const list = dropId(snapshot[direction], userId);
  return list === snapshot[direction] ? snapshot : { ...snapshot, [direction]: list };
}

/** A friend's presence changed; unknown users are ignored (presence is for friends only). */
export function withPresence(
  snapshot: FriendsSnapshot,
  userId: string,
  status: PresenceStatus,
  lastSeen: number | null,
): FriendsSnapshot {
  const current = snapshot.friends.find((friend) => friend.id === userId);
  if (!current || (current.status === status && current.lastSeen === lastSeen)) return snapshot;
  return withFriend(snapshot, { ...current, status, lastSeen });
}

/** Applies one server event. */
export function applyFriendEvent(snapshot: FriendsSnapshot, event: FriendEventFrame): FriendsSnapshot {
  switch (event.type) {
    case 'presence':
      return withPresence(snapshot, event.userId, event.status, event.lastSeen);
    case 'friend_request':
      return withRequest(snapshot, event.direction, event.user);
    case 'friend_request_removed':
      return withoutRequest(snapshot, event.direction, event.userId);
    case 'friend_accepted':
      return withFriend(snapshot, event.friend);
    case 'friend_removed':
      return withoutFriend(snapshot, event.userId);
    default:
      return exhaustive(event);
  }
}

function dropId<T extends PublicUser>(list: T[], id: string): T[] {
  return list.some((entry) => entry.id === id) ? list.filter((entry) => entry.id !== id) : list;
}
