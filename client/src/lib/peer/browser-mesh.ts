/**
 * The session's peer network in the browser: simple-peer, the console for logs, and, in dev builds
 * or on a page opened with `?debug`, the measurement hooks used by e2e tests and
 * `npm run bench:connect` (nothing in the UI uses them):
 *
 * - `window.__parley.peers`: the {@link PeerMesh} (`connect`, `disconnect(friendId)`,
 *   `disconnectAll()`, `openLinks`, `path`, `on`, `connectionId`, `instance`, `instanceOf`).
 * - Performance marks `parley:connect:<friendId>` (when `connect` finds no open link and nothing
 *   under way), `parley:open:<friendId>` (when the friend's first data channel opens) and
 *   `parley:relay:<friendId>` (when a server-relay session to them opens).
 */
import type { IceSettings } from './peer-factory.js';
import { consolePeerLog } from './peer-log.js';
import { PeerMesh, type PeerGateway } from './peer-mesh.js';
import { loadSimplePeerFactory } from './simple-peer-factory.js';

/** What `window.__parley` holds when the debug hooks are on. */
export interface ParleyDebugHooks {
  peers: PeerMesh;
}

declare global {
  interface Window {
    __parley?: ParleyDebugHooks;
  }
}

export interface BrowserMeshOptions {
  /** `import.meta.env.DEV`. */
  dev: boolean;
  /** ICE servers (with TURN credentials) for each new peer connection; host candidates only without. */
  iceSettings?: () => IceSettings | Promise<IceSettings>;
}

/** Whether the debug hooks are on: dev builds, or `?debug` in the page URL. */
export function debugHooksEnabled(dev: boolean, search: string): boolean {
  return dev || new URLSearchParams(search).has('debug');
}

export function createBrowserMesh(gateway: PeerGateway, options: BrowserMeshOptions): PeerMesh {
  const debug = debugHooksEnabled(options.dev, window.location.search);
  const mesh = new PeerMesh({
    gateway,
    loadFactory: loadSimplePeerFactory,
    ...(options.iceSettings ? { iceSettings: options.iceSettings } : {}),
    log: consolePeerLog,
    ...(debug ? { mark: (name: string) => void performance.mark(name) } : {}),
  });
  if (debug) window.__parley = { ...window.__parley, peers: mesh };
  return mesh;
}
