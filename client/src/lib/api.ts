/**
 * Typed client of the HTTP API (`/api`, same origin, session cookie). Each call resolves with the
 * validated response or rejects with an {@link ApiError}.
 */
import { userResponseSchema, type Credentials, type PublicUser } from '../../../shared/api.js';
import { ApiError, errorFromFetchFailure, errorFromResponse } from './api-error.js';

/** How long one request may take before it fails with `timeout`. */
export const REQUEST_TIMEOUT_MS = 15_000;

export interface ApiClient {
  /** Creates an account and signs in (`201 {user}` + session cookie). */
  register(credentials: Credentials): Promise<PublicUser>;
  /** Signs in (`200 {user}` + session cookie). */
  login(credentials: Credentials): Promise<PublicUser>;
  /** Ends this browser's session (`204`). */
  logout(): Promise<void>;
  /** The signed-in user; rejects with `unauthenticated` when there is no session. */
  me(): Promise<PublicUser>;
}

type Fetch = (input: string, init: RequestInit) => Promise<Response>;

/** Builds an API client over `fetch` (injectable for tests). */
export function createApiClient(fetchImpl: Fetch = (input, init) => fetch(input, init)): ApiClient {
  /** Sends one request; resolves with the status and parsed JSON body of a 2xx (undefined when empty). */
  async function send(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ): Promise<{ status: number; data: unknown }> {
    let response: Response;
    try {
      response = await fetchImpl(path, {
        method,
        credentials: 'same-origin',
        headers: {
          Accept: 'application/json',
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (cause) {
      throw errorFromFetchFailure(cause);
    }

    let data: unknown;
    try {
      const text = await response.text();
      data = text === '' ? undefined : JSON.parse(text);
    } catch (cause) {
      // Not JSON (a proxy's HTML error page, a cut connection): for errors the status still speaks.
      if (!response.ok)
        throw errorFromResponse(response.status, undefined, response.headers.get('Retry-After'));
      throw new ApiError({ code: 'bad_response', status: response.status, cause });
    }
    if (!response.ok) throw errorFromResponse(response.status, data, response.headers.get('Retry-After'));
    return { status: response.status, data };
  }

  async function sendForUser(method: 'GET' | 'POST', path: string, body?: unknown): Promise<PublicUser> {
    const { status, data } = await send(method, path, body);
    const parsed = userResponseSchema.safeParse(data);
    if (!parsed.success) throw new ApiError({ code: 'bad_response', status, cause: parsed.error });
    return parsed.data.user;
  }

  return {
    register: (credentials) => sendForUser('POST', '/api/auth/register', credentials),
    login: (credentials) => sendForUser('POST', '/api/auth/login', credentials),
    logout: async () => {
      // An empty JSON object keeps the request a plain JSON POST like every other.
      await send('POST', '/api/auth/logout', {});
    },
    me: () => sendForUser('GET', '/api/me'),
  };
}
