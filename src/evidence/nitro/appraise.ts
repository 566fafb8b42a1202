// Appraises verified Nitro claims against reference values (AWS attestation_process §2.2.2;
// test/vectors/nitro/FACTS.md §5 steps 5–6): debug enclaves, PCR allow-lists, and the document's age.
// Verification (verify.ts) decides whether AWS issued the document; this decides whether keyward should trust
// what it says.
import { EvidenceError, type EvidenceErrorCode } from '../../errors.js';
import type { NitroClaims } from './claims.js';

export interface NitroReferenceValues {
  /** Allowed values per PCR index ("0".."31" → lowercase hex values). PCRs not listed are not checked. */
  readonly pcrs?: Readonly<Record<string, readonly string[]>>;
  /** Accept enclaves whose PCR0–2 are zero (debug mode). Default false. */
  readonly allowDebug?: boolean;
  /** With `now`: the document's `timestamp` may be at most this old. */
  readonly maxAgeMs?: number;
  /** With `now`: how far `timestamp` may lie in the future (clock skew). Default 60 s. */
  readonly maxSkewMs?: number;
  readonly now?: Date;
}

export interface NitroAppraisalFailure {
  readonly code: EvidenceErrorCode;
  /** What was checked: "debug", "pcr0", ..., "timestamp". */
  readonly check: string;
  readonly message: string;
}

const DEFAULT_SKEW_MS = 60_000;

function checkPcrs(claims: NitroClaims, allowed: Readonly<Record<string, readonly string[]>>): NitroAppraisalFailure[] {
  const failures: NitroAppraisalFailure[] = [];
  for (const [index, values] of Object.entries(allowed)) {
    const actual = claims.pcrs[index];
    if (actual === undefined || !values.some((v) => v.toLowerCase() === actual)) {
      failures.push({
        code: 'ERR_EVIDENCE_CLAIM_MISMATCH',
        check: `pcr${index}`,
        message: `PCR${index} ${actual === undefined ? 'is absent' : `is ${actual}`}, which is not an allowed value.`,
      });
    }
  }
  return failures;
}

function checkAge(claims: NitroClaims, refs: NitroReferenceValues): NitroAppraisalFailure[] {
  if (refs.now === undefined || refs.maxAgeMs === undefined) return [];
  const age = refs.now.getTime() - Date.parse(claims.timestamp);
  if (age > refs.maxAgeMs || age < -(refs.maxSkewMs ?? DEFAULT_SKEW_MS)) {
    return [
      {
        code: 'ERR_NITRO_TIMESTAMP_OUT_OF_RANGE',
        check: 'timestamp',
        message: `The document was issued at ${claims.timestamp}, outside the accepted age of ${refs.maxAgeMs} ms.`,
      },
    ];
  }
  return [];
}

/** Every failed check, in order (debug first); an empty list means the claims are acceptable. */
export function appraiseNitroClaims(claims: NitroClaims, refs: NitroReferenceValues): NitroAppraisalFailure[] {
  const failures: NitroAppraisalFailure[] = [];
  // Why first and separately: a debug enclave's memory is open to the parent instance, so whatever its
  // other claims say, nothing released to it stays secret. An allow-list must never be able to admit it.
  if (claims.debug && refs.allowDebug !== true) {
    failures.push({ code: 'ERR_NITRO_DEBUG_ENCLAVE', check: 'debug', message: 'The enclave runs in debug mode (PCR0–2 are zero).' });
  }
  failures.push(...checkPcrs(claims, refs.pcrs ?? {}), ...checkAge(claims, refs));
  return failures;
}

/** Throws the first failure's code; all failures travel in `extra.failures` (no secrets: PCRs are public). */
export function assertNitroClaims(claims: NitroClaims, refs: NitroReferenceValues): void {
  const failures = appraiseNitroClaims(claims, refs);
  const first = failures[0];
  if (first) throw new EvidenceError(first.code, first.message, { extra: { failures } });
}
