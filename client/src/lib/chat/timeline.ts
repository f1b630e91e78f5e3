/**
 * What the message list renders: day dividers between days, and each message with whether it
 * starts or ends a run of messages from the same side close in time (runs share one bubble tail).
 */
import type { StoredMessage } from './chat-store.js';

/** Messages from the same side less than this apart form one run. */
export const RUN_GAP_MS = 5 * 60_000;

export type TimelineItem =
  | { kind: 'day'; key: string; label: string }
  | { kind: 'message'; key: string; message: StoredMessage; first: boolean; last: boolean };

/** The rows of the list for `messages` (in conversation order), with day labels against `now`. */
export function buildTimeline(
  messages: readonly StoredMessage[],
  now: number,
  locale?: string | string[],
): TimelineItem[] {
  const items: TimelineItem[] = [];
  let day = '';
  messages.forEach((message, index) => {
    const previous = messages[index - 1];
    const next = messages[index + 1];
    const messageDay = dayKey(message.ts);
    if (messageDay !== day) {
      day = messageDay;
      items.push({ kind: 'day', key: `day-${messageDay}`, label: dayLabel(message.ts, now, locale) });
    }
    items.push({
      kind: 'message',
      key: message.id,
      message,
      first: !previous || !sameRun(previous, message),
      last: !next || !sameRun(message, next),
    });
  });
  return items;
}

function sameRun(a: StoredMessage, b: StoredMessage): boolean {
  return a.direction === b.direction && b.ts - a.ts < RUN_GAP_MS && dayKey(a.ts) === dayKey(b.ts);
}

/** The local calendar day of `ts`, as `YYYY-M-D`. */
function dayKey(ts: number): string {
  const date = new Date(ts);
  return `${date.getFullYear()}-${date.getMonth() + 1}-${date.getDate()}`;
}

/** "Today", "Yesterday", a weekday within the week, else the date (with the year when not this one). */
export function dayLabel(ts: number, now: number, locale?: string | string[]): string {
  const startOf = (t: number) => {
    const date = new Date(t);
    return new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
  };
  const days = Math.round((startOf(now) - startOf(ts)) / 86_400_000);
  if (days === 0) return 'Today';
  if (days === 1) return 'Yesterday';
  const date = new Date(ts);
  if (days > 1 && days < 7) return date.toLocaleDateString(locale, { weekday: 'long' });
  const sameYear = date.getFullYear() === new Date(now).getFullYear();
  return date.toLocaleDateString(locale, {
    day: 'numeric',
    month: 'long',
    ...(sameYear ? {} : { year: 'numeric' }),
  });
}

/**
 * Formatters by locale: `toLocaleTimeString` with options builds a new one on every call (tens of
 * microseconds), and every bubble of an open chat formats its time again when a message arrives.
 */
const timeFormats = new Map<string, Intl.DateTimeFormat>();

/** The time of day of a message, e.g. "14:05" or "2:05 PM" by the person's locale. */
export function messageTime(ts: number, locale?: string | string[]): string {
  const key = String(locale ?? '');
  let format = timeFormats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(locale, { hour: 'numeric', minute: '2-digit' });
    timeFormats.set(key, format);
  }
  return format.format(ts);
}
