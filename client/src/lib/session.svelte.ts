/**
 * App-wide session state: who is signed in, whether that is still being checked, and the signaling
 * connection that lives exactly as long as the sign-in. Components read it and call its methods;
 * the network work happens in `api.ts` and `gateway.ts`.
 */
import type { Credentials, PublicUser } from '../../../shared/api.js';
import { createApiClient, createApiTransport, type ApiClient } from './api.js';
import { ChatState } from './chat/chat.svelte.js';
import type { ChatStore } from './chat/chat-store.js';
import { MemoryChatStore } from './chat/memory-chat-store.js';
import { openBrowserChatStore } from './chat/open-chat-store.js';
import { toApiError } from './api-error.js';
import type { ActivityStatus } from './activity.js';
import { createFriendsApi, type FriendsApi } from './friends-api.js';
import { FriendsState } from './friends.svelte.js';
import { IceSettingsSource, type IceSettingsProvider } from './ice-settings.js';
import {
  Gateway,
  gatewayUrl,
  type GatewayCallbacks,
  type GatewayEndReason,
  type GatewayStatus,
} from './gateway.js';
import { createBrowserMesh } from './peer/browser-mesh.js';
import { PeerMesh } from './peer/peer-mesh.js';
import type { PeerNetwork } from './peer/peer-network.js';
import { loadSimplePeerFactory } from './peer/simple-peer-factory.js';
import { StatusReporter } from './status-reporter.js';
import { TransfersState } from './transfer/transfers.svelte.js';

/**
 * `restoring`: asking the server whether the cookie still holds a session; `unreachable`: that
 * question got no answer; then `signed_out` or `signed_in`.
 */
export type SessionPhase = 'restoring' | 'unreachable' | 'signed_out' | 'signed_in';

export interface SessionDeps {
  api: ApiClient;
  friendsApi: FriendsApi;
  createGateway(callbacks: GatewayCallbacks): Gateway;
  /** The signed-in account's chat history and outbox; in memory by default. */
  openChatStore?(userId: string): Promise<ChatStore>;
  /**
   * STUN/TURN servers for peer connections (`GET /api/turn`), cleared on sign-out; none (host
   * candidates only) by default.
   */
  iceSettings?: IceSettingsProvider;
  /**
   * The peer network on that gateway, getting its ICE settings from `iceSettings()` for each new
   * connection; simple-peer without debug hooks by default.
   */
  createPeers?(gateway: Gateway, iceSettings: IceSettingsProvider['get'] | undefined): PeerMesh;
  /** Where file transfers report failures, with their causes (development builds log them). */
  warnTransfers?(message: string, detail?: unknown): void;
}

export const SESSION_NOTICES = {
  revoked: 'You were signed out. Sign in again to continue.',
  expired: 'Your session ended. Sign in again to continue.',
} as const;

/** The signaling connection and the features that live on it. */
interface ConnectedFeatures {
  gateway: Gateway;
  friends: FriendsState;
  statusReporter: StatusReporter;
  peers: PeerMesh;
}

export class Session {
  readonly #api: ApiClient;
  readonly #createGateway: SessionDeps['createGateway'];
  readonly #friendsApi: FriendsApi;
  readonly #openChatStore: NonNullable<SessionDeps['openChatStore']>;
  readonly #warnTransfers: SessionDeps['warnTransfers'];
  readonly #createPeers: NonNullable<SessionDeps['createPeers']>;
  readonly #iceSettings: IceSettingsProvider | undefined;
  /** Created together on first use: the features subscribe before the connection's first frame. */
  #connected: ConnectedFeatures | null = null;
  #checkingSession = false;

  #phase = $state<SessionPhase>('restoring');
  #user = $state<PublicUser | null>(null);
  #connection = $state<GatewayStatus>('offline');
  #connectionEnded = $state<GatewayEndReason | null>(null);
  #notice = $state<string | null>(null);
  #signingOut = $state(false);
  #chat = $state<ChatState | null>(null);
  #transfers = $state<TransfersState | null>(null);

  constructor(deps: SessionDeps) {
    this.#api = deps.api;
    this.#createGateway = deps.createGateway;
    this.#friendsApi = deps.friendsApi;
    this.#openChatStore = deps.openChatStore ?? (async () => new MemoryChatStore());
    this.#warnTransfers = deps.warnTransfers;
    this.#iceSettings = deps.iceSettings;
    this.#createPeers =
      deps.createPeers ??
      ((gateway, iceSettings) =>
        new PeerMesh({
          gateway,
          loadFactory: loadSimplePeerFactory,
          ...(iceSettings ? { iceSettings } : {}),
        }));
  }

  get phase(): SessionPhase {
    return this.#phase;
  }

  /** The signed-in user, or null. */
  get user(): PublicUser | null {
    return this.#user;
  }

  /** Status of the signaling connection. */
  get connection(): GatewayStatus {
    return this.#connection;
  }

  /** Set when the server ended the connection for a reason reconnecting cannot fix. */
  get connectionEnded(): GatewayEndReason | null {
    return this.#connectionEnded;
  }

  /** A message for the person (signed out elsewhere, sign-out failed), until dismissed. */
  get notice(): string | null {
    return this.#notice;
  }

  get signingOut(): boolean {
    return this.#signingOut;
  }

  /** The signaling connection, for features that send or subscribe to frames. */
  get gateway(): Gateway {
    return this.#features().gateway;
  }

  /** The buddy list of the signed-in user (empty until the connection's `hello`). */
  get friends(): FriendsState {
    return this.#features().friends;
  }

  /** Peer connections to friends (the chat layer's transport); links close on sign-out. */
  get peers(): PeerNetwork {
    return this.#features().peers;
  }

  /** Direct chat of the signed-in user (its store is per account), or null while signed out. */
  get chat(): ChatState | null {
    return this.#chat;
  }

  /** File transfers of the signed-in user, or null while signed out. */
  get transfers(): TransfersState | null {
    return this.#transfers;
  }

  /** This page's activity changed (see `activity.ts`): friends see `away` or `online`. */
  reportActivity(status: ActivityStatus): void {
    this.#features().statusReporter.report(status);
  }

  /** Asks the server whether the session cookie is still good (on start, and from the retry button). */
  async restore(): Promise<void> {
    this.#phase = 'restoring';
    try {
      this.#enter(await this.#api.me());
    } catch (caught) {
      if (toApiError(caught).code === 'unauthenticated') {
        this.#phase = 'signed_out';
      } else {
        this.#phase = 'unreachable';
      }
    }
  }

  /** Creates an account and signs in; rejects with an `ApiError` the form shows inline. */
  async register(credentials: Credentials): Promise<void> {
    this.#enter(await this.#api.register(credentials));
  }

  /** Signs in; rejects with an `ApiError` the form shows inline. */
  async signIn(credentials: Credentials): Promise<void> {
    this.#enter(await this.#api.login(credentials));
  }

  /** Signs out on the server, then here. When the server cannot be reached, stays signed in and says so. */
  async signOut(): Promise<void> {
    if (this.#signingOut || this.#phase !== 'signed_in') return;
    this.#signingOut = true;
    this.#notice = null;
    // Closing first means the server's revocation of this very socket is not mistaken for news.
    this.gateway.stop();
    try {
      await this.#api.logout();
      this.#leave(null);
    } catch (caught) {
      const error = toApiError(caught);
      if (error.code === 'unauthenticated') {
        this.#leave(null);
      } else {
        this.#notice = `Couldn't sign out: ${error.message}. Try again.`;
        this.gateway.start();
      }
    } finally {
      this.#signingOut = false;
    }
  }

  /** Skips the reconnect wait, e.g. when the browser reports it is back online. */
  reconnectNow(): void {
    if (this.#phase === 'signed_in') this.gateway.reconnectNow();
  }

  /** The browser says the network is back: retry whatever was waiting for it. */
  networkRestored(): void {
    if (this.#phase === 'unreachable') void this.restore();
    else this.reconnectNow();
  }

  dismissNotice(): void {
    this.#notice = null;
  }

  #features(): ConnectedFeatures {
    if (this.#connected) return this.#connected;
    const gateway = this.#createGateway({
      onStatus: (status) => {
        this.#connection = status;
      },
      onEnd: (reason) => this.#handleGatewayEnd(reason),
      onConnectFailed: () => void this.#checkStillSignedIn(),
    });
    const ice = this.#iceSettings;
    const peers = this.#createPeers(gateway, ice ? () => ice.get() : undefined);
    // Fresh TURN credentials also go to live connections (for their next ICE restart).
    ice?.onChange((settings) => peers.applyIceSettings(settings));
    this.#connected = {
      gateway,
      friends: new FriendsState({ api: this.#friendsApi, gateway }),
      statusReporter: new StatusReporter(gateway),
      peers,
    };
    return this.#connected;
  }

  #enter(user: PublicUser): void {
    this.#user = user;
    this.#phase = 'signed_in';
    this.#notice = null;
    this.#connectionEnded = null;
    this.#chat?.dispose();
    this.#chat = new ChatState({
      peers: this.peers,
      gateway: this.gateway,
      store: this.#openChatStore(user.id),
    });
    this.#transfers?.dispose();
    const chat = this.#chat;
    this.#transfers = new TransfersState({
      peers: this.peers,
      ...(this.#warnTransfers ? { warn: this.#warnTransfers } : {}),
      onVerified: (friendId, direction, { fileId, name, size, type, sha256 }) =>
        chat.recordFile(friendId, direction, fileId, { name, size, type, sha256 }),
    });
    this.gateway.start();
  }

  #leave(notice: string | null): void {
    this.gateway.stop();
    this.#features().friends.reset();
    this.#features().statusReporter.reset();
    this.#chat?.dispose();
    this.#chat = null;
    this.#transfers?.dispose();
    this.#transfers = null;
    this.#features().peers.close();
    // The next account must not start with this one's TURN credentials.
    this.#iceSettings?.clear();
    this.#user = null;
    this.#phase = 'signed_out';
    this.#connectionEnded = null;
    this.#notice = notice;
  }

  #handleGatewayEnd(reason: GatewayEndReason): void {
    if (reason === 'session_revoked') {
      this.#leave(SESSION_NOTICES.revoked);
    } else {
      this.#connectionEnded = reason;
    }
  }

  /** A refused WebSocket upgrade looks like any network failure; the API says whether it was the session. */
  async #checkStillSignedIn(): Promise<void> {
    if (this.#checkingSession) return;
    this.#checkingSession = true;
    try {
      await this.#api.me();
    } catch (caught) {
      if (toApiError(caught).code === 'unauthenticated' && this.#phase === 'signed_in') {
        this.#leave(SESSION_NOTICES.expired);
      }
    } finally {
      this.#checkingSession = false;
    }
  }
}

/** The app's session: created on first import, restored by `main.ts`. */
export const session = new Session({
  api: createApiClient(),
  friendsApi: createFriendsApi(),
  createGateway: (callbacks) =>
    new Gateway({
      url: gatewayUrl(window.location),
      callbacks,
      warn: import.meta.env.DEV ? (message, detail) => console.warn(message, detail ?? '') : undefined,
    }),
  openChatStore: (userId) =>
    openBrowserChatStore(userId, (message, detail) => console.warn(message, detail ?? '')),
  iceSettings: new IceSettingsSource(createApiTransport()),
  createPeers: (gateway, iceSettings) =>
    createBrowserMesh(gateway, { dev: import.meta.env.DEV, ...(iceSettings ? { iceSettings } : {}) }),
  warnTransfers: import.meta.env.DEV ? (message, detail) => console.warn(message, detail ?? '') : undefined,
});
