/**
 * The download service worker, built to `/download-sw.js` and registered with the scope `/download/`
 * so it sees nothing but download requests. A shell: the logic is `DownloadDesk`
 * (`lib/transfer/download-stream.ts`), bundled in; the built file is a classic script that imports
 * nothing. The page's side is `lib/transfer/download-worker.ts`.
 */
import { DownloadDesk } from './lib/transfer/download-stream.js';

// The DOM library in use has no worker types (adding the WebWorker library would clash with it):
// what this script uses of them.
interface ExtendableEvent extends Event {
  waitUntil(promise: Promise<unknown>): void;
}
interface ExtendableMessageEvent extends ExtendableEvent {
  readonly data: unknown;
  readonly ports: readonly MessagePort[];
}
interface FetchEvent extends ExtendableEvent {
  readonly request: Request;
  respondWith(response: Response | Promise<Response>): void;
}
interface ServiceWorkerScope {
  readonly registration: { readonly scope: string };
  readonly clients: { claim(): Promise<void> };
  skipWaiting(): Promise<void>;
  addEventListener(type: 'install' | 'activate', listener: (event: ExtendableEvent) => void): void;
  addEventListener(type: 'message', listener: (event: ExtendableMessageEvent) => void): void;
  addEventListener(type: 'fetch', listener: (event: FetchEvent) => void): void;
}

const scope = globalThis as unknown as ServiceWorkerScope;
const desk = new DownloadDesk(scope.registration.scope);

// A new version takes over at once: the page waits for an active worker before each download.
scope.addEventListener('install', (event) => event.waitUntil(scope.skipWaiting()));
scope.addEventListener('activate', (event) => event.waitUntil(scope.clients.claim()));
scope.addEventListener('message', (event) => desk.handleMessage(event.data, event.ports[0]));
scope.addEventListener('fetch', (event) => {
  const { response, ended } = desk.respond(event.request);
  event.respondWith(response);
  // A response still streaming does not count as the worker being busy (Firefox stops it ~30 s after
  // the headers went); the event does, until the stream ends. The page's pings cover the rest: browsers
  // cap how long one event may run.
  event.waitUntil(ended);
});
