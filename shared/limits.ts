/** Limits shared by the server and the client, so both ends enforce and explain the same numbers. */

/** Usernames: 3-32 characters of a-z 0-9 _ . - (input is folded to lower case). */
export const USERNAME_MIN = 3;
export const USERNAME_MAX = 32;
export const USERNAME_PATTERN = /^[a-z0-9_.-]+$/;

/** Passwords: 8-256 characters. */
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 256;

/** Largest JSON body the HTTP API accepts. */
export const HTTP_BODY_MAX_BYTES = 16 * 1024;

/** Largest WebSocket frame the gateway accepts; larger frames close the socket with 1009. */
export const WS_MAX_PAYLOAD_BYTES = 64 * 1024;

/** Friends one account may have. */
export const FRIENDS_MAX = 1000;
/** Outgoing friend requests one account may have pending. */
export const PENDING_OUTGOING_MAX = 100;
/** Incoming friend requests one account may have pending; past it, new requests are refused. */
export const PENDING_INCOMING_MAX = 200;
/** Friend requests one account may send per hour. */
export const FRIEND_REQUESTS_PER_HOUR = 30;
