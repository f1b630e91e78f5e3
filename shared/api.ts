/**
 * HTTP API contract: request bodies, responses and error codes of `/api`.
 * Both the server (validation) and the client (types, inline errors) import from here.
 */
import { z } from 'zod';
import { PASSWORD_MAX, PASSWORD_MIN, USERNAME_MAX, USERNAME_MIN, USERNAME_PATTERN } from './limits.js';

/** A username as typed: trimmed and folded to lower case, then checked. */
export const usernameSchema = z
  .string({
    error: (issue) => (issue.input === undefined ? 'username is required' : 'username must be a string'),
  })
  .trim()
  .toLowerCase()
  .min(USERNAME_MIN, `username must be at least ${USERNAME_MIN} characters`)
  .max(USERNAME_MAX, `username must be at most ${USERNAME_MAX} characters`)
  .regex(USERNAME_PATTERN, 'username may contain only a-z, 0-9, "_", "." and "-"');

export const passwordSchema = z
  .string({
    error: (issue) => (issue.input === undefined ? 'password is required' : 'password must be a string'),
  })
  .min(PASSWORD_MIN, `password must be at least ${PASSWORD_MIN} characters`)
  .max(PASSWORD_MAX, `password must be at most ${PASSWORD_MAX} characters`);

/** `POST /api/auth/register` and `POST /api/auth/login` body. */
export const credentialsSchema = z.object({
  username: usernameSchema,
  password: passwordSchema,
});
export type Credentials = z.infer<typeof credentialsSchema>;

/** A user as every API response shows it. */
export const publicUserSchema = z.object({
  id: z.string(),
  username: z.string(),
});
export type PublicUser = z.infer<typeof publicUserSchema>;

/** `{user}`: the answer of register, login and `GET /api/me`. */
export const userResponseSchema = z.object({ user: publicUserSchema });
export type UserResponse = z.infer<typeof userResponseSchema>;

/** Every error code the API answers with, and what it means. */
export const API_ERROR_CODES = {
  invalid_json: 'The body is not valid JSON',
  invalid_body: 'A field is missing or has the wrong type or value',
  unsupported_media_type: 'The body must be application/json',
  payload_too_large: 'The body is larger than the API accepts',
  unauthenticated: 'Sign in first',
  invalid_credentials: 'Wrong username or password',
  username_taken: 'That username is taken',
  forbidden_origin: 'Request from a foreign origin',
  rate_limited: 'Too many requests; retry later',
  not_found: 'No such route',
  method_not_allowed: 'Method not allowed on this route',
  store_unavailable: 'The store is unreachable; retry later',
  invalid_param: 'A path parameter is malformed',
  user_not_found: 'No user with that name',
  cannot_add_self: 'You cannot add yourself as a friend',
  already_friends: 'You are already friends',
  already_requested: 'You already sent that user a friend request',
  request_not_found: 'No such pending friend request',
  not_friends: 'You are not friends with that user',
  friend_limit: 'Too many friends',
  pending_limit: 'Too many pending friend requests',
  internal: 'Internal error',
} as const;
export type ApiErrorCode = keyof typeof API_ERROR_CODES;

/** The body of every error response. `field` names the offending field of a 400. */
export const apiErrorSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    field: z.string().optional(),
    retryAfterSeconds: z.number().optional(),
  }),
});
export type ApiErrorBody = z.infer<typeof apiErrorSchema>;

/** `GET /healthz` body. */
export const healthSchema = z.object({
  status: z.enum(['ok', 'unavailable']),
  store: z.enum(['redis', 'memory']),
});
export type Health = z.infer<typeof healthSchema>;

// ---- friends and presence ----------------------------------------------------------------------

/** A user's presence as friends see it. Non-friends never see it. */
export const presenceStatusSchema = z.enum(['online', 'away', 'offline']);
export type PresenceStatus = z.infer<typeof presenceStatusSchema>;

/** A friend with their live status; `lastSeen` (ms since the epoch) is when they were last connected. */
export const friendSchema = publicUserSchema.extend({
  status: presenceStatusSchema,
  lastSeen: z.number().nullable(),
});
export type Friend = z.infer<typeof friendSchema>;

/** `GET /api/friends` body; also carried by the `hello` frame. Lists are sorted by username. */
export const friendsSnapshotSchema = z.object({
  friends: z.array(friendSchema),
  incoming: z.array(publicUserSchema),
  outgoing: z.array(publicUserSchema),
});
export type FriendsSnapshot = z.infer<typeof friendsSnapshotSchema>;

/** `POST /api/friends/requests` body. */
export const friendRequestBodySchema = z.object({ username: usernameSchema });

/**
 * `POST /api/friends/requests` answer: 201 `{outgoing}` for a new request, or 200 `{friend}` when that
 * user had already asked you (you are friends at once).
 */
export const friendRequestResponseSchema = z.union([
  z.object({ outgoing: publicUserSchema }),
  z.object({ friend: friendSchema }),
]);
export type FriendRequestResponse = z.infer<typeof friendRequestResponseSchema>;

/** `POST /api/friends/requests/:userId/accept` answer. */
export const friendResponseSchema = z.object({ friend: friendSchema });
export type FriendResponse = z.infer<typeof friendResponseSchema>;

// ---- ICE servers -----------------------------------------------------------------------------------

/** One ICE server as `RTCPeerConnection` takes it. */
export const iceServerSchema = z.object({
  urls: z.array(z.string()),
  username: z.string().optional(),
  credential: z.string().optional(),
});

/**
 * `GET /api/turn`: the STUN/TURN servers to use and how long (seconds) the TURN credentials in them
 * stay valid. Empty `iceServers`: host candidates only (the embedded default).
 */
export const iceServersResponseSchema = z.object({
  iceServers: z.array(iceServerSchema),
  /** `relay`: use only TURN candidates (hides addresses from peers; also how tests force TURN). */
  iceTransportPolicy: z.enum(['all', 'relay']),
  ttl: z.number().int().positive(),
});
export type IceServersResponse = z.infer<typeof iceServersResponseSchema>;
