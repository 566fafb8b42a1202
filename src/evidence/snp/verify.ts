// Verifies AMD SEV-SNP evidence (ABI spec #56860, VCEK spec #57230): report structure, signature
// by the named VCEK/VLEK, chain to a pinned ARK, product, AMD extensions vs report, CRLs, nonce → claims.
import { createHash, timingSafeEqual } from 'node:crypto';
import { EvidenceError } from '../../errors.js';
import { toHex } from '../../encoding.js';
import type { EvidenceItem, SnpProduct, VerifiedEvidence, VerifyContext } from '../types.js';
import { evidenceBytes } from '../wire.js';
import { verifySnpChain, type SnpChainResult } from './chain.js';
import type { SnpClaims } from './claims.js';
import { parseCollateralCertificates, parseEvidenceCertificates } from './certs.js';
import { decodeGuestPolicy, decodePlatformInfo, parseSnpReport, reportProduct, type SnpFirmwareVersion, type SnpReport } from './report.js';
import { reportSignatureValid, selectSigningCandidates, type SigningCandidate } from './signer.js';
import { decodeTcb, tcbReservedNonZero } from './tcb.js';
import type { Certificate } from '../pki.js';
import { anchorFields } from '../anchors.js';

export type SnpEvidenceItem = Extract<EvidenceItem, { readonly type: 'snp' }>;

interface Accepted {
  readonly candidate: SigningCandidate;
  readonly result: SnpChainResult;
}

function refuseUnsigned(report: SnpReport): void {
  if (report.signingKey === 'none') {
    throw new EvidenceError('ERR_SNP_SIGNATURE_INVALID', 'The report is unsigned (SIGNING_KEY = none).');
  }
  if (report.maskChipKey) {
    throw new EvidenceError('ERR_SNP_SIGNATURE_INVALID', 'The report was produced with MASK_CHIP_KEY set and carries no signature.');
  }
}

/** CURRENT/COMMITTED/LAUNCH_TCB bytes that the product's layout leaves reserved must be zero. */
function checkTcbReserved(report: SnpReport, product: SnpProduct): void {
  for (const [name, raw] of [
    ['CURRENT_TCB', report.currentTcb],
    ['REPORTED_TCB', report.reportedTcb],
    ['COMMITTED_TCB', report.committedTcb],
    ['LAUNCH_TCB', report.launchTcb],
  ] as const) {
    if (tcbReservedNonZero(raw, product)) {
      throw new EvidenceError('ERR_SNP_RESERVED_NONZERO', `A reserved byte of the report's ${name} is non-zero.`);
    }
  }
}

/**
 * Tries each fitting signing certificate: the first whose key verifies the signature and whose chain,
 * product and CRLs hold wins. Otherwise the error of the first candidate that signed, or a bad signature.
 */
function acceptSigner(report: SnpReport, candidates: readonly SigningCandidate[], pool: readonly Certificate[], ctx: VerifyContext): Accepted {
  let firstError: EvidenceError | undefined;
  for (const candidate of candidates) {
    if (!reportSignatureValid(report, candidate.cert, ctx.memo)) continue;
    try {
      return { candidate, result: verifySnpChain(candidate, pool, ctx) };
    } catch (err) {
      if (!(err instanceof EvidenceError)) throw err;
      firstError ??= err;
    }
  }
  throw firstError ?? new EvidenceError('ERR_SNP_SIGNATURE_INVALID', `The report's signature does not verify with the ${report.signingKey.toUpperCase()}.`);
}

function checkReportProduct(report: SnpReport, product: SnpProduct): void {
  if (report.cpuid && reportProduct(report) !== product) {
    const { family, model } = report.cpuid;
    throw new EvidenceError(
      'ERR_SNP_PRODUCT_MISMATCH',
      `The report's CPUID (family 0x${family.toString(16)}, model 0x${model.toString(16)}) is not a ${product} CPU.`,
    );
  }
}

function checkNonce(report: SnpReport, expected: Uint8Array | undefined): void {
  if (expected === undefined) return;
  const actual = report.reportData;
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
    throw new EvidenceError('ERR_EVIDENCE_NONCE_MISMATCH', 'The report\'s REPORT_DATA does not equal the expected nonce binding.');
  }
}

function versionString(v: SnpFirmwareVersion): string {
  return `${v.major}.${v.minor}.${v.build}`;
}

function buildClaims(report: SnpReport, accepted: Accepted): SnpClaims {
  const { product, chain } = accepted.result;
  const { ext } = accepted.candidate;
  const policy = decodeGuestPolicy(report.policy);
  return {
    tee: 'snp',
    debug: policy.debug,
    ...anchorFields([chain.anchor]),
    revocationChecked: accepted.result.revocationChecked,
    reportData: toHex(report.reportData),
    product,
    reportVersion: report.version,
    signer: ext.kind,
    measurement: toHex(report.measurement),
    hostData: toHex(report.hostData),
    familyId: toHex(report.familyId),
    imageId: toHex(report.imageId),
    idKeyDigest: toHex(report.idKeyDigest),
    authorKeyDigest: toHex(report.authorKeyDigest),
    chipId: toHex(report.chipId),
    vmpl: report.vmpl,
    guestSvn: report.guestSvn,
    policy,
    reportedTcb: decodeTcb(report.reportedTcb, product),
    committedTcb: decodeTcb(report.committedTcb, product),
    currentTcb: decodeTcb(report.currentTcb, product),
    launchTcb: decodeTcb(report.launchTcb, product),
    platformInfo: decodePlatformInfo(report.platformInfo),
    ...(report.cpuid ? { cpuid: { ...report.cpuid } } : {}),
    reportId: toHex(report.reportId),
    reportIdMa: toHex(report.reportIdMa),
    authorKeyEn: report.authorKeyEn,
    currentVersion: versionString(report.currentVersion),
    committedVersion: versionString(report.committedVersion),
    ...(report.launchMitVector !== undefined ? { launchMitVector: report.launchMitVector.toString(16).padStart(16, '0') } : {}),
    ...(report.currentMitVector !== undefined ? { currentMitVector: report.currentMitVector.toString(16).padStart(16, '0') } : {}),
    ...(ext.cspId !== undefined ? { cspId: ext.cspId } : {}),
    certProductName: ext.productName,
  };
}

function digestOf(item: SnpEvidenceItem): string {
  const hash = createHash('sha256');
  for (const part of evidenceBytes(item)) hash.update(part);
  return hash.digest('hex');
}

/** The synchronous core of verifySnpEvidence (all work is CPU-bound). */
export function verifySnpEvidenceSync(item: SnpEvidenceItem, ctx: VerifyContext): VerifiedEvidence<SnpClaims> {
  const report = parseSnpReport(item.report);
  refuseUnsigned(report);
  const evidenceCerts = parseEvidenceCertificates(item.certs, ctx.memo);
  const collateralCerts = parseCollateralCertificates(ctx.collateral.certificates, ctx.memo);
  const candidates = selectSigningCandidates(report, evidenceCerts, collateralCerts, ctx.memo);
  // Structure before cryptography: the TCB layout is the signing certificate's product (checked against the chain later).
  const layoutProduct = candidates[0]?.ext.product;
  if (layoutProduct) checkTcbReserved(report, layoutProduct);
  const accepted = acceptSigner(report, candidates, [...evidenceCerts, ...collateralCerts], ctx);
  checkReportProduct(report, accepted.result.product);
  if (accepted.result.product !== layoutProduct) checkTcbReserved(report, accepted.result.product);
  checkNonce(report, ctx.expectedNonce);
  return {
    claims: buildClaims(report, accepted),
    digest: digestOf(item),
    validFrom: accepted.result.validFrom,
    validUntil: accepted.result.validUntil,
    collateralVersions: accepted.result.collateralVersions,
  };
}

/**
 * Verifies SEV-SNP evidence `{report, certs}` at ctx.now. Certificates come from `item.certs` (DER, PEM,
 * bundles, GUID tables) and ctx.collateral.certificates; CRLs from ctx.collateral.crls. Pure: no I/O.
 */
export async function verifySnpEvidence(item: SnpEvidenceItem, ctx: VerifyContext): Promise<VerifiedEvidence<SnpClaims>> {
  return verifySnpEvidenceSync(item, ctx);
}
