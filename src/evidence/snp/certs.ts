// Certificate inputs for SEV-SNP evidence: DER or PEM, single or AMD's `cert_chain` bundle, or the
// GUID certificate table of SNP_GET_EXT_REPORT / configfs-tsm `auxblob`; parsed once and remembered.
import { createHash } from 'node:crypto';
import { EvidenceError } from '../../errors.js';
import { decodePemBlocks, looksLikePem, parseCertificate, splitDerSequence, type Certificate } from '../pki.js';
import type { VerificationMemo } from '../types.js';
import { looksLikeSnpCertTable, parseSnpCertTable } from './cert-table.js';
import { readAmdExtensions, type AmdVekExtensions } from './vek.js';

/** At most this many certificates may arrive with one report (a genuine chain has three). */
export const MAX_EVIDENCE_CERTIFICATES = 16;

function certificatesFromTable(bytes: Uint8Array): Uint8Array[] {
  return parseSnpCertTable(bytes)
    .filter((entry) => entry.kind === 'ark' || entry.kind === 'ask' || entry.kind === 'vcek' || entry.kind === 'vlek')
    .map((entry) => entry.der as Uint8Array);
}

function certificatesFromInput(input: Uint8Array): Uint8Array[] {
  if (input.length === 0) throw new EvidenceError('ERR_CHAIN_MALFORMED', 'An empty certificate was supplied.');
  if (looksLikeSnpCertTable(input)) return certificatesFromTable(input);
  // DER: a SEQUENCE with a long-form length (every certificate is longer than 127 bytes); text never has bit 7 set there.
  if (input[0] === 0x30 && ((input[1] as number) & 0x80) !== 0) return splitDerSequence(input);
  if (looksLikePem(input)) {
    const blocks = decodePemBlocks(Buffer.from(input).toString('latin1'), 'CERTIFICATE');
    if (blocks.length === 0) throw new EvidenceError('ERR_CHAIN_MALFORMED', 'PEM data without a CERTIFICATE block was supplied.');
    return blocks;
  }
  if (input[0] === 0x30) return splitDerSequence(input);
  // Neither PEM nor DER: the only other accepted form is a certificate table (whose first GUID may be one we do not know).
  return certificatesFromTable(input);
}

/**
 * Decodes the certificates sent with a report: each input is DER (one or concatenated), PEM (one or a
 * bundle) or a GUID certificate table. Returns DER certificates in input order.
 */
export function decodeSnpCertificates(inputs: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const input of inputs) {
    out.push(...certificatesFromInput(input));
    if (out.length > MAX_EVIDENCE_CERTIFICATES) {
      throw new EvidenceError('ERR_EVIDENCE_MALFORMED', `At most ${MAX_EVIDENCE_CERTIFICATES} certificates may accompany a report.`);
    }
  }
  return out;
}

/**
 * The certificates sent with a report, parsed. With a memo, the whole list is remembered under one
 * SHA-256 over the inputs (length-prefixed), so a repeated chain costs one hash instead of a PEM decode
 * and a parse lookup per certificate.
 */
export function parseEvidenceCertificates(inputs: readonly Uint8Array[], memo: VerificationMemo | undefined): Certificate[] {
  const parseAll = (): Certificate[] => decodeSnpCertificates(inputs).map((der) => parseCertificateRemembered(der, memo));
  if (!memo || inputs.length === 0) return parseAll();
  const hash = createHash('sha256');
  const length = Buffer.alloc(4);
  for (const input of inputs) {
    length.writeUInt32BE(input.length);
    hash.update(length).update(input);
  }
  return memo.remember(`snp-certs:${hash.digest('hex')}`, parseAll);
}

/** Parses a DER certificate, remembering the parse by the DER's SHA-256 (a pure function of the bytes). */
export function parseCertificateRemembered(der: Uint8Array, memo: VerificationMemo | undefined): Certificate {
  if (!memo) return parseCertificate(der);
  const sha = createHash('sha256').update(der).digest('hex');
  return memo.remember(`x509-parse:${sha}`, () => parseCertificate(der));
}

const collateralParses = new WeakMap<Uint8Array, Certificate | null>();

/**
 * Parses collateral certificates. The collateral bag is long-lived, so parses are kept per buffer
 * (identity); unparseable entries are skipped: they are not the evidence's fault and cannot help it verify.
 */
export function parseCollateralCertificates(ders: readonly Uint8Array[], memo: VerificationMemo | undefined): Certificate[] {
  const out: Certificate[] = [];
  for (const der of ders) {
    let cert = collateralParses.get(der);
    if (cert === undefined) {
      try {
        cert = parseCertificateRemembered(der, memo);
      } catch {
        cert = null;
      }
      collateralParses.set(der, cert);
    }
    if (cert) out.push(cert);
  }
  return out;
}

/** AMD extensions of a certificate, remembered by its SHA-256 (undefined: not an SEV-SNP signing certificate). */
export function amdExtensionsRemembered(cert: Certificate, memo: VerificationMemo | undefined): AmdVekExtensions | undefined {
  if (!memo) return readAmdExtensions(cert);
  return memo.remember(`snp-vek-ext:${cert.sha256}`, () => readAmdExtensions(cert) ?? null) ?? undefined;
}
