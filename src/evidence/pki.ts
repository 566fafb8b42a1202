// X.509 for every verifier: parse certificates (PEM/DER), build and verify chains to a pinned anchor
// (RFC 5280 §6 path validation, reduced to what vendor attestation PKIs use), and apply verified CRLs
// (crl.ts verifies them; signatures.ts checks signatures under an AlgorithmIdentifier).
import { createHash, X509Certificate, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  Certificate as AsnCertificate,
  BasicConstraints,
  KeyUsage,
  KeyUsageFlags,
  id_ce_basicConstraints,
  id_ce_keyUsage,
} from '@peculiar/asn1-x509';
import { EvidenceError, type EvidenceErrorCode } from '../errors.js';
import type { AnchorRole, TrustAnchor, TrustAnchors, VerificationMemo } from './types.js';
import { spkiSha256 } from './anchors.js';

/** A parsed certificate with the values verifiers keep asking for, computed once. */
export interface Certificate {
  readonly der: Uint8Array;
  readonly x509: X509Certificate;
  /** SHA-256 of the whole certificate DER, lowercase hex. */
  readonly sha256: string;
  /** SHA-256 of the DER SubjectPublicKeyInfo, lowercase hex. */
  readonly spkiSha256: string;
  /** Serial number, lowercase hex without leading zeros ("0" for zero). */
  readonly serial: string;
  readonly subject: string;
  readonly issuer: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly selfSigned: boolean;
}

function fail(code: EvidenceErrorCode, message: string, cause?: unknown): never {
  throw new EvidenceError(code, message, cause === undefined ? {} : { cause });
}

export function normalizeSerial(hex: string): string {
  const s = hex.toLowerCase().replace(/^0+/, '');
  return s === '' ? '0' : s;
}

/** Parses one DER certificate. Malformed input is ERR_CHAIN_MALFORMED. */
export function parseCertificate(der: Uint8Array): Certificate {
  let x509: X509Certificate;
  let spki: string;
  try {
    x509 = new X509Certificate(der);
    // node decodes the SubjectPublicKeyInfo lazily: a malformed key only throws here, untyped.
    spki = spkiSha256(x509);
  } catch (cause) {
    fail('ERR_CHAIN_MALFORMED', 'A certificate could not be parsed as X.509 DER.', cause);
  }
  const raw = new Uint8Array(x509.raw);
  const notBefore = new Date(x509.validFrom);
  const notAfter = new Date(x509.validTo);
  if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime())) {
    fail('ERR_CHAIN_MALFORMED', 'A certificate has an unreadable validity period.');
  }
  return {
    der: raw,
    x509,
    sha256: createHash('sha256').update(raw).digest('hex'),
    spkiSha256: spki,
    serial: normalizeSerial(x509.serialNumber),
    subject: x509.subject,
    issuer: x509.issuer,
    notBefore,
    notAfter,
    selfSigned: x509.subject === x509.issuer,
  };
}

/**
 * parseCertificate through a memo keyed by the DER's SHA-256: node's X.509 parsing costs about as much as
 * a P-384 signature check, and attestation chains repeat. A parse failure is thrown, never remembered.
 */
export function parseCertificateRemembered(der: Uint8Array, memo?: VerificationMemo): Certificate {
  if (!memo) return parseCertificate(der);
  return memo.remember(`x509-parsed:${createHash('sha256').update(der).digest('hex')}`, () => parseCertificate(der));
}

const PEM_RE = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** Every PEM block of the given label ("CERTIFICATE", "X509 CRL", ...) in a text, decoded to DER. */
export function decodePemBlocks(text: string, label: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const match of text.matchAll(PEM_RE)) {
    if (match[1] !== label) continue;
    out.push(new Uint8Array(Buffer.from((match[2] ?? '').replace(/\s+/g, ''), 'base64')));
  }
  return out;
}

/** Splits concatenated DER structures (SEQUENCE ‖ SEQUENCE ‖ ...) into their parts. */
export function splitDerSequence(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes[offset] !== 0x30) fail('ERR_CHAIN_MALFORMED', 'Certificate data is neither PEM nor DER.');
    const first = bytes[offset + 1];
    if (first === undefined) fail('ERR_CHAIN_MALFORMED', 'Certificate data is truncated.');
    let length: number;
    let header: number;
    if (first < 0x80) {
      length = first;
      header = 2;
    } else {
      const n = first & 0x7f;
      if (n === 0 || n > 4 || offset + 2 + n > bytes.length) fail('ERR_CHAIN_MALFORMED', 'Certificate data has a bad DER length.');
      length = 0;
      for (let i = 0; i < n; i++) length = length * 256 + (bytes[offset + 2 + i] as number);
      header = 2 + n;
    }
    const end = offset + header + length;
    if (end > bytes.length) fail('ERR_CHAIN_MALFORMED', 'Certificate data is truncated.');
    out.push(bytes.subarray(offset, end));
    offset = end;
  }
  return out;
}

/** The raw bytes (header included) of the first element inside a DER SEQUENCE. */
export function firstChild(sequence: Uint8Array): Uint8Array | undefined {
  const lengthByte = sequence[1];
  if (lengthByte === undefined) return undefined;
  const headerLength = lengthByte < 0x80 ? 2 : 2 + (lengthByte & 0x7f);
  const inner = sequence.subarray(headerLength);
  try {
    return splitDerSequence(inner.subarray(0, derLength(inner)))[0];
  } catch {
    return undefined;
  }
}

function derLength(bytes: Uint8Array): number {
  const first = bytes[1];
  if (first === undefined) return bytes.length;
  if (first < 0x80) return 2 + first;
  const n = first & 0x7f;
  let length = 0;
  for (let i = 0; i < n; i++) length = length * 256 + (bytes[2 + i] ?? 0);
  return 2 + n + length;
}

/** Parses certificates given as PEM text (one or many) or DER (one or concatenated). */
export function parseCertificates(input: Uint8Array | string): Certificate[] {
  const text = typeof input === 'string' ? input : looksLikePem(input) ? Buffer.from(input).toString('latin1') : undefined;
  if (text !== undefined) {
    const blocks = decodePemBlocks(text, 'CERTIFICATE');
    if (blocks.length === 0) fail('ERR_CHAIN_MALFORMED', 'No PEM certificate found.');
    return blocks.map(parseCertificate);
  }
  return splitDerSequence(input as Uint8Array).map(parseCertificate);
}

export function looksLikePem(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.subarray(0, Math.min(bytes.length, 4096))).toString('latin1');
  return head.includes('-----BEGIN ');
}

function remembered(memo: VerificationMemo | undefined, key: string, compute: () => boolean): boolean {
  return memo ? memo.remember(key, compute) : compute();
}

/** True when `child` names `parent` as issuer and `parent`'s key verifies `child`'s signature. */
export function isIssuedBy(child: Certificate, parent: Certificate, memo?: VerificationMemo): boolean {
  if (child.issuer !== parent.subject) return false;
  return remembered(memo, `x509-sig:${child.sha256}:${parent.sha256}`, () => {
    try {
      return child.x509.verify(parent.x509.publicKey);
    } catch {
      return false;
    }
  });
}

export interface ChainOptions {
  readonly anchors: TrustAnchors;
  /** The vendor role the root must be pinned for. */
  readonly role: AnchorRole;
  readonly now: Date;
  readonly memo?: VerificationMemo;
  /** Verified CRLs to apply (see verifyCrl); a certificate listed by its issuer's CRL is ERR_CHAIN_REVOKED. */
  readonly crls?: readonly VerifiedCrl[];
  /** Longest accepted chain, root included (default 6). */
  readonly maxLength?: number;
}

export interface VerifiedChain {
  /** Leaf first, root last. */
  readonly path: readonly Certificate[];
  readonly anchor: TrustAnchor;
  /** Intersection of the validity periods of every certificate in the path. */
  readonly validFrom: Date;
  readonly validUntil: Date;
}

/**
 * Builds the path from `leaf` through `pool` (any order, duplicates fine) to a self-signed root pinned
 * for `role`, checking every signature, CA constraints, validity at `now`, and supplied CRLs.
 * An extra anchor's own certificate (from KEYWARD_EXTRA_ANCHORS) is also usable as the root.
 */
export function verifyChain(leaf: Certificate, pool: readonly Certificate[], opts: ChainOptions): VerifiedChain {
  const maxLength = opts.maxLength ?? 6;
  const candidates = [...pool];
  for (const anchor of opts.anchors.all) {
    if (anchor.certificate) candidates.push(parseCertificateCached(anchor.certificate));
  }
  const path: Certificate[] = [leaf];
  let current = leaf;
  for (;;) {
    if (current.selfSigned) {
      const anchor = opts.anchors.lookup(current.spkiSha256, opts.role);
      if (!anchor) {
        fail('ERR_CHAIN_UNTRUSTED_ROOT', `The chain ends at "${commonNameOf(current.subject)}", which is not a trusted root for this evidence.`);
      }
      if (!isIssuedBy(current, current, opts.memo)) fail('ERR_CHAIN_SIGNATURE_INVALID', 'The root certificate\'s self-signature is invalid.');
      checkPath(path, opts);
      return { path, anchor, ...validityWindow(path) };
    }
    if (path.length >= maxLength) fail('ERR_CHAIN_INCOMPLETE', 'The certificate chain is too long.');
    const byName = candidates.filter((c) => c.subject === current.issuer && c.sha256 !== current.sha256);
    if (byName.length === 0) {
      fail('ERR_CHAIN_INCOMPLETE', `The issuer "${commonNameOf(current.issuer)}" of "${commonNameOf(current.subject)}" was not supplied.`);
    }
    const parent = byName.find((c) => isIssuedBy(current, c, opts.memo));
    if (!parent) {
      fail('ERR_CHAIN_SIGNATURE_INVALID', `The signature on "${commonNameOf(current.subject)}" does not verify with its issuer's key.`);
    }
    path.push(parent);
    current = parent;
  }
}

const parsedAnchorCache = new WeakMap<Uint8Array, Certificate>();
function parseCertificateCached(der: Uint8Array): Certificate {
  let cert = parsedAnchorCache.get(der);
  if (!cert) {
    cert = parseCertificate(der);
    parsedAnchorCache.set(der, cert);
  }
  return cert;
}

function checkPath(path: readonly Certificate[], opts: ChainOptions): void {
  for (let i = 0; i < path.length; i++) {
    const cert = path[i] as Certificate;
    // Issuers must be CAs: a leaf key must never be able to mint siblings.
    if (i > 0 && !cert.x509.ca) {
      fail('ERR_CHAIN_CONSTRAINT_VIOLATION', `"${commonNameOf(cert.subject)}" issued a certificate but is not a CA.`);
    }
    checkValidity(cert, opts.now);
  }
  if (opts.crls) applyCrls(path, opts.crls);
}

export function checkValidity(cert: Certificate, now: Date): void {
  if (now < cert.notBefore) {
    fail('ERR_CHAIN_NOT_YET_VALID', `"${commonNameOf(cert.subject)}" is not valid before ${cert.notBefore.toISOString()}.`);
  }
  if (now > cert.notAfter) {
    fail('ERR_CHAIN_EXPIRED', `"${commonNameOf(cert.subject)}" expired at ${cert.notAfter.toISOString()}.`);
  }
}

export function validityWindow(certs: readonly { notBefore: Date; notAfter: Date }[]): { validFrom: Date; validUntil: Date } {
  let from = -Infinity;
  let until = Infinity;
  for (const c of certs) {
    from = Math.max(from, c.notBefore.getTime());
    until = Math.min(until, c.notAfter.getTime());
  }
  return { validFrom: new Date(from), validUntil: new Date(until) };
}

export function commonNameOf(dn: string): string {
  const cn = dn.split('\n').find((part) => part.startsWith('CN='));
  return cn ? cn.slice(3) : dn.replace(/\n/g, ', ');
}

// --- applying verified CRLs (see crl.ts for verifying them) ---------------------------------------

export interface VerifiedCrl {
  /** Subject DN (node's format) of the issuer the CRL was verified against. */
  readonly issuer: string;
  readonly issuerSha256: string;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  /** Revoked serial numbers, normalized (see normalizeSerial). */
  readonly revokedSerials: ReadonlySet<string>;
  /** SHA-256 of the issuer's SubjectPublicKeyInfo, lowercase hex. */
  readonly issuerSpkiSha256: string;
  /** The cRLNumber extension (RFC 5280 §5.2.3), when present and a safe integer. */
  readonly crlNumber?: number;
}

/** Fails with ERR_CHAIN_REVOKED when a CRL from a certificate's issuer lists that certificate. */
export function applyCrls(path: readonly Certificate[], crls: readonly VerifiedCrl[]): void {
  for (let i = 0; i + 1 < path.length; i++) {
    const cert = path[i] as Certificate;
    const issuer = path[i + 1] as Certificate;
    for (const crl of crls) {
      if (crl.issuerSha256 === issuer.sha256 && crl.revokedSerials.has(cert.serial)) {
        fail('ERR_CHAIN_REVOKED', `"${commonNameOf(cert.subject)}" (serial ${cert.serial}) is revoked by its issuer's CRL.`);
      }
    }
  }
}

/** The public key of a certificate (node KeyObject), for verifiers that check raw signatures. */
export function publicKeyOf(cert: Certificate): KeyObject {
  return cert.x509.publicKey;
}

// --- CA constraints (RFC 5280 §4.2.1.3 keyUsage, §4.2.1.9 basicConstraints, §6.1.4 (k)–(n)) ----------

export interface CertificateConstraints {
  readonly ca: boolean;
  /** basicConstraints pathLenConstraint, when present. */
  readonly pathLen: number | undefined;
  /** keyUsage bits (KeyUsageFlags of @peculiar/asn1-x509), or undefined when the extension is absent. */
  readonly keyUsage: number | undefined;
}

/** basicConstraints and keyUsage of a certificate. Unparseable extensions are ERR_CHAIN_MALFORMED. */
export function readConstraints(cert: Certificate, memo?: VerificationMemo): CertificateConstraints {
  const compute = (): CertificateConstraints => {
    let ca = false;
    let pathLen: number | undefined;
    let keyUsage: number | undefined;
    try {
      const parsed = AsnConvert.parse(cert.der, AsnCertificate);
      for (const ext of parsed.tbsCertificate.extensions ?? []) {
        if (ext.extnID === id_ce_basicConstraints) {
          const bc = AsnConvert.parse(ext.extnValue, BasicConstraints);
          ca = bc.cA;
          pathLen = bc.pathLenConstraint;
        } else if (ext.extnID === id_ce_keyUsage) {
          keyUsage = AsnConvert.parse(ext.extnValue, KeyUsage).toNumber();
        }
      }
    } catch (cause) {
      fail('ERR_CHAIN_MALFORMED', `The extensions of "${commonNameOf(cert.subject)}" could not be parsed.`, cause);
    }
    return { ca, pathLen, keyUsage };
  };
  return memo ? memo.remember(`x509-constraints:${cert.sha256}`, compute) : compute();
}

/**
 * Checks a verified path (leaf first, root last) against its issuers' constraints: each issuer may sign
 * certificates (keyUsage keyCertSign when keyUsage is present) and no issuer has more intermediate CAs
 * below it than its pathLenConstraint allows.
 */
export function checkPathConstraints(path: readonly Certificate[], memo?: VerificationMemo): void {
  for (let i = 1; i < path.length; i++) {
    const cert = path[i] as Certificate;
    const c = readConstraints(cert, memo);
    if (!c.ca) fail('ERR_CHAIN_CONSTRAINT_VIOLATION', `"${commonNameOf(cert.subject)}" issued a certificate but is not a CA.`);
    if (c.keyUsage !== undefined && (c.keyUsage & KeyUsageFlags.keyCertSign) === 0) {
      fail('ERR_CHAIN_CONSTRAINT_VIOLATION', `"${commonNameOf(cert.subject)}" issued a certificate without the keyCertSign key usage.`);
    }
    // Intermediates between this issuer and the leaf: path[1..i-1].
    if (c.pathLen !== undefined && i - 1 > c.pathLen) {
      fail('ERR_CHAIN_CONSTRAINT_VIOLATION', `"${commonNameOf(cert.subject)}" allows ${c.pathLen} intermediate CAs below it; the chain has ${i - 1}.`);
    }
  }
}
