// Compares SPDM measurement blocks with RIM reference values as NVIDIA's verifiers do: the golden set is
// the union of the active entries of the driver and VBIOS RIMs; inactive entries are not compared.
import { EvidenceError } from '../../errors.js';
import type { SignedRim } from './rim.js';
import type { SpdmMeasurementBlock } from './spdm.js';

export interface MeasurementComparison {
  readonly matched: number;
  readonly total: number;
  /** 0-based indices whose runtime value matched no alternative (or was absent, or had another size). */
  readonly mismatchedIndices: readonly number[];
}

interface Golden {
  readonly size: number;
  readonly alternatives: readonly string[];
}

/**
 * Builds the golden set. The same index active in two RIMs is an error (nvtrust
 * `x-nvidia-gpu-vbios-index-no-conflict`): one manifest must not silently override another.
 */
export function goldenMeasurements(rims: readonly SignedRim[]): Map<number, Golden> {
  const golden = new Map<number, Golden>();
  for (const rim of rims) {
    for (const m of rim.measurements) {
      if (!m.active) continue;
      if (golden.has(m.index)) {
        throw new EvidenceError('ERR_RIM_INDEX_CONFLICT', `Measurement index ${m.index} is active in more than one RIM.`);
      }
      golden.set(m.index, { size: m.size, alternatives: m.alternatives });
    }
  }
  return golden;
}

/**
 * Compares every golden index i with SPDM block Index i+1. Index 35 (NVDEC0) is compared whatever
 * NVDEC0_STATUS says, as nvtrust does: the stricter reading of the two NVIDIA verifiers.
 */
export function compareMeasurements(blocks: readonly SpdmMeasurementBlock[], rims: readonly SignedRim[]): MeasurementComparison {
  const golden = goldenMeasurements(rims);
  const byIndex = new Map<number, SpdmMeasurementBlock>();
  for (const block of blocks) byIndex.set(block.index - 1, block);
  const mismatched: number[] = [];
  for (const [index, expected] of [...golden].sort((a, b) => a[0] - b[0])) {
    const block = byIndex.get(index);
    const value = block && block.value.length === expected.size ? Buffer.from(block.value).toString('hex') : undefined;
    if (value === undefined || !expected.alternatives.includes(value)) mismatched.push(index);
  }
  return { matched: golden.size - mismatched.length, total: golden.size, mismatchedIndices: mismatched };
}
