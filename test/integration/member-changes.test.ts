// Member changes with people holding passkeys: removing a member revokes their tokens and sessions; role
// changes and re-enrolling an existing member wait for the tenant's quorum; demoting an owner that would
// leave the quorum unreachable is refused; a platform admin changes no roles.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS } from '../helpers/db.js';
import { startTestKeyward, type TestKeyward } from '../helpers/keyward.js';
import { approve, enrol, inviteAndLogin, login, type Person, type Session } from '../helpers/people.js';
import { BOOTSTRAP_USER_ID } from '../../src/store/tenants-repo.js';

type Member = { person: Person; session: Session };

describe.each(DB_KINDS)('member changes on %s', (kind) => {
  let kw: TestKeyward;
  let alice: Member;
  let bob: Member;
  let carol: Member;

  beforeAll(async () => {
    kw = await startTestKeyward(kind);
    expect((await kw.request('POST', '/v1/tenants', { body: { name: 'bank', quorum: 2 } })).statusCode).toBe(201);
    const codes = [];
    for (const name of ['alice', 'bob', 'carol']) codes.push((await kw.request('POST', '/v1/tenants/bank/members', { body: { name, role: 'owner' } })).json().enrolmentCode as string);
    const people = [];
    for (const code of codes) {
      const person = await enrol(kw, code);
      people.push({ person, session: await login(kw, person) });
    }
    [alice, bob, carol] = people as [Member, Member, Member];
  });
  afterAll(async () => kw?.close());

  it('removing a member revokes their token and their session', async () => {
    // The bootstrap admin is owner of tenant default; olga becomes a second owner and removes it.
    const olga = await inviteAndLogin(kw, 'default', 'olga', 'owner');
    const minted = await kw.request('POST', '/v1/tokens', { body: { name: 'default-ci', role: 'owner', tenant: 'default' } });
    expect(minted.statusCode, minted.body).toBe(201);
    const token = minted.json().token as string;
    expect((await kw.request('GET', '/v1/keys?tenant=default', { token })).statusCode).toBe(200);
    const dave = await inviteAndLogin(kw, 'default', 'dave', 'auditor', olga.session);
    expect((await dave.session.request('GET', '/v1/keys?tenant=default')).statusCode).toBe(200);

    const removed = await olga.session.request('DELETE', `/v1/tenants/default/members/${BOOTSTRAP_USER_ID}`);
    expect(removed.statusCode, removed.body).toBe(204);
    const byToken = await kw.request('GET', '/v1/keys?tenant=default', { token });
    expect([byToken.statusCode, byToken.json().code]).toEqual([401, 'ERR_AUTH_INVALID']);

    expect((await olga.session.request('DELETE', `/v1/tenants/default/members/${dave.person.userId}`)).statusCode).toBe(204);
    const bySession = await dave.session.request('GET', '/v1/auth/me');
    expect([bySession.statusCode, bySession.json().code]).toEqual([401, 'ERR_AUTH_INVALID']);
  });

  it('changes a role only after two owners approve; a platform admin cannot', async () => {
    const byPlatform = await kw.request('PATCH', `/v1/tenants/bank/members/${carol.person.userId}`, { body: { role: 'auditor' } });
    expect([byPlatform.statusCode, byPlatform.json().code]).toEqual([403, 'ERR_TENANT_OWNERS_ENROLLED']);
    const same = await alice.session.request('PATCH', `/v1/tenants/bank/members/${carol.person.userId}`, { role: 'owner' });
    expect([same.statusCode, same.json().code]).toEqual([400, 'ERR_REQUEST_INVALID']);

    const requested = await alice.session.request('PATCH', `/v1/tenants/bank/members/${carol.person.userId}`, { role: 'auditor' });
    expect(requested.statusCode, requested.body).toBe(202);
    const approval = requested.json().approval;
    expect(approval).toMatchObject({ operation: 'member.role', tenant: 'bank', required: 2 });
    expect((await approve(alice.person, alice.session, approval.id)).json().approval.state).toBe('pending');
    expect((await carol.session.request('GET', '/v1/auth/me')).json().tenants).toEqual([{ tenant: 'bank', role: 'owner' }]);
    const done = await approve(bob.person, bob.session, approval.id);
    expect(done.json().approval.state, done.body).toBe('applied');
    expect(done.json().applied).toEqual({ userId: carol.person.userId, role: 'auditor' });
    expect((await carol.session.request('GET', '/v1/auth/me')).json().tenants).toEqual([{ tenant: 'bank', role: 'auditor' }]);
    const write = await carol.session.request('POST', '/v1/keys', { tenant: 'bank', name: 'nope', kind: 'model' });
    expect(write.statusCode).toBe(403);
  });

  it('refuses demoting an owner when the owners left with a passkey would be fewer than the quorum', async () => {
    // alice and bob are the only owners now; quorum 2.
    const refused = await alice.session.request('PATCH', `/v1/tenants/bank/members/${bob.person.userId}`, { role: 'auditor' });
    expect([refused.statusCode, refused.json().code]).toEqual([409, 'ERR_TENANT_QUORUM_UNREACHABLE']);
  });

  it('re-enrols an existing member with a new code that works only once two owners approved', async () => {
    const requested = await alice.session.request('POST', `/v1/tenants/bank/members/${carol.person.userId}/enrolment`);
    expect(requested.statusCode, requested.body).toBe(202);
    const code = requested.json().enrolmentCode as string;
    expect(requested.json()).toMatchObject({ userId: carol.person.userId, approval: { operation: 'member.re-enrol', required: 2 } });
    const early = await kw.request('POST', '/v1/auth/passkeys/register/options', { token: null, body: { enrolmentCode: code } });
    expect(early.json().code).toBe('ERR_ENROLMENT_CODE_INVALID');
    expect((await approve(alice.person, alice.session, requested.json().approval.id)).json().approval.state).toBe('pending');
    expect((await approve(bob.person, bob.session, requested.json().approval.id)).json().approval.state).toBe('applied');
    const again = await enrol(kw, code);
    expect(again.userId).toBe(carol.person.userId);
    const members = (await alice.session.request('GET', '/v1/tenants/bank/members')).json().items as { userId: string; passkeys: number; role: string }[];
    expect(members.find((m) => m.userId === carol.person.userId)).toMatchObject({ passkeys: 2, role: 'auditor' });
    const reused = await kw.request('POST', '/v1/auth/passkeys/register/options', { token: null, body: { enrolmentCode: code } });
    expect(reused.json().code).toBe('ERR_ENROLMENT_CODE_INVALID');
  });
});
