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

/**
 * The rows of the list for `messages` (in conversation order), with day labels against `now`.
 * Rows equal to one of `before` (the last rows built) are that same object: the list re-renders only
 * the rows that changed. Without it, every bubble of an open chat ran its effects again for each
 * message that arrived (bench:transfer's profile of the receiving page during a transfer with chat).
 */
export function buildTimeline(
  messages: readonly StoredMessage[],
  now: number,
  locale?: string | string[],
  before: readonly TimelineItem[] = [],
): TimelineItem[] {
  const known = new Map(before.map((item) => [item.key, item]));
  // Each message's day once (a Date each), not again for every neighbour it is compared with.
  const days = messages.map((message) => dayKey(message.ts));
  const sameRun = (a: number, b: number) => {
    const [x, y] = [messages[a]!, messages[b]!];
    return x.direction === y.direction && y.ts - x.ts < RUN_GAP_MS && days[a] === days[b];
  };
  const items: TimelineItem[] = [];
  let day = '';
  messages.forEach((message, index) => {
    const messageDay = days[index]!;
    if (messageDay !== day) {
      day = messageDay;
      const label = dayLabel(message.ts, now, locale);
      const old = known.get(`day-${messageDay}`);
      items.push(
        old?.kind === 'day' && old.label === label ? old : { kind: 'day', key: `day-${messageDay}`, label },
      );
    }
    const first = index === 0 || !sameRun(index - 1, index);
    const last = index === messages.length - 1 || !sameRun(index, index + 1);
    const old = known.get(message.id);
    const same =
      old?.kind === 'message' && old.message === message && old.first === first && old.last === last;
    items.push(same ? old : { kind: 'message', key: message.id, message, first, last });
  });
  return items;
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

function cachedFormat(
  kind: string,
  locale: string | string[] | undefined,
  options: Intl.DateTimeFormatOptions,
): Intl.DateTimeFormat {
  const key = `${kind} ${String(locale ?? '')}`;
  let format = timeFormats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(locale, options);
    timeFormats.set(key, format);
  }
  return format;
}

/** The time of day of a message, e.g. "14:05" or "2:05 PM" by the person's locale. */
export function messageTime(ts: number, locale?: string | string[]): string {
  return cachedFormat('time', locale, { hour: 'numeric', minute: '2-digit' }).format(ts);
}

/** The full date and time of a message (its tooltip), e.g. "May 20, 2026, 2:05:00 PM". */
export function messageDateTime(ts: number, locale?: string | string[]): string {
  return cachedFormat('date-time', locale, { dateStyle: 'medium', timeStyle: 'medium' }).format(ts);
}
