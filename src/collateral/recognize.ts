// Recognizes collateral files by their content (docs/verify.md "Collateral") and gathers
// them into a Collateral bag: certificates and CRLs (PEM or DER), OCSP responses, Intel TCB Info and
// QE Identity (as PCS serves them, or dcap-qvl's combined JSON), NVIDIA RIMs, JWK sets, and the SEV-SNP
// GUID certificate table (SNP_GET_EXT_REPORT / configfs-tsm auxblob) holding AMD certificates and CRLs.
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate as AsnCertificate, CertificateList } from '@peculiar/asn1-x509';
import { OCSPResponse } from '@peculiar/asn1-ocsp';
import type { JWK } from 'jose';
import { KeywardError } from '../errors.js';
import { decodePemBlocks, looksLikePem, splitDerSequence } from '../evidence/pki.js';
import type { Collateral } from '../evidence/types.js';
import { looksLikeSnpCertTable, parseSnpCertTable } from '../evidence/snp/cert-table.js';

export type CollateralKind = 'certificate' | 'crl' | 'ocsp' | 'tcb-info' | 'qe-identity' | 'rim' | 'jwks';

export interface CollateralItem {
  readonly kind: CollateralKind;
  /** DER for certificate/crl/ocsp; exact text for tcb-info/qe-identity/rim; JSON text for jwks. */
  readonly data: Uint8Array | string;
}

export function emptyCollateral(): Collateral {
  return { certificates: [], crls: [], ocspResponses: [], tcbInfos: [], qeIdentities: [], rims: [], jwks: [] };
}

/** Adds items to a collateral bag (returns a new bag). */
export function addToCollateral(base: Collateral, items: readonly CollateralItem[]): Collateral {
  const next = {
    certificates: [...base.certificates],
    crls: [...base.crls],
    ocspResponses: [...base.ocspResponses],
    tcbInfos: [...base.tcbInfos],
    qeIdentities: [...base.qeIdentities],
    rims: [...base.rims],
    jwks: [...base.jwks],
  };
  for (const item of items) {
    switch (item.kind) {
      case 'certificate':
        next.certificates.push(item.data as Uint8Array);
        break;
      case 'crl':
        next.crls.push(item.data as Uint8Array);
        break;
      case 'ocsp':
        next.ocspResponses.push(item.data as Uint8Array);
        break;
      case 'tcb-info':
        next.tcbInfos.push(item.data as string);
        break;
      case 'qe-identity':
        next.qeIdentities.push(item.data as string);
        break;
      case 'rim':
        next.rims.push(item.data as string);
        break;
      case 'jwks':
        next.jwks.push(JSON.parse(item.data as string) as { keys: JWK[] });
        break;
    }
  }
  return next;
}

function unrecognized(name: string, why: string): never {
  throw new KeywardError('ERR_COLLATERAL_UNRECOGNIZED', `${name}: ${why}`);
}

function classifyDer(der: Uint8Array): CollateralKind | undefined {
  const attempts: [CollateralKind, () => unknown][] = [
    ['certificate', () => AsnConvert.parse(der, AsnCertificate)],
    ['crl', () => AsnConvert.parse(der, CertificateList)],
    ['ocsp', () => AsnConvert.parse(der, OCSPResponse)],
  ];
  for (const [kind, parse] of attempts) {
    try {
      parse();
      return kind;
    } catch {
      // try the next structure
    }
  }
  return undefined;
}

/** A value in JSON collateral that holds DER either as hex or as PEM. */
function derFromJsonField(value: unknown, label: string): Uint8Array[] {
  if (typeof value !== 'string' || value.length === 0) return [];
  if (value.includes('-----BEGIN ')) return decodePemBlocks(value, label);
  if (/^([0-9a-fA-F]{2})+$/.test(value)) return [new Uint8Array(Buffer.from(value, 'hex'))];
  return [];
}

function recognizeJson(text: string, name: string): CollateralItem[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return unrecognized(name, 'not valid JSON.');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return unrecognized(name, 'unknown JSON collateral.');
  const obj = doc as Record<string, unknown>;
  if ('tcbInfo' in obj && 'signature' in obj) return [{ kind: 'tcb-info', data: text }];
  if (('enclaveIdentity' in obj || 'qeIdentity' in obj) && 'signature' in obj) return [{ kind: 'qe-identity', data: text }];
  if (Array.isArray(obj['keys'])) return [{ kind: 'jwks', data: text }];
  // NVIDIA's RIM service answer (rim.attestation.nvidia.com/v1/rim/<id>): the SWID XML, base64, in `rim`.
  if (typeof obj['rim'] === 'string') {
    const xml = Buffer.from(obj['rim'], 'base64').toString('utf8');
    if (xml.trimStart().startsWith('<') && xml.includes('SoftwareIdentity')) return [{ kind: 'rim', data: xml }];
  }
  // dcap-qvl's combined collateral: bodies as strings with detached signatures.
  if (typeof obj['tcb_info'] === 'string' && typeof obj['tcb_info_signature'] === 'string') {
    const items: CollateralItem[] = [
      { kind: 'tcb-info', data: `{"tcbInfo":${obj['tcb_info']},"signature":"${obj['tcb_info_signature']}"}` },
    ];
    if (typeof obj['qe_identity'] === 'string' && typeof obj['qe_identity_signature'] === 'string') {
      items.push({
        kind: 'qe-identity',
        data: `{"enclaveIdentity":${obj['qe_identity']},"signature":"${obj['qe_identity_signature']}"}`,
      });
    }
    for (const field of ['pck_crl_issuer_chain', 'tcb_info_issuer_chain', 'qe_identity_issuer_chain']) {
      for (const der of derFromJsonField(obj[field], 'CERTIFICATE')) items.push({ kind: 'certificate', data: der });
    }
    for (const field of ['pck_crl', 'root_ca_crl']) {
      for (const der of derFromJsonField(obj[field], 'X509 CRL')) items.push({ kind: 'crl', data: der });
    }
    return items;
  }
  return unrecognized(name, 'unknown JSON collateral.');
}

/** The certificates and CRLs of an SEV-SNP certificate table (entries of unknown GUIDs are left out). */
function recognizeSnpCertTable(bytes: Uint8Array, name: string): CollateralItem[] {
  let entries;
  try {
    entries = parseSnpCertTable(bytes);
  } catch (cause) {
    throw new KeywardError('ERR_COLLATERAL_UNRECOGNIZED', `${name}: a malformed SEV-SNP certificate table.`, { cause });
  }
  const items: CollateralItem[] = [];
  for (const entry of entries) {
    if (!entry.der) continue;
    items.push({ kind: entry.kind === 'crl' ? 'crl' : 'certificate', data: entry.der });
  }
  if (items.length === 0) return unrecognized(name, 'an SEV-SNP certificate table without certificates.');
  return items;
}

/**
 * Recognizes one collateral file by content. `name` is used only in error messages.
 * Unknown content is ERR_COLLATERAL_UNRECOGNIZED (a usage problem, not a verdict on evidence).
 */
export function recognizeCollateral(bytes: Uint8Array, name = 'collateral'): CollateralItem[] {
  if (bytes.length === 0) return unrecognized(name, 'the file is empty.');
  const head = Buffer.from(bytes.subarray(0, Math.min(bytes.length, 512))).toString('latin1').trimStart();
  // JSON first: dcap-qvl's combined collateral embeds PEM chains and would otherwise pass for a PEM file.
  if (head.startsWith('{')) return recognizeJson(Buffer.from(bytes).toString('utf8'), name);
  // Before PEM: a table may hold PEM certificates, but it is read through its entries, never by scanning.
  if (looksLikeSnpCertTable(bytes)) return recognizeSnpCertTable(bytes, name);
  if (looksLikePem(bytes)) {
    const text = Buffer.from(bytes).toString('latin1');
    const items: CollateralItem[] = [
      ...decodePemBlocks(text, 'CERTIFICATE').map((data) => ({ kind: 'certificate' as const, data })),
      ...decodePemBlocks(text, 'X509 CRL').map((data) => ({ kind: 'crl' as const, data })),
    ];
    if (items.length === 0) return unrecognized(name, 'PEM without a CERTIFICATE or X509 CRL block.');
    return items;
  }
  if (head.startsWith('<')) {
    const text = Buffer.from(bytes).toString('utf8');
    if (text.includes('SoftwareIdentity')) return [{ kind: 'rim', data: text }];
    return unrecognized(name, 'XML that is not a SWID reference integrity manifest.');
  }
  if (bytes[0] === 0x30) {
    let parts: Uint8Array[];
    try {
      parts = splitDerSequence(bytes);
    } catch {
      return unrecognized(name, 'not a DER certificate, CRL or OCSP response.');
    }
    return parts.map((der) => {
      const kind = classifyDer(der);
      if (!kind) return unrecognized(name, 'not a DER certificate, CRL or OCSP response.');
      return { kind, data: der };
    });
  }
  return unrecognized(name, 'not a certificate, CRL, OCSP response, TCB Info, QE Identity, RIM or JWKS.');
}
