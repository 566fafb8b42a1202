// KEYWARD_REVOCATION in the service, over HTTP: `required` (the default) refuses SEV-SNP evidence whose ARK
// CRL is missing, including after the CRL is deleted through the collateral API; `optional` accepts it,
// says so in the claims (revocationChecked: false), in the start log and in every audit row it affects.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompactEncrypt, importJWK, type JWK } from 'jose';
import { DB_KINDS } from '../helpers/db.js';
import { startTestKeyward, type TestKeyward } from '../helpers/keyward.js';
import { binding, createTestSnpPlatform, snpPolicy, teeKeyPair, type TestSnpPlatform } from '../helpers/tee.js';

async function attest(kw: TestKeyward, snp: TestSnpPlatform) {
  const tee = teeKeyPair();
  const { nonce } = (await kw.request('POST', '/v1/challenge', { token: null })).json();
  const evidence = [await snp.evidence(binding(nonce, tee))];
  return kw.request('POST', '/v1/attest', { token: null, body: { nonce, teePublicKey: tee.publicJwk, evidence } });
}

async function boundKey(kw: TestKeyward): Promise<string> {
  const jwk = (await kw.request('GET', '/v1/import-key')).json() as JWK;
  const jwe = await new CompactEncrypt(randomBytes(32)).setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: jwk.kid as string }).encrypt(await importJWK(jwk, 'RSA-OAEP-256'));
  const key = (await kw.request('POST', '/v1/keys/import', { body: { name: 'weights', kind: 'model', jwe } })).json();
  const policy = (await kw.request('POST', '/v1/policies', { body: snpPolicy('snp') })).json();
  await kw.request('PUT', `/v1/keys/${key.id}/policy`, { body: { policyId: policy.id } });
  return key.id as string;
}

describe.each(DB_KINDS)('KEYWARD_REVOCATION on %s', (kind) => {
  let snp: TestSnpPlatform;
  beforeAll(async () => {
    snp = await createTestSnpPlatform();
  }, 60_000);

  describe('required (the default)', () => {
    let kw: TestKeyward;
    beforeAll(async () => {
      kw = await startTestKeyward(kind, { env: { ...snp.env } });
    });
    afterAll(async () => kw?.close());

    it('accepts the evidence while its ARK CRL is held; deleting the CRL through the API does not switch revocation off', async () => {
      const ok = await attest(kw, snp);
      expect(ok.statusCode, ok.body).toBe(200);
      expect(ok.json().claims.cpu.revocationChecked).toBe(true);
      const crl = (await kw.request('GET', '/v1/collateral?kind=crl')).json().items[0];
      expect((await kw.request('DELETE', `/v1/collateral/${crl.id}`)).statusCode).toBe(200);
      const refused = await attest(kw, snp);
      expect([refused.statusCode, refused.json().code]).toEqual([503, 'ERR_COLLATERAL_MISSING']);
    });

    it('refuses evidence from a platform whose CRL was never supplied: 503 ERR_COLLATERAL_MISSING', async () => {
      const without = await startTestKeyward(kind, { env: { KEYWARD_EXTRA_ANCHORS: snp.anchorsDir } });
      try {
        const res = await attest(without, snp);
        expect([res.statusCode, res.json().code]).toEqual([503, 'ERR_COLLATERAL_MISSING']);
        expect(without.logs.some((l) => l.includes('REVOCATION CHECKS ARE OPTIONAL'))).toBe(false);
      } finally {
        await without.close();
      }
    });
  });

  describe('optional', () => {
    let kw: TestKeyward;
    beforeAll(async () => {
      kw = await startTestKeyward(kind, { env: { KEYWARD_EXTRA_ANCHORS: snp.anchorsDir, KEYWARD_REVOCATION: 'optional' } });
    });
    afterAll(async () => kw?.close());

    it('is logged loudly at start', () => {
      expect(kw.logs.some((l) => l.includes('"level":40') && l.includes('REVOCATION CHECKS ARE OPTIONAL'))).toBe(true);
    });

    it('accepts evidence without a CRL, says revocationChecked: false, and audits the attestation and the release', async () => {
      const keyId = await boundKey(kw);
      const res = await attest(kw, snp);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().claims.cpu).toMatchObject({ tee: 'snp', revocationChecked: false });
      const released = await kw.request('POST', `/v1/keys/${keyId}/release`, { token: res.json().token });
      expect(released.statusCode, released.body).toBe(200);
      const events = (await kw.request('GET', '/v1/audit?limit=500')).json().items as { action: string; details: Record<string, unknown> }[];
      const attestRow = events.filter((e) => e.action === 'attest').at(-1);
      const releaseRow = events.filter((e) => e.action === 'key.release').at(-1);
      expect(attestRow?.details['revocationUnchecked']).toEqual(['snp']);
      expect(releaseRow?.details['revocationUnchecked']).toEqual(['snp']);
    });

    it('lets a policy refuse what was not revocation-checked', async () => {
      const policy = await kw.request('POST', '/v1/policies', { body: { name: 'checked-only', rules: [{ name: 'revocation', expr: 'cpu.revocationChecked' }] } });
      expect(policy.statusCode, policy.body).toBe(201);
      const jwk = (await kw.request('GET', '/v1/import-key')).json() as JWK;
      const jwe = await new CompactEncrypt(randomBytes(32)).setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: jwk.kid as string }).encrypt(await importJWK(jwk, 'RSA-OAEP-256'));
      const key = (await kw.request('POST', '/v1/keys/import', { body: { name: 'strict', kind: 'model', jwe } })).json();
      await kw.request('PUT', `/v1/keys/${key.id}/policy`, { body: { policyId: policy.json().id } });
      const res = await attest(kw, snp);
      const denied = await kw.request('POST', `/v1/keys/${key.id}/release`, { token: res.json().token });
      expect(denied.json().code).toBe('ERR_POLICY_DENIED');
    });
  });
});

describe('KEYWARD_REVOCATION setting', () => {
  it('refuses a value other than required or optional', async () => {
    const { loadConfig } = await import('../../src/config.js');
    expect(loadConfig({ KEYWARD_REVOCATION: 'optional' }).revocation).toBe('optional');
    expect(loadConfig({}).revocation).toBe('required');
    expect(() => loadConfig({ KEYWARD_REVOCATION: 'off' })).toThrowError(expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }));
  });
});
