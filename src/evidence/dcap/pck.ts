// The PCK certificate chain carried in certification data type 5, and the Intel SGX extension of the PCK
// leaf (Intel SGX PCK Certificate and CRL Profile, §3.5: OID 1.2.840.113741.1.13.1 and its children).
import { createHash } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate as AsnCertificate } from '@peculiar/asn1-x509';
import { EvidenceError } from '../../errors.js';
import { commonNameOf, parseCertificate, splitDerSequence, type Certificate } from '../pki.js';
import type { VerificationMemo } from '../types.js';
import {
  DerError,
  TAG_ENUMERATED,
  TAG_INTEGER,
  TAG_OCTET_STRING,
  TAG_OID,
  TAG_SEQUENCE,
  decodeOid,
  decodeUnsigned,
  expectTag,
  readChildren,
  readTlv,
  type Tlv,
} from '../der.js';

export const SGX_EXTENSION_OID = '1.2.840.113741.1.13.1';
const OID_PPID = `${SGX_EXTENSION_OID}.1`;
const OID_TCB = `${SGX_EXTENSION_OID}.2`;
const OID_PCEID = `${SGX_EXTENSION_OID}.3`;
const OID_FMSPC = `${SGX_EXTENSION_OID}.4`;
const OID_SGX_TYPE = `${SGX_EXTENSION_OID}.5`;
const OID_PCESVN = `${OID_TCB}.17`;
const OID_CPUSVN = `${OID_TCB}.18`;

/** The SGX extension of a PCK certificate: the platform's TCB as Intel certified it. */
export interface PckExtensions {
  readonly ppid: Uint8Array;
  /** SGX TCB component SVNs 1..16 (`.2.1`–`.2.16`). */
  readonly sgxTcbComponents: readonly number[];
  readonly pceSvn: number;
  readonly cpuSvn: Uint8Array;
  /** 2 bytes. */
  readonly pceId: Uint8Array;
  /** 6 bytes. */
  readonly fmspc: Uint8Array;
  /** 0 standard, 1 scalable, 2 scalable with integrity. */
  readonly sgxType: number;
}

export interface PckCertificates {
  /** The PCK leaf (first certificate of the chain). */
  readonly leaf: Certificate;
  /** Every certificate the quote carried (leaf first). */
  readonly certificates: readonly Certificate[];
  readonly extensions: PckExtensions;
}

function invalid(message: string, cause?: unknown): never {
  throw new EvidenceError('ERR_DCAP_PCK_CERT_INVALID', message, cause === undefined ? {} : { cause });
}

function octets(tlv: Tlv | undefined, length: number, what: string): Uint8Array {
  const v = expectTag(tlv, TAG_OCTET_STRING, what).value;
  if (v.length !== length) throw new DerError(`${what}: expected ${length} bytes`);
  return v;
}

/** Walks SEQUENCE OF SEQUENCE { OID, value } into a map; duplicate OIDs are refused. */
function readOidValuePairs(value: Uint8Array, what: string): Map<string, Tlv> {
  const out = new Map<string, Tlv>();
  for (const entry of readChildren(value)) {
    const parts = readChildren(expectTag(entry, TAG_SEQUENCE, what).value);
    if (parts.length !== 2) throw new DerError(`${what}: entry must be (OID, value)`);
    const oid = decodeOid(expectTag(parts[0], TAG_OID, what).value);
    if (out.has(oid)) throw new DerError(`${what}: duplicate ${oid}`);
    out.set(oid, parts[1] as Tlv);
  }
  return out;
}

function parseTcb(value: Uint8Array): { components: number[]; pceSvn: number; cpuSvn: Uint8Array } {
  const entries = readOidValuePairs(value, 'TCB');
  if (entries.size !== 18) throw new DerError('TCB: expected 18 entries');
  const components: number[] = [];
  for (let i = 1; i <= 16; i++) {
    components.push(decodeUnsigned(expectTag(entries.get(`${OID_TCB}.${i}`), TAG_INTEGER, `TCB comp ${i}`).value, 1));
  }
  const pceSvn = decodeUnsigned(expectTag(entries.get(OID_PCESVN), TAG_INTEGER, 'PCESVN').value, 2);
  const cpuSvn = octets(entries.get(OID_CPUSVN) , 16, 'CPUSVN');
  return { components, pceSvn, cpuSvn };
}

/** Decodes the value (inner DER) of extension 1.2.840.113741.1.13.1. */
export function parseSgxExtension(der: Uint8Array): PckExtensions {
  const outer = readTlv(der, 0);
  if (outer.end !== der.length) throw new DerError('SGX extension: trailing bytes');
  const entries = readOidValuePairs(expectTag(outer, TAG_SEQUENCE, 'SGX extension').value, 'SGX extension');
  const tcb = parseTcb(expectTag(entries.get(OID_TCB), TAG_SEQUENCE, 'TCB').value);
  const sgxType = entries.get(OID_SGX_TYPE);
  return {
    ppid: octets(entries.get(OID_PPID) , 16, 'PPID'),
    sgxTcbComponents: tcb.components,
    pceSvn: tcb.pceSvn,
    cpuSvn: tcb.cpuSvn,
    pceId: octets(entries.get(OID_PCEID) , 2, 'PCE-ID'),
    fmspc: octets(entries.get(OID_FMSPC) , 6, 'FMSPC'),
    sgxType: decodeUnsigned(expectTag(sgxType, TAG_ENUMERATED, 'SGX Type').value, 1),
  };
}

/** Reads the SGX extension of a PCK certificate; its absence or any malformation is ERR_DCAP_PCK_CERT_INVALID. */
export function readPckExtensions(cert: Certificate): PckExtensions {
  let extensionValue: Uint8Array | undefined;
  try {
    const parsed = AsnConvert.parse(cert.der, AsnCertificate);
    for (const ext of parsed.tbsCertificate.extensions ?? []) {
      if (ext.extnID !== SGX_EXTENSION_OID) continue;
      if (extensionValue) invalid('The PCK certificate carries the SGX extension twice.');
      extensionValue = new Uint8Array(ext.extnValue.buffer);
    }
  } catch (cause) {
    if (cause instanceof EvidenceError) throw cause;
    invalid('The PCK certificate could not be decoded.', cause);
  }
  if (!extensionValue) invalid('The PCK certificate has no Intel SGX extension (1.2.840.113741.1.13.1).');
  try {
    return parseSgxExtension(extensionValue);
  } catch (cause) {
    invalid('The PCK certificate\'s Intel SGX extension is malformed.', cause);
  }
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]*)-----END CERTIFICATE-----/g;

/**
 * Splits certification data type 5 (concatenated PEM, optionally NUL-terminated) into certificates.
 * Strict: only base64 inside a block, only whitespace or NUL between blocks, one whole DER structure per
 * block. Lenient PEM decoding would let edits to the unsigned text merge or drop certificates unnoticed.
 */
export function parsePckChainPem(data: Uint8Array): Certificate[] {
  const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1');
  const blocks = [...text.matchAll(PEM_BLOCK)];
  if (text.replace(PEM_BLOCK, '').replace(/[\s\0]+/g, '').length !== 0) {
    invalid('The PCK certificate chain holds data that is not a PEM certificate.');
  }
  if (blocks.length === 0 || blocks.length > 3) invalid(`The PCK certificate chain must hold 1 to 3 certificates, not ${blocks.length}.`);
  return blocks.map((block) => {
    const der = new Uint8Array(Buffer.from((block[1] ?? '').replace(/\s+/g, ''), 'base64'));
    if (splitDerSequence(der).length !== 1) invalid('A PEM block of the PCK chain does not hold exactly one certificate.');
    return parseCertificate(der);
  });
}

function loadPckCertificates(data: Uint8Array): PckCertificates {
  const certificates = parsePckChainPem(data);
  const leaf = certificates[0] as Certificate;
  // Intel QVL 4.1.2.4.4: the leaf must be a PCK certificate.
  if (!commonNameOf(leaf.subject).includes('SGX PCK Certificate')) {
    invalid('The first certificate of the chain is not an SGX PCK Certificate.');
  }
  return { leaf, certificates, extensions: readPckExtensions(leaf) };
}

/**
 * The PCK certificates of a quote, parsed once per distinct chain when a memo is given (parsing X.509 costs
 * more than an ECDSA verification). The memoized value is a pure function of the chain bytes.
 */
export function pckCertificatesOf(data: Uint8Array, memo?: VerificationMemo): PckCertificates {
  if (!memo) return loadPckCertificates(data);
  const key = `dcap-pck:${createHash('sha256').update(data).digest('hex')}`;
  const result = memo.remember<PckCertificates | EvidenceError>(key, () => {
    try {
      return loadPckCertificates(data);
    } catch (err) {
      if (err instanceof EvidenceError) return err;
      throw err;
    }
  });
  if (result instanceof EvidenceError) throw result;
  return result;
}
