import { describe, expect, it, vi } from 'vitest';
import { Emitter } from './emitter.js';

interface Events {
  ready: { at: number };
  gone: string;
}

describe('Emitter', () => {
  it('calls the handlers of one name with its payload until unsubscribed', () => {
    const emitter = new Emitter<Events>();
    const seen: unknown[] = [];
    const off = emitter.on('ready', (payload) => seen.push(payload.at));
    emitter.on('gone', (payload) => seen.push(payload));
    emitter.emit('ready', { at: 1 });
    emitter.emit('gone', 'bye');
    off();
    emitter.emit('ready', { at: 2 });
    expect(seen).toEqual([1, 'bye']);
  });

  it('keeps calling the other handlers when one throws, and rethrows asynchronously', async () => {
    const emitter = new Emitter<Events>();
    const rethrown = vi.fn();
    const queue = vi.spyOn(globalThis, 'queueMicrotask').mockImplementation((task) => {
      try {
        task();
      } catch (error) {
        rethrown(error);
      }
    });
    const second = vi.fn();
    emitter.on('gone', () => {
      throw new Error('handler bug');
    });
    emitter.on('gone', second);
    emitter.emit('gone', 'x');
    queue.mockRestore();
    expect(second).toHaveBeenCalledWith('x');
    expect(rethrown).toHaveBeenCalledWith(new Error('handler bug'));
  });
});
