// The claims every verifier emits for real vectors agree with the policy claims schema
// (src/policy/claims-schema.ts, checked by claims-schema-gaps.ts): no undeclared field, no value of another kind, no word outside a vocabulary.
// NRAS results list their devices in `devices`; the broker expands them (expandNvidiaClaims) before
// policies see them, so the expanded claims are what must conform.
import { describe, expect, it } from 'vitest';
import { emptyCollateral } from '../../../src/collateral/recognize.js';
import { createTrustAnchors, vendorAnchors } from '../../../src/evidence/anchors.js';
import type { Claims } from '../../../src/evidence/claims.js';
import type { NvidiaGpuClaims } from '../../../src/evidence/nvidia/claims.js';
import { expandNvidiaClaims } from '../../../src/evidence/nvidia/topology.js';
import type { Collateral, EvidenceItem } from '../../../src/evidence/types.js';
import { verifyEvidence } from '../../../src/evidence/verify.js';
import { claimsSchemaGaps } from '../../../src/policy/claims-schema-gaps.js';
import { collateralSet, intelManifest, intelQuote } from '../../helpers/intel.js';
import { readManifest, readVector, readVectorText } from '../../helpers/vectors.js';

const anchors = vendorAnchors();

async function claimsOf(item: EvidenceItem, at: string, collateral: Partial<Collateral> = {}, trust = anchors): Promise<Claims> {
  // Old vectors outlive every CRL: revocation is optional here (the claims say whether it was checked).
  return (await verifyEvidence(item, { collateral: { ...emptyCollateral(), ...collateral }, anchors: trust, now: new Date(at), revocation: 'optional' })).claims;
}

interface SnpVector {
  id: string;
  report: string;
  product: string;
  signer: 'VCEK' | 'VLEK';
  vek: string | null;
  signature_verifies: boolean | null;
  verification_time: string | null;
}

describe('claims of real vectors conform to the policy claims schema', () => {
  const snp = readManifest<{ vectors: SnpVector[] }>('snp').vectors.filter((v) => v.vek && v.signature_verifies && v.verification_time);

  it.each(snp.map((v) => [v.id, v] as const))('snp %s', async (_id, v) => {
    const chain = readVector('snp', 'amd', v.product.toLowerCase(), `cert_chain_${v.signer.toLowerCase()}.pem`);
    const claims = await claimsOf({ type: 'snp', report: readVector('snp', v.report), certs: [readVector('snp', v.vek as string), chain] }, v.verification_time as string);
    expect(claims.tee).toBe('snp');
    expect(claimsSchemaGaps(claims)).toEqual([]);
  });

  const intel = intelManifest.quotes.flatMap((q) =>
    q.evaluations.filter((e) => e.expected.tcb_status !== 'TCB_NOT_SUPPORTED').map((e) => [`${q.id} @ ${e.collateral_set}`, q, e] as const),
  );

  it.each(intel)('%s', async (_label, q, e) => {
    const type = q.tee_type === 'TDX' ? ('tdx' as const) : ('sgx' as const);
    const claims = (await verifyEvidence({ type, quote: intelQuote(q) }, { collateral: collateralSet(e.collateral_set), anchors, now: new Date(e.verification_time) })).claims;
    expect(claims.tee).toBe(type);
    expect(claimsSchemaGaps(claims)).toEqual([]);
  });

  it('covers both DCAP TEEs', () => {
    expect(new Set(intel.map(([, q]) => q.tee_type))).toEqual(new Set(['TDX', 'SGX']));
  });

  it.each([
    ['hopper-550.90.07-e2e', '2025-10-24T12:00:00Z', ['driver_rim_NV_GPU_DRIVER_GH100_550.90.07.xml', 'vbios_rim_NV_GPU_VBIOS_1010_0200_882_96009F0001.xml']],
    ['nvswitch-ls10-96.10.55.00.01-e2e', '2026-06-15T00:00:00Z', ['switch_bios_rim_NV_SWITCH_BIOS_5612_0002_890_9610550001.xml']],
  ])('nvidia-gpu (local) %s', async (dir, at, rims) => {
    const item: EvidenceItem = {
      type: 'nvidia-gpu',
      report: readVector('nvidia', dir, 'attestation_report.bin'),
      certChain: readVectorText('nvidia', dir, 'device_cert_chain.pem'),
    };
    const claims = await claimsOf(item, at, { rims: rims.map((r) => readVectorText('nvidia', dir, r)) });
    expect(claims).toMatchObject({ tee: 'nvidia-gpu', source: 'local' });
    expect(claimsSchemaGaps(claims)).toEqual([]);
  });

  it('nvidia-nras h200-595.71.05-nras-e2e, once its device list is expanded', async () => {
    const jwks = JSON.parse(readVectorText('nvidia', 'nras-jwks', 'nras_jwks_2026-06-29T0208Z.json'));
    const token = readVectorText('nvidia', 'h200-595.71.05-nras-e2e', 'nras_response.json');
    const trust = createTrustAnchors([], { signingKeys: jwks.keys });
    const claims = (await claimsOf({ type: 'nvidia-nras', token }, '2026-06-29T02:08:03Z', { jwks: [jwks] }, trust)) as NvidiaGpuClaims;
    expect(claims.source).toBe('nras');
    // The raw result names its devices in `devices`, which is not a policy field: exactly that gap.
    expect(claimsSchemaGaps(claims)).toEqual([expect.stringMatching(/^nvidia-gpu\.devices: /)]);
    const expanded = expandNvidiaClaims([claims]);
    expect(expanded).toHaveLength(1);
    for (const device of expanded) expect(claimsSchemaGaps(device)).toEqual([]);
  });

  const nitro = readManifest<{ vectors: { id: string; files: { path: string }[]; verification_time: string }[] }>('nitro').vectors;

  it.each(nitro.map((v) => [v.id, v] as const))('nitro %s', async (_id, v) => {
    const claims = await claimsOf({ type: 'nitro', document: readVector('nitro', (v.files[0] as { path: string }).path) }, v.verification_time);
    expect(claims.tee).toBe('nitro');
    expect(claimsSchemaGaps(claims)).toEqual([]);
  });
});
