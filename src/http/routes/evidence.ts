// POST /v1/evidence/verify (admin): the `keyward verify --json` verdict for evidence sent over HTTP, to
// debug a workload's evidence against this keyward's anchors and collateral.
import { EvidenceError } from '../../errors.js';
import { fromHex } from '../../encoding.js';
import { checkEvidence, evidenceFailure } from '../../broker/evidence-check.js';
import type { VerificationSource } from '../../broker/verification.js';
import type { Clock } from '../../clock.js';
import { decodeEvidenceItem } from '../../evidence/wire.js';
import type { EvidenceItem } from '../../evidence/types.js';
import type { RouteRegistrar } from '../app.js';
import { RequestError } from '../../errors.js';

export interface EvidenceRouteDeps {
  readonly verification: VerificationSource;
  readonly clock: Clock;
}

export function registerEvidenceRoutes(r: RouteRegistrar, deps: EvidenceRouteDeps): void {
  r.route('verifyEvidence', 'evidence:verify', async (request) => {
    const body = request.body as { evidence: unknown; nonce?: string; at?: string };
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
    const ctx = await deps.verification.contextFor(items, now, { historical: body.at !== undefined });
    return checkEvidence({ evidence, ...(nonce ? { expectedNonce: nonce } : {}) }, ctx);
  });
}
