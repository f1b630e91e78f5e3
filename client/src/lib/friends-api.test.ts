import { describe, expect, it } from 'vitest';
import { ApiError } from './api-error.js';
import { createApiTransport } from './api.js';
import { createFriendsApi } from './friends-api.js';

interface Call {
  input: string;
  init: RequestInit;
}

function fakeFetch(respond: (call: Call) => Response) {
  const calls: Call[] = [];
  const api = createFriendsApi(
    createApiTransport(async (input, init) => {
      const call = { input, init };
      calls.push(call);
      return respond(call);
    }),
  );
  return { calls, api };
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
const noContent = () => new Response(null, { status: 204 });

const bob = { id: 'u2', username: 'bob' };
const bobFriend = { ...bob, status: 'online', lastSeen: null };

describe('createFriendsApi', () => {
  it('lists friends and requests', async () => {
    const snapshot = { friends: [bobFriend], incoming: [], outgoing: [{ id: 'u3', username: 'cy' }] };
    const { api, calls } = fakeFetch(() => json(200, snapshot));
    await expect(api.list()).resolves.toEqual(snapshot);
    expect(calls[0]?.input).toBe('/api/friends');
    expect(calls[0]?.init.method).toBe('GET');
  });

  it('sends a request by username and returns either answer', async () => {
    const sent = fakeFetch(() => json(201, { outgoing: bob }));
    await expect(sent.api.sendRequest('bob')).resolves.toEqual({ outgoing: bob });
    expect(sent.calls[0]?.input).toBe('/api/friends/requests');
    expect(sent.calls[0]?.init.method).toBe('POST');
    expect(JSON.parse(String(sent.calls[0]?.init.body))).toEqual({ username: 'bob' });

    const mutual = fakeFetch(() => json(200, { friend: bobFriend }));
    await expect(mutual.api.sendRequest('bob')).resolves.toEqual({ friend: bobFriend });
  });

  it('accepts, declines, cancels and unfriends on the documented routes', async () => {
    const { api, calls } = fakeFetch((call) =>
      call.input.endsWith('/accept') ? json(200, { friend: bobFriend }) : noContent(),
    );
    await expect(api.accept('u2')).resolves.toEqual(bobFriend);
    await expect(api.decline('u2')).resolves.toBeUndefined();
    await expect(api.cancel('u2')).resolves.toBeUndefined();
    await expect(api.remove('u2')).resolves.toBeUndefined();
    expect(calls.map((c) => `${c.init.method} ${c.input}`)).toEqual([
      'POST /api/friends/requests/u2/accept',
      'POST /api/friends/requests/u2/decline',
      'DELETE /api/friends/requests/u2',
      'DELETE /api/friends/u2',
    ]);
    // DELETE carries no body.
    expect(calls[2]?.init.body).toBeUndefined();
  });

  it('escapes ids in paths', async () => {
    const { api, calls } = fakeFetch(() => noContent());
    await api.remove('a/b?c');
    expect(calls[0]?.input).toBe('/api/friends/a%2Fb%3Fc');
  });

  it('rejects with the server code, and with bad_response for a wrong shape', async () => {
    const missing = fakeFetch(() => json(404, { error: { code: 'user_not_found', message: 'No user' } }));
    await expect(missing.api.sendRequest('nobody')).rejects.toMatchObject({
      code: 'user_not_found',
      status: 404,
    });
    const wrong = fakeFetch(() => json(200, { friend: { id: 'u2' } }));
    const error = await wrong.api.accept('u2').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: 'bad_response' });
  });
});
