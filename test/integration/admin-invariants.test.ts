// The invariants of the admin side (docs/design.md "Admin side"), one describe each, on PGlite and
// (when configured) Postgres: a platform admin is refused inside a tenant once its owners enrolled, tokens
// act in one tenant with no more than their minter's current roles, a key binds only to its tenant's
// policies.
import { describe, expect, it, afterAll, beforeAll } from 'vitest';
import { DB_KINDS } from '../helpers/db.js';
import { startTestKeyward, type TestKeyward } from '../helpers/keyward.js';
import { BOOTSTRAP_USER_ID } from '../../src/store/tenants-repo.js';
import { BOOTSTRAP_TOKEN } from '../helpers/keyward.js';
import { approve, enrol, inviteAndLogin, login } from '../helpers/people.js';
import { changeDigest } from '../../src/broker/approvals.js';

const POLICY = { name: 'prod', rules: [{ name: 'no-debug', expr: '!cpu.debug' }] };

/** Arranges database state directly, with its row MAC: the bootstrap user gains a tenant role (as an invite would give a user). */
async function grantRole(kw: TestKeyward, tenant: string, role: 'owner' | 'auditor', userId = BOOTSTRAP_USER_ID): Promise<void> {
  await kw.keyward.database.db
    .insertInto('tenantMembers')
    .values({ tenant, userId, role, createdAt: new Date(), createdBy: 'test', mac: kw.keyward.policies.rowMac.membership({ tenant, userId, role }) })
    .execute();
  kw.keyward.tokens.forget();
}

describe.each(DB_KINDS)('admin invariants on %s', (kind) => {
  let kw: TestKeyward;
  beforeAll(async () => {
    kw = await startTestKeyward(kind);
  });
  afterAll(async () => kw?.close());

  async function createTenant(name: string, quorum?: number): Promise<void> {
    const res = await kw.request('POST', '/v1/tenants', { body: { name, ...(quorum ? { quorum } : {}) } });
    expect(res.statusCode, res.body).toBe(201);
  }

  describe('Owner control cannot be bypassed around the quorum list', () => {
    it('lets the platform admin invite owners only until one of them enrols a passkey', async () => {
      await createTenant('acme');
      const first = await kw.request('POST', '/v1/tenants/acme/members', { body: { name: 'alice', role: 'owner' } });
      expect(first.statusCode, first.body).toBe(201);
      expect(first.json()).toMatchObject({ userId: expect.any(String), enrolmentCode: expect.stringMatching(/^kwe_/) });
      // A platform admin invites owners, never auditors.
      const auditor = await kw.request('POST', '/v1/tenants/acme/members', { body: { name: 'eve', role: 'auditor' } });
      expect(auditor.json().code).toBe('ERR_TENANT_FORBIDDEN');
      await enrol(kw, first.json().enrolmentCode);
      const late = await kw.request('POST', '/v1/tenants/acme/members', { body: { name: 'mallory', role: 'owner' } });
      expect(late.statusCode).toBe(403);
      expect(late.json().code).toBe('ERR_TENANT_OWNERS_ENROLLED');
      expect((await kw.request('GET', '/v1/tenants/acme/members')).json().code).toBe('ERR_TENANT_OWNERS_ENROLLED');
      expect((await kw.request('DELETE', `/v1/tenants/acme/members/${first.json().userId}`)).json().code).toBe('ERR_TENANT_OWNERS_ENROLLED');
    });

    it('shows owners the pending invites, and lets them revoke one', async () => {
      await createTenant('pending');
      const invite = (await kw.request('POST', '/v1/tenants/pending/members', { body: { name: 'bob', role: 'owner' } })).json();
      await grantRole(kw, 'pending', 'owner');
      const owner = (await kw.request('POST', '/v1/tokens', { body: { name: 'pending-owner', role: 'owner', tenant: 'pending' } })).json().token as string;
      const listed = (await kw.request('GET', '/v1/tenants/pending/members', { token: owner })).json().items;
      expect(listed.find((m: { userId: string }) => m.userId === invite.userId)).toMatchObject({ state: 'invited', inviteOpen: true, role: 'owner' });
      expect((await kw.request('DELETE', `/v1/tenants/pending/members/${invite.userId}`, { token: owner })).statusCode).toBe(204);
      const after = (await kw.request('GET', '/v1/tenants/pending/members', { token: owner })).json().items;
      expect(after.map((m: { userId: string }) => m.userId)).not.toContain(invite.userId);
      expect((await kw.request('DELETE', `/v1/tenants/pending/members/${invite.userId}`, { token: owner })).json().code).toBe('ERR_MEMBER_NOT_FOUND');
    });

    it('refuses removing an owner that would leave fewer owners with a passkey than the quorum', async () => {
      await createTenant('pair', 2);
      const a = (await kw.request('POST', '/v1/tenants/pair/members', { body: { name: 'a', role: 'owner' } })).json();
      const b = (await kw.request('POST', '/v1/tenants/pair/members', { body: { name: 'b', role: 'owner' } })).json();
      const alice = await enrol(kw, a.enrolmentCode);
      await enrol(kw, b.enrolmentCode);
      const session = await login(kw, alice);
      const res = await session.request('DELETE', `/v1/tenants/pair/members/${a.userId}`);
      expect(res.statusCode).toBe(409);
      expect(res.json().code).toBe('ERR_TENANT_QUORUM_UNREACHABLE');
      const members = (await session.request('GET', '/v1/tenants/pair/members')).json().items;
      expect(members.map((m: { userId: string }) => m.userId)).toContain(a.userId);
    });
  });

  describe('The platform admin is refused inside a tenant', () => {
    it('refuses reading, creating, binding and data keys inside a tenant it holds no role in', async () => {
      await createTenant('fortress');
      await grantRole(kw, 'fortress', 'owner');
      const owner = (await kw.request('POST', '/v1/tokens', { body: { name: 'fortress-owner', role: 'owner', tenant: 'fortress' } })).json().token as string;
      const key = (await kw.request('POST', '/v1/keys', { token: owner, body: { name: 'weights', kind: 'model' } })).json();
      expect(key.tenant).toBe('fortress');
      const policy = (await kw.request('POST', '/v1/policies?tenant=fortress', { token: owner, body: POLICY })).json();
      expect(policy.tenant).toBe('fortress');
      // A second platform admin who is not a member of the tenant.
      const admin = (await kw.request('POST', '/v1/tokens', { body: { name: 'admin-2', role: 'admin' } })).json().token as string;
      await kw.keyward.database.db.deleteFrom('tenantMembers').where('tenant', '=', 'fortress').execute();
      kw.keyward.tokens.forget();
      const refusals = [
        ['GET', `/v1/keys/${key.id}`, undefined],
        ['GET', '/v1/keys?tenant=fortress', undefined],
        ['POST', '/v1/keys', { tenant: 'fortress', name: 'x', kind: 'model' }],
        ['POST', `/v1/keys/${key.id}/datakey`, undefined],
        ['PUT', `/v1/keys/${key.id}/policy`, { policyId: policy.id }],
        ['POST', `/v1/keys/${key.id}/disable`, undefined],
        ['GET', `/v1/policies/${policy.id}`, undefined],
        ['PUT', `/v1/policies/${policy.id}`, { ...POLICY, rules: [{ name: 'any', expr: 'true' }] }],
        ['DELETE', `/v1/policies/${policy.id}`, undefined],
        ['GET', '/v1/policies?tenant=fortress', undefined],
      ] as const;
      for (const [method, url, body] of refusals) {
        for (const token of [undefined, admin]) {
          const res = await kw.request(method, url, { ...(body ? { body } : {}), ...(token ? { token } : {}) });
          expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(403);
          expect(res.json().code).toBe('ERR_TENANT_FORBIDDEN');
        }
      }
      // The removed owner's token is powerless too (its authority is its minter's current roles).
      expect((await kw.request('GET', `/v1/keys/${key.id}`, { token: owner })).json().code).toBe('ERR_AUTH_FORBIDDEN');
    });
  });

  describe('Tokens and sessions are tenant-scoped', () => {
    it('names one tenant per token and acts nowhere else', async () => {
      await createTenant('north');
      await createTenant('south');
      await grantRole(kw, 'north', 'owner');
      await grantRole(kw, 'south', 'owner');
      const north = (await kw.request('POST', '/v1/tokens', { body: { name: 'north', role: 'owner', tenant: 'north' } })).json();
      expect(north.tenant).toBe('north');
      const southKey = (await kw.request('POST', '/v1/keys', { body: { tenant: 'south', name: 'k', kind: 'generic' } })).json();
      expect((await kw.request('GET', `/v1/keys/${southKey.id}`, { token: north.token })).json().code).toBe('ERR_TENANT_FORBIDDEN');
      const own = await kw.request('POST', '/v1/keys', { token: north.token, body: { name: 'k', kind: 'generic' } });
      expect(own.statusCode, own.body).toBe(201);
      expect(own.json().tenant).toBe('north');
      // Platform tokens name no tenant.
      expect((await kw.request('POST', '/v1/tokens', { body: { name: 'p', role: 'operator', tenant: 'north' } })).json().code).toBe('ERR_REQUEST_INVALID');
    });

    it('answers 400 to a principal with several tenants that names none, never a silent default', async () => {
      // The bootstrap admin is now owner of default, north and south.
      const res = await kw.request('POST', '/v1/keys', { body: { name: 'where', kind: 'generic' } });
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe('ERR_TENANT_REQUIRED');
      expect((await kw.request('GET', '/v1/keys')).json().code).toBe('ERR_TENANT_REQUIRED');
      expect((await kw.request('POST', '/v1/tokens', { body: { name: 'o', role: 'owner' } })).json().code).toBe('ERR_TENANT_REQUIRED');
      expect((await kw.request('GET', '/v1/keys?tenant=default')).statusCode).toBe(200);
    });

    it('removing a member revokes its tokens for the tenant, and its authority with them', async () => {
      await createTenant('east');
      await grantRole(kw, 'east', 'owner');
      const token = (await kw.request('POST', '/v1/tokens', { body: { name: 'east', role: 'owner', tenant: 'east' } })).json();
      expect((await kw.request('GET', '/v1/keys', { token: token.token })).statusCode).toBe(200);
      expect((await kw.request('DELETE', `/v1/tenants/east/members/${BOOTSTRAP_USER_ID}`, { token: token.token })).statusCode).toBe(204);
      const after = await kw.request('GET', '/v1/keys', { token: token.token });
      expect(after.statusCode).toBe(401);
      expect(after.json().code).toBe('ERR_AUTH_INVALID');
      const listed = (await kw.request('GET', '/v1/tokens')).json().items.find((t: { id: string }) => t.id === token.id);
      expect(listed.revokedAt).not.toBeNull();
      const audit = (await kw.request('GET', '/v1/audit?action=member.remove&limit=100')).json().items;
      expect(audit.some((e: { target: string; details: { tenant: string } }) => e.target === BOOTSTRAP_USER_ID && e.details.tenant === 'east')).toBe(false);
    });

    it('an auditor token cannot exceed the auditor role, nor mint an owner token', async () => {
      await grantRole(kw, 'west', 'auditor').catch(async () => {
        await createTenant('west');
        await grantRole(kw, 'west', 'auditor');
      });
      const refused = await kw.request('POST', '/v1/tokens', { body: { name: 'w', role: 'owner', tenant: 'west' } });
      expect(refused.statusCode).toBe(403);
      expect(refused.json().code).toBe('ERR_TOKEN_EXCEEDS_MINTER');
      const auditor = (await kw.request('POST', '/v1/tokens', { body: { name: 'w', role: 'auditor', tenant: 'west' } })).json().token as string;
      expect((await kw.request('POST', '/v1/keys', { token: auditor, body: { name: 'x', kind: 'model' } })).json().code).toBe('ERR_AUTH_FORBIDDEN');
      expect((await kw.request('GET', '/v1/keys', { token: auditor })).statusCode).toBe(200);
    });
  });

  describe('Tokens and sessions are tenant-scoped (sessions)', () => {
    it('a session acts in its user\'s tenants only, and removing the member ends it', async () => {
      await createTenant('studio');
      const { session: owner } = await inviteAndLogin(kw, 'studio', 'olga', 'owner');
      const { person, session: auditor } = await inviteAndLogin(kw, 'studio', 'ada', 'auditor', owner);
      expect((await auditor.request('GET', '/v1/keys')).statusCode).toBe(200);
      expect((await auditor.request('POST', '/v1/keys', { name: 'x', kind: 'model' })).json().code).toBe('ERR_AUTH_FORBIDDEN');
      expect((await auditor.request('GET', '/v1/keys?tenant=default')).json().code).toBe('ERR_TENANT_FORBIDDEN');
      expect((await owner.request('DELETE', `/v1/tenants/studio/members/${person.userId}`)).statusCode).toBe(204);
      expect((await auditor.request('GET', '/v1/keys')).json().code).toBe('ERR_AUTH_INVALID');
    });
  });

  describe('What is approved is what is applied', () => {
    it('pins the approved policy version and applies exactly the change whose digest the owners signed', async () => {
      await createTenant('pinned', 2);
      const invites = [];
      for (const name of ['p1', 'p2']) invites.push((await kw.request('POST', '/v1/tenants/pinned/members', { body: { name, role: 'owner' } })).json());
      const a = await enrol(kw, invites[0].enrolmentCode);
      const b = await enrol(kw, invites[1].enrolmentCode);
      const [sa, sb] = [await login(kw, a), await login(kw, b)];
      const key = (await sa.request('POST', '/v1/keys', { name: 'k', kind: 'model' })).json();
      const pol = (await sa.request('POST', '/v1/policies', POLICY)).json();
      const pending = (await sa.request('PUT', `/v1/keys/${key.id}/policy`, { policyId: pol.id })).json().approval;
      const { change } = (await sb.request('GET', `/v1/approvals/${pending.id}`)).json();
      expect(changeDigest(change)).toBe(pending.digest);
      expect(change).toMatchObject({ tenant: 'pinned', approvalId: pending.id, expiresAt: pending.expiresAt, from: { policyId: null }, to: { policyId: pol.id, policyVersion: 1, document: { rules: POLICY.rules } } });
      // The policy gets a new version while the binding waits (unbound: it applies at once)...
      expect((await sa.request('PUT', `/v1/policies/${pol.id}`, { ...POLICY, rules: [{ name: 'any', expr: 'true' }] })).statusCode).toBe(200);
      await approve(a, sa, pending.id);
      expect((await approve(b, sb, pending.id)).json().approval.state).toBe('applied');
      // ...and what applies is the approved version 1, not the looser version 2.
      expect((await sa.request('GET', `/v1/keys/${key.id}`)).json()).toMatchObject({ policyId: pol.id, policyVersion: 1 });
    });
  });

  describe('Imports are bound', () => {
    it('binds a key only to a policy of its own tenant', async () => {
      const own = (await kw.request('POST', '/v1/policies?tenant=north', { body: POLICY })).json();
      const other = (await kw.request('POST', '/v1/policies?tenant=south', { body: POLICY })).json();
      const key = (await kw.request('POST', '/v1/keys', { body: { tenant: 'north', name: 'bound', kind: 'model' } })).json();
      const cross = await kw.request('PUT', `/v1/keys/${key.id}/policy`, { body: { policyId: other.id } });
      expect(cross.statusCode).toBe(404);
      expect(cross.json().code).toBe('ERR_POLICY_NOT_FOUND');
      expect((await kw.request('GET', `/v1/keys/${key.id}`)).json().policyId).toBeNull();
      const ok = await kw.request('PUT', `/v1/keys/${key.id}/policy`, { body: { policyId: own.id } });
      expect(ok.statusCode, ok.body).toBe(200);
    });

    it('keeps the shared import key for tenant default only', async () => {
      const res = await kw.request('POST', '/v1/keys/import', { body: { tenant: 'north', name: 'imp', kind: 'model', jwe: 'a.b.c.d.e' } });
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe('ERR_IMPORT_TENANT_UNSUPPORTED');
      const north = (await kw.request('POST', '/v1/tokens', { body: { name: 'n2', role: 'owner', tenant: 'north' } })).json().token as string;
      expect((await kw.request('GET', '/v1/import-key', { token: north })).json().code).toBe('ERR_TENANT_FORBIDDEN');
    });
  });
});

describe.each(DB_KINDS)('the bootstrap token on %s', (kind) => {
  describe('Tokens and sessions are tenant-scoped (the bootstrap token)', () => {
    it('is revoked when the first human platform admin enrols a passkey, and never re-created', async () => {
      const kw = await startTestKeyward(kind);
      try {
        const operator = await kw.request('POST', '/v1/platform/members', { body: { name: 'ops', role: 'operator' } });
        expect(operator.statusCode, operator.body).toBe(201);
        await enrol(kw, operator.json().enrolmentCode);
        expect((await kw.request('GET', '/v1/tokens')).statusCode).toBe(200);
        const invite = await kw.request('POST', '/v1/platform/members', { body: { name: 'root', role: 'admin' } });
        const root = await enrol(kw, invite.json().enrolmentCode);
        const refused = await kw.request('GET', '/v1/tokens');
        expect(refused.statusCode).toBe(401);
        expect(refused.json().code).toBe('ERR_AUTH_INVALID');
        expect(await kw.keyward.tokens.bootstrap(BOOTSTRAP_TOKEN)).toEqual({ created: false });
        const session = await login(kw, root);
        const me = (await session.request('GET', '/v1/auth/me')).json();
        expect(me).toMatchObject({ platformRole: 'admin', tenants: [] });
        const tokens = (await session.request('GET', '/v1/tokens')).json().items;
        expect(tokens.find((t: { bootstrap: boolean }) => t.bootstrap).revokedAt).not.toBeNull();
      } finally {
        await kw.close();
      }
    });
  });
});
