// Trust inputs are the owners' choice (docs/trust.md "Trust inputs are the owners' choice"): in every tenant
// but `default`, a release resting on a non-vendor anchor (extra: a private PKI or the dev simulator;
// uploaded: a signer a platform admin trusted) needs the key's policy to name that anchor's SPKI hash in
// `refs.anchors`, and a verdict without a revocation check (KEYWARD_REVOCATION=optional) needs
// `refs.allowUncheckedRevocation: true`. The platform's settings alone never widen an owner's trust.
import { RequestError } from '../errors.js';
import type { RefValue } from '../policy/document.js';

/** The tenant whose keys accept the platform's extra anchors and revocation setting as they are. */
export const PLATFORM_TENANT = 'default';

export interface TrustInputProblem {
  readonly tee: string;
  readonly rule: 'refs.anchors' | 'refs.allowUncheckedRevocation';
  readonly anchor?: { readonly source: string; readonly spki: string; readonly name: string };
}

interface ClaimsLike {
  readonly tee?: unknown;
  readonly anchor?: { readonly source?: unknown; readonly spki?: unknown; readonly name?: unknown };
  readonly revocationChecked?: unknown;
}

function namedAnchors(refs: Readonly<Record<string, RefValue>>): Set<string> {
  const listed = refs['anchors'];
  return new Set(Array.isArray(listed) ? listed.filter((v): v is string => typeof v === 'string').map((v) => v.toLowerCase()) : []);
}

/** What the owner's policy would have to name for these claims; empty when nothing is missing. */
export function missingTrustInputs(tenant: string, refs: Readonly<Record<string, RefValue>>, pieces: readonly unknown[]): TrustInputProblem[] {
  if (tenant === PLATFORM_TENANT) return [];
  const anchors = namedAnchors(refs);
  const problems: TrustInputProblem[] = [];
  for (const piece of pieces as readonly (ClaimsLike | null | undefined)[]) {
    if (!piece) continue;
    const tee = String(piece.tee);
    const a = piece.anchor;
    // Why fail closed: a piece without a vendor anchor it can prove is treated as non-vendor.
    if (a?.source !== 'vendor' && !(typeof a?.spki === 'string' && anchors.has(a.spki))) {
      problems.push({ tee, rule: 'refs.anchors', anchor: { source: String(a?.source), spki: String(a?.spki), name: String(a?.name) } });
    }
    if (piece.revocationChecked !== true && refs['allowUncheckedRevocation'] !== true) problems.push({ tee, rule: 'refs.allowUncheckedRevocation' });
  }
  return problems;
}

/** The refusal for `problems` (anchors first: they are the stronger reason). */
export function trustInputRefusal(problems: readonly TrustInputProblem[]): RequestError {
  if (problems.some((p) => p.rule === 'refs.anchors')) {
    return new RequestError('ERR_POLICY_ANCHOR_NOT_ALLOWED', "The evidence rests on a trust anchor the key's policy does not name in refs.anchors.");
  }
  return new RequestError('ERR_POLICY_REVOCATION_UNCHECKED', "The evidence's revocation was not checked and the key's policy does not allow it (refs.allowUncheckedRevocation).");
}
