// Quorum approvals end to end, with people enrolled and logged in with a software authenticator: two
// owners of a quorum-2 tenant bind a policy neither could bind alone while the platform admin is refused
// at every step; an approval cannot be replayed for another change, expires, is cancelled by a member
// change, and a change whose state moved on fails without writing anything.
import { createHash } from 'node:crypto';
import { describe, expect, it, afterAll, beforeAll } from 'vitest';
import { DB_KINDS } from '../helpers/db.js';
import { startTestKeyward, type TestKeyward } from '../helpers/keyward.js';
import { approve, enrol, inviteAndLogin, login, type Person, type Session } from '../helpers/people.js';
import { canonicalJson } from '../../src/broker/audit.js';
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

const policy = (name: string, expr = '!cpu.debug') => ({ name, rules: [{ name: 'rule', expr }] });

describe.each(DB_KINDS)('quorum approvals on %s', (kind) => {
  let kw: TestKeyward;
  const clock = new TestClock();
  let alice: { person: Person; session: Session };
  let bob: { person: Person; session: Session };

  async function relogin(): Promise<void> {
    alice = { person: alice.person, session: await login(kw, alice.person) };
    bob = { person: bob.person, session: await login(kw, bob.person) };
  }

  beforeAll(async () => {
    kw = await startTestKeyward(kind, { clock });
    expect((await kw.request('POST', '/v1/tenants', { body: { name: 'bank', quorum: 2 } })).statusCode).toBe(201);
    alice = await inviteAndLogin(kw, 'bank', 'alice', 'owner');
    // Once alice enrolled, the platform admin can no longer invite anyone into the tenant.
    const late = await kw.request('POST', '/v1/tenants/bank/members', { body: { name: 'bob', role: 'owner' } });
    expect(late.json().code).toBe('ERR_TENANT_OWNERS_ENROLLED');
    // alice alone cannot add a second owner under quorum 2: her own approval is one of two.
    const pending = await alice.session.request('POST', '/v1/tenants/bank/members', { name: 'bob', role: 'owner' });
    expect(pending.statusCode, pending.body).toBe(202);
    expect(pending.json()).toMatchObject({ userId: expect.any(String), enrolmentCode: expect.stringMatching(/^kwe_/) });
    expect((await approve(alice.person, alice.session, pending.json().approval.id)).json().approval.state).toBe('pending');
    const code = await kw.request('POST', '/v1/auth/passkeys/register/options', { token: null, body: { enrolmentCode: pending.json().enrolmentCode } });
    expect(code.json().code).toBe('ERR_ENROLMENT_CODE_INVALID');
  });
  afterAll(async () => kw?.close());

  it('two owners bind a policy together that neither binds alone; the platform admin is refused at every step', async () => {
    // A second tenant where the two owners were invited by the platform admin before either enrolled.
    expect((await kw.request('POST', '/v1/tenants', { body: { name: 'vault', quorum: 2 } })).statusCode).toBe(201);
    const codes = [];
    for (const name of ['alice', 'bob']) codes.push((await kw.request('POST', '/v1/tenants/vault/members', { body: { name, role: 'owner' } })).json());
    const a = await enrol(kw, codes[0].enrolmentCode);
    const b = await enrol(kw, codes[1].enrolmentCode);
    alice = { person: a, session: await login(kw, a) };
    bob = { person: b, session: await login(kw, b) };

    const key = (await alice.session.request('POST', '/v1/keys', { tenant: 'vault', name: 'weights', kind: 'model' })).json();
    const pol = (await alice.session.request('POST', '/v1/policies?tenant=vault', policy('prod'))).json();
    const requested = await alice.session.request('PUT', `/v1/keys/${key.id}/policy`, { policyId: pol.id });
    expect(requested.statusCode, requested.body).toBe(202);
    const approval = requested.json().approval;
    expect(approval).toMatchObject({ operation: 'key.bind-policy', required: 2, approvedBy: [], state: 'pending', tenant: 'vault' });

    // The client recomputes the digest from the change JSON before signing.
    const shown = (await bob.session.request('GET', `/v1/approvals/${approval.id}`)).json();
    expect(createHash('sha256').update(canonicalJson(shown.change)).digest('hex')).toBe(approval.digest);
    expect(shown.change).toMatchObject({ tenant: 'vault', approvalId: approval.id, expiresAt: approval.expiresAt, from: { policyId: null, policyVersion: null }, to: { policyId: pol.id, policyVersion: 1, document: { rules: pol.document.rules } } });

    // The platform admin: refused reading, approving, binding, inviting inside the tenant.
    for (const [method, url, body] of [
      ['GET', `/v1/approvals/${approval.id}`, undefined],
      ['POST', `/v1/approvals/${approval.id}/approve/options`, undefined],
      ['POST', `/v1/approvals/${approval.id}/reject`, undefined],
      ['PUT', `/v1/keys/${key.id}/policy`, { policyId: pol.id }],
      ['GET', `/v1/keys/${key.id}`, undefined],
      ['POST', `/v1/keys/${key.id}/datakey`, undefined],
      ['PUT', '/v1/tenants/vault', { quorum: 1 }],
    ] as const) {
      const res = await kw.request(method, url, body ? { body } : {});
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      expect(res.json().code).toBe('ERR_TENANT_FORBIDDEN');
    }
    expect((await kw.request('POST', '/v1/tenants/vault/members', { body: { name: 'eve', role: 'owner' } })).json().code).toBe('ERR_TENANT_OWNERS_ENROLLED');
    expect((await kw.request('GET', '/v1/approvals?state=pending')).json().items.map((i: { id: string }) => i.id)).not.toContain(approval.id);

    // alice alone: one vote, still pending; alice twice: refused.
    const first = await approve(alice.person, alice.session, approval.id);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json().approval).toMatchObject({ state: 'pending', approvedBy: [alice.person.userId] });
    expect((await alice.session.request('GET', `/v1/keys/${key.id}`)).json().policyId).toBeNull();
    const twice = await approve(alice.person, alice.session, approval.id);
    expect(twice.statusCode).toBe(409);
    expect(twice.json().code).toBe('ERR_APPROVAL_ALREADY_APPROVED');

    // bob completes the quorum: applied, pinned to version 1, with each approver's signature audited.
    const second = await approve(bob.person, bob.session, approval.id);
    expect(second.statusCode, second.body).toBe(200);
    expect(second.json().approval.state).toBe('applied');
    const bound = (await alice.session.request('GET', `/v1/keys/${key.id}`)).json();
    expect(bound).toMatchObject({ policyId: pol.id, policyVersion: 1 });
    const signatures = (await alice.session.request('GET', `/v1/audit?action=approval.signature&target=${approval.id}`)).json().items;
    expect(signatures).toHaveLength(2);
    for (const s of signatures) expect(s.details).toMatchObject({ digest: approval.digest, credentialId: expect.any(String), publicKey: expect.any(String), authenticatorData: expect.any(String), clientDataJSON: expect.any(String), signature: expect.any(String) });
    expect((await alice.session.request('GET', `/v1/approvals/${approval.id}`)).json().approval.state).toBe('applied');
  });

  it('refuses an approval signed for one change when replayed for another', async () => {
    const k1 = (await alice.session.request('POST', '/v1/keys', { tenant: 'vault', name: 'k1', kind: 'model' })).json();
    const k2 = (await alice.session.request('POST', '/v1/keys', { tenant: 'vault', name: 'k2', kind: 'model' })).json();
    const pol = (await alice.session.request('POST', '/v1/policies?tenant=vault', policy('p-replay'))).json();
    const a1 = (await alice.session.request('PUT', `/v1/keys/${k1.id}/policy`, { policyId: pol.id })).json().approval;
    const a2 = (await alice.session.request('PUT', `/v1/keys/${k2.id}/policy`, { policyId: pol.id })).json().approval;
    const options = (await bob.session.request('POST', `/v1/approvals/${a1.id}/approve/options`)).json();
    const assertion = bob.person.authenticator.get(options);
    const replayed = await bob.session.request('POST', `/v1/approvals/${a2.id}/approve`, { response: assertion });
    expect(replayed.statusCode).toBe(400);
    expect(replayed.json().code).toBe('ERR_WEBAUTHN_CHALLENGE_INVALID');
    expect((await bob.session.request('GET', `/v1/approvals/${a2.id}`)).json().approval.approvedBy).toEqual([]);
  });

  it('fails a change whose state moved on, writing nothing of it; a member change cancels pending approvals', async () => {
    const key = (await alice.session.request('POST', '/v1/keys', { tenant: 'vault', name: 'contested', kind: 'model' })).json();
    const p = (await alice.session.request('POST', '/v1/policies?tenant=vault', policy('p-first'))).json();
    const q = (await alice.session.request('POST', '/v1/policies?tenant=vault', policy('q-second', 'cpu.debug'))).json();
    const toP = (await alice.session.request('PUT', `/v1/keys/${key.id}/policy`, { policyId: p.id })).json().approval;
    const toQ = (await alice.session.request('PUT', `/v1/keys/${key.id}/policy`, { policyId: q.id })).json().approval;
    await approve(alice.person, alice.session, toP.id);
    expect((await approve(bob.person, bob.session, toP.id)).json().approval.state).toBe('applied');
    expect((await approve(alice.person, alice.session, toQ.id)).statusCode).toBe(200);
    const stale = await approve(bob.person, bob.session, toQ.id);
    expect(stale.statusCode).toBe(409);
    expect(stale.json().code).toBe('ERR_APPROVAL_STALE');
    const after = (await alice.session.request('GET', `/v1/approvals/${toQ.id}`)).json().approval;
    expect(after.state).toBe('failed');
    expect(after.approvedBy).toEqual([alice.person.userId]);
    expect((await alice.session.request('GET', `/v1/keys/${key.id}`)).json()).toMatchObject({ policyId: p.id, policyVersion: 1 });

    // A new version of a bound policy is itself an approval; the binding keeps its pinned version until then.
    const update = await alice.session.request('PUT', `/v1/policies/${p.id}`, policy('p-first', 'true'));
    expect(update.statusCode, update.body).toBe(202);
    expect((await alice.session.request('GET', `/v1/keys/${key.id}`)).json().policyVersion).toBe(1);
    // A member change (here: an invite that applies) cancels the tenant's other pending approvals.
    const invite = (await alice.session.request('POST', '/v1/tenants/vault/members', { name: 'carol', role: 'auditor' })).json().approval;
    await approve(alice.person, alice.session, invite.id);
    expect((await approve(bob.person, bob.session, invite.id)).json().approval.state).toBe('applied');
    expect((await alice.session.request('GET', `/v1/approvals/${update.json().approval.id}`)).json().approval.state).toBe('cancelled');
    const cancelled = await approve(bob.person, bob.session, update.json().approval.id);
    expect(cancelled.json().code).toBe('ERR_APPROVAL_NOT_PENDING');
  });

  it('refuses a quorum above the owners holding a passkey, a tampered change, and an expired approval', async () => {
    const tooHigh = await alice.session.request('PUT', '/v1/tenants/vault', { quorum: 3 });
    expect(tooHigh.statusCode).toBe(409);
    expect(tooHigh.json().code).toBe('ERR_TENANT_QUORUM_UNREACHABLE');
    const removal = await alice.session.request('DELETE', `/v1/tenants/vault/members/${bob.person.userId}`);
    expect(removal.statusCode).toBe(409);
    expect(removal.json().code).toBe('ERR_TENANT_QUORUM_UNREACHABLE');

    const key = (await alice.session.request('POST', '/v1/keys', { tenant: 'vault', name: 'tamper', kind: 'model' })).json();
    const pol = (await alice.session.request('POST', '/v1/policies?tenant=vault', policy('p-tamper'))).json();
    const loose = (await alice.session.request('POST', '/v1/policies?tenant=vault', policy('p-loose', 'true'))).json();
    const approval = (await alice.session.request('PUT', `/v1/keys/${key.id}/policy`, { policyId: pol.id })).json().approval;
    // Whoever can write the database swaps the approved policy for a looser one: the approval's row MAC no
    // longer verifies, so it does not exist (the digest re-check stands behind that).
    await kw.keyward.database.db
      .updateTable('approvals')
      .set({ change: JSON.stringify({ ...(await alice.session.request('GET', `/v1/approvals/${approval.id}`)).json().change, to: { policyId: loose.id, policyVersion: 1 } }) })
      .where('id', '=', approval.id)
      .execute();
    const tampered = await approve(bob.person, bob.session, approval.id);
    expect(tampered.statusCode).toBe(404);
    expect(tampered.json().code).toBe('ERR_APPROVAL_NOT_FOUND');

    const destroy = await alice.session.request('DELETE', `/v1/keys/${key.id}`);
    expect(destroy.statusCode, destroy.body).toBe(202);
    clock.advance(24 * 3600 * 1000 + 1000);
    await relogin();
    const expired = await approve(bob.person, bob.session, destroy.json().approval.id);
    expect(expired.statusCode).toBe(409);
    expect(expired.json().code).toBe('ERR_APPROVAL_EXPIRED');
    expect((await alice.session.request('GET', `/v1/approvals/${destroy.json().approval.id}`)).json().approval.state).toBe('expired');
    expect((await alice.session.request('GET', `/v1/keys/${key.id}`)).json().state).toBe('active');
  });

  it('lets API tokens request changes but never approve them', async () => {
    // The bootstrap admin owns `default`; with a second enrolled owner there, default's quorum can be 2.
    const x = await inviteAndLogin(kw, 'default', 'xavier', 'owner');
    const y = await inviteAndLogin(kw, 'default', 'yvonne', 'owner');
    expect((await kw.request('PUT', '/v1/tenants/default', { body: { quorum: 2 } })).statusCode).toBe(200);
    const key = (await kw.request('POST', '/v1/keys', { body: { name: 'by-token', kind: 'model' } })).json();
    const pol = (await kw.request('POST', '/v1/policies', { body: policy('by-token') })).json();
    const requested = await kw.request('PUT', `/v1/keys/${key.id}/policy`, { body: { policyId: pol.id } });
    expect(requested.statusCode).toBe(202);
    const id = requested.json().approval.id;
    const refused = await kw.request('POST', `/v1/approvals/${id}/approve/options`);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('ERR_APPROVAL_PASSKEY_REQUIRED');
    await approve(x.person, x.session, id);
    expect((await approve(y.person, y.session, id)).json().approval.state).toBe('applied');
    const rejectedBy = await kw.request('POST', `/v1/approvals/${(await kw.request('DELETE', `/v1/keys/${key.id}`)).json().approval.id}/reject`);
    expect(rejectedBy.json().approval.state).toBe('rejected');
  });
});
