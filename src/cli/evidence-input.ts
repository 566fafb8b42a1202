// Turns the `keyward verify --evidence FILE` bytes into evidence items (docs/verify.md "Evidence files"): raw
// hardware evidence (type given or detected by content) or the JSON wire form of the release protocol (step
// 3).
import { verify as cryptoVerify } from 'node:crypto';
import { parseCertificate, type Certificate } from '../evidence/pki.js';
import { parseSpdmReport } from '../evidence/nvidia/spdm.js';
import { EVIDENCE_TYPES, type Collateral, type EvidenceItem, type EvidenceType } from '../evidence/types.js';
import { decodeEvidenceItem } from '../evidence/wire.js';
import { UsageError } from './main.js';

/** SEV-SNP ATTESTATION_REPORT size (ABI spec #56860). */
const SNP_REPORT_SIZE = 0x4a0;
/** DCAP quote header (0x30) plus the smallest body, an SGX enclave report (0x180). */
const DCAP_MIN_SIZE = 0x30 + 0x180;
/** SPDM GET_MEASUREMENTS request length as NVIDIA GPUs send it (nonce and slot included). */
const SPDM_REQUEST_LENGTH = 0x25;
/** NVIDIA device chains hold at most five certificates (leaf .. Device Identity CA). */
const MAX_DEVICE_CHAIN = 5;

const u16 = (b: Uint8Array, o: number): number => (b[o] as number) | ((b[o + 1] as number) << 8);
const u32 = (b: Uint8Array, o: number): number => (u16(b, o) | (u16(b, o + 2) << 16)) >>> 0;

function looksLikeSnp(b: Uint8Array): boolean {
  // VERSION (0x000) is a small integer: 2..5 today; later versions still go to the SNP parser to be refused by name.
  const version = b.length === SNP_REPORT_SIZE ? u32(b, 0x000) : 0;
  return version >= 2 && version <= 31;
}

/** DCAP quote header: version (0x00) 3/4/5, attestation key type (0x02) 2 or 3, TEE type (0x04) 0 = SGX or 0x81 = TDX. */
function dcapTeeOf(b: Uint8Array): 'sgx' | 'tdx' | undefined {
  if (b.length < DCAP_MIN_SIZE || ![3, 4, 5].includes(u16(b, 0x00)) || ![2, 3].includes(u16(b, 0x02))) return undefined;
  const tee = u32(b, 0x04);
  return tee === 0x00 ? 'sgx' : tee === 0x81 ? 'tdx' : undefined;
}

/** COSE_Sign1 (RFC 9052): a 4-element CBOR array (0x84), optionally tagged 18 (0xd2), opening with the protected-header bstr. */
function looksLikeCoseSign1(b: Uint8Array): boolean {
  const start = b[0] === 0xd2 ? 1 : 0;
  const first = b[start + 1];
  return b[start] === 0x84 && first !== undefined && first >= 0x40 && first <= 0x5b;
}

/** SPDM 1.x GET_MEASUREMENTS (0xE0) request followed by its MEASUREMENTS (0x60) response. */
function looksLikeSpdmMeasurements(b: Uint8Array): boolean {
  const version = b[0] ?? 0;
  return b.length > SPDM_REQUEST_LENGTH + 8 && version >= 0x10 && version <= 0x1f && b[1] === 0xe0 && b[SPDM_REQUEST_LENGTH + 1] === 0x60;
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`${file} starts like JSON but is not valid JSON.`);
  }
}

/** An NRAS detached EAT: `[["JWT", <overall>], {<device>: <jwt>, ...}]`. */
function isDetachedEat(doc: unknown): boolean {
  return Array.isArray(doc) && Array.isArray(doc[0]) && doc[0][0] === 'JWT';
}

/** The evidence types raw bytes look like (none, one, or, for ambiguous input, several). */
export function detectEvidenceTypes(bytes: Uint8Array): EvidenceType[] {
  const found: EvidenceType[] = [];
  if (looksLikeSnp(bytes)) found.push('snp');
  const dcap = dcapTeeOf(bytes);
  if (dcap) found.push(dcap);
  if (looksLikeSpdmMeasurements(bytes)) found.push('nvidia-gpu');
  if (looksLikeCoseSign1(bytes)) found.push('nitro');
  return found;
}

function pemOf(cert: Certificate): string {
  return cert.x509.toString().trim();
}

function signsReport(cert: Certificate, signed: Uint8Array, signature: Uint8Array): boolean {
  try {
    return cryptoVerify('sha384', signed, { key: cert.x509.publicKey, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}

/**
 * The device certificate chain for a raw NVIDIA report, from the collateral certificates: the leaf is a
 * certificate that issued none of the others and, when several chains were supplied, the one whose key
 * verifies the report's signature; its issuers follow by name. The verifier then checks all of it.
 */
export function assembleDeviceChain(report: Uint8Array, collateral: Collateral): string {
  const certs: Certificate[] = [];
  for (const der of collateral.certificates) {
    try {
      const cert = parseCertificate(der);
      if (!certs.some((c) => c.sha256 === cert.sha256)) certs.push(cert);
    } catch {
      // not usable as an X.509 certificate: it cannot be part of the device chain
    }
  }
  const leaves = certs.filter((c) => !c.selfSigned && !certs.some((o) => o !== c && o.issuer === c.subject));
  if (leaves.length === 0) {
    throw new UsageError('nvidia-gpu evidence needs its device certificate chain: pass the PEM file with --collateral.');
  }
  let leaf = leaves[0] as Certificate;
  if (leaves.length > 1) {
    try {
      const parsed = parseSpdmReport(report);
      leaf = leaves.find((c) => signsReport(c, parsed.signedBytes, parsed.signature)) ?? leaf;
    } catch {
      // a malformed report: the verifier names the problem
    }
  }
  const chain = [leaf];
  for (let current = leaf; !current.selfSigned && chain.length < MAX_DEVICE_CHAIN; ) {
    const parent = certs.find((c) => c.subject === current.issuer && !chain.includes(c));
    if (!parent) break;
    chain.push(parent);
    current = parent;
  }
  return `${chain.map(pemOf).join('\n')}\n`;
}

function rawItem(type: EvidenceType, bytes: Uint8Array, collateral: Collateral): EvidenceItem {
  switch (type) {
    case 'snp':
      return { type, report: bytes, certs: [] };
    case 'tdx':
    case 'sgx':
      return { type, quote: bytes };
    case 'nvidia-gpu':
      return { type, report: bytes, certChain: assembleDeviceChain(bytes, collateral) };
    case 'nvidia-nras':
      return { type, token: Buffer.from(bytes).toString('utf8') };
    case 'nitro':
      return { type, document: bytes };
  }
}

/** The wire form: one item `{"type": ...}` or a set `{"evidence": [...]}` (other fields of an attest body are ignored). */
function wireEvidence(doc: Record<string, unknown>, type: EvidenceType | undefined, file: string): EvidenceItem | EvidenceItem[] {
  const listed = doc['evidence'];
  if (listed !== undefined && !Array.isArray(listed)) throw new UsageError(`${file}: "evidence" must be an array of evidence items.`);
  if (listed === undefined && typeof doc['type'] !== 'string') {
    throw new UsageError(`${file} is JSON but neither an evidence item {"type": ...} nor a set {"evidence": [...]}.`);
  }
  const values: unknown[] = listed ?? [doc];
  const types = values.map((v) => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>)['type'] : undefined));
  if (type && types.some((t) => t !== type)) throw new UsageError(`--type ${type} does not match the evidence type(s) in ${file}.`);
  const items = values.map((value, index) => decodeEvidenceItem(value, index));
  return listed ? items : (items[0] as EvidenceItem);
}

function jsonEvidence(text: string, type: EvidenceType | undefined, file: string): EvidenceItem | EvidenceItem[] | undefined {
  const head = text.trimStart()[0];
  if (head !== '{' && head !== '[') return undefined;
  const doc = parseJson(text, file);
  if (isDetachedEat(doc)) {
    if (type && type !== 'nvidia-nras') throw new UsageError(`${file} is an NRAS result, not ${type} evidence.`);
    return { type: 'nvidia-nras', token: text };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new UsageError(`${file} is a JSON array but not an NRAS detached EAT [["JWT", ...], {...}].`);
  }
  return wireEvidence(doc as Record<string, unknown>, type, file);
}

/**
 * The evidence in `bytes` (the content of `file`): the JSON wire form or an NRAS result when the file
 * is JSON, otherwise raw evidence of `type` or of the one type its content shows. Undetectable or
 * ambiguous content is a UsageError; a malformed wire item is an EvidenceError (a verdict).
 */
export function readEvidence(bytes: Uint8Array, type: EvidenceType | undefined, collateral: Collateral, file: string): EvidenceItem | EvidenceItem[] {
  if (bytes.length === 0) throw new UsageError(`${file} is empty.`);
  const text = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
  const looksTextual = text.subarray(0, 64).every((b) => b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f));
  if (looksTextual) {
    const json = jsonEvidence(Buffer.from(text).toString('utf8'), type, file);
    if (json) return json;
  }
  if (type) return rawItem(type, bytes, collateral);
  const found = detectEvidenceTypes(bytes);
  if (found.length === 1) return rawItem(found[0] as EvidenceType, bytes, collateral);
  if (found.length === 0) {
    throw new UsageError(`cannot tell what evidence ${file} holds (${bytes.length} bytes); name it with --type ${EVIDENCE_TYPES.join('|')}.`);
  }
  throw new UsageError(`${file} could be ${found.join(' or ')} evidence; name it with --type.`);
}
