// The `nvidia-gpu` verifier: report + device chain (report.ts), RIMs from collateral (rim-select.ts),
// measurement comparison, OCSP/CRL revocation, then NvidiaGpuClaims (test/vectors/nvidia/FACTS.md §4, the
// local flow).
import { createHash } from 'node:crypto';
import { EvidenceError } from '../../errors.js';
import { anchorClaim, anchorFields, weakestAnchor } from '../anchors.js';
import type { EvidenceItem, VerifiedEvidence, VerifyContext } from '../types.js';
import { revocationUnavailable } from '../revocation.js';
import { evidenceBytes } from '../wire.js';
import type { NvidiaGpuClaims } from './claims.js';
import { compareMeasurements, type MeasurementComparison } from './measurements.js';
import { nonceHex, rimRequirementsOf, verifyGpuReport, type VerifiedGpuReport } from './report.js';
import { checkRevocation, mergeCoverage, revocationChecks, type RevocationCoverage } from './revocation.js';
import { selectAndVerifyRims, type VerifiedRim } from './rim-select.js';

type NvidiaGpuItem = Extract<EvidenceItem, { type: 'nvidia-gpu' }>;

export function evidenceDigest(item: EvidenceItem): string {
  const hash = createHash('sha256');
  for (const part of evidenceBytes(item)) hash.update(part);
  return hash.digest('hex');
}

function checkMeasurements(comparison: MeasurementComparison): void {
  if (comparison.mismatchedIndices.length === 0 && comparison.total > 0) return;
  const list = comparison.mismatchedIndices.join(', ');
  throw new EvidenceError(
    'ERR_NVIDIA_MEASUREMENT_MISMATCH',
    comparison.total === 0 ? 'The RIMs name no active measurement to compare.' : `Measurements do not match the RIMs at index ${list}.`,
    { extra: { mismatchedIndices: comparison.mismatchedIndices, matched: comparison.matched, total: comparison.total } },
  );
}

function validity(verified: VerifiedGpuReport, rims: readonly VerifiedRim[], revocation: RevocationCoverage): { validFrom: Date; validUntil: Date } {
  let from = Math.max(verified.chain.validFrom.getTime(), revocation.validFromMs);
  let until = Math.min(verified.chain.validUntil.getTime(), revocation.validUntilMs);
  for (const r of rims) {
    from = Math.max(from, r.chain.validFrom.getTime());
    until = Math.min(until, r.chain.validUntil.getTime());
  }
  return { validFrom: new Date(from), validUntil: new Date(until) };
}

function buildClaims(
  verified: VerifiedGpuReport,
  rims: readonly VerifiedRim[],
  comparison: MeasurementComparison,
  revocation: RevocationCoverage,
): NvidiaGpuClaims {
  const rimAnchors = rims.map((r) => r.chain.anchor);
  const idOf = (role: 'driver' | 'vbios'): string => rims.find((r) => r.requirement.role === role)?.requirement.id ?? '';
  return {
    tee: 'nvidia-gpu',
    // No debug bit exists in the report: a GPU in debug/devtools mode measures differently, so matching
    // CC reference values is what shows debug is off (nvtrust sets dbgstat "disabled" on the same ground).
    debug: false,
    // The weakest root decides: an extra device or RIM root anywhere makes the whole claim extra.
    ...anchorFields([verified.chain.anchor, ...rimAnchors]),
    arch: verified.device.arch,
    nonce: nonceHex(verified.report),
    driverVersion: verified.info.driverVersion ?? '',
    vbiosVersion: verified.info.vbiosVersion,
    measurements: { matched: comparison.matched, total: comparison.total, mismatchedIndices: comparison.mismatchedIndices },
    rim: { driver: idOf('driver'), vbios: idOf('vbios') },
    revocation: revocation.checked === revocation.required ? 'checked' : 'not-checked',
    revocationChecked: revocation.checked === revocation.required,
    source: 'local',
    deviceType: verified.device.deviceType,
    chip: verified.device.chip,
    ccMode: true,
    featureFlag: verified.info.featureFlag,
    ueid: verified.ueid,
    deviceId: verified.deviceId,
    hwmodel: verified.hwmodel,
    revocationCoverage: { checked: revocation.checked, required: revocation.required },
    ...(rimAnchors.length > 0 ? { rimAnchor: anchorClaim(weakestAnchor(rimAnchors)) } : {}),
  };
}

/**
 * Verifies NVIDIA GPU (or NVSwitch) evidence at `ctx.now`: report signature by the leaf of a chain to
 * the pinned NVIDIA Device Identity CA, FWID, nonce (`ctx.expectedNonce`), the driver and VBIOS RIMs
 * from `ctx.collateral.rims` (chained to the pinned NVIDIA CoRIM root), every active measurement, and
 * revocation from OCSP responses/CRLs in the collateral (every certificate but the attestation leaf needs
 * a current answer under KEYWARD_REVOCATION=required; under optional, missing answers leave it "not-checked").
 */
export async function verifyNvidiaGpuEvidence(item: NvidiaGpuItem, ctx: VerifyContext): Promise<VerifiedEvidence<NvidiaGpuClaims>> {
  const verified = verifyGpuReport(item.report, item.certChain, ctx);
  // Revocation of the device chain first: a revoked device fails before any RIM work. The attestation
  // leaf is skipped as nvtrust does: it is minted by the GPU's own firmware and has no OCSP entry.
  const deviceRevocation = checkRevocation(revocationChecks(verified.chain.path, false), ctx.collateral, ctx.now, ctx.memo);
  const rims = selectAndVerifyRims(rimRequirementsOf(verified.device, verified.info), ctx);
  const rimChecks = rims.flatMap((r) => revocationChecks(r.chain.path, true));
  const revocation = mergeCoverage(deviceRevocation, checkRevocation(rimChecks, ctx.collateral, ctx.now, ctx.memo));
  const comparison = compareMeasurements(verified.report.blocks, rims.map((r) => r.rim));
  checkMeasurements(comparison);
  if (revocation.checked < revocation.required) {
    const missing = `${revocation.required - revocation.checked} of ${revocation.required} NVIDIA certificates have no current OCSP response or CRL.`;
    revocationUnavailable(ctx, missing, { mayComeLater: true });
  }
  return {
    claims: buildClaims(verified, rims, comparison, revocation),
    digest: evidenceDigest(item),
    ...validity(verified, rims, revocation),
  };
}
