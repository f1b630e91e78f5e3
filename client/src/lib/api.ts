/**
 * Typed client of the HTTP API (`/api`, same origin, session cookie). Each call resolves with the
 * validated response or rejects with an {@link ApiError}.
 */
import type { ZodType } from 'zod';
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

export type Fetch = (input: string, init: RequestInit) => Promise<Response>;

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

/** What a 2xx answered: its status and parsed JSON body (`undefined` when empty, e.g. a 204). */
export interface ApiResponse {
  status: number;
  data: unknown;
}

/** Sends one JSON request to the API; rejects with an {@link ApiError}. Shared by every API client. */
export type ApiTransport = (method: HttpMethod, path: string, body?: unknown) => Promise<ApiResponse>;

const browserFetch: Fetch = (input, init) => fetch(input, init);

/** Builds the request function over `fetch` (injectable for tests). */
export function createApiTransport(fetchImpl: Fetch = browserFetch): ApiTransport {
  return async (method, path, body) => {
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
  };
}

/** Validates a 2xx body against `schema`; a mismatch is `bad_response`. */
export function parseResponse<T>(response: ApiResponse, schema: ZodType<T>): T {
  const parsed = schema.safeParse(response.data);
  if (!parsed.success) {
    throw new ApiError({ code: 'bad_response', status: response.status, cause: parsed.error });
  }
  return parsed.data;
}

/** Builds an API client over `fetch` (injectable for tests). */
export function createApiClient(fetchImpl: Fetch = browserFetch): ApiClient {
  const send = createApiTransport(fetchImpl);

  async function sendForUser(method: HttpMethod, path: string, body?: unknown): Promise<PublicUser> {
    return parseResponse(await send(method, path, body), userResponseSchema).user;
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
