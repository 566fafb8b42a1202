// An attestation token never outlives the evidence it vouches for: its `exp` (not only the answer's
// expiresAt) is capped at the earliest notAfter / nextUpdate of the certificates and collateral the verdict
// rested on. Here the ARK's CRL expires 90 s after the attestation, well inside the 300 s token TTL.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompactEncrypt, decodeJwt, importJWK, type JWK } from 'jose';
import { DB_KINDS } from '../helpers/db.js';
import { startTestKeyward, type TestKeyward } from '../helpers/keyward.js';
import { binding, createTestSnpPlatform, snpPolicy, teeKeyPair, type TestSnpPlatform } from '../helpers/tee.js';
import { createArkCrl } from '../../src/dev/snp.js';
import type { Clock } from '../../src/clock.js';

class TestClock implements Clock {
  offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
}

describe.each(DB_KINDS)('attestation token lifetime on %s', (kind) => {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-token-lifetime-'));
  const clock = new TestClock();
  let snp: TestSnpPlatform;
  let kw: TestKeyward;
  let keyId: string;
  let crlNextUpdate: Date;

  beforeAll(async () => {
    snp = await createTestSnpPlatform();
    const now = new Date();
    crlNextUpdate = new Date(now.getTime() + 90_000);
    writeFileSync(join(dir, 'ark.crl'), await createArkCrl(snp.pki, { thisUpdate: new Date(now.getTime() - 60_000), nextUpdate: crlNextUpdate }));
    kw = await startTestKeyward(kind, { env: { KEYWARD_EXTRA_ANCHORS: snp.anchorsDir, KEYWARD_COLLATERAL_DIR: dir, KEYWARD_ATTESTATION_TOKEN_TTL: '300' }, clock });
    const jwk = (await kw.request('GET', '/v1/import-key')).json() as JWK;
    const jwe = await new CompactEncrypt(randomBytes(32)).setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: jwk.kid as string }).encrypt(await importJWK(jwk, 'RSA-OAEP-256'));
    keyId = (await kw.request('POST', '/v1/keys/import', { body: { name: 'weights', kind: 'model', jwe } })).json().id;
    const policy = (await kw.request('POST', '/v1/policies', { body: snpPolicy('snp') })).json();
    await kw.request('PUT', `/v1/keys/${keyId}/policy`, { body: { policyId: policy.id } });
  }, 60_000);
  afterAll(async () => {
    await kw?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('caps the token exp at the CRL nextUpdate, and the token is refused once the CRL has expired', async () => {
    const tee = teeKeyPair();
    const { nonce } = (await kw.request('POST', '/v1/challenge', { token: null })).json();
    const res = await kw.request('POST', '/v1/attest', { token: null, body: { nonce, teePublicKey: tee.publicJwk, evidence: [await snp.evidence(binding(nonce, tee))] } });
    expect(res.statusCode, res.body).toBe(200);
    const payload = decodeJwt(res.json().token);
    expect(payload.exp).toBe(Math.floor(crlNextUpdate.getTime() / 1000));
    expect((payload.exp as number) - (payload.iat as number)).toBeLessThan(300);
    expect(res.json().expiresAt).toBe(new Date((payload.exp as number) * 1000).toISOString());
    clock.offsetMs = crlNextUpdate.getTime() - Date.now() + 1000;
    const late = await kw.request('POST', `/v1/keys/${keyId}/release`, { token: res.json().token });
    expect([late.statusCode, late.json().code]).toEqual([401, 'ERR_ATTEST_TOKEN_EXPIRED']);
    clock.offsetMs = 0;
  });
});
