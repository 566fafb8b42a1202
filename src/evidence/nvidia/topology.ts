// Multi-GPU topology facts over verified NVIDIA claims, for policies such as "exactly 8 GPUs, all
// matched, one driver": pure summaries, and the refusal of a device counted twice (verifyEvidenceSet).
import { EvidenceError } from '../../errors.js';
import type { NvidiaGpuClaims } from './claims.js';

export interface GpuTopologySummary {
  /** Distinct GPUs (NVSwitches are counted apart); evidence repeated for one GPU counts once. */
  readonly gpuCount: number;
  readonly switchCount: number;
  /** Items that named a device already counted (a replayed report is not a second GPU). */
  readonly duplicateCount: number;
  /** Every GPU in production CC mode (false when there is no GPU). */
  readonly allCcMode: boolean;
  /** Every GPU runs the same driver version (false when there is no GPU). */
  readonly sameDriver: boolean;
  /** Every GPU runs the same VBIOS version (false when there is no GPU). */
  readonly sameVbios: boolean;
  /** Every GPU's measurements matched its reference values (false when there is no GPU). */
  readonly allMeasurementsMatched: boolean;
  /** Every device (GPUs and switches) had revocation checked. */
  readonly allRevocationChecked: boolean;
  readonly driverVersions: readonly string[];
  readonly vbiosVersions: readonly string[];
}

/** Flattens claims so an NRAS result (one item, N devices) contributes each of its devices. */
export function expandNvidiaClaims(claims: readonly NvidiaGpuClaims[]): NvidiaGpuClaims[] {
  return claims.flatMap((c) => (c.devices && c.devices.length > 0 ? c.devices : [c]));
}

function identityOf(c: NvidiaGpuClaims): string {
  // Claims from a token or an upload may lack fields: without an identity, devices collapse into one.
  return typeof c.deviceId === 'string' && c.deviceId !== '' ? `id:${c.deviceId}` : `ueid:${String(c.ueid)}`;
}

/** Every name a device claim is known by: its deviceId and its UEID (the attestation leaf serial). */
function identitiesOf(c: NvidiaGpuClaims): string[] {
  return [...(c.deviceId !== '' ? [`id:${c.deviceId}`] : []), ...(c.ueid !== '' ? [`ueid:${c.ueid}`] : [])];
}

/**
 * Refuses device claims (NRAS results expanded) that name one device twice, by deviceId or by UEID:
 * the evidence of one GPU sent N times must never pass for N GPUs.
 */
export function refuseDuplicateDevices(claims: readonly NvidiaGpuClaims[]): void {
  const seen = new Set<string>();
  for (const c of expandNvidiaClaims(claims)) {
    const ids = identitiesOf(c);
    if (ids.some((id) => seen.has(id))) {
      throw new EvidenceError('ERR_EVIDENCE_DUPLICATE_DEVICE', `The evidence names the device ${c.deviceId || c.ueid} more than once.`, {
        extra: { deviceId: c.deviceId },
      });
    }
    for (const id of ids) seen.add(id);
  }
}

/** How many distinct GPUs (NVSwitches apart) the claims name: what a policy's `gpuCount` holds. */
export function countDistinctGpus(claims: readonly NvidiaGpuClaims[]): number {
  return summarizeGpus(claims).gpuCount;
}

function measurementsMatched(c: NvidiaGpuClaims): boolean {
  // NRAS results carry no counts; the verifier refused any NRAS result whose measres was not "success".
  if (c.source === 'nras') return true;
  return c.measurements.total > 0 && c.measurements.matched === c.measurements.total && c.measurements.mismatchedIndices.length === 0;
}

/** Summarizes verified NVIDIA claims (local or NRAS; NRAS device lists are expanded). */
export function summarizeGpus(claims: readonly NvidiaGpuClaims[]): GpuTopologySummary {
  const seen = new Set<string>();
  const unique: NvidiaGpuClaims[] = [];
  let duplicateCount = 0;
  for (const c of expandNvidiaClaims(claims)) {
    const id = identityOf(c);
    if (seen.has(id)) {
      duplicateCount++;
      continue;
    }
    seen.add(id);
    unique.push(c);
  }
  const gpus = unique.filter((c) => c.deviceType === 'gpu');
  const any = gpus.length > 0;
  const driverVersions = [...new Set(gpus.map((g) => g.driverVersion))].sort();
  const vbiosVersions = [...new Set(gpus.map((g) => g.vbiosVersion))].sort();
  return {
    gpuCount: gpus.length,
    switchCount: unique.length - gpus.length,
    duplicateCount,
    allCcMode: any && gpus.every((g) => g.ccMode && !g.debug),
    sameDriver: any && driverVersions.length === 1,
    sameVbios: any && vbiosVersions.length === 1,
    allMeasurementsMatched: any && gpus.every(measurementsMatched),
    allRevocationChecked: unique.length > 0 && unique.every((c) => c.revocation === 'checked'),
    driverVersions,
    vbiosVersions,
  };
}
