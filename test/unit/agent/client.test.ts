// KeywardClient against a real keyward (in process, listening on a port) with evidence from a look-alike
// AMD PKI configured as an extra anchor: the whole protocol returns exactly the imported key material or
// data key; the server's refusals surface as their codes with HTTP status and request id.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompactEncrypt, importJWK, type JWK } from 'jose';
import { startTestKeyward, BOOTSTRAP_TOKEN, type TestKeyward } from '../../helpers/keyward.js';
import { binding, createTestSnpPlatform, snpPolicy, teeKeyPair, MEASUREMENT, type TestSnpPlatform, type SnpOptions } from '../../helpers/tee.js';
import { KeywardClient, KeywardClientError, createTeeKeyPair, type EvidenceProvider } from '../../../src/agent/client.js';
import { bindingFor } from '../../../src/broker/release.js';

let kw: TestKeyward;
let snp: TestSnpPlatform;
let url: string;
let keyId: string;
let deniedKeyId: string;
const material = new Uint8Array(randomBytes(32));

function snpProvider(opts: SnpOptions = {}): EvidenceProvider {
  return { name: 'test-snp', collect: async (bind) => [await snp.evidence(bind, opts)] };
}

async function rejection(promise: Promise<unknown>): Promise<KeywardClientError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KeywardClientError);
  return err as KeywardClientError;
}

beforeAll(async () => {
  snp = await createTestSnpPlatform();
  kw = await startTestKeyward('pglite', { env: { ...snp.env } });
  await kw.keyward.app.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${(kw.keyward.app.server.address() as AddressInfo).port}`;
  const jwk = (await kw.request('GET', '/v1/import-key')).json() as JWK;
  const jwe = await new CompactEncrypt(material).setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: jwk.kid as string }).encrypt(await importJWK(jwk, 'RSA-OAEP-256'));
  keyId = (await kw.request('POST', '/v1/keys/import', { body: { name: 'client-model', kind: 'model', jwe } })).json().id;
  const policyId = (await kw.request('POST', '/v1/policies', { body: snpPolicy('client-policy') })).json().id;
  expect((await kw.request('PUT', `/v1/keys/${keyId}/policy`, { body: { policyId } })).statusCode).toBe(200);
  deniedKeyId = (await kw.request('POST', '/v1/keys', { body: { name: 'client-denied', kind: 'model' } })).json().id;
  const otherPolicy = (await kw.request('POST', '/v1/policies', { body: snpPolicy('client-other', 'c3'.repeat(48)) })).json().id;
  expect((await kw.request('PUT', `/v1/keys/${deniedKeyId}/policy`, { body: { policyId: otherPolicy } })).statusCode).toBe(200);
}, 120_000);
afterAll(async () => kw?.close());

describe.each([
  ['one-shot', true],
  ['attest+release', false],
] as const)('KeywardClient.releaseKey against keyward (%s)', (flow, oneShot) => {
  it.each(['x25519', 'p384', 'rsa'] as const)('returns exactly the key material with a %s TEE key', async (teeKey) => {
    const client = new KeywardClient({ baseUrl: `${url}/` });
    const released = await client.releaseKey(keyId, snpProvider(), { teeKey, oneShot });
    expect(released.keyId).toBe(keyId);
    expect(released.version).toBe(1);
    expect(released.plaintext).toEqual(material);
    expect(released.releaseId).toMatch(/^[0-9a-f-]{36}$/);
    expect(released.evidenceSource).toBe('test-snp');
    expect(released.flow).toBe(flow);
    expect(released.claims.cpu).toMatchObject({ tee: 'snp', measurement: MEASUREMENT, anchor: { source: 'extra' } });
  });

  it('releases exactly the data key that dataKey() returned, given its wrapped form', async () => {
    const client = new KeywardClient({ baseUrl: url, token: BOOTSTRAP_TOKEN });
    const dk = await client.dataKey(keyId);
    expect(dk).toMatchObject({ keyId, version: 1 });
    expect(dk.plaintext).toHaveLength(32);
    expect(dk.wrapped.startsWith(`kw1.${keyId}.1.`)).toBe(true);
    const released = await client.releaseKey(keyId, snpProvider(), { wrappedDataKey: dk.wrapped, oneShot });
    expect(released.plaintext).toEqual(dk.plaintext);
    expect(released.plaintext).not.toEqual(material);
  });

  it('surfaces a denial as ERR_POLICY_DENIED with status 403 and the request id, and does not run again', async () => {
    let collected = 0;
    const provider: EvidenceProvider = { name: 'counting', collect: async (bind) => (collected++, [await snp.evidence(bind)]) };
    const err = await rejection(new KeywardClient({ baseUrl: url }).releaseKey(deniedKeyId, provider, { oneShot }));
    expect(err.code).toBe('ERR_POLICY_DENIED');
    expect(err.httpStatus).toBe(403);
    expect(err.serverCode).toBe('ERR_POLICY_DENIED');
    expect(err.requestId).toMatch(/\S+/);
    expect(err.message).toContain(`(request id ${err.requestId})`);
    expect(collected).toBe(1);
    const audit = (await kw.request('GET', `/v1/audit?target=${deniedKeyId}&outcome=denied`)).json().items;
    expect(audit.at(-1).requestId).toBe(err.requestId);
  });

  it('surfaces evidence verdicts and unknown keys with their codes', async () => {
    const client = new KeywardClient({ baseUrl: url });
    const debug = await rejection(client.releaseKey(keyId, snpProvider({ debug: true }), { oneShot }));
    expect(debug.code).toBe('ERR_POLICY_DENIED');
    const missing = await rejection(client.releaseKey('00000000-0000-4000-8000-000000000000', snpProvider(), { oneShot }));
    expect(missing.code).toBe('ERR_KEY_NOT_FOUND');
    expect(missing.httpStatus).toBe(404);
  });
});

describe('KeywardClient protocol calls against keyward', () => {
  it('challenge, attest and release one by one; a nonce attested once is refused the second time', async () => {
    const client = new KeywardClient({ baseUrl: url });
    const { nonce, expiresAt } = await client.challenge();
    // Stateless: 32 random bytes, the expiry and an HMAC (72 bytes).
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{96}$/);
    expect(Date.parse(expiresAt)).toBeGreaterThan(0);
    const tee = createTeeKeyPair('p384');
    // The server's own binding function, not the client's.
    const evidence = [await snp.evidence(bindingFor(new Uint8Array(Buffer.from(nonce, 'base64url')), tee.thumbprint))];
    const attestation = await client.attest({ nonce, teePublicKey: tee.publicJwk, evidence });
    expect(attestation.claims.cpu).toMatchObject({ tee: 'snp', measurement: MEASUREMENT });
    expect(attestation.claims.gpus).toEqual([]);
    const replay = await rejection(client.attest({ nonce, teePublicKey: tee.publicJwk, evidence }));
    expect(replay.code).toBe('ERR_ATTEST_NONCE_REPLAYED');
    expect(replay.httpStatus).toBe(409);
    const released = await client.release(keyId, attestation.token);
    expect(released).toMatchObject({ keyId, version: 1 });
    expect(await tee.decrypt(released.jwe)).toEqual(material);
    const versioned = await client.release(keyId, attestation.token, { version: 1 });
    expect(await tee.decrypt(versioned.jwe)).toEqual(material);
  });

  it('evidence bound to another TEE key is ERR_EVIDENCE_BINDING_MISMATCH (422)', async () => {
    const client = new KeywardClient({ baseUrl: url });
    const { nonce } = await client.challenge();
    const tee = createTeeKeyPair();
    const err = await rejection(client.attest({ nonce, teePublicKey: tee.publicJwk, evidence: [await snp.evidence(binding(nonce, teeKeyPair()))] }));
    expect(err.code).toBe('ERR_EVIDENCE_BINDING_MISMATCH');
    expect(err.httpStatus).toBe(422);
  });

  it('dataKey needs a token: none is ERR_CLIENT_OPTIONS_INVALID, a wrong one ERR_AUTH_INVALID (401)', async () => {
    expect((await rejection(new KeywardClient({ baseUrl: url }).dataKey(keyId))).code).toBe('ERR_CLIENT_OPTIONS_INVALID');
    const wrong = await rejection(new KeywardClient({ baseUrl: url, token: 'not-a-token-0123456789abcdef' }).dataKey(keyId));
    expect(wrong.code).toBe('ERR_AUTH_INVALID');
    expect(wrong.httpStatus).toBe(401);
  });
});
