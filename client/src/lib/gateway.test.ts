import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PROTOCOL_VERSION } from '../../../shared/protocol.js';
import {
  Gateway,
  gatewayUrl,
  type GatewayEndReason,
  type GatewayStatus,
  type SocketHandlers,
} from './gateway.js';

/** A socket the test drives: it records what the gateway sends and lets the test play the server. */
class FakeSocket {
  sent: unknown[] = [];
  closedWith: { code?: number; reason?: string } | null = null;
  constructor(
    readonly url: string,
    readonly handlers: SocketHandlers,
  ) {}
  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
  }
  receive(frame: unknown): void {
    this.handlers.message(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }
  hello(): void {
    this.receive({
      type: 'hello',
      protocolVersion: PROTOCOL_VERSION,
      user: { id: 'u1', username: 'ada' },
      connectionId: 'c1',
      friends: [],
      incoming: [],
      outgoing: [],
    });
  }
  serverClose(code: number, reason = ''): void {
    this.handlers.close(code, reason);
  }
}

function setup(random = () => 0.5) {
  const sockets: FakeSocket[] = [];
  const statuses: GatewayStatus[] = [];
  const ends: GatewayEndReason[] = [];
  const warnings: string[] = [];
  let connectFailures = 0;
  const gateway = new Gateway({
    url: 'ws://parley.test/ws?v=1',
    random,
    createSocket: (url, handlers) => {
      const socket = new FakeSocket(url, handlers);
      sockets.push(socket);
      return socket;
    },
    callbacks: {
      onStatus: (status) => statuses.push(status),
      onEnd: (reason) => ends.push(reason),
      onConnectFailed: () => {
        connectFailures += 1;
      },
    },
    warn: (message) => warnings.push(message),
  });
  const last = (): FakeSocket => {
    const socket = sockets.at(-1);
    if (!socket) throw new Error('no socket opened');
    return socket;
  };
  return { gateway, sockets, statuses, ends, warnings, last, connectFailures: () => connectFailures };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('gatewayUrl', () => {
  it('follows the page protocol and carries the protocol version', () => {
    expect(gatewayUrl({ protocol: 'https:', host: 'chat.example.com' })).toBe(
      `wss://chat.example.com/ws?v=${PROTOCOL_VERSION}`,
    );
    expect(gatewayUrl({ protocol: 'http:', host: '127.0.0.1:5173' })).toBe(
      `ws://127.0.0.1:5173/ws?v=${PROTOCOL_VERSION}`,
    );
  });
});

describe('Gateway', () => {
  it('is connecting until hello, then online', () => {
    const t = setup();
    t.gateway.start();
    expect(t.gateway.status).toBe('connecting');
    expect(t.last().url).toBe('ws://parley.test/ws?v=1');
    t.last().hello();
    expect(t.gateway.status).toBe('online');
    expect(t.statuses).toEqual(['connecting', 'online']);
  });

  it('dispatches valid frames by type and drops bad ones with a warning', () => {
    const t = setup();
    const hellos: string[] = [];
    const pongs: (string | undefined)[] = [];
    t.gateway.on('hello', (frame) => hellos.push(frame.user.username));
    const off = t.gateway.on('pong', (frame) => pongs.push(frame.id));
    t.gateway.start();
    t.last().hello();
    t.last().receive({ type: 'pong', id: '7' });
    t.last().receive('not json');
    t.last().receive({ type: 'pong', id: 42 });
    t.last().receive({ type: 'presence_of_the_future' });
    off();
    t.last().receive({ type: 'pong', id: '8' });
    expect(hellos).toEqual(['ada']);
    expect(pongs).toEqual(['7']);
    expect(t.warnings.filter((w) => w.includes('bad frame'))).toHaveLength(3);
    expect(t.gateway.status).toBe('online');
  });

  it('reconnects with growing jittered delays and resets them after hello', () => {
    const t = setup(() => 0.999);
    t.gateway.start();
    t.last().serverClose(1006);
    expect(t.gateway.status).toBe('offline');
    expect(t.sockets).toHaveLength(1);
    vi.advanceTimersByTime(498);
    expect(t.sockets).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(t.sockets).toHaveLength(2);
    expect(t.gateway.status).toBe('connecting');

    t.last().serverClose(1006);
    vi.advanceTimersByTime(998);
    expect(t.sockets).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(t.sockets).toHaveLength(3);

    t.last().hello();
    t.last().serverClose(1001);
    vi.advanceTimersByTime(499);
    expect(t.sockets).toHaveLength(4);
    expect(t.connectFailures()).toBe(2);
  });

  it('doubles the ceiling up to 30 s', () => {
    const t = setup(() => 0.999_999);
    t.gateway.start();
    const delays: number[] = [];
    for (let i = 0; i < 9; i += 1) {
      t.last().serverClose(1006);
      const before = Date.now();
      vi.advanceTimersToNextTimer();
      delays.push(Date.now() - before);
    }
    expect(delays).toEqual([499, 999, 1999, 3999, 7999, 15_999, 29_999, 29_999, 29_999]);
    expect(t.sockets).toHaveLength(10);
  });

  it('stops for good on 4001 session_revoked and 4000 protocol_mismatch', () => {
    for (const [code, reason] of [
      [4001, 'session_revoked'],
      [4000, 'protocol_mismatch'],
    ] as const) {
      const t = setup();
      t.gateway.start();
      t.last().hello();
      t.last().serverClose(code);
      vi.advanceTimersByTime(120_000);
      expect(t.sockets).toHaveLength(1);
      expect(t.ends).toEqual([reason]);
      expect(t.gateway.status).toBe('offline');
      expect(t.gateway.running).toBe(false);
    }
  });

  it('treats a hello with another protocol version as a mismatch', () => {
    const t = setup();
    t.gateway.start();
    t.last().receive({
      type: 'hello',
      protocolVersion: PROTOCOL_VERSION + 1,
      user: { id: 'u1', username: 'ada' },
      connectionId: 'c1',
      friends: [],
      incoming: [],
      outgoing: [],
    });
    expect(t.ends).toEqual(['protocol_mismatch']);
    expect(t.last().closedWith).not.toBeNull();
  });

  it('backs off further after a rate-limit close (1008)', () => {
    const t = setup(() => 0.999);
    t.gateway.start();
    t.last().hello();
    t.last().serverClose(1008);
    vi.advanceTimersByTime(7_000);
    expect(t.sockets).toHaveLength(1);
    vi.advanceTimersByTime(1_000);
    expect(t.sockets).toHaveLength(2);
  });

  it('stop() closes the socket, ignores its late events and does not reconnect', () => {
    const t = setup();
    t.gateway.start();
    const socket = t.last();
    socket.hello();
    t.gateway.stop();
    expect(socket.closedWith?.code).toBe(1000);
    expect(t.gateway.status).toBe('offline');
    socket.serverClose(4001);
    vi.advanceTimersByTime(120_000);
    expect(t.sockets).toHaveLength(1);
    expect(t.ends).toEqual([]);

    t.gateway.start();
    expect(t.sockets).toHaveLength(2);
  });

  it('reconnectNow() skips the wait only while waiting', () => {
    const t = setup(() => 0.999);
    t.gateway.start();
    t.gateway.reconnectNow();
    expect(t.sockets).toHaveLength(1);
    t.last().serverClose(1006);
    t.gateway.reconnectNow();
    expect(t.sockets).toHaveLength(2);
  });

  it('gives up on a socket that never says hello', () => {
    const t = setup(() => 0);
    t.gateway.start();
    vi.advanceTimersByTime(10_000);
    expect(t.sockets[0]?.closedWith).not.toBeNull();
    expect(t.connectFailures()).toBe(1);
    vi.advanceTimersByTime(1);
    expect(t.sockets).toHaveLength(2);
  });

  it('pings while online and drops a connection whose pong does not come', () => {
    const t = setup(() => 0);
    t.gateway.start();
    const socket = t.last();
    socket.hello();
    vi.advanceTimersByTime(25_000);
    expect(socket.sent).toEqual([{ type: 'ping', id: '1' }]);
    socket.receive({ type: 'pong', id: '1' });
    vi.advanceTimersByTime(25_000);
    expect(socket.sent).toHaveLength(2);
    expect(t.gateway.status).toBe('online');
    vi.advanceTimersByTime(10_000);
    expect(socket.closedWith).not.toBeNull();
    expect(t.gateway.status).not.toBe('online');
    vi.advanceTimersByTime(1);
    expect(t.sockets).toHaveLength(2);
  });

  it('sends only while online', () => {
    const t = setup();
    t.gateway.start();
    expect(t.gateway.send({ type: 'ping', id: 'x' })).toBe(false);
    t.last().hello();
    expect(t.gateway.send({ type: 'ping', id: 'x' })).toBe(true);
    expect(t.last().sent).toEqual([{ type: 'ping', id: 'x' }]);
  });

  it('survives a socket factory that throws', () => {
    const statuses: GatewayStatus[] = [];
    let attempts = 0;
    const gateway = new Gateway({
      url: 'ws://bad',
      random: () => 0.5,
      createSocket: () => {
        attempts += 1;
        throw new SyntaxError('bad url');
      },
      callbacks: { onStatus: (status) => statuses.push(status), onEnd: () => {} },
    });
    gateway.start();
    expect(gateway.status).toBe('offline');
    expect(attempts).toBe(1);
    vi.advanceTimersByTime(250);
    expect(attempts).toBe(2);
    gateway.stop();
    vi.advanceTimersByTime(60_000);
    expect(attempts).toBe(2);
    expect(statuses.at(-1)).toBe('offline');
  });
});
