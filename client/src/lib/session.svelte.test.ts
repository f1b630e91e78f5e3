import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Credentials, FriendsSnapshot, PublicUser } from '../../../shared/api.js';
import { PROTOCOL_VERSION } from '../../../shared/protocol.js';
import type { ApiClient } from './api.js';
import { ApiError } from './api-error.js';
import { Gateway, type SocketHandlers } from './gateway.js';
import type { IceSettingsListener, IceSettingsProvider } from './ice-settings.js';
import type { IceSettings } from './peer/peer-factory.js';
import { PeerMesh } from './peer/peer-mesh.js';
import { Session, SESSION_NOTICES, type SessionDeps } from './session.svelte.js';

const ada: PublicUser = { id: 'u1', username: 'ada' };
const bob: PublicUser = { id: 'u3', username: 'bob' };
const unauthenticated = () => new ApiError({ code: 'unauthenticated', status: 401 });

interface Wire {
  handlers: SocketHandlers;
  closed: boolean;
  sent: unknown[];
}

function setup(api: Partial<ApiClient> = {}, extra: Partial<SessionDeps> = {}) {
  const wires: Wire[] = [];
  const fullApi: ApiClient = {
    me: vi.fn(() => Promise.reject(unauthenticated())),
    register: vi.fn((c: Credentials) => Promise.resolve({ id: 'u2', username: c.username })),
    login: vi.fn(() => Promise.resolve(ada)),
    logout: vi.fn(() => Promise.resolve()),
    ...api,
  };
  const session = new Session({
    api: fullApi,
    friendsApi: {
      list: () => Promise.resolve({ friends: [], incoming: [], outgoing: [] }),
      sendRequest: () => Promise.resolve({ outgoing: bob }),
      accept: () => Promise.resolve({ ...bob, status: 'online', lastSeen: null }),
      decline: () => Promise.resolve(),
      cancel: () => Promise.resolve(),
      remove: () => Promise.resolve(),
    },
    createGateway: (callbacks) =>
      new Gateway({
        url: 'ws://parley.test/ws?v=1',
        callbacks,
        random: () => 0.5,
        createSocket: (_url, handlers) => {
          const wire: Wire = { handlers, closed: false, sent: [] };
          wires.push(wire);
          return {
            send(data: string) {
              wire.sent.push(JSON.parse(data));
            },
            close() {
              wire.closed = true;
            },
          };
        },
      }),
    ...extra,
  });
  const wire = (): Wire => {
    const last = wires.at(-1);
    if (!last) throw new Error('no socket');
    return last;
  };
  const hello = (snapshot: Partial<FriendsSnapshot> = {}) =>
    wire().handlers.message(
      JSON.stringify({
        type: 'hello',
        protocolVersion: PROTOCOL_VERSION,
        user: ada,
        connectionId: 'c1',
        friends: [],
        incoming: [],
        outgoing: [],
        ...snapshot,
      }),
    );
  return { session, api: fullApi, wires, wire, hello };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('Session', () => {
  it('restores a signed-in session from /api/me and connects', async () => {
    const t = setup({ me: () => Promise.resolve(ada) });
    expect(t.session.phase).toBe('restoring');
    await t.session.restore();
    expect(t.session.phase).toBe('signed_in');
    expect(t.session.user).toEqual(ada);
    expect(t.session.connection).toBe('connecting');
    t.hello();
    expect(t.session.connection).toBe('online');
  });

  it('is signed out when /api/me says unauthenticated, unreachable when it cannot be asked', async () => {
    const t = setup();
    await t.session.restore();
    expect(t.session.phase).toBe('signed_out');
    expect(t.wires).toHaveLength(0);

    const down = setup({ me: () => Promise.reject(new ApiError({ code: 'network_error', status: 0 })) });
    await down.session.restore();
    expect(down.session.phase).toBe('unreachable');
  });

  it('signs in, and signs out on the server before closing the connection', async () => {
    const t = setup();
    await t.session.restore();
    await t.session.signIn({ username: 'ada', password: 'secret123' });
    expect(t.session.user).toEqual(ada);
    t.hello();
    await t.session.signOut();
    expect(t.api.logout).toHaveBeenCalledOnce();
    expect(t.session.phase).toBe('signed_out');
    expect(t.session.user).toBeNull();
    expect(t.session.connection).toBe('offline');
    expect(t.wire().closed).toBe(true);
    expect(t.session.notice).toBeNull();
  });

  it('passes API errors of register to the caller and stays signed out', async () => {
    const t = setup({
      register: () => Promise.reject(new ApiError({ code: 'username_taken', status: 409 })),
    });
    await t.session.restore();
    await expect(t.session.register({ username: 'ada', password: 'secret123' })).rejects.toMatchObject({
      code: 'username_taken',
    });
    expect(t.session.phase).toBe('signed_out');
  });

  it('stays signed in and says so when sign-out cannot reach the server', async () => {
    const t = setup({
      me: () => Promise.resolve(ada),
      logout: () => Promise.reject(new ApiError({ code: 'network_error', status: 0 })),
    });
    await t.session.restore();
    await t.session.signOut();
    expect(t.session.phase).toBe('signed_in');
    expect(t.session.notice).toMatch(/^Couldn't sign out/);
    expect(t.session.connection).toBe('connecting');
  });

  it('goes to signed out when the server revokes the session (4001)', async () => {
    const t = setup({ me: () => Promise.resolve(ada) });
    await t.session.restore();
    t.hello();
    t.wire().handlers.close(4001, 'session_revoked');
    expect(t.session.phase).toBe('signed_out');
    expect(t.session.user).toBeNull();
    expect(t.session.notice).toBe(SESSION_NOTICES.revoked);
    vi.advanceTimersByTime(60_000);
    expect(t.wires).toHaveLength(1);
  });

  it('keeps reconnecting after a drop, and signs out when a refused reconnect turns out to be an ended session', async () => {
    let signedIn = true;
    const t = setup({ me: () => (signedIn ? Promise.resolve(ada) : Promise.reject(unauthenticated())) });
    await t.session.restore();
    t.hello();
    t.wire().handlers.close(1006, '');
    expect(t.session.connection).toBe('offline');
    expect(t.session.phase).toBe('signed_in');
    vi.advanceTimersByTime(250);
    expect(t.wires).toHaveLength(2);

    signedIn = false;
    t.wire().handlers.close(1006, '');
    await vi.waitFor(() => expect(t.session.phase).toBe('signed_out'));
    expect(t.session.notice).toBe(SESSION_NOTICES.expired);
    vi.advanceTimersByTime(60_000);
    expect(t.wires).toHaveLength(2);
  });

  it('retries the right thing when the network comes back', async () => {
    let reachable = false;
    const t = setup({
      me: () =>
        reachable ? Promise.resolve(ada) : Promise.reject(new ApiError({ code: 'network_error', status: 0 })),
    });
    await t.session.restore();
    expect(t.session.phase).toBe('unreachable');
    reachable = true;
    t.session.networkRestored();
    await vi.waitFor(() => expect(t.session.phase).toBe('signed_in'));

    t.hello();
    t.wire().handlers.close(1006, '');
    expect(t.wires).toHaveLength(1);
    t.session.networkRestored();
    expect(t.wires).toHaveLength(2);
  });

  it('marks a protocol mismatch without signing out', async () => {
    const t = setup({ me: () => Promise.resolve(ada) });
    await t.session.restore();
    t.wire().handlers.close(4000, 'protocol_mismatch');
    expect(t.session.phase).toBe('signed_in');
    expect(t.session.connection).toBe('offline');
    expect(t.session.connectionEnded).toBe('protocol_mismatch');
  });

  it('fills the buddy list from hello and forgets it on sign-out', async () => {
    const t = setup({ me: () => Promise.resolve(ada) });
    await t.session.restore();
    expect(t.session.friends.loaded).toBe(false);
    t.hello({ incoming: [bob] });
    expect(t.session.friends.loaded).toBe(true);
    expect(t.session.friends.incoming).toEqual([bob]);
    await t.session.signOut();
    expect(t.session.friends.loaded).toBe(false);
    expect(t.session.friends.incoming).toEqual([]);
  });

  it('gives the peer network fresh ICE settings, live connections refreshed ones, and clears them on sign-out', async () => {
    const listeners: IceSettingsListener[] = [];
    const turn: IceSettings = {
      iceServers: [{ urls: 'turn:t.example:3478', username: '1:u', credential: 'c' }],
    };
    const ice: IceSettingsProvider = {
      get: vi.fn(() => Promise.resolve(turn)),
      onChange: (listener) => {
        listeners.push(listener);
        return () => {};
      },
      clear: vi.fn(),
    };
    let mesh: PeerMesh | undefined;
    let given: (() => IceSettings | Promise<IceSettings>) | undefined;
    const t = setup(
      { me: () => Promise.resolve(ada) },
      {
        iceSettings: ice,
        createPeers: (gateway, iceSettings) => {
          given = iceSettings;
          mesh = new PeerMesh({ gateway, loadFactory: () => null });
          return mesh;
        },
      },
    );
    await t.session.restore();
    expect(await given?.()).toBe(turn);
    expect(ice.get).toHaveBeenCalledOnce();
    const applied = vi.spyOn(mesh!, 'applyIceSettings');
    listeners.forEach((listener) => listener(turn));
    expect(applied).toHaveBeenCalledWith(turn);
    t.hello();
    await t.session.signOut();
    expect(ice.clear).toHaveBeenCalledOnce();
  });

  it('reports the page status after hello and on change', async () => {
    const t = setup({ me: () => Promise.resolve(ada) });
    await t.session.restore();
    t.session.reportActivity('away');
    t.hello();
    t.session.reportActivity('online');
    expect(t.wire().sent).toEqual([
      { type: 'set_status', status: 'away' },
      { type: 'set_status', status: 'online' },
    ]);
  });
});
