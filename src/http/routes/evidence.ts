// POST /v1/evidence/verify (admin): the `keyward verify --json` verdict for evidence sent over HTTP, to
// debug a workload's evidence against this keyward's anchors and collateral.
import { evidenceVerdict, type EvidenceRequestBody, type EvidenceRequestDeps } from '../../broker/evidence-request.js';
import type { RouteRegistrar } from '../app.js';

export type EvidenceRouteDeps = EvidenceRequestDeps;

export function registerEvidenceRoutes(r: RouteRegistrar, deps: EvidenceRouteDeps): void {
  r.route('verifyEvidence', 'evidence:verify', async (request) => evidenceVerdict(request.body as EvidenceRequestBody, deps));
}
