/** Builds what friends see of each other: identity plus live presence. */
import type { Friend, FriendsSnapshot, PublicUser } from '../../../shared/api.js';
import type { Store } from '../store/store.js';

const byUsername = (a: PublicUser, b: PublicUser) => a.username.localeCompare(b.username);

/** Friends with their presence, in the order of `ids` (unknown ids left out). */
export async function friendViews(store: Store, ids: readonly string[]): Promise<Friend[]> {
  if (ids.length === 0) return [];
  const [users, presence] = await Promise.all([store.getUsersByIds(ids), store.getPresence(ids)]);
  const byId = new Map(ids.map((id, i) => [id, presence[i]]));
  return users.map((u) => {
    const p = byId.get(u.id);
    return { id: u.id, username: u.username, status: p?.status ?? 'offline', lastSeen: p?.lastSeen ?? null };
  });
}

/** The friend list with statuses and both pending lists, each sorted by username. */
export async function friendsSnapshot(store: Store, userId: string): Promise<FriendsSnapshot> {
  const [friendIds, incomingIds, outgoingIds] = await Promise.all([
    store.getFriendIds(userId),
    store.getIncomingRequestIds(userId),
    store.getOutgoingRequestIds(userId),
  ]);
  const [friends, pending] = await Promise.all([
    friendViews(store, friendIds),
    store.getUsersByIds([...incomingIds, ...outgoingIds]),
  ]);
  const incoming = new Set(incomingIds);
  const publicUser = (u: PublicUser): PublicUser => ({ id: u.id, username: u.username });
  return {
    friends: friends.sort(byUsername),
    incoming: pending
      .filter((u) => incoming.has(u.id))
      .map(publicUser)
      .sort(byUsername),
    outgoing: pending
      .filter((u) => !incoming.has(u.id))
      .map(publicUser)
      .sort(byUsername),
  };
}
