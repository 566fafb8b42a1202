// People's login routes (docs/design.md "Admin side"): passkey enrolment and login, the session cookie
// and its CSRF token, logout, who am I, and platform invites. The ceremonies live in admin/passkeys.ts.
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import type { Passkeys } from '../../admin/passkeys.js';
import { SESSION_COOKIE, SESSION_IDLE_MS, type Sessions } from '../../admin/sessions.js';
import type { Tenants } from '../../broker/tenants.js';
import { requestContext, type RouteRegistrar } from '../app.js';

/** Secure unless keyward is reached over plain http on a loopback name (development). */
export function cookieSecure(origin: string): boolean {
  const url = new URL(origin);
  return !(url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname));
}

export function registerAuthRoutes(r: RouteRegistrar, deps: { passkeys: Passkeys; sessions: Sessions; tenants: Tenants; origin: string }): void {
  const secure = cookieSecure(deps.origin);

  r.route('passkeyRegisterOptions', 'optional', async (request) =>
    deps.passkeys.registrationOptions((request.body ?? {}) as { enrolmentCode?: string }, request.principal),
  );

  r.route('passkeyRegisterVerify', 'optional', async (request, reply) => {
    const body = request.body as { response: RegistrationResponseJSON };
    const created = await deps.passkeys.verifyRegistration(body.response, request.principal);
    reply.code(201);
    return created;
  });

  r.route('loginOptions', 'public', async () => deps.passkeys.loginOptions());

  r.route('loginVerify', 'public', async (request, reply) => {
    const body = request.body as { response: AuthenticationResponseJSON };
    const session = await deps.passkeys.login(body.response);
    const jwt = r.app.jwt.sign({ sid: session.sessionId });
    reply.setCookie(SESSION_COOKIE, jwt, { httpOnly: true, sameSite: 'strict', secure, path: '/', maxAge: SESSION_IDLE_MS / 1000 });
    return { userId: session.userId, csrfToken: session.csrfToken };
  });

  r.route('logout', 'any', async (request, reply) => {
    if (request.principal) await deps.sessions.end(request.principal);
    reply.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'strict', secure, path: '/' });
    reply.code(204);
    return undefined;
  });

  r.route('whoAmI', 'any', async (request) => deps.tenants.me(requestContext(request)));

  r.route('invitePlatformMember', 'tenants:admin', async (request, reply) => {
    const invite = await deps.tenants.invitePlatform(requestContext(request), request.body as { name: string; role: 'admin' | 'operator' });
    reply.code(201);
    return invite;
  });
}
