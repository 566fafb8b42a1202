// Verifies an Intel DCAP quote the way Intel's QVL does (QuoteVerifier.cpp 4.1.2.4.x): the quote and QE
// report signatures, the QE report binding, the PCK chain and CRLs, the TCB Info and QE Identity, and the
// TCB status. Shared by the TDX and SGX verifiers, which turn the result into their claims.
import { createHash, createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { EvidenceError } from '../../errors.js';
import { constantTimeEqual, toHex } from '../../encoding.js';
import type { CollateralVersion, VerificationMemo, VerifyContext } from '../types.js';
import { intersect, selectTcbCollateral, verifyPckChain, type VerifiedPckChain } from './collateral.js';
import { pckCertificatesOf, type PckExtensions } from './pck.js';
import { checkQeIdentity } from './qe-identity.js';
import { parseQuote, type DcapQuote, type DcapTee } from './quote.js';
import { readSgxReport, readTdReport, type SgxReportFields, type TdReportFields } from './reports.js';
import { checkTdxModule, evaluateSgxTcb, evaluateTdxTcb, type TcbEvaluation } from './tcb-status.js';

export interface VerifiedQuote {
  readonly quote: DcapQuote;
  /** SHA-256 of the evidence bytes as received. */
  readonly digest: string;
  readonly pck: PckExtensions;
  readonly chain: VerifiedPckChain;
  readonly tcb: TcbEvaluation;
  readonly qeReport: SgxReportFields;
  /** The TD report (TDX) or enclave report (SGX) fields. */
  readonly report: { readonly kind: 'td'; readonly fields: TdReportFields } | { readonly kind: 'sgx'; readonly fields: SgxReportFields };
  readonly validFrom: Date;
  readonly validUntil: Date;
  /** CRL numbers and TCB evaluation data numbers relied on (for the rollback floors). */
  readonly collateralVersions: readonly CollateralVersion[];
}

function remember<T>(memo: VerificationMemo | undefined, key: string, compute: () => T): T {
  return memo ? memo.remember(key, compute) : compute();
}

/** The attestation key (raw X‖Y) as a KeyObject, or undefined when it is not a point on P-256. */
function attestationKeyObject(raw: Uint8Array, memo: VerificationMemo | undefined): KeyObject | undefined {
  // Importing a P-256 point costs about as much as a verification (OpenSSL checks the point); keys are
  // stable per Quoting Enclave, so remember them. JWK is Node's cheapest import path for a raw point.
  return remember(memo, `dcap-ak:${toHex(raw)}`, () => {
    const b = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    const jwk = { kty: 'EC', crv: 'P-256', x: b.subarray(0, 32).toString('base64url'), y: b.subarray(32, 64).toString('base64url') };
    try {
      return createPublicKey({ key: jwk, format: 'jwk' });
    } catch {
      return undefined;
    }
  });
}

function verifyP256(key: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    return cryptoVerify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}

/** QVL 4.1.2.4.12–13: the PCK key signed the QE report, whose REPORT_DATA binds the attestation key. */
function checkQeReport(quote: DcapQuote, qe: SgxReportFields, pckKey: KeyObject, pckSha256: string, memo: VerificationMemo | undefined): void {
  const key = `dcap-qe-sig:${createHash('sha256').update(quote.qeReport).update(quote.qeReportSignature).digest('hex')}:${pckSha256}`;
  if (!remember(memo, key, () => verifyP256(pckKey, quote.qeReport, quote.qeReportSignature))) {
    throw new EvidenceError('ERR_DCAP_QE_REPORT_SIGNATURE_INVALID', 'The QE report signature does not verify with the PCK certificate.');
  }
  const expected = Buffer.concat([createHash('sha256').update(quote.attestationKey).update(quote.qeAuthData).digest(), Buffer.alloc(32)]);
  if (!constantTimeEqual(qe.reportData, expected)) {
    throw new EvidenceError(
      'ERR_DCAP_QE_REPORT_DATA_MISMATCH',
      'The QE report data is not SHA-256(attestation key ‖ QE authentication data) followed by zeros.',
    );
  }
}

/** QVL 4.1.2.4.16: the attestation key signed header ‖ body. */
function checkQuoteSignature(quote: DcapQuote, memo: VerificationMemo | undefined): void {
  const key = attestationKeyObject(quote.attestationKey, memo);
  if (!key) throw new EvidenceError('ERR_DCAP_QUOTE_SIGNATURE_INVALID', 'The quote\'s attestation key is not a P-256 point.');
  if (!verifyP256(key, quote.signedRegion, quote.signature)) {
    throw new EvidenceError('ERR_DCAP_QUOTE_SIGNATURE_INVALID', 'The quote signature does not verify with its attestation key.');
  }
}

function checkNonce(reportData: Uint8Array, expected: Uint8Array | undefined): void {
  if (expected !== undefined && !constantTimeEqual(reportData, expected)) {
    throw new EvidenceError('ERR_EVIDENCE_NONCE_MISMATCH', 'REPORT_DATA does not carry the expected nonce binding.');
  }
}

/**
 * Verifies a quote of the given TEE at `ctx.now` with `ctx.collateral` and `ctx.anchors`. Evidence-internal
 * checks (signatures, QE binding, nonce) come first so that a forged quote is refused whatever the
 * collateral; then the chain, CRLs and signed collateral; then the TCB evaluation.
 */
export function verifyDcapQuote(bytes: Uint8Array, tee: DcapTee, ctx: VerifyContext): VerifiedQuote {
  const quote = parseQuote(bytes);
  if (quote.tee !== tee) {
    throw new EvidenceError('ERR_DCAP_TEE_TYPE_MISMATCH', `The quote comes from ${quote.tee.toUpperCase()}, not ${tee.toUpperCase()}.`);
  }
  const pckCerts = pckCertificatesOf(quote.pckChain, ctx.memo);
  const qeReport = readSgxReport(quote.qeReport);
  checkQeReport(quote, qeReport, pckCerts.leaf.x509.publicKey, pckCerts.leaf.sha256, ctx.memo);
  checkQuoteSignature(quote, ctx.memo);
  const report =
    quote.bodyKind === 'sgx'
      ? { kind: 'sgx' as const, fields: readSgxReport(quote.body) }
      : { kind: 'td' as const, fields: readTdReport(quote.body) };
  checkNonce(report.fields.reportData, ctx.expectedNonce);

  const chain = verifyPckChain(pckCerts, ctx);
  const pck = pckCerts.extensions;
  const collateral = selectTcbCollateral(tee, toHex(pck.fmspc), toHex(pck.pceId), chain, ctx);
  if (report.kind === 'td') checkTdxModule(collateral.tcbInfo, report.fields);
  const qe = checkQeIdentity(collateral.qeIdentity, qeReport);
  const tcb =
    report.kind === 'td' ? evaluateTdxTcb(collateral.tcbInfo, pck, report.fields, qe) : evaluateSgxTcb(collateral.tcbInfo, pck, qe);
  return {
    quote,
    digest: createHash('sha256').update(bytes).digest('hex'),
    pck,
    chain,
    tcb,
    qeReport,
    report,
    collateralVersions: [...chain.collateralVersions, ...collateral.collateralVersions],
    ...intersect(chain, collateral),
  };
}
