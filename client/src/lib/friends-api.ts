/**
 * Typed client of the friends API (`/api/friends`). Each call resolves with the validated response or
 * rejects with an {@link ApiError} whose code the UI turns into an inline message.
 */
import {
  friendRequestResponseSchema,
  friendResponseSchema,
  friendsSnapshotSchema,
  type Friend,
  type FriendRequestResponse,
  type FriendsSnapshot,
} from '../../../shared/api.js';
import { createApiTransport, parseResponse, type ApiTransport } from './api.js';

export interface FriendsApi {
  /** Friends with their statuses, and pending requests both ways. */
  list(): Promise<FriendsSnapshot>;
  /** Asks `username` to be friends: `{outgoing}` when sent, `{friend}` when they had already asked. */
  sendRequest(username: string): Promise<FriendRequestResponse>;
  /** Accepts the request from `userId`. */
  accept(userId: string): Promise<Friend>;
  /** Declines the request from `userId`. */
  decline(userId: string): Promise<void>;
  /** Withdraws your own request to `userId`. */
  cancel(userId: string): Promise<void>;
  /** Ends the friendship with `userId`. */
  remove(userId: string): Promise<void>;
}

/** Builds the friends client over the shared transport (injectable for tests). */
export function createFriendsApi(send: ApiTransport = createApiTransport()): FriendsApi {
  const requestPath = (userId: string) => `/api/friends/requests/${encodeURIComponent(userId)}`;
  return {
    list: async () => parseResponse(await send('GET', '/api/friends'), friendsSnapshotSchema),
    sendRequest: async (username) =>
      parseResponse(await send('POST', '/api/friends/requests', { username }), friendRequestResponseSchema),
    accept: async (userId) =>
      parseResponse(await send('POST', `${requestPath(userId)}/accept`, {}), friendResponseSchema).friend,
    decline: async (userId) => {
      await send('POST', `${requestPath(userId)}/decline`, {});
    },
    cancel: async (userId) => {
      await send('DELETE', requestPath(userId));
    },
    remove: async (userId) => {
      await send('DELETE', `/api/friends/${encodeURIComponent(userId)}`);
    },
  };
}
