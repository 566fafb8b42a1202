// Passkeys and sessions over HTTP with a software authenticator (real ES256, CBOR, client data and
// signatures): enrolment codes are single-use and expire, assertions are single-use and bound to the
// origin, RP id and an advancing counter, cookie writes need Origin and the CSRF token, and adding a
// passkey needs a fresh login; sessions idle out and end 12 hours after login.
import { describe, expect, it, afterAll, beforeAll } from 'vitest';
import { DB_KINDS } from '../helpers/db.js';
import { startTestKeyward, type TestKeyward } from '../helpers/keyward.js';
import { SoftwareAuthenticator } from '../helpers/webauthn-authenticator.js';
import { ORIGIN, enrol, inviteAndLogin, login, loginResponse, type Person, type Session } from '../helpers/people.js';
import type { Clock } from '../../src/clock.js';

class TestClock implements Clock {
  private offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

describe.each(DB_KINDS)('passkeys and sessions on %s', (kind) => {
  let kw: TestKeyward;
  const clock = new TestClock();
  beforeAll(async () => {
    kw = await startTestKeyward(kind, { clock });
    expect((await kw.request('POST', '/v1/tenants', { body: { name: 'acme' } })).statusCode).toBe(201);
  });
  afterAll(async () => kw?.close());

  let alice: Person | undefined;

  /** The platform admin invites until alice (the first owner) enrols; alice invites after that. */
  async function owner(): Promise<Session | undefined> {
    return alice ? login(kw, alice) : undefined;
  }

  async function invite(name: string): Promise<string> {
    const as = await owner();
    const body = { name, role: 'owner' };
    const res = as ? await as.request('POST', '/v1/tenants/acme/members', body) : await kw.request('POST', '/v1/tenants/acme/members', { body });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().enrolmentCode as string;
  }

  it('enrols with an enrolment code once, logs in, and knows who is logged in', async () => {
    const code = await invite('alice');
    alice = await enrol(kw, code);
    const again = await kw.request('POST', '/v1/auth/passkeys/register/options', { token: null, body: { enrolmentCode: code } });
    expect(again.statusCode).toBe(400);
    expect(again.json().code).toBe('ERR_ENROLMENT_CODE_INVALID');
    const res = await loginResponse(kw, alice.authenticator);
    expect(res.statusCode, res.body).toBe(200);
    const cookie = String([res.headers['set-cookie']].flat()[0]);
    expect(cookie).toMatch(/^keyward_session=/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).not.toMatch(/Secure/); // loopback http origin
    const session = await login(kw, alice);
    const refused = await kw.request('POST', '/v1/tenants/acme/members', { body: { name: 'x', role: 'owner' } });
    expect(refused.json().code).toBe('ERR_TENANT_OWNERS_ENROLLED');
    const me = (await session.request('GET', '/v1/auth/me')).json();
    expect(me).toMatchObject({ userId: alice.userId, name: 'alice', via: 'session', platformRole: null, tenants: [{ tenant: 'acme', role: 'owner' }], passkeys: 1 });
  });

  it('refuses an enrolment code used twice at verify, and an expired one', async () => {
    const code = await invite('bob');
    const a = new SoftwareAuthenticator(ORIGIN);
    const o1 = (await kw.request('POST', '/v1/auth/passkeys/register/options', { token: null, body: { enrolmentCode: code } })).json();
    const o2 = (await kw.request('POST', '/v1/auth/passkeys/register/options', { token: null, body: { enrolmentCode: code } })).json();
    expect((await kw.request('POST', '/v1/auth/passkeys/register/verify', { token: null, body: { response: a.create(o1) } })).statusCode).toBe(201);
    const second = await kw.request('POST', '/v1/auth/passkeys/register/verify', { token: null, body: { response: a.create(o2) } });
    expect(second.statusCode).toBe(400);
    expect(second.json().code).toBe('ERR_ENROLMENT_CODE_INVALID');
    const late = await invite('carol');
    clock.advance(24 * 3600 * 1000 + 1000);
    const expired = await kw.request('POST', '/v1/auth/passkeys/register/options', { token: null, body: { enrolmentCode: late } });
    expect(expired.json().code).toBe('ERR_ENROLMENT_CODE_INVALID');
  });

  it('refuses a registration for another origin or RP id, or without user verification', async () => {
    for (const o of [{ origin: 'https://evil.example' }, { rpId: 'evil.example' }, { noUserVerification: true }]) {
      const code = await invite('dave');
      const options = (await kw.request('POST', '/v1/auth/passkeys/register/options', { token: null, body: { enrolmentCode: code } })).json();
      const res = await kw.request('POST', '/v1/auth/passkeys/register/verify', { token: null, body: { response: new SoftwareAuthenticator(ORIGIN).create(options, o) } });
      expect(res.statusCode, JSON.stringify(o)).toBe(401);
      expect(res.json().code).toBe('ERR_WEBAUTHN_INVALID');
      // The code was not consumed by the failed attempt.
      expect((await kw.request('POST', '/v1/auth/passkeys/register/options', { token: null, body: { enrolmentCode: code } })).statusCode).toBe(200);
    }
  });

  it('refuses a replayed login assertion, a wrong origin or RP id, and a counter going backwards', async () => {
    const erin = await enrol(kw, await invite('erin'));
    const options = (await kw.request('POST', '/v1/auth/login/options', { token: null })).json();
    const assertion = erin.authenticator.get(options);
    expect((await kw.request('POST', '/v1/auth/login/verify', { token: null, body: { response: assertion } })).statusCode).toBe(200);
    const replay = await kw.request('POST', '/v1/auth/login/verify', { token: null, body: { response: assertion } });
    expect(replay.statusCode).toBe(400);
    expect(replay.json().code).toBe('ERR_WEBAUTHN_CHALLENGE_INVALID');
    for (const o of [{ origin: 'https://evil.example' }, { rpId: 'evil.example' }, { noUserVerification: true }]) {
      const res = await loginResponse(kw, erin.authenticator, o);
      expect(res.statusCode, JSON.stringify(o)).toBe(401);
      expect(res.json().code).toBe('ERR_WEBAUTHN_INVALID');
    }
    const back = await loginResponse(kw, erin.authenticator, { counter: 1 });
    expect(back.statusCode).toBe(401);
    expect(back.json().code).toBe('ERR_WEBAUTHN_COUNTER_REGRESSED');
    // A forged signature (another key answering for erin's credential id) does not verify.
    const mallory = new SoftwareAuthenticator(ORIGIN);
    mallory.create({ challenge: 'AAAAAAAAAAAAAAAAAAAAAA', rp: { id: 'localhost' }, user: { id: 'x' } });
    const forged = mallory.get((await kw.request('POST', '/v1/auth/login/options', { token: null })).json(), { counter: 1000 });
    const res = await kw.request('POST', '/v1/auth/login/verify', { token: null, body: { response: { ...forged, id: erin.authenticator.credentialIds[0], rawId: erin.authenticator.credentialIds[0] } } });
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('ERR_WEBAUTHN_INVALID');
  });

  it('refuses a cookie write without the CSRF token or from another origin; reads need neither', async () => {
    const { session } = await inviteAndLogin(kw, 'acme', 'frank', 'owner', await owner());
    expect((await session.request('GET', '/v1/keys?tenant=acme')).statusCode).toBe(200);
    const noCsrf = await session.request('POST', '/v1/keys', { tenant: 'acme', name: 'k1', kind: 'model' }, { 'x-keyward-csrf': '' });
    expect(noCsrf.statusCode).toBe(403);
    expect(noCsrf.json().code).toBe('ERR_AUTH_CSRF_INVALID');
    const wrongCsrf = await session.request('POST', '/v1/keys', { tenant: 'acme', name: 'k1', kind: 'model' }, { 'x-keyward-csrf': 'x'.repeat(43) });
    expect(wrongCsrf.json().code).toBe('ERR_AUTH_CSRF_INVALID');
    const wrongOrigin = await session.request('POST', '/v1/keys', { tenant: 'acme', name: 'k1', kind: 'model' }, { origin: 'https://evil.example' });
    expect(wrongOrigin.statusCode).toBe(403);
    expect(wrongOrigin.json().code).toBe('ERR_AUTH_ORIGIN_MISMATCH');
    // The Host header is never what the origin is checked against.
    const hostOnly = await session.request('POST', '/v1/keys', { tenant: 'acme', name: 'k1', kind: 'model' }, { origin: 'http://evil.example:8750', host: 'evil.example:8750' });
    expect(hostOnly.json().code).toBe('ERR_AUTH_ORIGIN_MISMATCH');
    const ok = await session.request('POST', '/v1/keys', { tenant: 'acme', name: 'k1', kind: 'model' });
    expect(ok.statusCode, ok.body).toBe(201);
    expect((await kw.request('GET', '/v1/keys?tenant=acme')).json().code).toBe('ERR_TENANT_FORBIDDEN');
  });

  it('adds a passkey only from a login at most 5 minutes old, audited; logout ends the session', async () => {
    const { person, session } = await inviteAndLogin(kw, 'acme', 'grace', 'owner', await owner());
    const extra = new SoftwareAuthenticator(ORIGIN);
    const options = await session.request('POST', '/v1/auth/passkeys/register/options', {});
    expect(options.statusCode, options.body).toBe(200);
    const added = await session.request('POST', '/v1/auth/passkeys/register/verify', { response: extra.create(options.json()) });
    expect(added.statusCode, added.body).toBe(201);
    expect((await login(kw, extra)).userId).toBe(person.userId);
    clock.advance(5 * 60 * 1000 + 1000);
    const stale = await session.request('POST', '/v1/auth/passkeys/register/options', {});
    expect(stale.statusCode).toBe(401);
    expect(stale.json().code).toBe('ERR_AUTH_REAUTH_REQUIRED');
    const audit = (await session.request('GET', '/v1/audit?action=passkey.register&limit=500')).json().items;
    expect(audit.filter((e: { target: string }) => e.target === person.userId)).toHaveLength(2);
    expect((await session.request('POST', '/v1/auth/logout')).statusCode).toBe(204);
    const after = await session.request('GET', '/v1/auth/me');
    expect(after.statusCode).toBe(401);
    expect(after.json().code).toBe('ERR_AUTH_INVALID');
  });

  it('ends a session after 12 hours without use', async () => {
    const { session } = await inviteAndLogin(kw, 'acme', 'heidi', 'owner', await owner());
    expect((await session.request('GET', '/v1/auth/me')).statusCode).toBe(200);
    clock.advance(12 * 3600 * 1000 + 1000);
    expect((await session.request('GET', '/v1/auth/me')).json().code).toBe('ERR_AUTH_INVALID');
  });

  it('ends a busy session 12 hours after its login (absolute lifetime)', async () => {
    const { session } = await inviteAndLogin(kw, 'acme', 'ivan', 'owner', await owner());
    // Used every 2 hours: never idle, yet over at 12 hours.
    for (let hours = 2; hours <= 10; hours += 2) {
      clock.advance(2 * 3600 * 1000);
      expect((await session.request('GET', '/v1/auth/me')).statusCode, `after ${hours} h`).toBe(200);
    }
    clock.advance(2 * 3600 * 1000 + 1000);
    const over = await session.request('GET', '/v1/auth/me');
    expect([over.statusCode, over.json().code]).toEqual([401, 'ERR_AUTH_INVALID']);
  });
});
