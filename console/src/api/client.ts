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
