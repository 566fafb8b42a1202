// Evidence that does not carry its chain verifies over HTTP from uploaded collateral; a stale CRL in the
// store surfaces as the retryable ERR_CRL_STALE, not as a verdict on the evidence.
import { describe, expect, it, afterAll, beforeAll } from 'vitest';
import { DB_KINDS } from '../helpers/db.js';
import { startTestKeyward, type TestKeyward } from '../helpers/keyward.js';
import { readVector } from '../helpers/vectors.js';
import { uploadRaw } from '../helpers/collateral.js';
import { reportOf, vector } from '../unit/evidence/snp/helpers.js';

describe.each(DB_KINDS)('POST /v1/evidence/verify with stored collateral on %s', (kind) => {
  let kw: TestKeyward;
  beforeAll(async () => {
    kw = await startTestKeyward(kind);
  });
  afterAll(async () => kw?.close());

  it('verifies from uploaded collateral; a stale CRL is ERR_CRL_STALE', async () => {
    const v = vector('milan-v3-vcek-oak-cb');
    const evidence = { type: 'snp', report: Buffer.from(reportOf(v)).toString('base64'), certs: [] };
    const before = await kw.request('POST', '/v1/evidence/verify', { body: { evidence, at: '2025-06-01T00:00:00Z' } });
    expect(before.json().error.code).toBe('ERR_COLLATERAL_MISSING');
    for (const f of [v.vek as string, 'amd/milan/cert_chain_vcek.pem', 'crl/milan_vcek_crl_2025-05-06.der']) {
      expect((await uploadRaw(kw, readVector('snp', f))).statusCode).toBe(201);
    }
    const ok = await kw.request('POST', '/v1/evidence/verify', { body: { evidence, at: '2025-06-01T00:00:00Z' } });
    expect(ok.json()).toMatchObject({ verified: true, claims: { chipId: v.fields.chip_id } });
    const stale = await kw.request('POST', '/v1/evidence/verify', { body: { evidence, at: '2026-06-01T00:00:00Z' } });
    expect(stale.json()).toMatchObject({ verified: false, error: { code: 'ERR_CRL_STALE' } });
  });
});
