// X.509 CRLs (RFC 5280 §5) for every verifier: parse (each buffer once), check the issuer and signature,
// judge freshness at `now`. Applying a verified CRL to a chain is pki.ts `applyCrls`.
import { createHash } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate as AsnCertificate, CertificateList, CRLNumber, Name, id_ce_cRLNumber } from '@peculiar/asn1-x509';
import { EvidenceError, type EvidenceErrorCode } from '../errors.js';
import type { CollateralVersion, VerificationMemo } from './types.js';
import { FLOOR_SERIES } from './floors.js';
import { commonNameOf, firstChild, normalizeSerial, splitDerSequence, type Certificate, type VerifiedCrl } from './pki.js';
import { verifyWithAlgorithm } from './signatures.js';

function fail(code: EvidenceErrorCode, message: string, cause?: unknown): never {
  throw new EvidenceError(code, message, cause === undefined ? {} : { cause });
}

function remembered(memo: VerificationMemo | undefined, key: string, compute: () => boolean): boolean {
  return memo ? memo.remember(key, compute) : compute();
}

interface ParsedCrl {
  readonly list: CertificateList;
  readonly tbs: Uint8Array;
}



interface ParsedCrlCached extends ParsedCrl {
  readonly issuerDer: string;
}

// CRLs arrive in collateral bags that are reused across verifications: parse each buffer once.
const parsedCrls = new WeakMap<Uint8Array, ParsedCrlCached>();

export function parseCrl(der: Uint8Array): ParsedCrlCached {
  const cached = parsedCrls.get(der);
  if (cached) return cached;
  let parsed: ParsedCrlCached;
  try {
    const list = AsnConvert.parse(der, CertificateList);
    // Signatures cover the TBS bytes exactly as received, so slice them rather than re-encode.
    const outer = splitDerSequence(der)[0];
    const tbs = outer ? firstChild(outer) : undefined;
    if (!tbs) throw new Error('no tbsCertList');
    parsed = { list, tbs, issuerDer: nameDer(list.tbsCertList.issuer) };
  } catch (cause) {
    fail('ERR_CRL_INVALID', 'A CRL could not be parsed.', cause);
  }
  parsedCrls.set(der, parsed);
  return parsed;
}

/** True when the CRL names this certificate as its issuer (by DER-equal distinguished name). */
export function crlIssuedBy(der: Uint8Array, issuer: Certificate): boolean {
  try {
    return parseCrl(der).issuerDer === subjectDer(issuer);
  } catch {
    return false;
  }
}

/**
 * Verifies a CRL's signature with `issuer`, and that `now` lies in [thisUpdate, nextUpdate].
 * A CRL past nextUpdate is ERR_CRL_STALE: collateral to refresh, not a verdict on the evidence.
 */
export function verifyCrl(der: Uint8Array, issuer: Certificate, now: Date, memo?: VerificationMemo): VerifiedCrl {
  const crl = verifyCrlSignature(der, issuer, memo);
  checkCrlFreshness(crl, now);
  return crl;
}

/**
 * The time-independent half of verifyCrl: the CRL is issued by `issuer` (DER-equal name), its signature
 * verifies with `issuer`'s key, and it has a nextUpdate. The result is a pure function of (der, issuer),
 * so callers may remember it; they must still call checkCrlFreshness for the instant they judge.
 */
export function verifyCrlSignature(der: Uint8Array, issuer: Certificate, memo?: VerificationMemo): VerifiedCrl {
  const { list, tbs, issuerDer } = parseCrl(der);
  const tbsList = list.tbsCertList;
  if (issuerDer !== subjectDer(issuer)) {
    fail('ERR_CRL_INVALID', `The CRL is not issued by "${commonNameOf(issuer.subject)}".`);
  }
  const crlSha = createHash('sha256').update(der).digest('hex');
  const ok = remembered(memo, `crl-sig:${crlSha}:${issuer.sha256}`, () =>
    verifyWithAlgorithm(list.signatureAlgorithm, tbs, new Uint8Array(list.signature), issuer.x509.publicKey),
  );
  if (!ok) fail('ERR_CRL_SIGNATURE_INVALID', `The CRL's signature does not verify with "${commonNameOf(issuer.subject)}".`);
  const next = tbsList.nextUpdate?.getTime();
  if (!next) fail('ERR_CRL_INVALID', 'The CRL has no nextUpdate; its freshness cannot be judged.');
  const revoked = new Set<string>();
  for (const entry of tbsList.revokedCertificates ?? []) {
    revoked.add(normalizeSerial(Buffer.from(entry.userCertificate).toString('hex')));
  }
  const crlNumber = crlNumberOf(list);
  return {
    issuer: issuer.subject,
    issuerSha256: issuer.sha256,
    issuerSpkiSha256: issuer.spkiSha256,
    thisUpdate: tbsList.thisUpdate.getTime(),
    nextUpdate: next,
    revokedSerials: revoked,
    ...(crlNumber === undefined ? {} : { crlNumber }),
  };
}

/** The cRLNumber, or undefined when absent or beyond a safe integer (then no floor is kept for it). */
function crlNumberOf(list: CertificateList): number | undefined {
  const ext = list.tbsCertList.crlExtensions?.find((e) => e.extnID === id_ce_cRLNumber);
  if (!ext) return undefined;
  try {
    const value = AsnConvert.parse(ext.extnValue.buffer, CRLNumber).value;
    return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  } catch (cause) {
    fail('ERR_CRL_INVALID', 'The CRL number cannot be read.', cause);
  }
}

/** The floor series and version of a verified CRL, when it carries a number. */
export function crlVersion(crl: VerifiedCrl): CollateralVersion | undefined {
  return crl.crlNumber === undefined ? undefined : { series: FLOOR_SERIES.crl(crl.issuerSpkiSha256), number: crl.crlNumber };
}

/** Fails unless thisUpdate <= now <= nextUpdate (ERR_CRL_NOT_YET_VALID / ERR_CRL_STALE). */
export function checkCrlFreshness(crl: VerifiedCrl, now: Date): void {
  if (now < crl.thisUpdate) fail('ERR_CRL_NOT_YET_VALID', `The CRL is not valid before ${crl.thisUpdate.toISOString()}.`);
  if (now > crl.nextUpdate) fail('ERR_CRL_STALE', `The CRL expired at ${crl.nextUpdate.toISOString()}; fetch a current one.`);
}

function nameDer(name: Name): string {
  return Buffer.from(AsnConvert.serialize(name)).toString('hex');
}

const subjectDerCache = new WeakMap<Certificate, string>();
function subjectDer(cert: Certificate): string {
  let hex = subjectDerCache.get(cert);
  if (hex === undefined) {
    const parsed = AsnConvert.parse(cert.der, AsnCertificate);
    hex = nameDer(parsed.tbsCertificate.subject);
    subjectDerCache.set(cert, hex);
  }
  return hex;
}
