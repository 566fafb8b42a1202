// KEYWARD_REVOCATION for the verifiers (docs/trust.md "Revocation"): under `required`, the default, evidence
// whose chain has a certificate without a current revocation answer is refused; under `optional` it passes
// and its claims say `revocationChecked: false`. Either way an answer that is given is checked: a stale,
// unreadable or badly signed CRL is an error, and a listed certificate is revoked.
import { EvidenceError } from '../errors.js';
import type { VerifyContext } from './types.js';

export type RevocationMode = 'required' | 'optional';

/** The mode a verification runs under; absent means `required` (fail closed). */
export function revocationModeOf(ctx: Pick<VerifyContext, 'revocation'>): RevocationMode {
  return ctx.revocation ?? 'required';
}

/**
 * Called where a revocation answer is missing: under `required` it throws, ERR_COLLATERAL_MISSING (503)
 * when the answer may still come (a CRL or OCSP response to fetch or upload), or
 * ERR_COLLATERAL_REVOCATION_UNAVAILABLE (422) when it cannot (the evidence states no revocation status);
 * under `optional` it returns false, the value of `revocationChecked`.
 */
export function revocationUnavailable(ctx: Pick<VerifyContext, 'revocation'>, message: string, opts: { mayComeLater: boolean }): false {
  if (revocationModeOf(ctx) === 'optional') return false;
  const code = opts.mayComeLater ? 'ERR_COLLATERAL_MISSING' : 'ERR_COLLATERAL_REVOCATION_UNAVAILABLE';
  throw new EvidenceError(code, `${message} Revocation is required (KEYWARD_REVOCATION=required).`, { extra: { revocation: 'required' } });
}
