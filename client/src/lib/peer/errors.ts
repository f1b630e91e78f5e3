/** Turns anything caught into an Error (the peer layer logs failures; it never throws them onward). */
export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
