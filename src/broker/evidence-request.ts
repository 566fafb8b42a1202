// The one verification of a request's evidence (attest, the one-shot release, the policy dry run), and
// POST /v1/evidence/verify as a broker operation: the request body (wire evidence, optional hex nonce,
// optional verification time) → the same verdict object `keyward verify --json` prints.
import { EvidenceError, KeywardError, RequestError } from '../errors.js';
import { fromHex } from '../encoding.js';
import type { Clock } from '../clock.js';
import { decodeEvidenceItem } from '../evidence/wire.js';
import type { EvidenceItem, VerifiedEvidence } from '../evidence/types.js';
import { verifyEvidenceSet } from '../evidence/verify.js';
import { checkEvidence, evidenceFailure, type EvidenceCheckResult } from './evidence-check.js';
import type { VerificationSource } from './verification.js';

export interface EvidenceRequestDeps {
  readonly verification: VerificationSource;
  readonly clock: Clock;
}

export interface EvidenceRequestBody {
  readonly evidence: unknown;
  readonly nonce?: string;
  readonly at?: string;
}

/**
 * The one verification of a request's evidence (attest, one-shot release, policy dry run): its collateral,
 * anchors and floors at `now`, and, with `binding`, every piece bound to it. A piece bound to something
 * else was made for another nonce or another TEE key: ERR_EVIDENCE_BINDING_MISMATCH.
 */
export async function verifyEvidenceRequest(
  verification: VerificationSource,
  items: readonly EvidenceItem[],
  at: { now: Date; historical?: boolean },
  binding?: Uint8Array,
): Promise<VerifiedEvidence[]> {
  const ctx = await verification.contextFor(items, at.now, { historical: at.historical === true });
  try {
    return await verifyEvidenceSet(items, ctx, binding);
  } catch (err) {
    if (binding && err instanceof KeywardError && err.code === 'ERR_EVIDENCE_NONCE_MISMATCH') {
      throw new EvidenceError('ERR_EVIDENCE_BINDING_MISMATCH', 'The evidence is not bound to this nonce and teePublicKey.', { cause: err });
    }
    throw err;
  }
}

/** POST /v1/evidence/verify: decodes, gathers what verification needs for, and verifies; a decoding failure is a verdict too. */
export async function evidenceVerdict(body: EvidenceRequestBody, deps: EvidenceRequestDeps): Promise<EvidenceCheckResult> {
  const nonce = body.nonce === undefined ? undefined : fromHex(body.nonce.toLowerCase());
  if (body.nonce !== undefined && (!nonce || nonce.length === 0)) throw new RequestError('ERR_REQUEST_INVALID', 'nonce must be hex.');
  let evidence: EvidenceItem | EvidenceItem[];
  try {
    evidence = Array.isArray(body.evidence) ? body.evidence.map((e, i) => decodeEvidenceItem(e, i)) : decodeEvidenceItem(body.evidence);
  } catch (err) {
    if (err instanceof EvidenceError) return evidenceFailure(err);
    throw err;
  }
  const now = body.at ? new Date(body.at) : deps.clock.now();
  const items = Array.isArray(evidence) ? evidence : [evidence];
  // An explicit past time is a historical check: collateral floors raised since then do not apply.
  const ctx = await deps.verification.contextFor(items, now, { historical: body.at !== undefined });
  return checkEvidence({ evidence, ...(nonce ? { expectedNonce: nonce } : {}) }, ctx);
}
