/**
 * Conversation order: by the sender's timestamp, then sequence number, then id, so every device
 * shows the same order however the messages arrived. Lists are kept sorted and free of duplicates.
 */
import type { HistoryCursor, StoredMessage } from './chat-store.js';

/** Negative when `a` comes before `b` in a conversation. */
export function compareMessages(a: HistoryCursor, b: HistoryCursor): number {
  if (a.ts !== b.ts) return a.ts - b.ts;
  if (a.seq !== b.seq) return a.seq - b.seq;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * A new sorted list with `incoming` merged into `list` (sorted): a message whose id is already
 * there replaces it (a state change), a late earlier message lands in place.
 */
export function mergeMessages(
  list: readonly StoredMessage[],
  incoming: readonly StoredMessage[],
): StoredMessage[] {
  if (incoming.length === 0) return list.slice();
  const byId = new Map(incoming.map((message) => [message.id, message]));
  const result = list.map((message) => {
    const update = byId.get(message.id);
    if (!update) return message;
    byId.delete(message.id);
    return update;
  });
  for (const message of byId.values()) {
    result.splice(insertionIndex(result, message), 0, message);
  }
  return result;
}

/** Where `message` goes in the sorted `list` (binary search; the newest is the usual case). */
function insertionIndex(list: readonly StoredMessage[], message: HistoryCursor): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareMessages(list[middle]!, message) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}
