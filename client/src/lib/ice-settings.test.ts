import { describe, expect, it } from 'vitest';
import type { ApiTransport } from './api.js';
import { ApiError } from './api-error.js';
import { IceSettingsSource } from './ice-settings.js';

const turn = (username: string) => ({
  iceServers: [{ urls: ['turn:t.example:3478'], username, credential: 'c' }],
  iceTransportPolicy: 'all' as const,
  ttl: 100,
});

function source(answers: Array<unknown>) {
  let now = 0;
  const calls: string[] = [];
  const transport: ApiTransport = async (method, path) => {
    calls.push(`${method} ${path}`);
    const next = answers.shift();
    if (next instanceof Error) throw next;
    return { status: 200, data: next };
  };
  const src = new IceSettingsSource(transport, () => now);
  return { src, calls, advance: (ms: number) => (now += ms) };
}

describe('IceSettingsSource', () => {
  it('fetches once, reuses until 80% of the lifetime, then refreshes', async () => {
    const { src, calls, advance } = source([turn('1:u'), turn('2:u')]);
    expect((await src.get()).iceServers[0]?.username).toBe('1:u');
    advance(79_000);
    expect((await src.get()).iceServers[0]?.username).toBe('1:u');
    expect(calls).toHaveLength(1);
    advance(2_000);
    expect((await src.get()).iceServers[0]?.username).toBe('2:u');
    expect(calls).toEqual(['GET /api/turn', 'GET /api/turn']);
  });

  it('shares one request among concurrent callers', async () => {
    const { src, calls } = source([turn('1:u')]);
    await Promise.all([src.get(), src.get(), src.get()]);
    expect(calls).toHaveLength(1);
  });

  it('falls back to host candidates, then to the last good settings, when the API fails', async () => {
    const { src, advance } = source([
      new ApiError({ code: 'network_error', status: 0 }),
      turn('1:u'),
      { bad: true },
    ]);
    expect(await src.get()).toEqual({ iceServers: [] });
    advance(10_000);
    expect((await src.get()).iceServers[0]?.username).toBe('1:u');
    advance(81_000);
    expect((await src.get()).iceServers[0]?.username).toBe('1:u');
  });

  it('passes the relay-only policy on', async () => {
    const { src } = source([{ ...turn('1:u'), iceTransportPolicy: 'relay' }]);
    expect((await src.get()).iceTransportPolicy).toBe('relay');
  });
});
