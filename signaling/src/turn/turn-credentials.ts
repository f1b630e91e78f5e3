/**
 * Short-lived TURN credentials in the TURN REST API scheme that coturn checks with `use-auth-secret`:
 * username `expiry:userId` (expiry in Unix seconds), password base64(HMAC-SHA1(secret, username)).
 * Nothing is stored: coturn recomputes the password from the shared secret.
 */
import { createHmac } from 'node:crypto';
import type { IceServersResponse } from '../../../shared/api.js';
import type { TurnSettings } from '../config.js';

/** The password coturn expects for `username` under `secret`. */
export function turnPassword(secret: string, username: string): string {
  return createHmac('sha1', secret).update(username).digest('base64');
}

/** The ICE servers a signed-in user may use now; TURN entries carry credentials valid for the TTL. */
export function iceServersFor(userId: string, turn: TurnSettings, now = Date.now()): IceServersResponse {
  const iceServers: IceServersResponse['iceServers'] = [];
  if (turn.stunUrls.length > 0) iceServers.push({ urls: turn.stunUrls });
  if (turn.secret !== undefined && turn.turnUrls.length > 0) {
    const username = `${Math.floor(now / 1000) + turn.ttlSeconds}:${userId}`;
    iceServers.push({ urls: turn.turnUrls, username, credential: turnPassword(turn.secret, username) });
  }
  return { iceServers, iceTransportPolicy: turn.transportPolicy, ttl: turn.ttlSeconds };
}
