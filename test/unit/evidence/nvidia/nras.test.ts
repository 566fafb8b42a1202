import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EvidenceError } from '../../../../src/errors.js';
import { randomBytes } from 'node:crypto';
import type { JWK } from 'jose';
import { readVector } from '../../../helpers/vectors.js';
import { verifyEvidence, verifyEvidenceSet } from '../../../../src/evidence/verify.js';
import { verifyNvidiaNrasEvidence } from '../../../../src/evidence/nvidia/nras.js';
import { verifyGpuReport } from '../../../../src/evidence/nvidia/report.js';
import { summarizeGpus } from '../../../../src/evidence/nvidia/topology.js';
import type { NvidiaGpuClaims } from '../../../../src/evidence/nvidia/claims.js';
import { emptyCollateral } from '../../../../src/collateral/recognize.js';
import { createTrustAnchors, uploadedAnchors, vendorAnchors, withAnchors } from '../../../../src/evidence/anchors.js';
import { createNvidiaDevPki } from '../../../../src/dev/nvidia.js';
import { createDevNrasKey, devNrasGpuClaims, mintNrasResult, type DevNrasKey } from '../../../../src/dev/nvidia-nras.js';
import { mintNvidiaGpuEvidence } from '../../../../src/dev/nvidia-evidence.js';
import type { EvidenceItem } from '../../../../src/evidence/types.js';
import { codeOf, ctx, errorOf, hex, nvText, vector } from './fixtures.js';

const jwks = JSON.parse(nvText('nras-jwks/nras_jwks_2026-06-29T0208Z.json')) as { keys: JWK[] };
const H = 'h200-595.71.05-nras-e2e';
const h = vector(H);
const token = nvText(`${H}/nras_response.json`);
const item = { type: 'nvidia-nras' as const, token };
/** NVIDIA's JWKS of that day configured as trusted signers (KEYWARD_EXTRA_ANCHORS), and handed over as collateral. */
const trustingNvidia = createTrustAnchors([], { signingKeys: jwks.keys });
const nrasCtx = (at: string | Date, more = {}, keys = [jwks]) => ctx(at, { jwks: keys }, more, trustingNvidia);
const NONCE = hex(h.nonce as string);

function swapSegment(jwt: string, part: 0 | 1 | 2, edit: (s: string) => string): string {
  const parts = jwt.split('.');
  parts[part] = edit(parts[part] as string);
  return parts.join('.');
}

const flipChar = (s: string, at = 10): string => s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1);

describe('nvidia-nras on the real H200 result (JWKS archived the same hour)', () => {
  it('verifies at its time and maps the GPU token to claims', async () => {
    const result = await verifyEvidence(item, nrasCtx(h.verification_time, { expectedNonce: NONCE }));
    const claims = result.claims as NvidiaGpuClaims;
    expect(claims).toMatchObject({
      tee: 'nvidia-gpu',
      source: 'nras',
      arch: 'hopper',
      chip: 'GH100',
      deviceType: 'gpu',
      nonce: h.nonce,
      driverVersion: '595.71.05',
      vbiosVersion: '96.00.d9.00.02',
      debug: false,
      ccMode: true,
      hwmodel: 'GH100',
      revocation: 'not-checked',
      measurements: { matched: 0, total: 0, mismatchedIndices: [] },
    });
    expect(claims.anchor).toMatchObject({ source: 'extra', name: expect.stringMatching(/^JWKS key nv-eat-kid-prod-/) });
    expect(claims.simulated).toBe(false);
    expect(claims.devices?.length).toBe(1);
    const window = h['verification_window'] as { not_before: string; not_after: string };
    expect(result.validFrom.toISOString()).toBe(new Date(window.not_before).toISOString());
    expect(result.validUntil.toISOString()).toBe(new Date(window.not_after).toISOString());
  });

  it('names the same GPU as the report it attested (ueid = leaf serial)', async () => {
    const local = verifyGpuReport(readVector('nvidia', `${H}/attestation_report.bin`), nvText(`${H}/device_cert_chain.pem`), ctx(h.verification_time, {}, { expectedNonce: NONCE }));
    const result = await verifyNvidiaNrasEvidence(item, nrasCtx(h.verification_time));
    expect(result.claims.ueid).toBe(local.ueid);
  });

  it('states no OCSP status for every chain: ERR_COLLATERAL_REVOCATION_UNAVAILABLE (422) when revocation is required', async () => {
    const result = await verifyNvidiaNrasEvidence(item, nrasCtx(h.verification_time));
    expect([result.claims.revocation, result.claims.revocationChecked]).toEqual(['not-checked', false]);
    expect(await codeOf(() => verifyNvidiaNrasEvidence(item, nrasCtx(h.verification_time, { revocation: 'required' })))).toBe('ERR_COLLATERAL_REVOCATION_UNAVAILABLE');
  });

  it('refuses a result whose signing key is only in the collateral (an uploaded JWKS is no trust anchor)', async () => {
    const untrusted = ctx(h.verification_time, { jwks: [jwks] }, { expectedNonce: NONCE });
    expect(await codeOf(() => verifyNvidiaNrasEvidence(item, untrusted))).toBe('ERR_NRAS_SIGNER_UNTRUSTED');
    // Trusted keys need not travel as collateral: the configured JWKS alone verifies the result.
    expect((await verifyNvidiaNrasEvidence(item, ctx(h.verification_time, {}, {}, trustingNvidia))).claims.source).toBe('nras');
  });

  it('refuses another nonce, a time outside nbf..exp, and a missing JWKS', async () => {
    expect(await codeOf(() => verifyNvidiaNrasEvidence(item, nrasCtx(h.verification_time, { expectedNonce: randomBytes(32) })))).toBe('ERR_EVIDENCE_NONCE_MISMATCH');
    const window = h['verification_window'] as { not_before: string; not_after: string };
    expect(await codeOf(() => verifyNvidiaNrasEvidence(item, nrasCtx(new Date(new Date(window.not_after).getTime() + 1000))))).toBe('ERR_NRAS_TOKEN_EXPIRED');
    expect(await codeOf(() => verifyNvidiaNrasEvidence(item, nrasCtx(new Date(new Date(window.not_before).getTime() - 1000))))).toBe('ERR_NRAS_TOKEN_NOT_YET_VALID');
    expect(await codeOf(() => verifyNvidiaNrasEvidence(item, ctx(h.verification_time, {}, {})))).toBe('ERR_COLLATERAL_MISSING');
  });

  it('refuses a flipped signature, payload or device token', async () => {
    const [[, overall], devices] = JSON.parse(token) as [[string, string], Record<string, string>];
    const rebuild = (o: string, d: Record<string, string>) => ({ type: 'nvidia-nras' as const, token: JSON.stringify([['JWT', o], d]) });
    const at = nrasCtx(h.verification_time);
    expect(await codeOf(() => verifyNvidiaNrasEvidence(rebuild(swapSegment(overall, 2, flipChar), devices), at))).toBe('ERR_NRAS_SIGNATURE_INVALID');
    const forgedPayload = swapSegment(overall, 1, (p) => Buffer.from(Buffer.from(p, 'base64url').toString().replace('"x-nvidia-ver":"2.0"', '"x-nvidia-ver":"2.1"')).toString('base64url'));
    expect(await codeOf(() => verifyNvidiaNrasEvidence(rebuild(forgedPayload, devices), at))).toBe('ERR_NRAS_SIGNATURE_INVALID');
    const gpu0 = devices['GPU-0'] as string;
    expect(await codeOf(() => verifyNvidiaNrasEvidence(rebuild(overall, { 'GPU-0': swapSegment(gpu0, 2, flipChar) }), at))).toBe('ERR_NRAS_SUBMODS_MISMATCH');
    expect(await codeOf(() => verifyNvidiaNrasEvidence(rebuild(overall, { 'GPU-0': gpu0, 'GPU-1': gpu0 }), at))).toBe('ERR_NRAS_SUBMODS_MISMATCH');
    expect(await codeOf(() => verifyNvidiaNrasEvidence(rebuild(overall, { 'GPU-1': gpu0 }), at))).toBe('ERR_NRAS_SUBMODS_MISMATCH');
  });

  it('refuses a JWKS key whose x5c certificate holds another key', async () => {
    const kid = JSON.parse(Buffer.from((JSON.parse(token)[0][1] as string).split('.')[0] as string, 'base64url').toString()).kid as string;
    const other = jwks.keys.find((k) => k.kid !== kid) as JWK;
    const keys = jwks.keys.map((k) => (k.kid === kid ? { ...k, x5c: other.x5c } : k));
    const trustingOnly = (set: JWK[]) => ctx(h.verification_time, { jwks: [{ keys: set }] }, {}, createTrustAnchors([], { signingKeys: set }));
    expect(await codeOf(() => verifyNvidiaNrasEvidence(item, trustingOnly(keys)))).toBe('ERR_NRAS_KEY_INVALID');
    // A broken copy in the collateral does not hide the configured key.
    expect((await verifyNvidiaNrasEvidence(item, nrasCtx(h.verification_time, {}, [{ keys }]))).claims.source).toBe('nras');
    const noX5c = jwks.keys.map((k) => (k.kid === kid ? { ...k, x5c: undefined } : k));
    expect((await verifyNvidiaNrasEvidence(item, trustingOnly(noX5c))).claims.driverVersion).toBe('595.71.05');
  });

  it('refuses malformed results', async () => {
    for (const bad of ['', '{}', '[]', '[["JWT","x.y.z"],{}]', JSON.stringify([['JWS', 'a.b.c'], { 'GPU-0': 'a.b.c' }]), JSON.stringify([['JWT', 'a.b.c'], { '../x': 'a.b.c' }])]) {
      expect(await codeOf(() => verifyNvidiaNrasEvidence({ type: 'nvidia-nras', token: bad }, nrasCtx(h.verification_time)))).toBe('ERR_NRAS_MALFORMED');
    }
  });
});

describe('nvidia-nras properties', () => {
  it('character edits anywhere in a real result only ever produce a typed error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(token.length - 1), fc.constantFrom('A', 'z', '0', '.', '"', '-', '_', '['), async (offset, ch) => {
        const edited = token.slice(0, offset) + ch + token.slice(offset + 1);
        try {
          await verifyNvidiaNrasEvidence({ type: 'nvidia-nras', token: edited }, nrasCtx(h.verification_time, { expectedNonce: NONCE }));
        } catch (err) {
          expect(err).toBeInstanceOf(EvidenceError);
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('nvidia-nras on the real negatives', () => {
  it('the signed "false" result for a nonce the GPUs did not sign: ERR_EVIDENCE_NONCE_MISMATCH', async () => {
    const N = 'h200-8gpu-595.71.05-nras-nonce-mismatch';
    const v = vector(N);
    const negative = { type: 'nvidia-nras' as const, token: nvText(`${N}/nras_response.json`) };
    expect(await codeOf(() => verifyNvidiaNrasEvidence(negative, nrasCtx(v.verification_time, { expectedNonce: hex(v.nonce as string) })))).toBe('ERR_EVIDENCE_NONCE_MISMATCH');
    expect(await codeOf(() => verifyNvidiaNrasEvidence(negative, nrasCtx(v.verification_time)))).toBe('ERR_EVIDENCE_NONCE_MISMATCH');
  });

  it('the staging NVSwitch token is refused by issuer', async () => {
    const staging = { type: 'nvidia-nras' as const, token: nvText('nvswitch-ls10-96.10.55.00.01-e2e/nras_detached_eat.json') };
    expect(await codeOf(() => verifyNvidiaNrasEvidence(staging, nrasCtx('2025-06-29T00:00:00Z')))).toBe('ERR_NRAS_ISSUER_UNTRUSTED');
  });

  it('the H100 v4 token cannot be checked without the JWKS of its day', async () => {
    const v4 = { type: 'nvidia-nras' as const, token: nvText('hopper-550.90.07-e2e/nras_detached_eat.json') };
    expect(await codeOf(() => verifyNvidiaNrasEvidence(v4, nrasCtx('2025-06-11T00:31:00Z')))).toBe('ERR_COLLATERAL_MISSING');
  });
});

describe('nvidia-nras with a test signing key', () => {
  let key: DevNrasKey;
  const now = new Date('2026-03-01T10:00:00Z');
  const nonce = new Uint8Array(randomBytes(32));
  const gpus = (n: number, over: Record<string, unknown> = {}) =>
    Array.from({ length: n }, (_, i) => ({ name: `GPU-${i}`, claims: { ...devNrasGpuClaims({ driverVersion: '570.124.06', vbiosVersion: '96.00.9f.00.01', ueid: String(1000 + i) }), ...over } }));
  /** The test key trusted as KEYWARD_EXTRA_ANCHORS would trust a JWKS file. */
  const trusting = (...more: Uint8Array[]) => createTrustAnchors(more, { signingKeys: [key.jwk] });
  const verifyDev = async (t: string, more = {}) =>
    verifyNvidiaNrasEvidence({ type: 'nvidia-nras', token: t }, ctx(now, { jwks: [{ keys: [key.jwk] }] }, { expectedNonce: nonce, ...more }, trusting()));

  beforeAll(async () => {
    key = await createDevNrasKey();
  });

  it('maps eight devices, with per-chain OCSP "good" as revocation checked', async () => {
    const result = await verifyDev(await mintNrasResult({ key, nonce, devices: gpus(8), now }), { revocation: 'required' });
    expect(result.claims.revocationChecked).toBe(true);
    expect(result.claims.devices?.map((d) => d.ueid)).toEqual(['1000', '1001', '1002', '1003', '1004', '1005', '1006', '1007']);
    expect(result.claims).toMatchObject({ revocation: 'checked', revocationCoverage: { checked: 3, required: 3 }, hwmodel: 'GH100 A01 GSP BROM' });
    expect(summarizeGpus([result.claims])).toMatchObject({ gpuCount: 8, allMeasurementsMatched: true, sameDriver: true, allCcMode: true, allRevocationChecked: true });
  });

  it('orders GPU-10 after GPU-9', async () => {
    const result = await verifyDev(await mintNrasResult({ key, nonce, devices: gpus(11), now }));
    expect(result.claims.devices?.at(-1)?.ueid).toBe('1010');
  });

  it('flags debug GPUs and refuses failed measurements, revoked chains and failed results', async () => {
    const debug = await verifyDev(await mintNrasResult({ key, nonce, devices: gpus(1, { dbgstat: 'enabled' }), now }));
    expect([debug.claims.debug, debug.claims.ccMode]).toEqual([true, false]);
    expect(await codeOf(async () => verifyDev(await mintNrasResult({ key, nonce, devices: gpus(2, { measres: 'fail' }), now })))).toBe('ERR_NVIDIA_MEASUREMENT_MISMATCH');
    const refuted = { 'x-nvidia-gpu-attestation-report-nonce-match': false };
    expect(await codeOf(async () => verifyDev(await mintNrasResult({ key, nonce, devices: gpus(1, refuted), now })))).toBe('ERR_EVIDENCE_NONCE_MISMATCH');
    const revoked = { 'x-nvidia-gpu-attestation-report-cert-chain': { 'x-nvidia-cert-ocsp-status': 'revoked' } };
    expect(await codeOf(async () => verifyDev(await mintNrasResult({ key, nonce, devices: gpus(1, revoked), now })))).toBe('ERR_CHAIN_REVOKED');
    const failedResult = await mintNrasResult({ key, nonce, devices: gpus(1, { 'x-nvidia-error-details': { code: 5000, message: 'RIM_FETCH_FAILED' } }), now, overallResult: false });
    const failed = await errorOf(() => verifyDev(failedResult));
    expect([failed.code, failed.extra]).toEqual(['ERR_NRAS_ATTESTATION_FAILED', { nrasErrors: ['RIM_FETCH_FAILED'] }]);
  });

  it('refuses unknown device models, foreign issuers and non-ES384 keys', async () => {
    expect(await codeOf(async () => verifyDev(await mintNrasResult({ key, nonce, devices: gpus(1, { hwmodel: 'GX999 A01' }), now })))).toBe('ERR_NVIDIA_DEVICE_UNSUPPORTED');
    expect(await codeOf(async () => verifyDev(await mintNrasResult({ key, nonce, devices: gpus(1), now, issuer: 'https://nras.example.com' })))).toBe('ERR_NRAS_ISSUER_UNTRUSTED');
    const t = await mintNrasResult({ key, nonce, devices: gpus(1), now });
    const hs = JSON.parse(t) as [[string, string], Record<string, string>];
    const header = Buffer.from(JSON.stringify({ alg: 'HS256', kid: key.kid })).toString('base64url');
    const forged = JSON.stringify([['JWT', swapSegment(hs[0][1], 0, () => header)], hs[1]]);
    expect(await codeOf(() => verifyDev(forged))).toBe('ERR_NRAS_ALGORITHM_UNSUPPORTED');
    const rsaish = { ...key.jwk, crv: 'P-256' };
    expect(await codeOf(() => verifyNvidiaNrasEvidence({ type: 'nvidia-nras', token: t }, ctx(now, { jwks: [{ keys: [rsaish] }] })))).toBe('ERR_NRAS_KEY_INVALID');
  });

  it('a key certified under a configured extra anchor labels the result "extra", not NVIDIA', async () => {
    const pki = await createNvidiaDevPki({ notBefore: new Date('2026-01-01Z'), notAfter: new Date('2027-01-01Z') });
    const simKey = await createDevNrasKey({ issuer: pki.deviceRoot });
    const t = await mintNrasResult({ key: simKey, nonce, devices: gpus(1), now });
    const jwksSim = [{ keys: [simKey.jwk] }];
    const labelled = await verifyNvidiaNrasEvidence({ type: 'nvidia-nras', token: t }, ctx(now, { jwks: jwksSim }, {}, createTrustAnchors([pki.deviceRoot.der])));
    expect(labelled.claims.anchor).toMatchObject({ source: 'extra', name: 'SIMULATED NVIDIA Device Identity CA (SIMULATED NVIDIA)' });
    expect(await codeOf(() => verifyNvidiaNrasEvidence({ type: 'nvidia-nras', token: t }, ctx(now, { jwks: jwksSim })))).toBe('ERR_NRAS_SIGNER_UNTRUSTED');
    const sim = createTrustAnchors([pki.deviceRoot.der]);
    expect(await codeOf(() => verifyNvidiaNrasEvidence({ type: 'nvidia-nras', token: t }, ctx('2026-03-01T12:00:00Z', { jwks: jwksSim }, {}, sim)))).toBe('ERR_NRAS_TOKEN_EXPIRED');
    expect(await codeOf(() => verifyNvidiaNrasEvidence({ type: 'nvidia-nras', token: t }, ctx('2027-06-01Z', { jwks: jwksSim })))).toBe('ERR_CHAIN_EXPIRED');
  });

  it('names each device by its UEID in hex (deviceId) and refuses a result naming one device twice', async () => {
    const result = await verifyDev(await mintNrasResult({ key, nonce, devices: gpus(2), now }));
    expect(result.claims.devices?.map((d) => d.deviceId)).toEqual([(1000).toString(16), (1001).toString(16)]);
    const twice = [...gpus(1), { name: 'GPU-1', claims: gpus(1)[0]?.claims as Record<string, unknown> }];
    expect(await codeOf(async () => verifyDev(await mintNrasResult({ key, nonce, devices: twice, now })))).toBe('ERR_EVIDENCE_DUPLICATE_DEVICE');
    expect(await codeOf(async () => verifyDev(await mintNrasResult({ key, nonce, devices: gpus(1, { ueid: undefined }), now })))).toBe('ERR_NRAS_MALFORMED');
  });

  it('refuses one GPU sent both as its own report and inside an NRAS result (same UEID)', async () => {
    const binding = new Uint8Array([...nonce, ...randomBytes(32)]);
    const ev = await mintNvidiaGpuEvidence({ gpus: 2, nonce, now: new Date('2026-01-01Z') });
    const ueidOf = (i: number) => BigInt(`0x${ev.gpus[i]?.leaf.cert.serialNumber}`).toString(10);
    const device = (i: number, name: string) => ({ name, claims: devNrasGpuClaims({ driverVersion: '570.124.06', vbiosVersion: '96.00.9f.00.01', ueid: ueidOf(i) }) });
    const c = { collateral: { ...emptyCollateral(), rims: ev.rims, jwks: [{ keys: [key.jwk] }] }, anchors: trusting(...ev.anchorsDer), now, revocation: 'optional' as const };
    const local = ev.items[0] as EvidenceItem;
    const same = { type: 'nvidia-nras' as const, token: await mintNrasResult({ key, nonce, devices: [device(0, 'GPU-0')], now }) };
    expect(await codeOf(() => verifyEvidenceSet([local, same], c, binding))).toBe('ERR_EVIDENCE_DUPLICATE_DEVICE');
    const other = { type: 'nvidia-nras' as const, token: await mintNrasResult({ key, nonce, devices: [device(1, 'GPU-0')], now }) };
    expect(await verifyEvidenceSet([local, other], c, binding)).toHaveLength(2);
  });

  it('labels a result signed by an admin-trusted upload "uploaded"; an uploaded root vouches for NRAS keys only', async () => {
    const pki = await createNvidiaDevPki({ notBefore: new Date('2026-01-01Z'), notAfter: new Date('2027-01-01Z') });
    const simKey = await createDevNrasKey({ issuer: pki.deviceRoot });
    const t = await mintNrasResult({ key: simKey, nonce, devices: gpus(1), now });
    const byKey = withAnchors(vendorAnchors(), uploadedAnchors({ signingKeys: [simKey.jwk] }));
    const viaKey = await verifyNvidiaNrasEvidence({ type: 'nvidia-nras', token: t }, ctx(now, { jwks: [{ keys: [simKey.jwk] }] }, {}, byKey));
    expect(viaKey.claims.anchor).toMatchObject({ source: 'uploaded', name: 'JWKS key nv-eat-kid-dev-simulated' });
    const byRoot = withAnchors(vendorAnchors(), uploadedAnchors({ roots: [pki.deviceRoot.der] }));
    const viaRoot = await verifyNvidiaNrasEvidence({ type: 'nvidia-nras', token: t }, ctx(now, { jwks: [{ keys: [simKey.jwk] }] }, {}, byRoot));
    expect(viaRoot.claims.anchor).toMatchObject({ source: 'uploaded' });
    const ev = await mintNvidiaGpuEvidence({ gpus: 1, nonce, now: new Date('2026-01-01Z'), pki });
    const local = ctx(now, { rims: ev.rims }, {}, withAnchors(vendorAnchors(), uploadedAnchors({ roots: ev.anchorsDer })));
    expect(await codeOf(() => verifyEvidence(ev.items[0] as EvidenceItem, local))).toBe('ERR_CHAIN_UNTRUSTED_ROOT');
  });

  it('an untrusted key under a trusted key\'s kid neither shadows it nor signs for it', async () => {
    const impostor = await createDevNrasKey();
    const both = ctx(now, { jwks: [{ keys: [impostor.jwk] }, { keys: [key.jwk] }] }, { expectedNonce: nonce }, trusting());
    const genuine = await mintNrasResult({ key, nonce, devices: gpus(1), now });
    expect((await verifyNvidiaNrasEvidence({ type: 'nvidia-nras', token: genuine }, both)).claims.anchor.source).toBe('extra');
    const forged = await mintNrasResult({ key: impostor, nonce, devices: gpus(1), now });
    expect(await codeOf(() => verifyNvidiaNrasEvidence({ type: 'nvidia-nras', token: forged }, both))).toBe('ERR_NRAS_SIGNATURE_INVALID');
  });

  it('verifies inside verifyEvidenceSet with the binding\'s first 32 bytes as nonce', async () => {
    const binding = new Uint8Array([...nonce, ...randomBytes(32)]);
    const t = await mintNrasResult({ key, nonce, devices: gpus(2), now });
    const c = { collateral: { ...emptyCollateral(), jwks: [{ keys: [key.jwk] }] }, anchors: trusting(), now };
    const [verified] = await verifyEvidenceSet([{ type: 'nvidia-nras', token: t }], c, binding);
    expect((verified?.claims as NvidiaGpuClaims).devices?.length).toBe(2);
    expect(await codeOf(() => verifyEvidenceSet([{ type: 'nvidia-nras', token: t }], c, new Uint8Array(64)))).toBe('ERR_EVIDENCE_NONCE_MISMATCH');
  });
});
