/**
 * What each new peer connection of the mesh is built from: the WebRTC library and the ICE settings
 * of the moment. The library is loaded in the background as soon as the mesh exists (it is a chunk
 * of its own, so the first dial need not wait for it) and only once; a load that fails is tried
 * again at the next attempt. Where the browser has no WebRTC at all, that is learnt once and told.
 */
import { toError } from './errors.js';
import { rtcConfiguration, type IceSettings, type PeerFactory, type PeerSetup } from './peer-factory.js';
import type { PeerLog } from './peer-log.js';
import type { PeerMeshOptions } from './peer-mesh-options.js';

export class WebRTCLoader {
  readonly #options: Pick<PeerMeshOptions, 'loadFactory' | 'iceSettings'>;
  readonly #log: PeerLog;
  readonly #onUnavailable: () => void;
  /** undefined: not loaded yet; null: no WebRTC here. */
  #factory: PeerFactory | null | undefined;
  #loading: Promise<PeerFactory | null> | null = null;

  /** `onUnavailable` runs once the library says there is no WebRTC in this browser. */
  constructor(
    options: Pick<PeerMeshOptions, 'loadFactory' | 'iceSettings'>,
    log: PeerLog,
    onUnavailable: () => void,
  ) {
    this.#options = options;
    this.#log = log;
    this.#onUnavailable = onUnavailable;
  }

  /** Known to have no WebRTC (false while the library is still loading: it may well be there). */
  get unavailable(): boolean {
    return this.#factory === null;
  }

  /** The library, once loaded; the load under way, or a new one after a failure. */
  load(): PeerFactory | null | Promise<PeerFactory | null> {
    if (this.#factory !== undefined) return this.#factory;
    if (this.#loading) return this.#loading;
    const settle = (factory: PeerFactory | null) => {
      this.#factory = factory;
      if (!factory) {
        this.#log.warn('peer: no WebRTC in this browser; chats cannot connect');
        this.#onUnavailable();
      }
      return factory;
    };
    let loaded: PeerFactory | null | Promise<PeerFactory | null>;
    try {
      loaded = this.#options.loadFactory();
    } catch (error) {
      loaded = Promise.reject(toError(error));
    }
    if (!(loaded instanceof Promise)) return settle(loaded);
    this.#loading = loaded.then(settle, (error: unknown) => {
      // Tried again at the next attempt (e.g. the chunk failed to download).
      this.#loading = null;
      this.#log.warn('peer: could not load the WebRTC library', { error: toError(error).message });
      throw error;
    });
    return this.#loading;
  }

  /**
   * The factory and configuration for one new peer connection: synchronous when both are at hand,
   * so the peer connection is created at once. Rejects where there is no WebRTC.
   */
  setup(): PeerSetup | Promise<PeerSetup> {
    const factory = this.load();
    const ice = this.#options.iceSettings?.() ?? { iceServers: [] };
    const build = (ready: PeerFactory | null, settings: IceSettings): PeerSetup => {
      if (!ready) throw new Error('no WebRTC in this browser');
      return { factory: ready, config: rtcConfiguration(settings) };
    };
    if (!(factory instanceof Promise) && !(ice instanceof Promise)) {
      try {
        return build(factory, ice);
      } catch (error) {
        return Promise.reject(toError(error));
      }
    }
    return Promise.all([factory, ice]).then(([ready, settings]) => build(ready, settings));
  }
}
