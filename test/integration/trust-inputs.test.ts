// Trust inputs are the owners' choice: in tenant `acme`, evidence from the simulator's look-alike AMD PKI (an
// extra anchor, KEYWARD_EXTRA_ANCHORS) is refused until the key's policy names that anchor's SPKI hash in
// refs.anchors, and under KEYWARD_REVOCATION=optional an unchecked verdict is refused until the policy says
// refs.allowUncheckedRevocation: true. Tenant `default` accepts both as before.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS } from '../helpers/db.js';
import { startTestKeyward, type TestKeyward } from '../helpers/keyward.js';
import { inviteAndLogin, type Session } from '../helpers/people.js';
import { binding, createTestSnpPlatform, snpPolicy, teeKeyPair, type TestSnpPlatform } from '../helpers/tee.js';

async function attest(kw: TestKeyward, snp: TestSnpPlatform): Promise<{ token: string; spki: string; revocationChecked: boolean }> {
  const tee = teeKeyPair();
  const { nonce } = (await kw.request('POST', '/v1/challenge', { token: null })).json();
  const evidence = [await snp.evidence(binding(nonce, tee))];
  const res = await kw.request('POST', '/v1/attest', { token: null, body: { nonce, teePublicKey: tee.publicJwk, evidence } });
  expect(res.statusCode, res.body).toBe(200);
  const cpu = res.json().claims.cpu;
  expect(cpu.anchor.source).toBe('extra');
  return { token: res.json().token, spki: cpu.anchor.spki, revocationChecked: cpu.revocationChecked };
}

/** An `acme` key bound to the test SNP policy with `refs` added; returns the key and policy ids. */
async function acmeKey(owner: Session, name: string, refs: Record<string, unknown>): Promise<{ keyId: string; policyId: string }> {
  const key = await owner.request('POST', '/v1/keys', { tenant: 'acme', name, kind: 'model' });
  expect(key.statusCode, key.body).toBe(201);
  const base = snpPolicy(`${name}-policy`);
  const policy = await owner.request('POST', '/v1/policies?tenant=acme', { ...base, refs: { ...base.refs, ...refs } });
  expect(policy.statusCode, policy.body).toBe(201);
  const bound = await owner.request('PUT', `/v1/keys/${key.json().id}/policy`, { policyId: policy.json().id });
  expect(bound.statusCode, bound.body).toBe(200);
  return { keyId: key.json().id, policyId: policy.json().id };
}

describe.each(DB_KINDS)('trust inputs are the owners\' choice on %s', (kind) => {
  let snp: TestSnpPlatform;
  beforeAll(async () => {
    snp = await createTestSnpPlatform();
  }, 120_000);

  describe('extra anchors', () => {
    let kw: TestKeyward;
    let alice: Session;
    beforeAll(async () => {
      kw = await startTestKeyward(kind, { env: { ...snp.env } });
      expect((await kw.request('POST', '/v1/tenants', { body: { name: 'acme' } })).statusCode).toBe(201);
      alice = (await inviteAndLogin(kw, 'acme', 'alice', 'owner')).session;
    });
    afterAll(async () => kw?.close());

    it('refuses extra-anchor evidence in acme without refs.anchors, and releases once the policy names the anchor', async () => {
      const { keyId, policyId } = await acmeKey(alice, 'weights', {});
      const { token, spki } = await attest(kw, snp);
      const refused = await kw.request('POST', `/v1/keys/${keyId}/release`, { token });
      expect([refused.statusCode, refused.json().code]).toEqual([403, 'ERR_POLICY_ANCHOR_NOT_ALLOWED']);
      const audit = (await alice.request('GET', `/v1/keys/${keyId}/releases?outcome=denied`)).json().items;
      expect(audit[0]).toMatchObject({ code: 'ERR_POLICY_ANCHOR_NOT_ALLOWED' });

      // A wrong hash in refs.anchors does not help.
      const wrong = snpPolicy('weights-policy');
      const v2 = await alice.request('PUT', `/v1/policies/${policyId}`, { ...wrong, refs: { ...wrong.refs, anchors: ['00'.repeat(32)] } });
      expect(v2.statusCode, v2.body).toBe(200);
      const still = await kw.request('POST', `/v1/keys/${keyId}/release`, { token: (await attest(kw, snp)).token });
      expect(still.json().code).toBe('ERR_POLICY_ANCHOR_NOT_ALLOWED');

      // The dry run explains the same refusal.
      const dryRun = async () => (await alice.request('POST', `/v1/policies/${policyId}/evaluate`, { evidence: [await snp.evidence(new Uint8Array(64))] })).json();
      const before = await dryRun();
      expect(before).toMatchObject({ allowed: false, trustInputs: [{ tee: 'snp', rule: 'refs.anchors', anchor: { source: 'extra', spki } }] });
      expect(before.rules.every((r: { outcome: string }) => r.outcome === 'pass')).toBe(true);

      const v3 = await alice.request('PUT', `/v1/policies/${policyId}`, { ...wrong, refs: { ...wrong.refs, anchors: [spki] } });
      expect(v3.statusCode, v3.body).toBe(200);
      const after = await dryRun();
      expect(after.allowed).toBe(true);
      expect(after.trustInputs).toBeUndefined();
      const released = await kw.request('POST', `/v1/keys/${keyId}/release`, { token: (await attest(kw, snp)).token });
      expect(released.statusCode, released.body).toBe(200);
    });

    it('keeps tenant default accepting the configured extra anchors as before', async () => {
      const key = (await kw.request('POST', '/v1/keys', { body: { name: 'default-weights', kind: 'model' } })).json();
      const policy = (await kw.request('POST', '/v1/policies', { body: snpPolicy('default-policy') })).json();
      expect((await kw.request('PUT', `/v1/keys/${key.id}/policy`, { body: { policyId: policy.id } })).statusCode).toBe(200);
      const released = await kw.request('POST', `/v1/keys/${key.id}/release`, { token: (await attest(kw, snp)).token });
      expect(released.statusCode, released.body).toBe(200);
    });
  });

  describe('KEYWARD_REVOCATION=optional', () => {
    let kw: TestKeyward;
    let alice: Session;
    beforeAll(async () => {
      kw = await startTestKeyward(kind, { env: { KEYWARD_EXTRA_ANCHORS: snp.anchorsDir, KEYWARD_REVOCATION: 'optional' } });
      expect((await kw.request('POST', '/v1/tenants', { body: { name: 'acme' } })).statusCode).toBe(201);
      alice = (await inviteAndLogin(kw, 'acme', 'alice', 'owner')).session;
    });
    afterAll(async () => kw?.close());

    it('refuses an unchecked verdict in acme without refs.allowUncheckedRevocation, releases with it', async () => {
      const first = await attest(kw, snp);
      expect(first.revocationChecked).toBe(false);
      const { keyId, policyId } = await acmeKey(alice, 'weights', { anchors: [first.spki] });
      const refused = await kw.request('POST', `/v1/keys/${keyId}/release`, { token: first.token });
      expect([refused.statusCode, refused.json().code]).toEqual([403, 'ERR_POLICY_REVOCATION_UNCHECKED']);
      const base = snpPolicy('weights-policy');
      const v2 = await alice.request('PUT', `/v1/policies/${policyId}`, { ...base, refs: { ...base.refs, anchors: [first.spki], allowUncheckedRevocation: true } });
      expect(v2.statusCode, v2.body).toBe(200);
      const released = await kw.request('POST', `/v1/keys/${keyId}/release`, { token: (await attest(kw, snp)).token });
      expect(released.statusCode, released.body).toBe(200);
    });
  });
});
