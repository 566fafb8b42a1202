// People in tests: enrol a passkey with an enrolment code, log in, and send requests with the session
// cookie, Origin and CSRF token as a browser on keyward's origin would.
import { expect } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import type { TestKeyward } from './keyward.js';

/** What the people helpers need of a keyward: requests (in-process inject, or over HTTP: see overHttp). */
type Requester = Pick<TestKeyward, 'request'>;
import { SoftwareAuthenticator, type CeremonyOverrides } from './webauthn-authenticator.js';

export const ORIGIN = 'http://localhost:8750';

export interface Person {
  readonly userId: string;
  readonly authenticator: SoftwareAuthenticator;
}

export interface Session {
  readonly userId: string;
  readonly cookie: string;
  readonly csrfToken: string;
  /** A request with the session cookie (and, for writes, Origin and x-keyward-csrf). */
  request(method: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
}

/** Enrols a new passkey with an enrolment code (asserting success). */
export async function enrol(kw: Requester, enrolmentCode: string, authenticator = new SoftwareAuthenticator(ORIGIN)): Promise<Person> {
  const options = await kw.request('POST', '/v1/auth/passkeys/register/options', { token: null, body: { enrolmentCode } });
  expect(options.statusCode, options.body).toBe(200);
  const verify = await kw.request('POST', '/v1/auth/passkeys/register/verify', { token: null, body: { response: authenticator.create(options.json()) } });
  expect(verify.statusCode, verify.body).toBe(201);
  return { userId: verify.json().userId, authenticator };
}

/** Starts a login and answers it; returns the raw response (tests of refusals bend `o`). */
export async function loginResponse(kw: Requester, authenticator: SoftwareAuthenticator, o: CeremonyOverrides = {}): Promise<LightMyRequestResponse> {
  const options = await kw.request('POST', '/v1/auth/login/options', { token: null });
  expect(options.statusCode, options.body).toBe(200);
  return kw.request('POST', '/v1/auth/login/verify', { token: null, body: { response: authenticator.get(options.json(), o) } });
}

export function sessionFrom(kw: Requester, res: LightMyRequestResponse): Session {
  expect(res.statusCode, res.body).toBe(200);
  const setCookie = [res.headers['set-cookie']].flat().find((c) => typeof c === 'string' && c.startsWith('keyward_session=')) as string;
  const cookie = setCookie.split(';')[0] as string;
  const { userId, csrfToken } = res.json() as { userId: string; csrfToken: string };
  return {
    userId,
    cookie,
    csrfToken,
    request(method, url, body, headers = {}) {
      const write = !['GET', 'HEAD', 'OPTIONS'].includes(method);
      return kw.request(method, url, {
        token: null,
        ...(body !== undefined ? { body } : {}),
        headers: { cookie, ...(write ? { origin: ORIGIN, 'x-keyward-csrf': csrfToken } : {}), ...headers },
      });
    },
  };
}

export async function login(kw: Requester, person: Person | SoftwareAuthenticator): Promise<Session> {
  const authenticator = person instanceof SoftwareAuthenticator ? person : person.authenticator;
  return sessionFrom(kw, await loginResponse(kw, authenticator));
}

/** Invites a member as `token` (default: the bootstrap admin) and enrols and logs them in. */
export async function inviteAndLogin(kw: Requester, tenant: string, name: string, role: 'owner' | 'auditor', as?: Session): Promise<{ person: Person; session: Session }> {
  const body = { name, role };
  const invite = as ? await as.request('POST', `/v1/tenants/${tenant}/members`, body) : await kw.request('POST', `/v1/tenants/${tenant}/members`, { body });
  expect(invite.statusCode, invite.body).toBe(201);
  const person = await enrol(kw, invite.json().enrolmentCode);
  return { person, session: await login(kw, person) };
}

/** Signs an approval with a person's passkey in their session: options, then the assertion. */
export async function approve(person: Person, session: Session, approvalId: string): Promise<LightMyRequestResponse> {
  const options = await session.request('POST', `/v1/approvals/${approvalId}/approve/options`);
  if (options.statusCode !== 200) return options;
  return session.request('POST', `/v1/approvals/${approvalId}/approve`, { response: person.authenticator.get(options.json()) });
}

/**
 * A keyward child process as the people helpers see it: each request goes over HTTP to `base()` (read at
 * every call, so a restarted server on another port is followed). `token` is sent unless a call says null.
 */
export function overHttp(base: () => string, token: string): Requester {
  return {
    async request(method, url, opts = {}) {
      const auth = opts.token === undefined ? token : opts.token;
      const headers: Record<string, string> = { ...(auth ? { authorization: `Bearer ${auth}` } : {}), ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}), ...(opts.headers ?? {}) };
      const res = await fetch(`${base()}${url}`, { method, headers, ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) });
      const body = await res.text();
      const responseHeaders: Record<string, string | string[]> = Object.fromEntries(res.headers.entries());
      const cookies = res.headers.getSetCookie();
      if (cookies.length > 0) responseHeaders['set-cookie'] = cookies;
      return { statusCode: res.status, body, headers: responseHeaders, json: () => JSON.parse(body) } as unknown as LightMyRequestResponse;
    },
  };
}
