// An uploaded signer never passes as NVIDIA: an operator (who may upload collateral) uploads a JWK set and
// signs an NRAS result with its key; keyward refuses it until a platform admin trusts the upload, and then
// labels the claims `anchor.source: "uploaded"` so a policy can still refuse them. Over HTTP, end to end.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompactEncrypt, importJWK, type JWK } from 'jose';
import { DB_KINDS } from '../helpers/db.js';
import { startTestKeyward, type TestKeyward } from '../helpers/keyward.js';
import { uploadRaw } from '../helpers/collateral.js';
import { readVector } from '../helpers/vectors.js';
import { binding, openJwe, teeKeyPair } from '../helpers/tee.js';
import { createDevNrasKey, devNrasGpuClaims, mintNrasResult, type DevNrasKey } from '../../src/dev/nvidia-nras.js';

describe.each(DB_KINDS)('NRAS signers and collateral trust on %s', (kind) => {
  let kw: TestKeyward;
  let operator: string;
  let forger: DevNrasKey;
  let jwksId: string;
  const keys: Record<string, string> = {};
  const material = new Uint8Array(randomBytes(32));

  async function keyWithPolicy(name: string, expr: string): Promise<string> {
    const jwk = (await kw.request('GET', '/v1/import-key')).json() as JWK;
    const jwe = await new CompactEncrypt(material).setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: jwk.kid as string }).encrypt(await importJWK(jwk, 'RSA-OAEP-256'));
    const key = (await kw.request('POST', '/v1/keys/import', { body: { name, kind: 'model', jwe } })).json();
    const policy = await kw.request('POST', '/v1/policies', { body: { name: `${name}-policy`, rules: [{ name: 'gpu', expr }] } });
    expect(policy.statusCode, policy.body).toBe(201);
    await kw.request('PUT', `/v1/keys/${key.id}/policy`, { body: { policyId: policy.json().id } });
    return key.id;
  }

  /** Attests with an NRAS result the forger's key signed for this challenge. */
  async function attestForged() {
    const tee = teeKeyPair();
    const { nonce } = (await kw.request('POST', '/v1/challenge', { token: null })).json();
    const devices = [{ name: 'GPU-0', claims: devNrasGpuClaims({ driverVersion: '570.124.06', vbiosVersion: '96.00.9f.00.01', ueid: '4242' }) }];
    const token = await mintNrasResult({ key: forger, nonce: binding(nonce, tee).subarray(0, 32), devices, now: new Date() });
    const attest = await kw.request('POST', '/v1/attest', { token: null, body: { nonce, teePublicKey: tee.publicJwk, evidence: [{ type: 'nvidia-nras', token }] } });
    return { tee, attest };
  }

  beforeAll(async () => {
    kw = await startTestKeyward(kind);
    operator = (await kw.request('POST', '/v1/tokens', { body: { name: 'ops', role: 'operator' } })).json().token as string;
    forger = await createDevNrasKey({ kid: 'nv-eat-kid-prod-20260627210324470-7c3b8cf0-a2b7-450d-aeef-347fb78d18ae' });
    const upload = await uploadRaw(kw, JSON.stringify({ keys: [forger.jwk] }), { contentType: 'application/jwk-set+json', token: operator });
    expect(upload.statusCode, upload.body).toBe(201);
    jwksId = upload.json().items[0].id as string;
    keys['any'] = await keyWithPolicy('any-gpu', 'gpus.size() == 1');
    keys['vendor'] = await keyWithPolicy('vendor-gpu', 'gpus.all(g, g.anchor.source == "vendor")');
  });
  afterAll(async () => kw?.close());

  it('refuses an NRAS result signed with a key an operator uploaded: ERR_NRAS_SIGNER_UNTRUSTED', async () => {
    const { attest } = await attestForged();
    expect(attest.statusCode).toBe(422);
    expect(attest.json().code).toBe('ERR_NRAS_SIGNER_UNTRUSTED');
  });

  it('lets only a platform admin trust an upload; the operator gets 403', async () => {
    const denied = await kw.request('POST', `/v1/collateral/${jwksId}/trust`, { token: operator });
    expect([denied.statusCode, denied.json().code]).toEqual([403, 'ERR_AUTH_FORBIDDEN']);
    const listed = (await kw.request('GET', '/v1/collateral?kind=jwks')).json().items[0];
    expect([listed.trustedBy, listed.trustedAt]).toEqual([null, null]);
    const unknown = await kw.request('POST', `/v1/collateral/${'0'.repeat(64)}/trust`);
    expect(unknown.json().code).toBe('ERR_COLLATERAL_NOT_FOUND');
  });

  it('after an admin trusts it, the result verifies as "uploaded": a policy demanding vendor roots still refuses', async () => {
    const trusted = await kw.request('POST', `/v1/collateral/${jwksId}/trust`);
    expect(trusted.statusCode, trusted.body).toBe(200);
    expect(trusted.json()).toMatchObject({ id: jwksId, trustedBy: expect.stringMatching(/^token:/) });
    const { tee, attest } = await attestForged();
    expect(attest.statusCode, attest.body).toBe(200);
    expect(attest.json().claims.gpus[0]).toMatchObject({ source: 'nras', anchor: { source: 'uploaded' }, simulated: false });
    const released = await kw.request('POST', `/v1/keys/${keys['any']}/release`, { token: attest.json().token });
    expect(released.statusCode, released.body).toBe(200);
    expect(await openJwe(released.json().jwe, tee)).toEqual(material);
    const refused = await kw.request('POST', `/v1/keys/${keys['vendor']}/release`, { token: attest.json().token });
    expect(refused.json().code).toBe('ERR_POLICY_DENIED');
    const audit = (await kw.request('GET', '/v1/audit?action=collateral.trust')).json();
    expect(JSON.stringify(audit)).toContain(jwksId);
  });

  it('refuses to trust other kinds of collateral, and deleting the item ends the trust', async () => {
    const crl = (await uploadRaw(kw, readVector('snp', 'crl/milan_vcek_crl_2025-05-06.der'), { contentType: 'application/pkix-crl' })).json().items[0];
    const refused = await kw.request('POST', `/v1/collateral/${crl.id}/trust`);
    expect([refused.statusCode, refused.json().code]).toEqual([400, 'ERR_REQUEST_INVALID']);
    expect((await kw.request('DELETE', `/v1/collateral/${jwksId}`, { token: operator })).statusCode).toBe(200);
    await uploadRaw(kw, JSON.stringify({ keys: [forger.jwk] }), { contentType: 'application/jwk-set+json', token: operator });
    const { attest } = await attestForged();
    expect(attest.json().code).toBe('ERR_NRAS_SIGNER_UNTRUSTED');
  });
});
