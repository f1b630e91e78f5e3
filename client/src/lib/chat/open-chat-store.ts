/** Opens the signed-in account's chat store in the browser. */
import type { ChatStore } from './chat-store.js';
import { openIdbChatStore } from './idb-chat-store.js';
import { MemoryChatStore } from './memory-chat-store.js';

/**
 * IndexedDB when the browser allows it; otherwise (some private modes, storage turned off) memory,
 * so chatting still works and only the history is lost with the page.
 */
export async function openBrowserChatStore(
  userId: string,
  warn: (message: string, detail?: unknown) => void = () => {},
): Promise<ChatStore> {
  try {
    return await openIdbChatStore(userId);
  } catch (error) {
    warn('chat: IndexedDB unavailable; history lasts only as long as this page', error);
    return new MemoryChatStore();
  }
}
