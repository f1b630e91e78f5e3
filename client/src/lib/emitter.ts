/** A tiny typed event emitter: event names and payload types come from one map. */

export type Handler<T> = (payload: T) => void;

export class Emitter<Events extends object> {
  #handlers: { [K in keyof Events]?: Set<Handler<Events[K]>> } = {};

  /** Subscribes to `name`; returns the function that unsubscribes. */
  on<K extends keyof Events>(name: K, handler: Handler<Events[K]>): () => void {
    const handlers = this.#handlers[name] ?? new Set<Handler<Events[K]>>();
    this.#handlers[name] = handlers;
    handlers.add(handler);
    return () => {
      handlers.delete(handler);
    };
  }

  /**
   * Calls every handler of `name` with `payload`. A handler that throws does not stop the others;
   * its error is reported asynchronously so it still shows up in the console and in error tracking.
   */
  emit<K extends keyof Events>(name: K, payload: Events[K]): void {
    const handlers = this.#handlers[name];
    if (!handlers) return;
    for (const handler of [...handlers]) {
      try {
        handler(payload);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  /** Removes every handler. */
  clear(): void {
    this.#handlers = {};
  }
}
