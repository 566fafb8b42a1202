// The typed API client: request and response types come from openapi.yaml (schema.d.ts is generated at
// build), so a route or field the API does not have is a compile error here, not a surprise in a browser.
import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './schema';
import { authHeaders } from './session';
import { ApiError, toProblem } from './problem';

const withAuth: Middleware = {
  onRequest({ request }) {
    for (const [name, value] of Object.entries(authHeaders(request.method))) request.headers.set(name, value);
    return request;
  },
};

/** Called when the server answers 401 to an authenticated call: the token or session is no longer valid. */
let unauthenticated: () => void = () => undefined;
export function onUnauthenticated(fn: () => void): void {
  unauthenticated = fn;
}

function failed(status: number, body: unknown): ApiError {
  const err = new ApiError(toProblem(status, body));
  if (status === 401) unauthenticated();
  return err;
}

export const api = createClient<paths>({ baseUrl: location.origin, credentials: 'same-origin' });
api.use(withAuth);

/** The data of a successful call, or an ApiError with the server's problem. */
export async function must<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw failed(response.status, error);
  return data as T;
}

/**
 * Routes of docs/design.md that this server's openapi.yaml may not have yet (tenants, passkeys, sessions,
 * approvals, release history). They are called only when the server lists them (see capabilities.ts);
 * their shapes are in pending.ts. Once openapi.yaml documents them, calls move to `api` above.
 */
export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...authHeaders(method) };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, { method, headers, credentials: 'same-origin', ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await response.text();
  const parsed: unknown = text ? JSON.parse(text) : undefined;
  if (!response.ok) throw failed(response.status, parsed);
  return parsed as T;
}
