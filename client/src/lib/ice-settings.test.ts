import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ApiTransport } from './api.js';
import { ApiError } from './api-error.js';
import { IceSettingsSource } from './ice-settings.js';
import type { IceSettings } from './peer/peer-factory.js';

const turn = (username: string) => ({
  iceServers: [{ urls: ['turn:t.example:3478'], username, credential: 'c' }],
  iceTransportPolicy: 'all' as const,
  ttl: 100,
});

function source(answers: Array<unknown>) {
  const calls: string[] = [];
  const transport: ApiTransport = async (method, path) => {
    calls.push(`${method} ${path}`);
    const next = answers.shift();
    if (next instanceof Error) throw next;
    return { status: 200, data: next };
  };
  const src = new IceSettingsSource(transport, () => Date.now());
  return { src, calls, advance: (ms: number) => vi.advanceTimersByTimeAsync(ms) };
}

const username = (settings: IceSettings) => settings.iceServers[0]?.username;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('IceSettingsSource', () => {
  it('fetches once, reuses until 80% of the lifetime, then refreshes', async () => {
    const { src, calls } = source([turn('1:u'), turn('2:u')]);
    expect(username(await src.get())).toBe('1:u');
    vi.setSystemTime(Date.now() + 79_000);
    expect(username(await src.get())).toBe('1:u');
    expect(calls).toHaveLength(1);
    vi.setSystemTime(Date.now() + 2_000);
    expect(username(await src.get())).toBe('2:u');
    expect(calls).toEqual(['GET /api/turn', 'GET /api/turn']);
    src.clear();
  });

  it('shares one request among concurrent callers', async () => {
    const { src, calls } = source([turn('1:u')]);
    await Promise.all([src.get(), src.get(), src.get()]);
    expect(calls).toHaveLength(1);
    src.clear();
  });

  it('falls back to host candidates, then to the last good settings, when the API fails', async () => {
    const { src } = source([new ApiError({ code: 'network_error', status: 0 }), turn('1:u'), { bad: true }]);
    expect(await src.get()).toEqual({ iceServers: [] });
    vi.setSystemTime(Date.now() + 10_000);
    expect(username(await src.get())).toBe('1:u');
    vi.setSystemTime(Date.now() + 81_000);
    expect(username(await src.get())).toBe('1:u');
    src.clear();
  });

  it('passes the relay-only policy on', async () => {
    const { src } = source([{ ...turn('1:u'), iceTransportPolicy: 'relay' }]);
    expect((await src.get()).iceTransportPolicy).toBe('relay');
    src.clear();
  });

  it('refreshes by itself at 80% of the lifetime and tells the listeners', async () => {
    const { src, calls, advance } = source([turn('1:u'), turn('2:u'), turn('3:u')]);
    const seen: string[] = [];
    src.onChange((settings) => seen.push(username(settings) ?? ''));
    await src.get();
    await advance(79_999);
    expect(calls).toHaveLength(1);
    await advance(1);
    expect(calls).toHaveLength(2);
    expect(seen).toEqual(['1:u', '2:u']);
    expect(username(await src.get())).toBe('2:u');
    await advance(80_000);
    expect(seen).toEqual(['1:u', '2:u', '3:u']);
    src.clear();
  });

  it('retries a failed background refresh while the credentials are still valid', async () => {
    const down = new ApiError({ code: 'network_error', status: 0 });
    const { src, calls, advance } = source([turn('1:u'), down, down, turn('2:u')]);
    const seen: string[] = [];
    src.onChange((settings) => seen.push(username(settings) ?? ''));
    await src.get();
    await advance(80_000); // fails
    await advance(10_000); // fails
    await advance(10_000); // works
    expect(calls).toHaveLength(4);
    expect(seen).toEqual(['1:u', '2:u']);
    src.clear();
  });

  it('forgets everything on clear, and drops a fetch that was under way', async () => {
    let release!: (data: unknown) => void;
    const calls: string[] = [];
    const transport: ApiTransport = (method, path) => {
      calls.push(`${method} ${path}`);
      return new Promise((resolve) => (release = (data) => resolve({ status: 200, data })));
    };
    const src = new IceSettingsSource(transport, () => Date.now());
    const seen: IceSettings[] = [];
    src.onChange((settings) => seen.push(settings));
    const stale = src.get();
    src.clear();
    release(turn('old:u'));
    expect(await stale).toEqual({ iceServers: [] });
    expect(seen).toEqual([]);
    const fresh = src.get();
    expect(calls).toHaveLength(2);
    release(turn('new:u'));
    expect(username(await fresh)).toBe('new:u');
    src.clear();
    await vi.advanceTimersByTimeAsync(200_000);
    expect(calls).toHaveLength(2);
  });
});
