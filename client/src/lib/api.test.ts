import { describe, expect, it } from 'vitest';
import { ApiError } from './api-error.js';
import { createApiClient } from './api.js';

interface Call {
  input: string;
  init: RequestInit;
}

function fakeFetch(respond: (call: Call) => Response | Promise<Response>) {
  const calls: Call[] = [];
  const fetchImpl = async (input: string, init: RequestInit) => {
    const call = { input, init };
    calls.push(call);
    return respond(call);
  };
  return { calls, api: createApiClient(fetchImpl) };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('createApiClient', () => {
  it('posts JSON credentials same-origin and returns the user', async () => {
    const { api, calls } = fakeFetch(() => json(201, { user: { id: 'u1', username: 'ada' } }));
    await expect(api.register({ username: 'ada', password: 'long enough' })).resolves.toEqual({
      id: 'u1',
      username: 'ada',
    });
    const [call] = calls;
    expect(call?.input).toBe('/api/auth/register');
    expect(call?.init.method).toBe('POST');
    expect(call?.init.credentials).toBe('same-origin');
    expect(new Headers(call?.init.headers).get('Content-Type')).toBe('application/json');
    expect(JSON.parse(String(call?.init.body))).toEqual({ username: 'ada', password: 'long enough' });
  });

  it('reads the signed-in user with GET /api/me and no body', async () => {
    const { api, calls } = fakeFetch(() => json(200, { user: { id: 'u1', username: 'ada' } }));
    await expect(api.me()).resolves.toEqual({ id: 'u1', username: 'ada' });
    expect(calls[0]?.init.method).toBe('GET');
    expect(calls[0]?.init.body).toBeUndefined();
  });

  it('accepts the empty 204 of logout', async () => {
    const { api, calls } = fakeFetch(() => new Response(null, { status: 204 }));
    await expect(api.logout()).resolves.toBeUndefined();
    expect(calls[0]?.input).toBe('/api/auth/logout');
  });

  it('rejects with the typed error of the body', async () => {
    const { api } = fakeFetch(() =>
      json(
        429,
        { error: { code: 'rate_limited', message: 'Too many', retryAfterSeconds: 30 } },
        { 'Retry-After': '30' },
      ),
    );
    const error = await rejection(api.login({ username: 'ada', password: 'whatever1' }));
    expect(error).toMatchObject({ code: 'rate_limited', status: 429, retryAfterSeconds: 30 });
  });

  it('reports unauthenticated from /api/me', async () => {
    const { api } = fakeFetch(() =>
      json(401, { error: { code: 'unauthenticated', message: 'Sign in first' } }),
    );
    expect((await rejection(api.me())).code).toBe('unauthenticated');
  });

  it('turns a network failure into network_error', async () => {
    const { api } = fakeFetch(() => Promise.reject(new TypeError('Failed to fetch')));
    expect(await rejection(api.me())).toMatchObject({ code: 'network_error', status: 0 });
  });

  it('turns HTML and malformed successes into bad_response', async () => {
    const html = fakeFetch(() => new Response('<h1>Bad gateway</h1>', { status: 502 }));
    expect(await rejection(html.api.me())).toMatchObject({ code: 'bad_response', status: 502 });
    const wrongShape = fakeFetch(() => json(200, { user: { id: 1 } }));
    expect(await rejection(wrongShape.api.me())).toMatchObject({ code: 'bad_response', status: 200 });
    const notJson = fakeFetch(() => new Response('ok', { status: 200 }));
    expect(await rejection(notJson.api.me())).toMatchObject({ code: 'bad_response', status: 200 });
  });
});
