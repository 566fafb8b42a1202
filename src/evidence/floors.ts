// Collateral never rolls back (docs/trust.md "Collateral never rolls back"): the highest version of each
// collateral series keyward has accepted is a floor, and collateral below it is refused, so deleting the
// newest CRL or TCB Info never brings an older, still unexpired one back into force. The floors arrive in
// the VerifyContext (the service keeps them in its database); verifiers report what they relied on.
import { EvidenceError } from '../errors.js';
import type { CollateralVersion, VerifyContext } from './types.js';

/** The series names floors are kept by. */
export const FLOOR_SERIES = {
  /** An Intel TCB Info: TCB evaluation data number, per TEE (TDX/SGX) and FMSPC. */
  tcbInfo: (id: string, fmspc: string): string => `tcb-info:${id}:${fmspc.toLowerCase()}`,
  /** An Intel QE / TD-QE Identity: TCB evaluation data number, per identity. */
  qeIdentity: (id: string): string => `qe-identity:${id}`,
  /** A CRL: its cRLNumber, per issuer key (SHA-256 of the issuer's SubjectPublicKeyInfo). */
  crl: (issuerSpkiSha256: string): string => `crl:${issuerSpkiSha256}`,
} as const;

/** Refuses `version` when a higher one of its series was accepted before (ERR_COLLATERAL_ROLLBACK, 503). */
export function checkFloor(ctx: Pick<VerifyContext, 'floors'>, version: CollateralVersion, what: string): void {
  const floor = ctx.floors?.get(version.series);
  if (floor !== undefined && version.number < floor) {
    throw new EvidenceError('ERR_COLLATERAL_ROLLBACK', `The ${what} is version ${version.number}, but version ${floor} was already accepted: collateral never rolls back.`, {
      extra: { series: version.series, number: version.number, floor },
    });
  }
}
