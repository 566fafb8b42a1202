// Offline evidence verification as a verdict object (docs/verify.md: `keyward verify`, and the admin's
// POST /v1/evidence/verify): one item or a composite set (release protocol step 3) → claims or a coded error.
import { EvidenceError, type ErrorCode } from '../errors.js';
import type { Claims } from '../evidence/claims.js';
import type { NvidiaGpuClaims } from '../evidence/nvidia/claims.js';
import { summarizeGpus, type GpuTopologySummary } from '../evidence/nvidia/topology.js';
import type { EvidenceItem, VerifiedEvidence, VerifyContext } from '../evidence/types.js';
import { verifyEvidence, verifyEvidenceSet } from '../evidence/verify.js';

export interface EvidenceCheckInput {
  /**
   * One evidence item, or a composite set (at most one CPU TEE plus GPUs) that is accepted only as a
   * whole. An array is always treated as a set, even with one element.
   */
  readonly evidence: EvidenceItem | readonly EvidenceItem[];
  /**
   * The expected freshness. For one item: the exact bytes its type carries (REPORT_DATA for SNP/TDX/SGX,
   * the 32-byte SPDM request nonce for GPUs and NRAS, `nonce` for Nitro). For a set: the 64-byte release
   * binding; GPU items compare its first 32 bytes (docs/design.md "Release protocol", step 2).
   */
  readonly expectedNonce?: Uint8Array;
}

/** Everything verification needs besides the evidence: collateral, anchors, `now`, and an optional memo. */
export type EvidenceCheckContext = Omit<VerifyContext, 'expectedNonce'>;

/** The claims of a composite set: each item's claims in input order, and the GPU topology when GPUs are present. */
export interface CompositeClaims {
  readonly items: readonly Claims[];
  readonly topology?: GpuTopologySummary;
}

export interface EvidenceCheckSuccess {
  readonly verified: true;
  /** The item's `tee`, or "composite" for a set. */
  readonly tee: Claims['tee'] | 'composite';
  readonly claims: Claims | CompositeClaims;
}

export interface EvidenceCheckFailure {
  readonly verified: false;
  readonly error: {
    readonly code: ErrorCode;
    readonly message: string;
    /** The error's public extra fields (e.g. a missing RIM's id, mismatched measurement indices), when it has any. */
    readonly details?: Readonly<Record<string, unknown>>;
  };
}

export type EvidenceCheckResult = EvidenceCheckSuccess | EvidenceCheckFailure;

/** The verdict object for an evidence error (also for errors raised while decoding the wire form). */
export function evidenceFailure(err: EvidenceError): EvidenceCheckFailure {
  const error = { code: err.code, message: err.message };
  return { verified: false, error: err.extra && Object.keys(err.extra).length > 0 ? { ...error, details: err.extra } : error };
}

const GPU_TYPES: ReadonlySet<string> = new Set(['nvidia-gpu', 'nvidia-nras']);

/** The freshness bytes (lowercase hex) a verified item carries, as its claims state them. */
function freshnessOf(claims: Claims): string {
  switch (claims.tee) {
    case 'snp':
    case 'tdx':
    case 'sgx':
      return claims.reportData;
    case 'nitro':
    case 'nvidia-gpu':
      return claims.nonce;
  }
}

/**
 * Without an expected nonce a set must still be one attestation: every GPU bound to the CPU item's
 * freshness (its first 32 bytes) or, with no CPU item, all GPUs to the same nonce. Otherwise evidence
 * captured at different times or on different machines could be passed off as one platform.
 */
function checkSetBinding(items: readonly EvidenceItem[], results: readonly VerifiedEvidence[]): void {
  const cpuIndex = items.findIndex((item) => !GPU_TYPES.has(item.type));
  const gpus = results.filter((_, i) => GPU_TYPES.has((items[i] as EvidenceItem).type)).map((r) => freshnessOf(r.claims));
  if (gpus.length === 0) return;
  const expected = cpuIndex >= 0 ? freshnessOf((results[cpuIndex] as VerifiedEvidence).claims).slice(0, 64) : (gpus[0] as string);
  if (gpus.some((nonce) => nonce !== expected)) {
    throw new EvidenceError(
      'ERR_EVIDENCE_BINDING_MISMATCH',
      cpuIndex >= 0
        ? "A GPU's nonce is not the first 32 bytes of the CPU TEE's freshness: the items are not bound to one nonce."
        : 'The GPUs signed different nonces: the items are not bound to one nonce.',
    );
  }
}

async function checkSet(items: readonly EvidenceItem[], nonce: Uint8Array | undefined, ctx: EvidenceCheckContext): Promise<EvidenceCheckSuccess> {
  const results = await verifyEvidenceSet(items, ctx, nonce);
  if (!nonce) checkSetBinding(items, results);
  const claims = results.map((r) => r.claims);
  const gpuClaims = claims.filter((c): c is NvidiaGpuClaims => c.tee === 'nvidia-gpu');
  return {
    verified: true,
    tee: 'composite',
    claims: gpuClaims.length > 0 ? { items: claims, topology: summarizeGpus(gpuClaims) } : { items: claims },
  };
}

/**
 * Verifies evidence at `ctx.now` against `ctx.collateral` and `ctx.anchors`. Every EvidenceError (a
 * verdict on the evidence, or collateral that is missing or stale) becomes `{verified: false, error}`;
 * any other error is a bug and propagates.
 */
export async function checkEvidence(input: EvidenceCheckInput, ctx: EvidenceCheckContext): Promise<EvidenceCheckResult> {
  try {
    const { evidence, expectedNonce } = input;
    if (Array.isArray(evidence)) return await checkSet(evidence as readonly EvidenceItem[], expectedNonce, ctx);
    const result = await verifyEvidence(evidence as EvidenceItem, expectedNonce ? { ...ctx, expectedNonce } : ctx);
    return { verified: true, tee: result.claims.tee, claims: result.claims };
  } catch (err) {
    if (err instanceof EvidenceError) return evidenceFailure(err);
    throw err;
  }
}
