// Parses a Nitro attestation document: the COSE_Sign1 envelope and its payload (AWS attestation_process
// §2.2 CDDL, §3.2.2 syntactic rules), as real NSM output actually encodes it.
//
// Where real documents break AWS's written rules, the choice made here:
// - `public_key`, `user_data`, `nonce` encoded as CBOR null (Marlin, Epsilon) are treated as absent:
//   NSM writes null for "not supplied", and absence is how the CDDL (`? public_key`) models it.
// - `public_key` may be an empty byte string (nitrite): §2.2's `user_data = bytes .size (0..1024)` allows
//   it, only §3.2.2.2 says 1..1024. An empty key binds nothing, so accepting it is harmless.
// - The three optional fields may hold up to 1024 bytes (§2.2), not 512 (§3.2.2.2).
// - The payload map may have indefinite length (Epsilon, 2026: `bf … ff`); see cbor.ts.
// Where the format leaves room that nothing real uses, the choice is to refuse:
// - null for a mandatory field; a key outside the nine of §2.2 (the format has no extension point, and a
//   field we do not understand could carry meaning we would silently drop); PCRs 0–2 missing (without
//   the image measurements neither an allow-list nor `debug` can be decided).
import { EvidenceError } from '../../errors.js';
import { decodeStrictCbor } from './cbor.js';
import { checkProtectedHeader, decodeCoseSign1, type CoseSign1 } from './cose.js';

export interface NitroDocument {
  readonly cose: CoseSign1;
  /** `module_id`: the issuing Nitro hypervisor module, `i-<instance>-enc<enclave>`. */
  readonly moduleId: string;
  /** `digest`: the PCR bank's hash function; only "SHA384" exists. */
  readonly digest: 'SHA384';
  /** `timestamp`: milliseconds since the Unix epoch (UTC). */
  readonly timestamp: number;
  /** `pcrs`: PCR index (0..31) → value, in ascending index order. */
  readonly pcrs: ReadonlyMap<number, Uint8Array>;
  /** `certificate`: DER of the leaf that signs the document. */
  readonly certificate: Uint8Array;
  /** `cabundle`: DER certificates, root first (AWS order). */
  readonly cabundle: readonly Uint8Array[];
  /** Optional fields: undefined when absent or null. */
  readonly publicKey: Uint8Array | undefined;
  readonly userData: Uint8Array | undefined;
  readonly nonce: Uint8Array | undefined;
}

const CERT_MAX_BYTES = 1024;
const OPTIONAL_FIELD_MAX_BYTES = 1024;
const PCR_SIZES: ReadonlySet<number> = new Set([32, 48, 64]);
const PCR_INDEX_LIMIT = 32;
const MAX_PCRS = 32;
/** PCR0 (image), PCR1 (kernel and bootstrap), PCR2 (application). */
export const IMAGE_PCRS: readonly number[] = [0, 1, 2];
/** No AWS limit; real bundles hold 4 (root, regional, zonal, instance). Bounds the chain-building work. */
export const MAX_CABUNDLE = 8;
/** The largest instant a JavaScript Date holds (ECMA-262 §21.4.1.1). */
const MAX_TIMESTAMP_MS = 8.64e15;
const KNOWN_FIELDS: ReadonlySet<string> = new Set([
  'module_id',
  'digest',
  'timestamp',
  'pcrs',
  'certificate',
  'cabundle',
  'public_key',
  'user_data',
  'nonce',
]);

function invalid(field: string, rule: string): never {
  throw new EvidenceError('ERR_NITRO_FIELD_INVALID', `The attestation document's "${field}" ${rule}.`);
}

function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

function mandatory(payload: ReadonlyMap<unknown, unknown>, field: string): unknown {
  const value = payload.get(field);
  if (value === undefined || value === null) invalid(field, 'is missing (it is mandatory and may not be null)');
  return value;
}

function bytesField(value: unknown, field: string, min: number, max: number): Uint8Array {
  if (!isBytes(value)) invalid(field, 'is not a byte string');
  if (value.length < min || value.length > max) invalid(field, `must be ${min}..${max} bytes long`);
  return value;
}

function optionalBytes(payload: ReadonlyMap<unknown, unknown>, field: string): Uint8Array | undefined {
  const value = payload.get(field);
  if (value === undefined || value === null) return undefined;
  return bytesField(value, field, 0, OPTIONAL_FIELD_MAX_BYTES);
}

function parsePcrs(value: unknown): Map<number, Uint8Array> {
  if (!(value instanceof Map)) invalid('pcrs', 'is not a map');
  if (value.size < 1 || value.size > MAX_PCRS) invalid('pcrs', `must hold 1..${MAX_PCRS} entries`);
  const entries: [number, Uint8Array][] = [];
  for (const [index, pcr] of value as Map<unknown, unknown>) {
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= PCR_INDEX_LIMIT) {
      invalid('pcrs', `must be indexed by integers 0..${PCR_INDEX_LIMIT - 1}`);
    }
    if (!isBytes(pcr) || !PCR_SIZES.has(pcr.length)) invalid('pcrs', 'values must be byte strings of 32, 48 or 64 bytes');
    entries.push([index, pcr]);
  }
  for (const index of IMAGE_PCRS) {
    if (!entries.some(([i]) => i === index)) invalid('pcrs', `lacks PCR${index}`);
  }
  return new Map(entries.sort((a, b) => a[0] - b[0]));
}

function parseCabundle(value: unknown): Uint8Array[] {
  if (!Array.isArray(value)) invalid('cabundle', 'is not an array');
  if (value.length < 1 || value.length > MAX_CABUNDLE) invalid('cabundle', `must hold 1..${MAX_CABUNDLE} certificates`);
  return value.map((cert: unknown) => bytesField(cert, 'cabundle', 1, CERT_MAX_BYTES));
}

/** Applies the payload rules to a decoded payload map. */
function parsePayload(cose: CoseSign1, payload: unknown): NitroDocument {
  if (!(payload instanceof Map)) invalid('payload', 'is not a map');
  for (const key of payload.keys()) {
    if (typeof key !== 'string' || !KNOWN_FIELDS.has(key)) {
      throw new EvidenceError('ERR_NITRO_FIELD_INVALID', 'The attestation document holds a field that is not part of the format.');
    }
  }
  const moduleId = mandatory(payload, 'module_id');
  if (typeof moduleId !== 'string' || moduleId.length === 0) invalid('module_id', 'must be a non-empty text string');
  const digest = mandatory(payload, 'digest');
  if (typeof digest !== 'string') invalid('digest', 'is not a text string');
  if (digest !== 'SHA384') {
    throw new EvidenceError('ERR_NITRO_ALGORITHM_UNSUPPORTED', 'The attestation document\'s PCR digest must be "SHA384".');
  }
  const timestamp = mandatory(payload, 'timestamp');
  if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || timestamp <= 0 || timestamp > MAX_TIMESTAMP_MS) {
    invalid('timestamp', 'must be a positive integer (milliseconds since the epoch)');
  }
  return {
    cose,
    moduleId,
    digest,
    timestamp,
    pcrs: parsePcrs(mandatory(payload, 'pcrs')),
    certificate: bytesField(mandatory(payload, 'certificate'), 'certificate', 1, CERT_MAX_BYTES),
    cabundle: parseCabundle(mandatory(payload, 'cabundle')),
    publicKey: optionalBytes(payload, 'public_key'),
    userData: optionalBytes(payload, 'user_data'),
    nonce: optionalBytes(payload, 'nonce'),
  };
}

/**
 * Parses and syntactically validates a Nitro attestation document. Structure only: nothing here is
 * authenticated until verifyNitroEvidence has checked the signature and the chain.
 */
export function parseNitroDocument(document: Uint8Array): NitroDocument {
  const cose = decodeCoseSign1(document);
  checkProtectedHeader(cose);
  const payload = decodeStrictCbor(cose.payload, {
    maxDepth: 2,
    code: 'ERR_NITRO_DOCUMENT_MALFORMED',
    what: 'The attestation document payload',
  });
  return parsePayload(cose, payload);
}
