/** Errors of the transfer package: one class, a code from one union, the cause kept. */
import type { TransferErrorCode } from '../../../../shared/transfer-protocol.js';

/**
 * What went wrong: the protocol's failure codes (told to the peer), or a local one:
 * `unavailable` (no way to save this file here) and `aborted` (cancelled while hashing or reading).
 */
export type TransferErrorReason = TransferErrorCode | 'unavailable' | 'aborted';

export class TransferError extends Error {
  readonly code: TransferErrorReason;

  constructor(code: TransferErrorReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransferError';
    this.code = code;
  }
}

/** Turns anything caught into an Error. */
export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
