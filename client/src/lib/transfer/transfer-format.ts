/** How transfer sizes, speeds and times read in the UI. */
import { RELAY_FILE_MAX_BYTES, type TransferErrorCode } from '../../../../shared/transfer-protocol.js';

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'] as const;

/** `1.5 MB`, `820 KB`, `20 MB`, `12 B` (decimal units, as file managers show them). */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits).replace(/\.0$/, '')} ${UNITS[unit]}`;
}

/** `12.3 MB/s`; empty while there is no measurement. */
export function formatSpeed(bytesPerSecond: number): string {
  return bytesPerSecond > 0 ? `${formatBytes(bytesPerSecond)}/s` : '';
}

/** `5 s left`, `3 min left`, `2 h 5 min left`; empty when unknown. */
export function formatTimeLeft(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '';
  const s = Math.ceil(seconds);
  if (s < 60) return `${s} s left`;
  const minutes = Math.ceil(s / 60);
  if (minutes < 60) return `${minutes} min left`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min left`;
}

/** The server relay's file size cap, as the chat tells it while the friend is reached that way. */
export function relayCapHint(): string {
  return `Over the server relay: files up to ${formatBytes(RELAY_FILE_MAX_BYTES)}`;
}

/** Why files were not offered: larger than the server relay carries, and what to do. */
export function overRelayCapMessage(names: readonly string[]): string {
  const [name] = names;
  const what = names.length === 1 && name !== undefined ? `“${name}” is` : `${names.length} files are`;
  return (
    `${what} larger than ${formatBytes(RELAY_FILE_MAX_BYTES)}, the most that goes over the server ` +
    `relay. Send ${names.length === 1 ? 'it' : 'them'} once you are connected directly or through TURN.`
  );
}

/** A file too large for the server relay, accepted but waiting while only the relay is there. */
export const WAITING_FOR_DIRECT = 'Waiting for a direct connection (too large for the server relay)';

/**
 * Why a file failed, as its card says it: `incoming` on the receiver's card. Reading fails on the
 * sender's side; writing and size on the receiver's.
 */
export function failedText(
  code: TransferErrorCode | undefined,
  incoming: boolean,
  friendName: string,
): string {
  switch (code) {
    case 'integrity':
      return 'Failed: the file arrived damaged';
    case 'read_failed':
      return incoming
        ? `Failed: ${friendName} could not read the file`
        : 'Failed: the file could not be read (was it changed or moved?)';
    case 'write_failed':
      return incoming
        ? 'Failed: the file could not be saved (disk full, no permission, or the download was cancelled)'
        : `Failed: ${friendName} could not save the file`;
    case 'too_large':
      return incoming
        ? 'Failed: too large to receive in this browser'
        : `Failed: too large for ${friendName}’s browser`;
    case 'protocol':
      return 'Failed: the other side broke the transfer protocol';
    case undefined:
      return 'Failed';
  }
}
