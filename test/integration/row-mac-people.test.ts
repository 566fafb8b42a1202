// The database is not trusted with authority, on the people side (docs/threat-model.md "Row MACs"): someone
// who can write the database but not use the KEK adds an owner, lowers a quorum, plants a passkey or an
// invite, forges a vote or loosens an approval, or revives a revoked token. Each such row counts as absent,
// with the error a missing row gives, and `alert.row-mac-mismatch` is audited for it.
import { describe, expect, it, afterAll, beforeAll } from 'vitest';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { DB_KINDS } from '../helpers/db.js';
import { startTestKeyward, type TestKeyward } from '../helpers/keyward.js';
import { approve, enrol, login, loginResponse, ORIGIN, type Person, type Session } from '../helpers/people.js';
import { SoftwareAuthenticator } from '../helpers/webauthn-authenticator.js';
import { BOOTSTRAP_USER_ID } from '../../src/store/tenants-repo.js';
import { hashEnrolmentCode } from '../../src/broker/tenants.js';

const POLICY = { name: 'prod', rules: [{ name: 'no-debug', expr: '!cpu.debug' }] };

describe.each(DB_KINDS)('row MACs of people on %s', (kind) => {
  let kw: TestKeyward;
  let alice: { person: Person; session: Session };
  let bob: { person: Person; session: Session };
  let keyId: string;
  let policyId: string;

  const db = () => kw.keyward.database.db;
  async function alerts(target: string): Promise<{ details: { table: string } }[]> {
    // Alarms raised inside a transaction are audited in one of their own, just after: wait for it.
    for (let i = 0; i < 50; i++) {
      const items = (await kw.request('GET', '/v1/audit?action=alert.row-mac-mismatch&limit=200')).json().items as { target: string; details: { table: string } }[];
      const found = items.filter((e) => e.target === target);
      if (found.length > 0) return found;
      await new Promise((r) => setTimeout(r, 20));
    }
    return [];
  }

  beforeAll(async () => {
    kw = await startTestKeyward(kind);
    expect((await kw.request('POST', '/v1/tenants', { body: { name: 'bank', quorum: 2 } })).statusCode).toBe(201);
    const codes = [];
    for (const name of ['alice', 'bob']) codes.push((await kw.request('POST', '/v1/tenants/bank/members', { body: { name, role: 'owner' } })).json());
    const a = await enrol(kw, codes[0].enrolmentCode);
    const b = await enrol(kw, codes[1].enrolmentCode);
    alice = { person: a, session: await login(kw, a) };
    bob = { person: b, session: await login(kw, b) };
    keyId = (await alice.session.request('POST', '/v1/keys', { tenant: 'bank', name: 'weights', kind: 'model' })).json().id;
    policyId = (await alice.session.request('POST', '/v1/policies?tenant=bank', POLICY)).json().id;
  }, 60_000);
  afterAll(async () => kw?.close());

  it('does not count a tenant role inserted in the database, bare or wearing another member\'s MAC', async () => {
    // The platform admin (bootstrap token) makes itself an owner of the tenant.
    await db().insertInto('tenantMembers').values({ tenant: 'bank', userId: BOOTSTRAP_USER_ID, role: 'owner', createdAt: new Date(), createdBy: 'attacker' }).execute();
    kw.keyward.tokens.forget();
    const bare = await kw.request('GET', `/v1/keys/${keyId}`);
    expect(bare.statusCode).toBe(403);
    expect(bare.json().code).toBe('ERR_TENANT_FORBIDDEN');
    expect((await alerts(`bank:${BOOTSTRAP_USER_ID}`))[0]?.details.table).toBe('tenant_members');
    const { mac } = await db().selectFrom('tenantMembers').select('mac').where('userId', '=', alice.person.userId).executeTakeFirstOrThrow();
    await db().updateTable('tenantMembers').set({ mac }).where('userId', '=', BOOTSTRAP_USER_ID).where('tenant', '=', 'bank').execute();
    kw.keyward.tokens.forget();
    expect((await kw.request('GET', `/v1/keys/${keyId}`)).json().code).toBe('ERR_TENANT_FORBIDDEN');
    await db().deleteFrom('tenantMembers').where('userId', '=', BOOTSTRAP_USER_ID).where('tenant', '=', 'bank').execute();
    kw.keyward.tokens.forget();
    // A real owner's role is untouched.
    expect((await alice.session.request('GET', `/v1/keys/${keyId}`)).statusCode).toBe(200);
  });

  it('refuses a tenant whose quorum was lowered in the database, instead of applying changes alone', async () => {
    await db().updateTable('tenants').set({ quorum: 1 }).where('name', '=', 'bank').execute();
    const alone = await alice.session.request('PUT', `/v1/keys/${keyId}/policy`, { policyId });
    expect(alone.statusCode, alone.body).toBe(404);
    expect(alone.json().code).toBe('ERR_TENANT_NOT_FOUND');
    expect((await alice.session.request('GET', `/v1/keys/${keyId}`)).json().policyId).toBeNull();
    expect((await alerts('bank'))[0]?.details.table).toBe('tenants');
    // Put back as keyward wrote it, the row verifies again: the change waits for the quorum.
    await db().updateTable('tenants').set({ quorum: 2 }).where('name', '=', 'bank').execute();
    const pending = await alice.session.request('PUT', `/v1/keys/${keyId}/policy`, { policyId });
    expect(pending.statusCode, pending.body).toBe(202);
    expect(pending.json().approval.required).toBe(2);
  });

  it('does not count a vote inserted in the database, nor show an approval stretched there', async () => {
    const requested = await alice.session.request('PUT', `/v1/keys/${keyId}/policy`, { policyId });
    const id = requested.json().approval.id as string;
    // alice signs; the attacker copies her vote as the bootstrap user's, to make two.
    expect((await approve(alice.person, alice.session, id)).json().approval.state).toBe('pending');
    const vote = await db().selectFrom('approvalVotes').selectAll().where('approvalId', '=', id).executeTakeFirstOrThrow();
    await db().insertInto('approvalVotes').values({ ...vote, userId: BOOTSTRAP_USER_ID }).execute();
    const shown = (await alice.session.request('GET', `/v1/approvals/${id}`)).json().approval;
    expect(shown).toMatchObject({ state: 'pending', approvedBy: [alice.person.userId] });
    expect((await alerts(`${id}:${BOOTSTRAP_USER_ID}`))[0]?.details.table).toBe('approval_votes');
    expect((await alice.session.request('GET', `/v1/keys/${keyId}`)).json().policyId).toBeNull();
    // The attacker stretches the approval's life (or lowers what it requires, once the CHECK is dropped): it
    // no longer exists for anyone.
    await db().updateTable('approvals').set({ expiresAt: new Date(Date.now() + 365 * 86_400_000) }).where('id', '=', id).execute();
    const loosened = await bob.session.request('GET', `/v1/approvals/${id}`);
    expect(loosened.statusCode).toBe(404);
    expect(loosened.json().code).toBe('ERR_APPROVAL_NOT_FOUND');
    expect((await approve(bob.person, bob.session, id)).json().code).toBe('ERR_APPROVAL_NOT_FOUND');
    expect((await alerts(id))[0]?.details.table).toBe('approvals');
    expect((await alice.session.request('GET', `/v1/keys/${keyId}`)).json().policyId).toBeNull();
  });

  it('refuses a passkey planted in the database for an owner, bare or wearing her real passkey\'s MAC', async () => {
    const mallory = new SoftwareAuthenticator(ORIGIN);
    // The attacker makes a credential (through a throwaway enrolment elsewhere) and moves it onto alice.
    const invite = (await kw.request('POST', '/v1/platform/members', { body: { name: 'mallory', role: 'operator' } })).json();
    const throwaway = await enrol(kw, invite.enrolmentCode, mallory);
    const credentialId = mallory.credentialIds[0] as string;
    await db().updateTable('passkeys').set({ userId: alice.person.userId }).where('credentialId', '=', credentialId).execute();
    const refused = await loginResponse(kw, mallory);
    expect(refused.statusCode).toBe(401);
    expect(refused.json().code).toBe('ERR_WEBAUTHN_INVALID');
    expect((await alerts(credentialId))[0]?.details.table).toBe('passkeys');
    const { mac } = await db().selectFrom('passkeys').select('mac').where('credentialId', '=', alice.person.authenticator.credentialIds[0] as string).executeTakeFirstOrThrow();
    await db().updateTable('passkeys').set({ mac }).where('credentialId', '=', credentialId).execute();
    expect((await loginResponse(kw, mallory)).json().code).toBe('ERR_WEBAUTHN_INVALID');
    // Moved back, it is the throwaway user's again and logs in as them, not as alice.
    await db().updateTable('passkeys').set({ userId: throwaway.userId }).where('credentialId', '=', credentialId).execute();
    await db().updateTable('passkeys').set({ mac: null }).where('credentialId', '=', credentialId).execute();
    expect((await loginResponse(kw, mallory)).json().code).toBe('ERR_WEBAUTHN_INVALID');
    expect((await login(kw, alice.person)).userId).toBe(alice.person.userId);
  });

  it('refuses an enrolment code planted in the database for an owner', async () => {
    const code = `kwe_${randomUUID().replaceAll('-', '')}`;
    await db()
      .insertInto('enrolmentCodes')
      .values({ codeHash: hashEnrolmentCode(code), userId: alice.person.userId, tenant: 'bank', createdAt: new Date(), createdBy: 'attacker', expiresAt: new Date(Date.now() + 3_600_000), usedAt: null, revokedAt: null })
      .execute();
    const options = await kw.request('POST', '/v1/auth/passkeys/register/options', { token: null, body: { enrolmentCode: code } });
    expect(options.statusCode).toBe(400);
    expect(options.json().code).toBe('ERR_ENROLMENT_CODE_INVALID');
    expect((await alerts(alice.person.userId)).some((e) => e.details.table === 'enrolment_codes')).toBe(true);
  });

  it('keeps a revoked token revoked when its revoked_at is cleared in the database', async () => {
    const minted = (await kw.request('POST', '/v1/tokens', { body: { name: 'short-lived', role: 'admin', scopes: ['tokens:admin'] } })).json();
    expect((await kw.request('GET', '/v1/tokens', { token: minted.token })).statusCode).toBe(200);
    expect((await kw.request('DELETE', `/v1/tokens/${minted.id}`)).statusCode).toBe(200);
    kw.keyward.tokens.forget();
    const revoked = await kw.request('GET', '/v1/tokens', { token: minted.token });
    expect(revoked.statusCode).toBe(401);
    expect(await alerts(minted.id)).toHaveLength(0);
    await sql`UPDATE api_tokens SET revoked_at = NULL WHERE id = ${minted.id}`.execute(db());
    kw.keyward.tokens.forget();
    const revived = await kw.request('GET', '/v1/tokens', { token: minted.token });
    expect(revived.statusCode).toBe(401);
    expect(revived.json().code).toBe('ERR_AUTH_INVALID');
    expect((await alerts(minted.id))[0]?.details.table).toBe('api_tokens');
  });

  it('lets the people written through the API act: two owners still bind together', async () => {
    const requested = await bob.session.request('PUT', `/v1/keys/${keyId}/policy`, { policyId });
    expect(requested.statusCode, requested.body).toBe(202);
    const id = requested.json().approval.id as string;
    expect((await approve(bob.person, bob.session, id)).json().approval.state).toBe('pending');
    alice = { person: alice.person, session: await login(kw, alice.person) };
    const done = await approve(alice.person, alice.session, id);
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json().approval.state).toBe('applied');
    expect((await alice.session.request('GET', `/v1/keys/${keyId}`)).json()).toMatchObject({ policyId, policyVersion: 1 });
  });
});
