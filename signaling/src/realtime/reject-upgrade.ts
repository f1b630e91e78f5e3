/** Refuses a WebSocket upgrade with an HTTP status and a JSON error body; no socket opens. */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ApiErrorBody } from '../../../shared/api.js';

export function rejectUpgrade(socket: Duplex, status: number, body: ApiErrorBody): void {
  if (socket.destroyed) return;
  const json = JSON.stringify(body);
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nConnection: close\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`,
  );
}
