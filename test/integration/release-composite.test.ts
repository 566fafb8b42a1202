// The release protocol for TDX and composite CPU + GPU evidence, end to end over HTTP, with the dev CA's
// simulated evidence: the server trusts its roots (KEYWARD_EXTRA_ANCHORS) and loads its collateral (TDX
// TCB Info / QE Identity / CRLs, GPU RIMs) from KEYWARD_COLLATERAL_DIR, as `keyward dev ca` sets it up.
import { describe, expect, it, afterAll, beforeAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CompactEncrypt, importJWK, type JWK } from 'jose';
import { DB_KINDS } from '../helpers/db.js';
import { startTestKeyward, type TestKeyward } from '../helpers/keyward.js';
import { binding, openJwe, teeKeyPair } from '../helpers/tee.js';
import { releaseThrough } from '../helpers/release-flows.js';
import { openDevCa, type DevCa } from '../../src/dev/ca.js';
import { writeDevCaBundle } from '../../src/dev/ca-collateral.js';
import { createSimulatorProvider, SIMULATED_DEFAULTS } from '../../src/dev/simulator-provider.js';
import type { EvidenceProvider } from '../../src/agent/evidence/provider.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe.each(DB_KINDS)('TDX and CPU + GPU release on %s', (kind) => {
  let kw: TestKeyward;
  let ca: DevCa;
  const dir = mkdtempSync(join(tmpdir(), 'keyward-composite-'));
  const material = new Uint8Array(randomBytes(32));
  const keys: Record<string, string> = {};

  async function releaseWith(provider: EvidenceProvider, keyId: string) {
    const tee = teeKeyPair();
    const { nonce } = (await kw.request('POST', '/v1/challenge', { token: null })).json();
    const evidence = await provider.collect(binding(nonce, tee));
    const attest = await kw.request('POST', '/v1/attest', { token: null, body: { nonce, teePublicKey: tee.publicJwk, evidence } });
    expect(attest.statusCode, attest.body).toBe(200);
    const released = await kw.request('POST', `/v1/keys/${keyId}/release`, { token: attest.json().token });
    return { tee, attest: attest.json(), released };
  }

  async function keyWithPolicy(name: string, rules: { name: string; expr: string }[], refs: Record<string, unknown> = {}): Promise<string> {
    const jwk = (await kw.request('GET', '/v1/import-key')).json() as JWK;
    const jwe = await new CompactEncrypt(material).setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: jwk.kid as string }).encrypt(await importJWK(jwk, 'RSA-OAEP-256'));
    const key = (await kw.request('POST', '/v1/keys/import', { body: { name, kind: 'model', jwe } })).json();
    const policy = await kw.request('POST', '/v1/policies', { body: { name: `${name}-policy`, rules, refs } });
    expect(policy.statusCode, policy.body).toBe(201);
    await kw.request('PUT', `/v1/keys/${key.id}/policy`, { body: { policyId: policy.json().id } });
    return key.id;
  }

  beforeAll(async () => {
    const now = new Date();
    ca = await openDevCa({ dataDir: join(dir, 'data'), now, amdKeyAlgorithm: 'rsa-pss-2048' });
    const bundle = await writeDevCaBundle(ca, join(dir, 'bundle'), now);
    kw = await startTestKeyward(kind, { env: { KEYWARD_EXTRA_ANCHORS: bundle.anchorsDir, KEYWARD_COLLATERAL_DIR: bundle.collateralDir } });
    keys['tdx'] = await keyWithPolicy('tdx-model', [
      { name: 'tdx', expr: 'cpu.tee == "tdx"' },
      { name: 'no-debug', expr: '!cpu.debug && !cpu.tdAttributes.debug' },
      { name: 'tcb', expr: 'cpu.tcbStatus == "UpToDate"' },
      { name: 'image', expr: 'cpu.mrTd in refs.mrTd' },
    ], { mrTd: [hex(SIMULATED_DEFAULTS.tdxMrTd)] });
    keys['composite'] = await keyWithPolicy('snp-2gpu-model', [
      { name: 'image', expr: 'cpu.measurement in refs.images' },
      { name: 'gpu-count', expr: 'gpus.size() == 2' },
      { name: 'gpus-matched', expr: 'gpus.all(g, g.measurements.matched == g.measurements.total && g.measurements.total > 0)' },
      { name: 'gpus-cc', expr: 'gpus.all(g, g.ccMode && !g.debug)' },
    ], { images: [hex(SIMULATED_DEFAULTS.snpMeasurement)] });
    keys['eight'] = await keyWithPolicy('snp-8gpu-model', [{ name: 'gpu-count', expr: 'gpus.size() == 8' }]);
    keys['distinct'] = await keyWithPolicy('snp-2-distinct-gpus', [{ name: 'gpu-count', expr: 'gpuCount == 2' }]);
  }, 180_000);
  afterAll(async () => {
    await kw?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('releases to a TDX guest whose quote, TCB and MRTD the policy accepts', async () => {
    const { tee, attest, released } = await releaseWith(createSimulatorProvider({ tee: 'tdx', ca }), keys['tdx'] as string);
    expect(attest.claims.cpu).toMatchObject({ tee: 'tdx', tcbStatus: 'UpToDate', anchor: { source: 'extra', name: expect.stringContaining('SIMULATED') }, simulated: true });
    expect(released.statusCode, released.body).toBe(200);
    expect(await openJwe(released.json().jwe, tee)).toEqual(material);
  });

  it('releases to SNP + 2 GPUs only when every GPU verified, and says so in the token claims', async () => {
    const { tee, attest, released } = await releaseWith(createSimulatorProvider({ tee: 'snp', gpus: 2, ca }), keys['composite'] as string);
    expect(attest.claims.gpus).toHaveLength(2);
    expect([attest.claims.cpu.simulated, ...attest.claims.gpus.map((g: { simulated: boolean }) => g.simulated)]).toEqual([true, true, true]);
    expect(attest.claims.cpu.anchor).toMatchObject({ source: 'extra', spki: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(attest.claims.gpuTopology).toMatchObject({ gpuCount: 2, allMeasurementsMatched: true });
    expect(released.statusCode, released.body).toBe(200);
    expect(await openJwe(released.json().jwe, tee)).toEqual(material);
    const dk = (await kw.request('POST', `/v1/keys/${keys['composite']}/datakey`)).json();
    const second = await releaseWith(createSimulatorProvider({ tee: 'snp', gpus: 2, ca }), keys['composite'] as string);
    const withData = await kw.request('POST', `/v1/keys/${keys['composite']}/release`, { token: second.attest.token, body: { wrappedDataKey: dk.wrapped } });
    expect(Buffer.from(await openJwe(withData.json().jwe, second.tee)).toString('base64')).toBe(dk.plaintext);
  });

  it('denies the composite policy to SNP without GPUs, and an 8-GPU policy to 2 GPUs', async () => {
    const cpuOnly = await releaseWith(createSimulatorProvider({ tee: 'snp', ca }), keys['composite'] as string);
    expect(cpuOnly.released.json().code).toBe('ERR_POLICY_DENIED');
    const two = await releaseWith(createSimulatorProvider({ tee: 'snp', gpus: 2, ca }), keys['eight'] as string);
    expect(two.released.json().code).toBe('ERR_POLICY_DENIED');
  });

  it('refuses the evidence of one GPU sent eight times (ERR_EVIDENCE_DUPLICATE_DEVICE); gpuCount counts distinct GPUs', async () => {
    const tee = teeKeyPair();
    const { nonce } = (await kw.request('POST', '/v1/challenge', { token: null })).json();
    const [cpu, gpu] = await createSimulatorProvider({ tee: 'snp', gpus: 1, ca }).collect(binding(nonce, tee));
    const evidence = [cpu, ...Array.from({ length: 8 }, () => gpu)];
    const res = await kw.request('POST', '/v1/attest', { token: null, body: { nonce, teePublicKey: tee.publicJwk, evidence } });
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('ERR_EVIDENCE_DUPLICATE_DEVICE');
    const two = await releaseWith(createSimulatorProvider({ tee: 'snp', gpus: 2, ca }), keys['distinct'] as string);
    expect(two.released.statusCode, two.released.body).toBe(200);
    expect(new Set(two.attest.claims.gpus.map((g: { deviceId: string }) => g.deviceId)).size).toBe(2);
  });

  it('refuses a set whose GPU was bound to another nonce', async () => {
    const tee = teeKeyPair();
    const { nonce } = (await kw.request('POST', '/v1/challenge', { token: null })).json();
    const evidence = await createSimulatorProvider({ tee: 'snp', gpus: 2, ca }).collect(binding(nonce, tee));
    const other = await createSimulatorProvider({ tee: 'snp', gpus: 1, ca }).collect(new Uint8Array(64).fill(9));
    evidence[2] = other[1] as (typeof evidence)[number];
    const res = await kw.request('POST', '/v1/attest', { token: null, body: { nonce, teePublicKey: tee.publicJwk, evidence } });
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('ERR_EVIDENCE_BINDING_MISMATCH');
  });
  it('the one-shot release judges TDX and CPU + GPU evidence the same way, and wants exactly one CPU piece', async () => {
    const oneShot = (provider: EvidenceProvider, keyId: string, tee = teeKeyPair()) => releaseThrough(kw, 'one-shot', tee, (bind) => provider.collect(bind), keyId);
    const tdxTee = teeKeyPair();
    const tdx = await oneShot(createSimulatorProvider({ tee: 'tdx', ca }), keys['tdx'] as string, tdxTee);
    expect(tdx.statusCode, tdx.body).toBe(200);
    expect(await openJwe(tdx.json().jwe, tdxTee)).toEqual(material);
    const gpuTee = teeKeyPair();
    const composite = await oneShot(createSimulatorProvider({ tee: 'snp', gpus: 2, ca }), keys['composite'] as string, gpuTee);
    expect(composite.statusCode, composite.body).toBe(200);
    expect(await openJwe(composite.json().jwe, gpuTee)).toEqual(material);
    expect((await oneShot(createSimulatorProvider({ tee: 'snp', gpus: 2, ca }), keys['eight'] as string)).json().code).toBe('ERR_POLICY_DENIED');

    const tee = teeKeyPair();
    const { nonce } = (await kw.request('POST', '/v1/challenge', { token: null })).json();
    const [cpu, gpu] = await createSimulatorProvider({ tee: 'snp', gpus: 1, ca }).collect(binding(nonce, tee));
    const send = (evidence: unknown[]) => kw.request('POST', '/v1/release', { token: null, body: { nonce, teePublicKey: tee.publicJwk, evidence, keys: [{ keyId: keys['distinct'] }] } });
    const gpuOnly = await send([gpu]);
    expect(gpuOnly.statusCode).toBe(400);
    expect(gpuOnly.json().code).toBe('ERR_EVIDENCE_SET_INVALID');
    const duplicated = await send([cpu, ...Array.from({ length: 8 }, () => gpu)]);
    expect(duplicated.statusCode).toBe(422);
    expect(duplicated.json().code).toBe('ERR_EVIDENCE_DUPLICATE_DEVICE');
  });
});
