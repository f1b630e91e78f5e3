/** What may be sent as a chat message, and when the composer shows how much room is left. */
import { CHAT_TEXT_MAX } from '../../../../shared/peer-protocol.js';

/** The counter under the field appears once fewer characters than this are left. */
export const COUNTER_THRESHOLD = 200;

export type PreparedText = { ok: true; text: string } | { ok: false; reason: 'empty' | 'too_long' };

/**
 * The text to send for what was typed: surrounding blank lines and spaces trimmed; nothing for
 * whitespace only; too long past `CHAT_TEXT_MAX` (UTF-16 units, as the protocol counts them).
 */
export function prepareText(typed: string): PreparedText {
  const text = typed.trim();
  if (text.length === 0) return { ok: false, reason: 'empty' };
  if (text.length > CHAT_TEXT_MAX) return { ok: false, reason: 'too_long' };
  return { ok: true, text };
}

/** Characters left for the counter, or null while there is plenty of room. */
export function charactersLeft(typed: string): number | null {
  const left = CHAT_TEXT_MAX - typed.length;
  return left < COUNTER_THRESHOLD ? left : null;
}
