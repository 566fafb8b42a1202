// The release protocol end to end over HTTP (docs/design.md "Release protocol"): challenge → attest → token →
// policy → JWE, with evidence from a look-alike AMD PKI configured as an extra anchor. The JWE must open with
// the TEE's private key to the exact key material (imported, so known) and the exact data key; every refusal
// has its code, and every release and denial its audit row.
import { describe, expect, it, afterAll, beforeAll } from 'vitest';
import { randomBytes } from 'node:crypto';
import { CompactEncrypt, importJWK, decodeProtectedHeader, type JWK } from 'jose';
import { DB_KINDS } from '../helpers/db.js';
import { startTestKeyward, type TestKeyward } from '../helpers/keyward.js';
import { binding, createTestSnpPlatform, openJwe, snpPolicy, teeKeyPair, MEASUREMENT, type TestSnpPlatform, type TeeKeyPair } from '../helpers/tee.js';
import type { Clock } from '../../src/clock.js';
import { RELEASE_FLOWS, releaseThrough, type ReleaseAsk } from '../helpers/release-flows.js';

class TestClock implements Clock {
  offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
}

describe.each(DB_KINDS)('release protocol on %s', (kind) => {
  let kw: TestKeyward;
  let snp: TestSnpPlatform;
  let keyId: string;
  let policyId: string;
  const material = new Uint8Array(randomBytes(32));
  const clock = new TestClock();

  async function attest(tee: TeeKeyPair, opts: Parameters<TestSnpPlatform['evidence']>[1] = {}, bindTo?: TeeKeyPair) {
    const challenge = await kw.request('POST', '/v1/challenge', { token: null });
    expect(challenge.statusCode).toBe(201);
    const { nonce } = challenge.json();
    const evidence = [await snp.evidence(binding(nonce, bindTo ?? tee), opts)];
    return { nonce, evidence, res: await kw.request('POST', '/v1/attest', { token: null, body: { nonce, teePublicKey: tee.publicJwk, evidence } }) };
  }

  async function tokenFor(tee: TeeKeyPair, opts: Parameters<TestSnpPlatform['evidence']>[1] = {}): Promise<string> {
    const { res } = await attest(tee, opts);
    expect(res.statusCode, res.body).toBe(200);
    return res.json().token;
  }

  /** Releases `id` to `tee` through `flow` with fresh evidence (options of the simulated SNP report). */
  function releaseVia(flow: (typeof RELEASE_FLOWS)[number], tee: TeeKeyPair, id: string, ask: ReleaseAsk = {}, opts: Parameters<TestSnpPlatform['evidence']>[1] = {}) {
    return releaseThrough(kw, flow, tee, async (bind) => [await snp.evidence(bind, opts)], id, ask);
  }

  function release(token: string | null, id: string, body?: unknown) {
    return kw.request('POST', `/v1/keys/${id}/release`, { token, ...(body !== undefined ? { body } : {}) });
  }

  beforeAll(async () => {
    snp = await createTestSnpPlatform();
    kw = await startTestKeyward(kind, { env: { ...snp.env }, clock });
    const jwk = (await kw.request('GET', '/v1/import-key')).json() as JWK;
    const jwe = await new CompactEncrypt(material).setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: jwk.kid as string }).encrypt(await importJWK(jwk, 'RSA-OAEP-256'));
    keyId = (await kw.request('POST', '/v1/keys/import', { body: { name: 'llama-weights', kind: 'model', jwe } })).json().id;
    const policy = await kw.request('POST', '/v1/policies', { body: snpPolicy('llama-prod') });
    expect(policy.statusCode, policy.body).toBe(201);
    policyId = policy.json().id;
    const bound = await kw.request('PUT', `/v1/keys/${keyId}/policy`, { body: { policyId } });
    expect(bound.json().policyId).toBe(policyId);
  }, 120_000);
  afterAll(async () => kw?.close());

  it('answers attest with the normalized claims the token carries', async () => {
    const { res } = await attest(teeKeyPair());
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().claims.cpu).toMatchObject({ tee: 'snp', measurement: MEASUREMENT, debug: false, anchor: { source: 'extra' } });
    expect(res.json().claims.gpus).toEqual([]);
  });

  it.each(RELEASE_FLOWS)('releases the exact key material as a JWE that only the TEE key opens (%s)', async (flow) => {
    for (const keyKind of ['x25519', 'p384', 'rsa'] as const) {
      const tee = teeKeyPair(keyKind);
      const released = await releaseVia(flow, tee, keyId);
      expect(released.statusCode, released.body).toBe(200);
      expect(released.json()).toMatchObject({ keyId, version: 1, releaseId: expect.any(String) });
      const header = decodeProtectedHeader(released.json().jwe);
      expect(header).toMatchObject({ alg: keyKind === 'rsa' ? 'RSA-OAEP-256' : 'ECDH-ES+A256KW', enc: 'A256GCM' });
      expect(await openJwe(released.json().jwe, tee)).toEqual(material);
      await expect(openJwe(released.json().jwe, teeKeyPair(keyKind))).rejects.toThrow();
    }
  });

  it.each(RELEASE_FLOWS)('releases a data key (wrappedDataKey) instead of the key, to the exact data key (%s)', async (flow) => {
    const dk = (await kw.request('POST', `/v1/keys/${keyId}/datakey`)).json();
    const tee = teeKeyPair();
    const released = await releaseVia(flow, tee, keyId, { wrappedDataKey: dk.wrapped });
    expect(released.statusCode, released.body).toBe(200);
    expect(Buffer.from(await openJwe(released.json().jwe, tee)).toString('base64')).toBe(dk.plaintext);
    const other = (await kw.request('POST', '/v1/keys', { body: { name: `other-key-${flow}`, kind: 'model' } })).json();
    const otherDk = (await kw.request('POST', `/v1/keys/${other.id}/datakey`)).json();
    const mismatched = await releaseVia(flow, tee, keyId, { wrappedDataKey: otherDk.wrapped });
    expect(mismatched.json().code).toBe('ERR_DATAKEY_INVALID');
    const flipped = dk.wrapped.slice(0, -3) + (dk.wrapped.endsWith('A') ? 'BAA' : 'AAA');
    expect((await releaseVia(flow, tee, keyId, { wrappedDataKey: flipped })).json().code).toBe('ERR_DATAKEY_INVALID');
  });

  it('publishes the signing key of its tokens in the JWKS', async () => {
    const token = await tokenFor(teeKeyPair());
    const kid = JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString()).kid;
    const jwks = (await kw.request('GET', '/.well-known/jwks.json', { token: null })).json();
    expect(jwks.keys.map((k: { kid: string }) => k.kid)).toContain(kid);
    expect(jwks.keys.every((k: Record<string, unknown>) => !('d' in k))).toBe(true);
  });

  it.each(RELEASE_FLOWS)('denies with ERR_POLICY_DENIED only, and audits the reasons: wrong measurement, debug, low TCB (%s)', async (flow) => {
    const cases: [string, Parameters<TestSnpPlatform['evidence']>[1]][] = [
      ['image', { measurement: 'b2'.repeat(48) }],
      ['no-debug', { debug: true }],
      ['tcb', { tcb: { bootloader: 4, tee: 0, snp: 8, microcode: 219 } }],
      ['vmpl0', { vmpl: 2 }],
    ];
    for (const [rule, opts] of cases) {
      const res = await releaseVia(flow, teeKeyPair(), keyId, {}, opts);
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ code: 'ERR_POLICY_DENIED', detail: 'The release policy does not allow this workload.' });
      expect(res.body).not.toContain(rule);
      const audit = (await kw.request('GET', `/v1/audit?target=${keyId}&outcome=denied&limit=1000`)).json().items;
      const last = audit[audit.length - 1];
      expect(last.details).toMatchObject({ code: 'ERR_POLICY_DENIED', policyId, policyVersion: 1 });
      expect(last.details.reasons.map((r: { name: string }) => r.name)).toEqual([rule]);
    }
  });

  it('refuses evidence bound to another TEE key, replayed, expired and unknown nonces with distinct codes', async () => {
    const tee = teeKeyPair();
    const other = await attest(tee, {}, teeKeyPair());
    expect(other.res.statusCode).toBe(422);
    expect(other.res.json().code).toBe('ERR_EVIDENCE_BINDING_MISMATCH');
    // That failed attempt consumed its nonce.
    const again = await kw.request('POST', '/v1/attest', { token: null, body: { nonce: other.nonce, teePublicKey: tee.publicJwk, evidence: [await snp.evidence(binding(other.nonce, tee))] } });
    expect(again.json().code).toBe('ERR_ATTEST_NONCE_REPLAYED');

    const ok = await attest(tee);
    expect(ok.res.statusCode).toBe(200);
    const replay = await kw.request('POST', '/v1/attest', { token: null, body: { nonce: ok.nonce, teePublicKey: tee.publicJwk, evidence: ok.evidence } });
    expect(replay.statusCode).toBe(409);
    expect(replay.json().code).toBe('ERR_ATTEST_NONCE_REPLAYED');

    const { nonce } = (await kw.request('POST', '/v1/challenge', { token: null })).json();
    clock.offsetMs = 6 * 60 * 1000;
    try {
      const expired = await kw.request('POST', '/v1/attest', { token: null, body: { nonce, teePublicKey: tee.publicJwk, evidence: [await snp.evidence(binding(nonce, tee))] } });
      expect(expired.json().code).toBe('ERR_ATTEST_NONCE_EXPIRED');
    } finally {
      clock.offsetMs = 0;
    }
    const unknownNonce = randomBytes(32).toString('base64url');
    const unknown = await kw.request('POST', '/v1/attest', { token: null, body: { nonce: unknownNonce, teePublicKey: tee.publicJwk, evidence: [await snp.evidence(binding(unknownNonce, tee))] } });
    expect(unknown.json().code).toBe('ERR_ATTEST_NONCE_UNKNOWN');
    expect((await kw.request('POST', '/v1/attest', { token: null, body: { nonce: 'short', teePublicKey: tee.publicJwk, evidence: ok.evidence } })).json().code).toBe(
      'ERR_ATTEST_NONCE_MALFORMED',
    );
  });

  it('refuses tampered, expired and missing tokens, private TEE keys and untrusted evidence', async () => {
    const tee = teeKeyPair();
    const token = await tokenFor(tee);
    const [h, p, s] = token.split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
    payload.cpu.measurement = 'b2'.repeat(48);
    const forged = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
    expect((await release(forged, keyId)).json().code).toBe('ERR_ATTEST_TOKEN_INVALID');
    // Flip one whole byte of the signature (not the last base64url characters, whose low bits are padding).
    const sig = Buffer.from(s, 'base64url');
    sig[10] = sig[10]! ^ 0xff;
    expect((await release(`${h}.${p}.${sig.toString('base64url')}`, keyId)).json().code).toBe('ERR_ATTEST_TOKEN_INVALID');
    const missing = await release(null, keyId);
    expect(missing.statusCode).toBe(401);
    expect(missing.json().code).toBe('ERR_ATTEST_TOKEN_REQUIRED');
    clock.offsetMs = 10 * 60 * 1000;
    try {
      expect((await release(token, keyId)).json().code).toBe('ERR_ATTEST_TOKEN_EXPIRED');
    } finally {
      clock.offsetMs = 0;
    }
    const { nonce } = (await kw.request('POST', '/v1/challenge', { token: null })).json();
    const priv = tee.privateKey.export({ format: 'jwk' });
    const leaked = await kw.request('POST', '/v1/attest', { token: null, body: { nonce, teePublicKey: priv, evidence: [await snp.evidence(binding(nonce, tee))] } });
    expect(leaked.json().code).toBe('ERR_ATTEST_KEY_INVALID');
    const stranger = await createTestSnpPlatform();
    const n2 = (await kw.request('POST', '/v1/challenge', { token: null })).json().nonce;
    const untrusted = await kw.request('POST', '/v1/attest', { token: null, body: { nonce: n2, teePublicKey: tee.publicJwk, evidence: [await stranger.evidence(binding(n2, tee))] } });
    expect(untrusted.statusCode).toBe(422);
    expect(untrusted.json().code).toBe('ERR_CHAIN_UNTRUSTED_ROOT');
  });

  it.each(RELEASE_FLOWS)('never releases a key without a policy, a disabled key or a destroyed key (%s)', async (flow) => {
    const tee = teeKeyPair();
    const bare = (await kw.request('POST', '/v1/keys', { body: { name: `no-policy-${flow}`, kind: 'dataset' } })).json();
    const noPolicy = await releaseVia(flow, tee, bare.id);
    expect(noPolicy.statusCode).toBe(403);
    expect(noPolicy.json().code).toBe('ERR_POLICY_NOT_BOUND');
    const k = (await kw.request('POST', '/v1/keys', { body: { name: `to-disable-${flow}`, kind: 'dataset' } })).json();
    await kw.request('PUT', `/v1/keys/${k.id}/policy`, { body: { policyId } });
    await kw.request('POST', `/v1/keys/${k.id}/disable`);
    expect((await releaseVia(flow, tee, k.id)).json().code).toBe('ERR_KEY_DISABLED');
    await kw.request('DELETE', `/v1/keys/${k.id}`);
    const destroyed = await releaseVia(flow, tee, k.id);
    expect(destroyed.statusCode).toBe(410);
    expect(destroyed.json().code).toBe('ERR_KEY_DESTROYED');
    expect((await releaseVia(flow, tee, '00000000-0000-4000-8000-000000000000')).json().code).toBe('ERR_KEY_NOT_FOUND');
  });

  it('type-checks policies when saved, keeps versions, and records which version decided', async () => {
    const typo = await kw.request('POST', '/v1/policies', { body: { name: 'typo', rules: [{ name: 'm', expr: 'cpu.measurment == "x"' }] } });
    expect(typo.statusCode).toBe(422);
    expect(typo.json().code).toBe('ERR_POLICY_TYPE');
    expect(typo.json().problems[0]).toMatchObject({ rule: 'm', line: 1 });
    const yaml = 'name: yaml-policy\nrules:\n  - name: snp\n    expr: cpu.tee == "snp" && !cpu.debug\n';
    const fromYaml = await kw.request('POST', '/v1/policies', { rawBody: yaml, headers: { 'content-type': 'application/yaml' } });
    expect(fromYaml.statusCode, fromYaml.body).toBe(201);
    expect(fromYaml.json()).toMatchObject({ name: 'yaml-policy', version: 1 });
    const dupe = await kw.request('POST', '/v1/policies', { rawBody: yaml, headers: { 'content-type': 'application/yaml' } });
    expect(dupe.json()).toMatchObject({ code: 'ERR_POLICY_NAME_TAKEN', existingId: fromYaml.json().id });

    const k = (await kw.request('POST', '/v1/keys', { body: { name: 'versioned', kind: 'model' } })).json();
    const p = (await kw.request('POST', '/v1/policies', { body: snpPolicy('versioned-policy', 'c3'.repeat(48)) })).json();
    await kw.request('PUT', `/v1/keys/${k.id}/policy`, { body: { policyId: p.id } });
    expect((await release(await tokenFor(teeKeyPair()), k.id)).json().code).toBe('ERR_POLICY_DENIED');
    const v2 = await kw.request('PUT', `/v1/policies/${p.id}`, { body: snpPolicy('versioned-policy') });
    expect(v2.json().version).toBe(2);
    const ok = await release(await tokenFor(teeKeyPair()), k.id);
    expect(ok.statusCode, ok.body).toBe(200);
    const audit = (await kw.request('GET', `/v1/audit?target=${k.id}&action=key.release`)).json().items;
    expect(audit.map((e: { outcome: string; details: { policyVersion: number } }) => [e.outcome, e.details.policyVersion])).toEqual([
      ['denied', 1],
      ['success', 2],
    ]);
    expect(audit[1].details).toMatchObject({ releaseId: ok.json().releaseId, version: 1, what: 'key' });
    expect((await kw.request('GET', `/v1/policies/${p.id}?version=1`)).json().document.refs.images).toEqual(['c3'.repeat(48)]);
    expect((await kw.request('DELETE', `/v1/policies/${p.id}`)).json().code).toBe('ERR_POLICY_IN_USE');
    await kw.request('PUT', `/v1/keys/${k.id}/policy`, { body: { policyId: null } });
    expect((await kw.request('DELETE', `/v1/policies/${p.id}`)).statusCode).toBe(204);
    expect((await kw.request('GET', `/v1/policies/${p.id}`)).json().code).toBe('ERR_POLICY_NOT_FOUND');
  });

  it('explains a dry run over claims and over raw evidence', async () => {
    const tee = teeKeyPair();
    const { nonce } = (await kw.request('POST', '/v1/challenge', { token: null })).json();
    const evidence = [await snp.evidence(binding(nonce, tee), { debug: true })];
    const dry = await kw.request('POST', `/v1/policies/${policyId}/evaluate`, { body: { evidence } });
    expect(dry.statusCode, dry.body).toBe(200);
    expect(dry.json()).toMatchObject({ allowed: false, policyId, version: 1 });
    const noDebug = dry.json().rules.find((r: { name: string }) => r.name === 'no-debug');
    expect(noDebug).toEqual({ name: 'no-debug', outcome: 'fail', reads: { 'cpu.debug': true } });
    const claims = { cpu: { ...(await kw.request('POST', `/v1/attest`, { token: null, body: { nonce, teePublicKey: tee.publicJwk, evidence: [await snp.evidence(binding(nonce, tee))] } })).json().claims.cpu } };
    const fromClaims = await kw.request('POST', `/v1/policies/${policyId}/evaluate`, { body: { claims } });
    expect(fromClaims.json().allowed).toBe(true);
  });

  it('writes no key material into audit rows', async () => {
    const audit = (await kw.request('GET', '/v1/audit?limit=1000')).body;
    expect(audit.includes(Buffer.from(material).toString('hex'))).toBe(false);
    expect(audit.includes(Buffer.from(material).toString('base64').replace(/=+$/, ''))).toBe(false);
    expect(audit.includes(Buffer.from(material).toString('base64url'))).toBe(false);
    expect(kw.logs.join('\n').includes(Buffer.from(material).toString('base64url'))).toBe(false);
  });
});

describe('rate limits on the workload endpoints', () => {
  it('answers 429 with Retry-After once a client address spends its budget', async () => {
    // Budgets count in one-minute windows: a clock standing 10 s into one keeps the test inside it.
    const clock = { now: () => new Date(Math.floor(Date.now() / 60_000) * 60_000 + 10_000) };
    const kw = await startTestKeyward('pglite', { env: { KEYWARD_RATE_LIMIT: '3' }, clock });
    try {
      const statuses: number[] = [];
      let limited;
      for (let i = 0; i < 5; i++) {
        const res = await kw.request('POST', '/v1/challenge', { token: null });
        statuses.push(res.statusCode);
        if (res.statusCode === 429) limited = res;
      }
      expect(statuses).toEqual([201, 201, 201, 429, 429]);
      expect(limited?.json().code).toBe('ERR_RATE_LIMITED');
      expect(Number(limited?.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    } finally {
      await kw.close();
    }
  });
});
