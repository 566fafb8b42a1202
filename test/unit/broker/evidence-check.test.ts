// checkEvidence: one item or a composite set → {verified, tee, claims} | {verified: false, error}, on real
// vectors and on synthetic sets (a test Nitro PKI as the CPU TEE plus test GPUs) bound to one nonce.
import { beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { checkEvidence, evidenceFailure, type CompositeClaims, type EvidenceCheckContext } from '../../../src/broker/evidence-check.js';
import { addToCollateral, emptyCollateral, recognizeCollateral } from '../../../src/collateral/recognize.js';
import { createTrustAnchors, vendorAnchors } from '../../../src/evidence/anchors.js';
import { EvidenceError } from '../../../src/errors.js';
import { verifyEvidence } from '../../../src/evidence/verify.js';
import type { NvidiaGpuClaims } from '../../../src/evidence/nvidia/claims.js';
import type { Collateral, EvidenceItem, TrustAnchors } from '../../../src/evidence/types.js';
import { mintNvidiaGpuEvidence, type DevNvidiaEvidence } from '../../../src/dev/nvidia-evidence.js';
import { createNitroTestPki, issueNitroLeaf, mintNitroDocument, type NitroTestPki } from '../../../src/dev/nitro.js';
import { readVector } from '../../helpers/vectors.js';

const bag = (...files: [string, ...string[]][]): Collateral =>
  files.reduce((b, path) => addToCollateral(b, recognizeCollateral(readVector(...path), path.join('/'))), emptyCollateral());

const snpItem = (id: string): EvidenceItem => ({ type: 'snp', report: readVector('snp', 'reports', `${id}.bin`), certs: [] });
const GOSEVGUEST = 'milan-v2-vcek-gosevguest';
const snpCtx: EvidenceCheckContext = {
  collateral: bag(['snp', 'vek', `${GOSEVGUEST}.vcek.der`], ['snp', 'amd', 'milan', 'cert_chain_vcek.pem']),
  anchors: vendorAnchors(),
  now: new Date('2022-09-25T00:55:28Z'),
  // The report predates every AMD CRL in the vectors.
  revocation: 'optional',
};
const GOSEVGUEST_REPORT_DATA = `0102030405${'00'.repeat(59)}`;

describe('checkEvidence on one item', () => {
  it('returns the verifier\'s claims with the item\'s tee', async () => {
    const result = await checkEvidence({ evidence: snpItem(GOSEVGUEST) }, snpCtx);
    const direct = await verifyEvidence(snpItem(GOSEVGUEST), snpCtx);
    expect(result).toEqual({ verified: true, tee: 'snp', claims: direct.claims });
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
  });

  it('checks the expected nonce: REPORT_DATA equal passes, one flipped bit is ERR_EVIDENCE_NONCE_MISMATCH', async () => {
    const nonce = new Uint8Array(Buffer.from(GOSEVGUEST_REPORT_DATA, 'hex'));
    expect((await checkEvidence({ evidence: snpItem(GOSEVGUEST), expectedNonce: nonce }, snpCtx)).verified).toBe(true);
    nonce[0] = (nonce[0] as number) ^ 1;
    const failed = await checkEvidence({ evidence: snpItem(GOSEVGUEST), expectedNonce: nonce }, snpCtx);
    expect(failed).toEqual({ verified: false, error: { code: 'ERR_EVIDENCE_NONCE_MISMATCH', message: expect.any(String) } });
  });

  it('turns a verdict into {verified: false, error} with the specific code and no details when the error has none', async () => {
    const result = await checkEvidence({ evidence: snpItem('NEG-milan-v2-vlek-mismatched-vlek') }, {
      ...snpCtx,
      collateral: bag(['snp', 'vek', 'milan-v2-vlek-aws-constellation-2023.vlek.der'], ['snp', 'amd', 'milan', 'cert_chain_vlek.pem']),
      now: new Date('2023-07-20T08:29:28Z'),
    });
    expect(result).toEqual({ verified: false, error: { code: 'ERR_SNP_SIGNATURE_INVALID', message: expect.stringMatching(/./) } });
  });

  it('carries the error\'s public extra fields as details (the missing RIM\'s id)', async () => {
    const dir = 'hopper-550.90.07-e2e';
    const item: EvidenceItem = {
      type: 'nvidia-gpu',
      report: readVector('nvidia', dir, 'attestation_report.bin'),
      certChain: Buffer.from(readVector('nvidia', dir, 'device_cert_chain.pem')).toString(),
    };
    const result = await checkEvidence({ evidence: item }, { collateral: emptyCollateral(), anchors: vendorAnchors(), now: new Date('2025-10-24T12:00:00Z') });
    expect(result).toEqual({
      verified: false,
      error: { code: 'ERR_COLLATERAL_MISSING', message: expect.any(String), details: { rimId: 'NV_GPU_DRIVER_GH100_550.90.07' } },
    });
  });

  it('lets errors that are not EvidenceErrors propagate (they are bugs, not verdicts)', async () => {
    const broken: TrustAnchors = {
      all: [],
      lookup: () => {
        throw new TypeError('anchor store exploded');
      },
    };
    await expect(checkEvidence({ evidence: snpItem(GOSEVGUEST) }, { ...snpCtx, anchors: broken })).rejects.toThrow(TypeError);
  });

  it('evidenceFailure keeps code and message and drops empty extras', () => {
    expect(evidenceFailure(new EvidenceError('ERR_EVIDENCE_MALFORMED', 'bad', { extra: {} }))).toEqual({
      verified: false,
      error: { code: 'ERR_EVIDENCE_MALFORMED', message: 'bad' },
    });
  });
});

describe('checkEvidence on composite sets (test Nitro PKI + test GPUs)', () => {
  const NOW = new Date('2026-03-01T12:00:00Z');
  const binding = new Uint8Array(randomBytes(64));
  let nitro: NitroTestPki;
  let gpus: DevNvidiaEvidence;
  let strangerGpu: DevNvidiaEvidence;
  let ctx: EvidenceCheckContext;
  let nitroDoc: (nonce: Uint8Array) => Promise<EvidenceItem>;

  beforeAll(async () => {
    const validity = { notBefore: new Date('2026-01-01Z'), notAfter: new Date('2027-01-01Z') };
    nitro = await createNitroTestPki(validity);
    const leaf = await issueNitroLeaf(nitro, validity);
    nitroDoc = async (nonce) => ({ type: 'nitro', document: mintNitroDocument(nitro, leaf, { timestamp: NOW, nonce }) });
    gpus = await mintNvidiaGpuEvidence({ gpus: 2, nonce: binding.subarray(0, 32), now: new Date('2026-01-01Z') });
    strangerGpu = await mintNvidiaGpuEvidence({ gpus: 1, nonce: randomBytes(32), now: new Date('2026-01-01Z'), pki: gpus.pki, rimPki: gpus.rimPki, firmware: gpus.firmware });
    ctx = {
      collateral: { ...emptyCollateral(), rims: gpus.rims },
      anchors: createTrustAnchors([nitro.root.der, ...gpus.anchorsDer]),
      now: NOW,
      // The test GPUs come without OCSP responses or CRLs.
      revocation: 'optional',
    };
  });

  it('verifies a CPU TEE and two GPUs bound to one binding: claims per item, and the GPU topology', async () => {
    const items = [await nitroDoc(binding), ...gpus.items];
    for (const expectedNonce of [binding, undefined]) {
      const result = await checkEvidence(expectedNonce ? { evidence: items, expectedNonce } : { evidence: items }, ctx);
      expect(result.verified).toBe(true);
      if (!result.verified) return;
      expect(result.tee).toBe('composite');
      const claims = result.claims as CompositeClaims;
      expect(claims.items.map((c) => c.tee)).toEqual(['nitro', 'nvidia-gpu', 'nvidia-gpu']);
      expect((claims.items[1] as NvidiaGpuClaims).nonce).toBe(Buffer.from(binding.subarray(0, 32)).toString('hex'));
      expect(claims.topology).toMatchObject({ gpuCount: 2, switchCount: 0, duplicateCount: 0, allMeasurementsMatched: true, sameDriver: true, allCcMode: true });
    }
  });

  it('a set without GPUs has no topology', async () => {
    const result = await checkEvidence({ evidence: [await nitroDoc(binding)] }, ctx);
    expect(result).toMatchObject({ verified: true, tee: 'composite' });
    expect(result.verified && (result.claims as CompositeClaims).topology).toBeUndefined();
  });

  it('refuses another binding than the expected one (ERR_EVIDENCE_NONCE_MISMATCH)', async () => {
    const items = [await nitroDoc(binding), ...gpus.items];
    const other = new Uint8Array(binding);
    other[63] = (other[63] as number) ^ 1;
    expect(await checkEvidence({ evidence: items, expectedNonce: other }, ctx)).toMatchObject({ verified: false, error: { code: 'ERR_EVIDENCE_NONCE_MISMATCH' } });
  });

  it('without an expected nonce, refuses a set whose items carry different bindings (ERR_EVIDENCE_BINDING_MISMATCH)', async () => {
    const cases: EvidenceItem[][] = [
      [await nitroDoc(binding), ...gpus.items, ...strangerGpu.items],
      [...gpus.items, ...strangerGpu.items],
      [await nitroDoc(new Uint8Array(randomBytes(64))), ...gpus.items],
      [await nitroDoc(binding.subarray(0, 16)), ...gpus.items],
    ];
    for (const items of cases) {
      expect(await checkEvidence({ evidence: items }, ctx)).toMatchObject({ verified: false, error: { code: 'ERR_EVIDENCE_BINDING_MISMATCH' } });
    }
    expect((await checkEvidence({ evidence: strangerGpu.items }, ctx)).verified).toBe(true);
  });

  it('refuses malformed sets: empty, or two CPU TEEs (ERR_EVIDENCE_SET_INVALID)', async () => {
    expect(await checkEvidence({ evidence: [] }, ctx)).toMatchObject({ verified: false, error: { code: 'ERR_EVIDENCE_SET_INVALID' } });
    const two = [await nitroDoc(binding), await nitroDoc(binding)];
    expect(await checkEvidence({ evidence: two }, ctx)).toMatchObject({ verified: false, error: { code: 'ERR_EVIDENCE_SET_INVALID' } });
  });

  it('a set fails as a whole when one item fails (a GPU whose RIMs are not held)', async () => {
    const items = [await nitroDoc(binding), ...gpus.items];
    const result = await checkEvidence({ evidence: items }, { ...ctx, collateral: emptyCollateral() });
    expect(result).toMatchObject({ verified: false, error: { code: 'ERR_COLLATERAL_MISSING' } });
  });
});
