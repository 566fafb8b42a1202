// POST /v1/evidence/verify: the same verdicts as `keyward verify --json`, over HTTP, for admins.
import { describe, expect, it, afterAll, beforeAll } from 'vitest';
import { readManifest, readVector } from '../helpers/vectors.js';
import { startTestKeyward, type TestKeyward } from '../helpers/keyward.js';

interface SnpVector {
  id: string;
  report: string;
  vek: string;
  product: string;
  verification_time: string;
  fields: { measurement: string; report_data: string };
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

describe('POST /v1/evidence/verify', () => {
  let kw: TestKeyward;
  const manifest = readManifest<{ vectors: SnpVector[] }>('snp');
  const vector = manifest.vectors.find((v) => v.id === 'milan-v3-vcek-oak-cb') as SnpVector;
  const item = () => ({
    type: 'snp',
    report: b64(readVector('snp', vector.report)),
    certs: [b64(readVector('snp', vector.vek)), b64(readVector('snp', 'amd', 'milan', 'cert_chain_vcek.pem'))],
  });

  beforeAll(async () => {
    // The report is older than every AMD CRL in the vectors: verified with revocation optional.
    kw = await startTestKeyward('pglite', { env: { KEYWARD_REVOCATION: 'optional' } });
  });
  afterAll(async () => kw?.close());

  it('verifies a real SNP report at its verification time', async () => {
    const res = await kw.request('POST', '/v1/evidence/verify', { body: { evidence: item(), at: vector.verification_time } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ verified: true, tee: 'snp', claims: { measurement: vector.fields.measurement, product: 'Milan', anchor: { source: 'vendor' }, revocationChecked: false } });
    const withNonce = await kw.request('POST', '/v1/evidence/verify', { body: { evidence: item(), at: vector.verification_time, nonce: vector.fields.report_data } });
    expect(withNonce.json().verified).toBe(true);
  });

  it('returns the verdict with its code for refused evidence', async () => {
    const flipped = item();
    const bytes = Buffer.from(flipped.report, 'base64');
    bytes[0x90] = (bytes[0x90] as number) ^ 1;
    flipped.report = bytes.toString('base64');
    const res = await kw.request('POST', '/v1/evidence/verify', { body: { evidence: flipped, at: vector.verification_time } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ verified: false, error: { code: 'ERR_SNP_SIGNATURE_INVALID' } });
    const nonce = await kw.request('POST', '/v1/evidence/verify', { body: { evidence: item(), at: vector.verification_time, nonce: '00'.repeat(64) } });
    expect(nonce.json().error.code).toBe('ERR_EVIDENCE_NONCE_MISMATCH');
    const expired = await kw.request('POST', '/v1/evidence/verify', { body: { evidence: item(), at: '2040-01-01T00:00:00Z' } });
    expect(expired.json().error.code).toBe('ERR_CHAIN_EXPIRED');
    const garbage = await kw.request('POST', '/v1/evidence/verify', { body: { evidence: { type: 'snp', report: 'AAAA' } } });
    expect(garbage.json().error.code).toBe('ERR_SNP_REPORT_MALFORMED');
    const unknown = await kw.request('POST', '/v1/evidence/verify', { body: { evidence: { type: 'sev', report: 'AAAA' } } });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().code).toBe('ERR_REQUEST_INVALID');
  });

  it('needs the evidence:verify scope', async () => {
    expect((await kw.request('POST', '/v1/evidence/verify', { token: null, body: { evidence: item() } })).json().code).toBe('ERR_AUTH_REQUIRED');
    const auditor = (await kw.request('POST', '/v1/tokens', { body: { name: 'a', role: 'auditor' } })).json();
    expect((await kw.request('POST', '/v1/evidence/verify', { token: auditor.token, body: { evidence: item() } })).json().code).toBe('ERR_AUTH_FORBIDDEN');
  });
});
