// SIGKILL in the middle of an approval: a quorum-2 tenant's second owner approves a binding while the
// server is killed at staggered moments around the request. After each restart the change is either wholly
// applied (approval applied, key bound to the approved policy version, approval.apply audited) or not at all
// (approval still pending with one vote, key unbound, no approval.apply row) — never half — the audit chain
// verifies, and a pending approval can still be completed. Over HTTP against `keyward serve`, with passkeys
// from the software authenticator, on PGlite and Postgres.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DB_KINDS, createPostgresSchema } from '../helpers/db.js';
import { BOOTSTRAP_TOKEN } from '../helpers/keyward.js';
import { ORIGIN, approve, enrol, login, overHttp, type Person, type Session } from '../helpers/people.js';
import { api, serve, type Served } from '../helpers/process.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function environment(kind: 'pglite' | 'postgres'): Promise<Record<string, string>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'keyward-approval-kill-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  // The passkeys' origin: the software authenticator signs client data for ORIGIN whatever port the server has.
  const env: Record<string, string> = { KEYWARD_DATA_DIR: dataDir, KEYWARD_BOOTSTRAP_TOKEN: BOOTSTRAP_TOKEN, KEYWARD_ORIGIN: ORIGIN, KEYWARD_RATE_LIMIT: '0' };
  if (kind === 'postgres') {
    const schema = await createPostgresSchema();
    cleanups.push(schema.drop);
    env['KEYWARD_DATABASE_URL'] = schema.url;
  }
  return env;
}

describe.each(DB_KINDS)('SIGKILL during an approval on %s', (kind) => {
  it('applies the approved binding wholly or not at all, and the chain verifies after each restart', async () => {
    const env = await environment(kind);
    let server: Served = await serve(env);
    const kw = overHttp(() => server.url, BOOTSTRAP_TOKEN);
    expect((await api(server.url, BOOTSTRAP_TOKEN, 'POST', '/v1/tenants', { name: 'acme', quorum: 2 })).status).toBe(201);
    // Both invites first: once an owner enrols, the platform admin issues no more codes for the tenant.
    const codes: string[] = [];
    for (const name of ['alice', 'bob']) {
      const invite = await api(server.url, BOOTSTRAP_TOKEN, 'POST', '/v1/tenants/acme/members', { name, role: 'owner' });
      expect(invite.status).toBe(201);
      codes.push(invite.json.enrolmentCode);
    }
    const people: Person[] = [];
    for (const code of codes) people.push(await enrol(kw, code));
    const [alice, bob] = people as [Person, Person];
    const sessions = async (): Promise<[Session, Session]> => [await login(kw, alice), await login(kw, bob)];
    let [aliceS, bobS] = await sessions();

    const outcomes: string[] = [];
    for (const delayMs of [0, 5, 15, 30, 60, 120]) {
      const key = (await aliceS.request('POST', '/v1/keys', { tenant: 'acme', name: `weights-${delayMs}`, kind: 'model' })).json();
      const policy = (await aliceS.request('POST', '/v1/policies?tenant=acme', { name: `p-${delayMs}`, rules: [{ name: 'any', expr: 'true' }] })).json();
      const bind = await aliceS.request('PUT', `/v1/keys/${key.id}/policy`, { policyId: policy.id });
      expect(bind.statusCode, bind.body).toBe(202);
      const approvalId = bind.json().approval.id as string;
      expect((await approve(alice, aliceS, approvalId)).json().approval.state).toBe('pending');

      // Bob's approval is the one that applies the change; the server dies around it.
      const options = await bobS.request('POST', `/v1/approvals/${approvalId}/approve/options`);
      expect(options.statusCode, options.body).toBe(200);
      const sent = bobS.request('POST', `/v1/approvals/${approvalId}/approve`, { response: bob.authenticator.get(options.json()) }).then(
        (r) => r.statusCode,
        () => 'lost',
      );
      await new Promise((r) => setTimeout(r, delayMs));
      await server.stop('SIGKILL');
      const answered = await sent;
      server = await serve(env);
      [aliceS, bobS] = await sessions();

      const state = (await aliceS.request('GET', `/v1/approvals/${approvalId}`)).json().approval;
      const bound = (await aliceS.request('GET', `/v1/keys/${key.id}`)).json().policyId;
      // As an owner: the platform admin sees nothing inside the tenant.
      const applyRows = (await aliceS.request('GET', `/v1/audit?action=approval.apply&target=${approvalId}`)).json().items.length;
      if (state.state === 'applied') {
        expect([bound, applyRows, state.approvedBy.length]).toEqual([policy.id, 1, 2]);
      } else {
        // Not applied: nothing of it is visible, and the answer the client saw (if any) was not a success.
        expect([state.state, bound, applyRows, state.approvedBy.length]).toEqual(['pending', null, 0, 1]);
        expect(answered).not.toBe(200);
        const retried = await approve(bob, bobS, approvalId);
        expect(retried.json().approval.state, retried.body).toBe('applied');
        expect((await aliceS.request('GET', `/v1/keys/${key.id}`)).json().policyId).toBe(policy.id);
        expect((await aliceS.request('GET', `/v1/audit?action=approval.apply&target=${approvalId}`)).json().items).toHaveLength(1);
      }
      expect((await api(server.url, BOOTSTRAP_TOKEN, 'GET', '/v1/audit/verify')).json).toMatchObject({ ok: true, brokenAt: null });
      outcomes.push(`${delayMs} ms: ${state.state} (client saw ${answered})`);
    }
    await server.stop();
    // Which moments the kills landed on varies; every one of them was checked above.
    expect(outcomes).toHaveLength(6);
    if (process.env["KEYWARD_TEST_VERBOSE"]) console.log(outcomes.join("\n"));
  }, 240_000);
});
