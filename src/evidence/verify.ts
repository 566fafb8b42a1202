// Dispatches evidence items to their TEE verifier and verifies composite sets (CPU TEE + N GPUs).
import { EvidenceError } from '../errors.js';
import type { EvidenceItem, EvidenceType, VerifiedEvidence, Verifier, VerifyContext } from './types.js';
import type { NvidiaGpuClaims } from './nvidia/claims.js';
import { refuseDuplicateDevices } from './nvidia/topology.js';
/**
 * The verifier for each evidence type, loaded on first use (a CLI run for one TEE does not load the XML,
 * JOSE and CBOR stacks of the others). A type without one is refused (fail closed).
 */
const VERIFIERS: Partial<Record<EvidenceType, () => Promise<Verifier<never>>>> = {
  snp: async () => (await import('./snp/verify.js')).verifySnpEvidence,
  tdx: async () => (await import('./tdx/verify.js')).verifyTdxEvidence,
  sgx: async () => (await import('./sgx/verify.js')).verifySgxEvidence,
  nitro: async () => (await import('./nitro/verify.js')).verifyNitroEvidence,
  'nvidia-gpu': async () => (await import('./nvidia/verify-gpu.js')).verifyNvidiaGpuEvidence as Verifier<never>,
  'nvidia-nras': async () => (await import('./nvidia/nras.js')).verifyNvidiaNrasEvidence as Verifier<never>,
};
const loaded = new Map<EvidenceType, Verifier>();

export async function verifyEvidence(item: EvidenceItem, ctx: VerifyContext): Promise<VerifiedEvidence> {
  let verifier = loaded.get(item.type);
  if (!verifier) {
    const load = VERIFIERS[item.type];
    if (load) {
      verifier = (await load()) as Verifier;
      loaded.set(item.type, verifier);
    }
  }
  if (!verifier) {
    throw new EvidenceError('ERR_EVIDENCE_UNSUPPORTED', `Evidence of type "${item.type}" is not supported by this keyward.`);
  }
  return verifier(item, ctx);
}

/**
 * The freshness bytes an evidence type must carry for a 64-byte release binding
 * (docs/design.md "Release protocol": REPORT_DATA = bind; GPU nonce = bind[0..32); Nitro nonce = bind).
 */
export function nonceForType(type: EvidenceType, binding: Uint8Array): Uint8Array {
  return type === 'nvidia-gpu' || type === 'nvidia-nras' ? binding.subarray(0, 32) : binding;
}

const CPU_TYPES: ReadonlySet<EvidenceType> = new Set(['snp', 'tdx', 'sgx', 'nitro']);
export const MAX_EVIDENCE_ITEMS = 33;

/**
 * Verifies a composite evidence set. Accepted only when every item verifies and, when `binding` is
 * given, every item carries it (so all are bound to the same nonce and TEE key). At most one CPU TEE,
 * and no device twice (ERR_EVIDENCE_DUPLICATE_DEVICE).
 */
export async function verifyEvidenceSet(
  items: readonly EvidenceItem[],
  ctx: Omit<VerifyContext, 'expectedNonce'>,
  binding?: Uint8Array,
): Promise<VerifiedEvidence[]> {
  if (items.length === 0) throw new EvidenceError('ERR_EVIDENCE_SET_INVALID', 'At least one evidence item is required.');
  if (items.length > MAX_EVIDENCE_ITEMS) {
    throw new EvidenceError('ERR_EVIDENCE_SET_INVALID', `At most ${MAX_EVIDENCE_ITEMS} evidence items are accepted.`);
  }
  if (items.filter((i) => CPU_TYPES.has(i.type)).length > 1) {
    throw new EvidenceError('ERR_EVIDENCE_SET_INVALID', 'An evidence set may hold at most one CPU TEE item (snp, tdx, sgx or nitro).');
  }
  const results: VerifiedEvidence[] = [];
  for (const item of items) {
    const itemCtx: VerifyContext = binding ? { ...ctx, expectedNonce: nonceForType(item.type, binding) } : ctx;
    results.push(await verifyEvidence(item, itemCtx));
  }
  refuseDuplicateDevices(results.map((r) => r.claims).filter((c): c is NvidiaGpuClaims => c.tee === 'nvidia-gpu'));
  return results;
}
