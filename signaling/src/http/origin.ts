/**
 * Origin policy, shared by the HTTP API (CSRF on state-changing requests) and the WebSocket upgrade
 * (an upgrade is a GET, so the usual CSRF checks skip it).
 */
import type { IncomingHttpHeaders } from 'node:http';

/**
 * Whether a request's Origin may act on this server: one of the configured public origins, or, when
 * none are configured, the same host the request was sent to. A request without Origin passes unless
 * the browser marked it cross-site: browsers always send Origin on cross-origin writes and upgrades.
 */
export function isAllowedOrigin(headers: IncomingHttpHeaders, allowedOrigins: readonly string[]): boolean {
  const origin = headers.origin;
  if (origin === undefined) return headers['sec-fetch-site'] !== 'cross-site';
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false; // "null" (sandboxed frames, file://) and garbage
  }
  if (allowedOrigins.length > 0) return allowedOrigins.includes(parsed.origin);
  return headers.host !== undefined && parsed.host === headers.host.toLowerCase();
}
