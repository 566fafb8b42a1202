// Finds the VCEK or VLEK a report names (SIGNING_KEY, CHIP_ID, REPORTED_TCB) and checks the report's
// ECDSA P-384 signature with it (ABI spec #56860 "Signature Format": r, s little-endian over [0x000, 0x2A0)).
import { createHash, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { EvidenceError } from '../../errors.js';
import type { Certificate } from '../pki.js';
import type { VerificationMemo } from '../types.js';
import { amdExtensionsRemembered } from './certs.js';
import type { SnpReport } from './report.js';
import { vekHwIdMatches, vekTcbMatches, type AmdVekExtensions } from './vek.js';

export interface SigningCandidate {
  readonly cert: Certificate;
  readonly ext: AmdVekExtensions;
  /** True when the certificate came with the evidence (a mismatch is then a verdict, not missing collateral). */
  readonly fromEvidence: boolean;
}

/** Distinct matching certificates tried per report; bounds the P-384 work a hostile request can cause. */
export const MAX_SIGNING_CANDIDATES = 4;

function signingLeaves(certs: readonly Certificate[], fromEvidence: boolean, memo: VerificationMemo | undefined): SigningCandidate[] {
  const out: SigningCandidate[] = [];
  for (const cert of certs) {
    if (cert.x509.ca) continue;
    let ext: AmdVekExtensions | undefined;
    try {
      ext = amdExtensionsRemembered(cert, memo);
    } catch (err) {
      // A broken signing certificate sent with the evidence is a verdict; one in collateral is skipped.
      if (fromEvidence) throw err;
      continue;
    }
    if (ext) out.push({ cert, ext, fromEvidence });
  }
  return out;
}

function matchesReport(candidate: SigningCandidate, report: SnpReport): boolean {
  const { ext } = candidate;
  if (!ext.product) return false;
  if (ext.kind === 'vcek' && !vekHwIdMatches(ext, ext.product, report.chipId)) return false;
  return vekTcbMatches(ext, ext.product, report.reportedTcb);
}

function mismatch(candidate: SigningCandidate, report: SnpReport): EvidenceError {
  const { ext } = candidate;
  const name = ext.kind.toUpperCase();
  if (!ext.product) {
    return new EvidenceError('ERR_SNP_PRODUCT_MISMATCH', `The ${name}'s product name "${ext.productName}" is not a known SEV-SNP product.`);
  }
  if (ext.kind === 'vcek' && !vekHwIdMatches(ext, ext.product, report.chipId)) {
    return new EvidenceError('ERR_SNP_CHIP_ID_MISMATCH', 'The VCEK was issued for another chip than the report\'s CHIP_ID.');
  }
  return new EvidenceError('ERR_SNP_TCB_MISMATCH', `The ${name} was issued for another TCB than the report's REPORTED_TCB.`);
}

/**
 * The certificates that could have signed this report, evidence first, then collateral. Fails with
 * ERR_SNP_SIGNER_MISMATCH (only the other kind of key was sent), ERR_SNP_CHIP_ID_MISMATCH /
 * ERR_SNP_TCB_MISMATCH / ERR_SNP_PRODUCT_MISMATCH (the sent key does not fit the report), or
 * ERR_COLLATERAL_MISSING (no fitting key was sent or is held as collateral).
 */
export function selectSigningCandidates(
  report: SnpReport,
  evidence: readonly Certificate[],
  collateral: readonly Certificate[],
  memo: VerificationMemo | undefined,
): SigningCandidate[] {
  const wanted = report.signingKey;
  const leaves = [...signingLeaves(evidence, true, memo), ...signingLeaves(collateral, false, memo)];
  const sameKind = leaves.filter((leaf) => leaf.ext.kind === wanted);
  const name = wanted.toUpperCase();
  if (sameKind.length === 0) {
    // Never accept a VLEK where the report names a VCEK, or the reverse
    // (test/vectors/snp/FACTS.md §8, pitfall 5).
    if (leaves.some((leaf) => leaf.fromEvidence)) {
      throw new EvidenceError('ERR_SNP_SIGNER_MISMATCH', `The report is signed by a ${name}, but no ${name} certificate was supplied.`);
    }
    throw new EvidenceError('ERR_COLLATERAL_MISSING', `No ${name} certificate for this report was supplied or held as collateral.`);
  }
  const seen = new Set<string>();
  const matching = sameKind.filter((leaf) => {
    if (seen.has(leaf.cert.sha256) || !matchesReport(leaf, report)) return false;
    seen.add(leaf.cert.sha256);
    return true;
  });
  if (matching.length === 0) {
    const sent = sameKind.find((leaf) => leaf.fromEvidence);
    if (sent) throw mismatch(sent, report);
    throw new EvidenceError('ERR_COLLATERAL_MISSING', `No ${name} certificate for this chip and TCB is held as collateral.`);
  }
  return matching.slice(0, MAX_SIGNING_CANDIDATES);
}

const publicKeys = new WeakMap<Certificate, KeyObject>();

function publicKeyOf(cert: Certificate): KeyObject {
  let key = publicKeys.get(cert);
  if (!key) {
    key = cert.x509.publicKey;
    publicKeys.set(cert, key);
  }
  return key;
}

function checkSignature(report: SnpReport, cert: Certificate): boolean {
  const key = publicKeyOf(cert);
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'secp384r1') return false;
  try {
    return cryptoVerify('sha384', report.signedBytes, { key, dsaEncoding: 'ieee-p1363' }, report.signatureP1363);
  } catch {
    return false;
  }
}

/**
 * True when `cert`'s P-384 key verifies the report's signature. The result is remembered under
 * SHA-256(report ‖ SHA-256(cert)), so an identical report and signer cost one hash the next time.
 */
export function reportSignatureValid(report: SnpReport, cert: Certificate, memo: VerificationMemo | undefined): boolean {
  if (!memo) return checkSignature(report, cert);
  const key = createHash('sha256').update(report.bytes).update(cert.sha256).digest('hex');
  return memo.remember(`snp-report-sig:${key}`, () => checkSignature(report, cert));
}
