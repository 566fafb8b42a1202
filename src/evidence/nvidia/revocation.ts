// Revocation of NVIDIA certificates from supplied collateral: OCSP responses (as nvtrust checks them) and
// CRLs from the certificates' issuers (NVIDIA's CRL mirrors). Certificates without either stay unchecked.
import { EvidenceError } from '../../errors.js';
import { commonNameOf, type Certificate } from '../pki.js';
import { crlIssuedBy, verifyCrl } from '../crl.js';
import type { Collateral, VerificationMemo } from '../types.js';
import { judgeOcspStatus, matchingStatuses, parseOcspResponse } from './ocsp.js';

export interface RevocationCheck {
  readonly cert: Certificate;
  readonly issuer: Certificate;
}

export interface RevocationCoverage {
  /** Certificates with a verified, current "good" answer from OCSP or a CRL. */
  readonly checked: number;
  readonly required: number;
  /** Intersection of the windows of the answers relied on, epoch ms (±Infinity when none). */
  readonly validFromMs: number;
  readonly validUntilMs: number;
}

interface Answer {
  readonly from: Date;
  readonly until: Date;
}

function revoked(cert: Certificate, source: string): never {
  throw new EvidenceError('ERR_CHAIN_REVOKED', `"${commonNameOf(cert.subject)}" (serial ${cert.serial}) is revoked (${source}).`);
}

/** All answers the collateral holds for one certificate; errors of unusable answers are collected. */
function answersFor(check: RevocationCheck, collateral: Collateral, now: Date, errors: unknown[], memo?: VerificationMemo): Answer[] {
  const answers: Answer[] = [];
  for (const der of collateral.ocspResponses) {
    const parsed = parseOcspResponse(der, memo);
    if (!parsed) continue;
    for (const single of matchingStatuses(parsed, check.cert, check.issuer, memo)) {
      try {
        const verdict = judgeOcspStatus(parsed, single, check.issuer, now, memo);
        if (verdict.status === 'revoked') revoked(check.cert, 'OCSP');
        answers.push({ from: verdict.thisUpdate, until: verdict.nextUpdate });
      } catch (err) {
        if (err instanceof EvidenceError && err.code === 'ERR_CHAIN_REVOKED') throw err;
        errors.push(err);
      }
    }
  }
  for (const der of collateral.crls) {
    if (!crlIssuedBy(der, check.issuer)) continue;
    try {
      const crl = verifyCrl(der, check.issuer, now, memo);
      if (crl.revokedSerials.has(check.cert.serial)) revoked(check.cert, 'CRL');
      answers.push({ from: crl.thisUpdate, until: crl.nextUpdate });
    } catch (err) {
      if (err instanceof EvidenceError && err.code === 'ERR_CHAIN_REVOKED') throw err;
      errors.push(err);
    }
  }
  return answers;
}

/**
 * Checks each certificate against the OCSP responses and CRLs in the collateral. A validly signed
 * "revoked" fails (ERR_CHAIN_REVOKED); a certificate with only unusable answers (stale, bad signature,
 * unknown responder) fails with that answer's error; a certificate with no answer stays unchecked.
 */
export function checkRevocation(checks: readonly RevocationCheck[], collateral: Collateral, now: Date, memo?: VerificationMemo): RevocationCoverage {
  let checked = 0;
  let from = -Infinity;
  let until = Infinity;
  for (const check of checks) {
    const errors: unknown[] = [];
    const answers = answersFor(check, collateral, now, errors, memo);
    if (answers.length === 0) {
      if (errors.length > 0) throw errors[0];
      continue;
    }
    checked++;
    // Rely on the freshest answer for this certificate.
    const best = answers.reduce((a, b) => (b.until > a.until ? b : a));
    from = Math.max(from, best.from.getTime());
    until = Math.min(until, best.until.getTime());
  }
  return { checked, required: checks.length, validFromMs: from, validUntilMs: until };
}

/** The certificates of a verified path (leaf first) that revocation must cover: all but the root, optionally the leaf. */
export function revocationChecks(path: readonly Certificate[], includeLeaf: boolean): RevocationCheck[] {
  const out: RevocationCheck[] = [];
  for (let i = includeLeaf ? 0 : 1; i + 1 < path.length; i++) {
    out.push({ cert: path[i] as Certificate, issuer: path[i + 1] as Certificate });
  }
  return out;
}

export function mergeCoverage(a: RevocationCoverage, b: RevocationCoverage): RevocationCoverage {
  return {
    checked: a.checked + b.checked,
    required: a.required + b.required,
    validFromMs: Math.max(a.validFromMs, b.validFromMs),
    validUntilMs: Math.min(a.validUntilMs, b.validUntilMs),
  };
}
