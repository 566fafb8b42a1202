// The GUID-keyed certificate table returned by SNP_GET_EXT_REPORT and Linux configfs-tsm `auxblob`
// (GHCB spec "SNP Extended Guest Request"): entries {GUID[16], offset u32 LE, length u32 LE}, ended by an
// all-zero entry; offsets are relative to the start of the table. GUIDs are in RFC 4122 byte order.
import { EvidenceError } from '../../errors.js';
import { decodePemBlocks, looksLikePem, splitDerSequence } from '../pki.js';

export type SnpCertTableKind = 'ark' | 'ask' | 'vcek' | 'vlek' | 'crl' | 'unknown';

/** Known GUIDs. The ASK GUID also carries the ASVK when the report is VLEK-signed. */
export const SNP_CERT_TABLE_GUIDS: Readonly<Record<Exclude<SnpCertTableKind, 'unknown'>, string>> = {
  ark: 'c0b406a4-a803-4952-9743-3fb6014cd0ae',
  ask: '4ab7b379-bbac-4fe4-a02f-05aef327c782',
  vcek: '63da758d-e664-4564-adc5-f4b93be8accd',
  vlek: 'a8074bc2-a25a-483e-aae6-39c045a0b8a1',
  crl: '92f81bc3-5811-4d3d-97ff-d19f88dc67ea',
};

const ENTRY_SIZE = 24;
const ZERO_ENTRY = new Uint8Array(ENTRY_SIZE);
/** More entries than any host writes; bounds the work a hostile table can cause. */
export const MAX_CERT_TABLE_ENTRIES = 32;

export interface SnpCertTableEntry {
  readonly guid: string;
  readonly kind: SnpCertTableKind;
  /** The entry's bytes as stored (DER or PEM for known kinds; raw for unknown GUIDs). */
  readonly data: Uint8Array;
  /** For certificate and CRL kinds: the single DER structure the entry holds. */
  readonly der?: Uint8Array;
}

const KIND_BY_GUID = new Map<string, SnpCertTableKind>(
  Object.entries(SNP_CERT_TABLE_GUIDS).map(([kind, guid]) => [guid, kind as SnpCertTableKind]),
);

function malformed(message: string): never {
  throw new EvidenceError('ERR_SNP_CERT_TABLE_MALFORMED', `Certificate table: ${message}`);
}

export function guidToString(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export function guidToBytes(guid: string): Uint8Array {
  const hex = guid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new TypeError(`not a GUID: ${guid}`);
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

const KNOWN_GUID_BYTES = Object.values(SNP_CERT_TABLE_GUIDS).map(guidToBytes);

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

/** True when the bytes start like a certificate table: a known GUID first, or an empty (all-zero) table. */
export function looksLikeSnpCertTable(bytes: Uint8Array): boolean {
  if (bytes.length < ENTRY_SIZE) return false;
  if (KNOWN_GUID_BYTES.some((guid) => startsWith(bytes, guid))) return true;
  return startsWith(bytes, ZERO_ENTRY);
}

/** Exactly one DER structure (certificate or CRL), given as DER or as a single PEM block. */
function singleDer(data: Uint8Array, kind: SnpCertTableKind): Uint8Array {
  const label = kind === 'crl' ? 'X509 CRL' : 'CERTIFICATE';
  if (looksLikePem(data)) {
    const text = Buffer.from(data).toString('latin1').trim();
    const blocks = decodePemBlocks(text, label);
    if (blocks.length !== 1 || !text.startsWith(`-----BEGIN ${label}-----`) || !text.endsWith(`-----END ${label}-----`)) {
      malformed(`the ${kind} entry must hold exactly one PEM ${label}.`);
    }
    return blocks[0] as Uint8Array;
  }
  let parts: Uint8Array[];
  try {
    parts = splitDerSequence(data);
  } catch {
    return malformed(`the ${kind} entry is neither DER nor PEM.`);
  }
  if (parts.length !== 1) malformed(`the ${kind} entry must hold exactly one DER structure.`);
  return parts[0] as Uint8Array;
}

interface RawEntry {
  readonly guid: string;
  readonly offset: number;
  readonly length: number;
}

function readEntries(bytes: Uint8Array): RawEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entries: RawEntry[] = [];
  for (let pos = 0; ; pos += ENTRY_SIZE) {
    if (pos + ENTRY_SIZE > bytes.length) malformed('no terminating all-zero entry.');
    const guidBytes = bytes.subarray(pos, pos + 16);
    const offset = view.getUint32(pos + 16, true);
    const length = view.getUint32(pos + 20, true);
    if (guidBytes.every((b) => b === 0)) {
      if (offset !== 0 || length !== 0) malformed('the terminating entry has a non-zero offset or length.');
      return entries;
    }
    if (entries.length >= MAX_CERT_TABLE_ENTRIES) malformed(`more than ${MAX_CERT_TABLE_ENTRIES} entries.`);
    entries.push({ guid: guidToString(guidBytes), offset, length });
  }
}

function checkRegions(entries: readonly RawEntry[], headerEnd: number, total: number): void {
  const seen = new Set<string>();
  const sorted = [...entries].sort((a, b) => a.offset - b.offset);
  let previousEnd = headerEnd;
  for (const entry of sorted) {
    if (seen.has(entry.guid)) malformed(`GUID ${entry.guid} appears twice.`);
    seen.add(entry.guid);
    if (entry.length === 0) malformed(`the entry ${entry.guid} is empty.`);
    if (entry.offset < previousEnd) malformed(`the entry ${entry.guid} overlaps the table or another entry.`);
    if (entry.offset + entry.length > total) malformed(`the entry ${entry.guid} extends past the end of the data.`);
    previousEnd = entry.offset + entry.length;
  }
}

/**
 * Parses a certificate table strictly: a terminator must be present, every entry must lie after the
 * table and inside the data, entries must not overlap or repeat a GUID, and each known certificate or
 * CRL entry must hold exactly one DER or PEM structure. Unknown GUIDs are kept (kind 'unknown') but not
 * interpreted. Throws ERR_SNP_CERT_TABLE_MALFORMED.
 */
export function parseSnpCertTable(bytes: Uint8Array): SnpCertTableEntry[] {
  const entries = readEntries(bytes);
  const headerEnd = (entries.length + 1) * ENTRY_SIZE;
  checkRegions(entries, headerEnd, bytes.length);
  return entries.map((entry) => {
    const data = bytes.subarray(entry.offset, entry.offset + entry.length);
    const kind = KIND_BY_GUID.get(entry.guid) ?? 'unknown';
    if (kind === 'unknown') return { guid: entry.guid, kind, data };
    return { guid: entry.guid, kind, data, der: singleDer(data, kind) };
  });
}
