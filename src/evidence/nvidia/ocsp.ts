// OCSP responses supplied as collateral (RFC 6960): parse, match to a certificate by CertID, verify the
// signature of the issuer or of a delegated responder it certified (id-kp-OCSPSigning, §4.2.2.2), and
// judge the status inside [thisUpdate, nextUpdate]. No nonce: stored responses are judged by their window.
import { createHash } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate as AsnCertificate, type AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { BasicOCSPResponse, OCSPResponse, OCSPResponseStatus, id_pkix_ocsp_basic, id_kp_OCSPSigning } from '@peculiar/asn1-ocsp';
import { EvidenceError, type EvidenceErrorCode } from '../../errors.js';
import { checkValidity, commonNameOf, firstChild, isIssuedBy, normalizeSerial, parseCertificate, splitDerSequence, type Certificate } from '../pki.js';
import { verifyWithAlgorithm } from '../signatures.js';
import type { VerificationMemo } from '../types.js';

const HASH_BY_OID: Readonly<Record<string, string>> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

interface SingleStatus {
  readonly hash: string;
  readonly issuerNameHash: string;
  readonly issuerKeyHash: string;
  readonly serial: string;
  readonly status: 'good' | 'revoked' | 'unknown';
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date;
}

export interface ParsedOcspResponse {
  readonly sha256: string;
  readonly tbs: Uint8Array;
  readonly signatureAlgorithm: AlgorithmIdentifier;
  readonly signature: Uint8Array;
  readonly responderName?: string;
  readonly responderKeyHash?: string;
  readonly certs: readonly Certificate[];
  readonly responses: readonly SingleStatus[];
}

/** The verdict one response gives for one certificate. */
export interface OcspVerdict {
  readonly status: 'good' | 'revoked';
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
}

function fail(code: EvidenceErrorCode, message: string, cause?: unknown): never {
  throw new EvidenceError(code, message, cause === undefined ? {} : { cause });
}

const hex = (b: ArrayBuffer | Uint8Array): string => Buffer.from(b instanceof Uint8Array ? b : new Uint8Array(b)).toString('hex');

function statusOf(single: BasicOCSPResponse['tbsResponseData']['responses'][number]): SingleStatus['status'] {
  const s = single.certStatus;
  if (s.revoked) return 'revoked';
  if (s.good !== undefined) return 'good';
  return 'unknown';
}

function parseBasic(der: Uint8Array, sha256: string): ParsedOcspResponse {
  const basic = AsnConvert.parse(der, BasicOCSPResponse);
  const outer = splitDerSequence(der)[0];
  const tbs = outer ? firstChild(outer) : undefined;
  if (!tbs) throw new Error('no tbsResponseData');
  const data = basic.tbsResponseData;
  const responses = data.responses.map((single): SingleStatus => {
    const hash = HASH_BY_OID[single.certID.hashAlgorithm.algorithm];
    return {
      hash: hash ?? 'unsupported',
      issuerNameHash: hex(single.certID.issuerNameHash.buffer),
      issuerKeyHash: hex(single.certID.issuerKeyHash.buffer),
      serial: normalizeSerial(hex(single.certID.serialNumber)),
      status: statusOf(single),
      thisUpdate: single.thisUpdate,
      ...(single.nextUpdate ? { nextUpdate: single.nextUpdate } : {}),
    };
  });
  return {
    sha256,
    tbs,
    signatureAlgorithm: basic.signatureAlgorithm,
    signature: new Uint8Array(basic.signature),
    ...(data.responderID.byName ? { responderName: hex(AsnConvert.serialize(data.responderID.byName)) } : {}),
    ...(data.responderID.byKey ? { responderKeyHash: hex(data.responderID.byKey.buffer) } : {}),
    certs: (basic.certs ?? []).map((c) => parseCertificate(new Uint8Array(AsnConvert.serialize(c)))),
    responses,
  };
}

/** Parses an OCSPResponse; unsuccessful or non-basic responses are undefined (they match nothing). */
export function parseOcspResponse(der: Uint8Array, memo?: VerificationMemo): ParsedOcspResponse | undefined {
  const sha256 = createHash('sha256').update(der).digest('hex');
  const compute = (): ParsedOcspResponse | undefined => {
    try {
      const response = AsnConvert.parse(der, OCSPResponse);
      const bytes = response.responseBytes;
      if (response.responseStatus !== OCSPResponseStatus.successful || !bytes || bytes.responseType !== id_pkix_ocsp_basic) {
        return undefined;
      }
      return parseBasic(new Uint8Array(bytes.response.buffer), sha256);
    } catch (cause) {
      fail('ERR_OCSP_INVALID', 'An OCSP response could not be parsed.', cause);
    }
  };
  return memo ? memo.remember(`ocsp-parse:${sha256}`, compute) : compute();
}

interface CertIdParts {
  readonly nameDer: Uint8Array;
  readonly keyBits: Uint8Array;
}

function certIdParts(issuer: Certificate, memo?: VerificationMemo): CertIdParts {
  const compute = (): CertIdParts => {
    const tbs = AsnConvert.parse(issuer.der, AsnCertificate).tbsCertificate;
    return {
      nameDer: new Uint8Array(AsnConvert.serialize(tbs.subject)),
      keyBits: new Uint8Array(tbs.subjectPublicKeyInfo.subjectPublicKey),
    };
  };
  return memo ? memo.remember(`ocsp-certid:${issuer.sha256}`, compute) : compute();
}

/** The single responses of `parsed` that are about `cert` as issued by `issuer`. */
export function matchingStatuses(parsed: ParsedOcspResponse, cert: Certificate, issuer: Certificate, memo?: VerificationMemo): SingleStatus[] {
  const out: SingleStatus[] = [];
  for (const single of parsed.responses) {
    if (single.serial !== cert.serial || single.hash === 'unsupported') continue;
    const parts = certIdParts(issuer, memo);
    const nameHash = createHash(single.hash).update(parts.nameDer).digest('hex');
    const keyHash = createHash(single.hash).update(parts.keyBits).digest('hex');
    if (single.issuerNameHash === nameHash && single.issuerKeyHash === keyHash) out.push(single);
  }
  return out;
}

function namesResponder(parsed: ParsedOcspResponse, candidate: Certificate, memo?: VerificationMemo): boolean {
  const parts = certIdParts(candidate, memo);
  if (parsed.responderName !== undefined) return parsed.responderName === hex(parts.nameDer);
  if (parsed.responderKeyHash !== undefined) return parsed.responderKeyHash === createHash('sha1').update(parts.keyBits).digest('hex');
  return false;
}

/** The issuer itself, or a responder certificate the issuer signed for OCSP signing and valid at `now`. */
function authorizedResponder(parsed: ParsedOcspResponse, issuer: Certificate, now: Date, memo?: VerificationMemo): Certificate {
  for (const candidate of [issuer, ...parsed.certs]) {
    if (!namesResponder(parsed, candidate, memo)) continue;
    if (candidate.sha256 === issuer.sha256) return candidate;
    const eku = candidate.x509.keyUsage ?? [];
    if (!eku.includes(id_kp_OCSPSigning) || !isIssuedBy(candidate, issuer, memo)) continue;
    try {
      checkValidity(candidate, now);
    } catch (cause) {
      fail('ERR_OCSP_RESPONDER_UNTRUSTED', `The OCSP responder "${commonNameOf(candidate.subject)}" is not valid at this time.`, cause);
    }
    return candidate;
  }
  return fail('ERR_OCSP_RESPONDER_UNTRUSTED', `No OCSP responder authorized by "${commonNameOf(issuer.subject)}" signed the response.`);
}

/**
 * Judges what one (already matched) response says about a certificate at `now`. A validly signed
 * "revoked" is final whatever the window; "good" counts only inside [thisUpdate, nextUpdate].
 */
export function judgeOcspStatus(
  parsed: ParsedOcspResponse,
  single: SingleStatus,
  issuer: Certificate,
  now: Date,
  memo?: VerificationMemo,
): OcspVerdict {
  const responder = authorizedResponder(parsed, issuer, now, memo);
  const ok = memo
    ? memo.remember(`ocsp-sig:${parsed.sha256}:${responder.sha256}`, () => verifyWithAlgorithm(parsed.signatureAlgorithm, parsed.tbs, parsed.signature, responder.x509.publicKey))
    : verifyWithAlgorithm(parsed.signatureAlgorithm, parsed.tbs, parsed.signature, responder.x509.publicKey);
  if (!ok) fail('ERR_OCSP_SIGNATURE_INVALID', `The OCSP response's signature does not verify with "${commonNameOf(responder.subject)}".`);
  if (!single.nextUpdate) fail('ERR_OCSP_INVALID', 'The OCSP response has no nextUpdate; its freshness cannot be judged.');
  if (single.status === 'revoked') return { status: 'revoked', thisUpdate: single.thisUpdate, nextUpdate: single.nextUpdate };
  if (now < single.thisUpdate) fail('ERR_OCSP_NOT_YET_VALID', `The OCSP response is not valid before ${single.thisUpdate.toISOString()}.`);
  if (now > single.nextUpdate) fail('ERR_OCSP_STALE', `The OCSP response expired at ${single.nextUpdate.toISOString()}; fetch a current one.`);
  if (single.status === 'unknown') fail('ERR_OCSP_STATUS_UNKNOWN', 'The OCSP responder does not know the certificate.');
  return { status: 'good', thisUpdate: single.thisUpdate, nextUpdate: single.nextUpdate };
}
