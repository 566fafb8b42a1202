// Byte layout of keyward sealed files, version 1 (docs/sealed-format.md §2 header, §3 chunk records).
// Pure: encodes and parses bytes; keys and authentication live in keys.ts and stream.ts.
import { SealedFileError } from './sealed-error.js';

/** 0x00..0x08: "\x89KWSEAL\n" — a non-ASCII first byte and a newline catch text-mode mangling early. */
export const MAGIC = Buffer.from([0x89, 0x4b, 0x57, 0x53, 0x45, 0x41, 0x4c, 0x0a]);
export const FORMAT_VERSION = 1;

export const SALT_LENGTH = 32;
export const KEY_CHECK_LENGTH = 32;
export const HEADER_TAG_LENGTH = 32;
export const GCM_TAG_LENGTH = 16;
export const NONCE_PREFIX_LENGTH = 7;
/** Chunk record prefix: flags (1) ‖ plaintext length (4). */
export const RECORD_PREFIX_LENGTH = 5;

export const DEFAULT_CHUNK_SIZE = 1024 * 1024;
export const MIN_CHUNK_SIZE = 256;
export const MAX_CHUNK_SIZE = 16 * 1024 * 1024;
/** The chunk counter is a u32 in the nonce: at most 2^32 chunks per file. */
export const MAX_CHUNKS = 2 ** 32;

export const MAX_KEY_ID_BYTES = 256;
export const MAX_NAME_BYTES = 4096;
export const MAX_WRAPPED_KEY_BYTES = 16384;

/** Offsets of the fixed part (hex as in the doc's table). */
const OFF_VERSION = 0x08;
const OFF_HEADER_LENGTH = 0x0a;
const OFF_KIND = 0x0e;
const OFF_RESERVED = 0x0f;
const OFF_CHUNK_SIZE = 0x10;
const OFF_KEY_VERSION = 0x14;
const OFF_SALT = 0x18;
/** Where the key id length sits; everything before it is fixed. */
export const FIXED_HEADER_LENGTH = 0x38;
/** Smallest and largest header a v1 reader accepts (the header length field is checked against these). */
export const MIN_HEADER_LENGTH = FIXED_HEADER_LENGTH + 2 + 1 + 2 + 2 + 1 + KEY_CHECK_LENGTH + HEADER_TAG_LENGTH;
export const MAX_HEADER_LENGTH =
  FIXED_HEADER_LENGTH + 2 + MAX_KEY_ID_BYTES + 2 + MAX_NAME_BYTES + 2 + MAX_WRAPPED_KEY_BYTES + KEY_CHECK_LENGTH + HEADER_TAG_LENGTH;

export const RECORD_FLAG_FINAL = 0x01;

export type SealedKind = 'file' | 'manifest';
const KIND_BYTES: Record<SealedKind, number> = { file: 0x00, manifest: 0x01 };

/** The header fields a sealer chooses (salt, key check and tag are computed). */
export interface SealedHeaderFields {
  readonly kind: SealedKind;
  readonly chunkSize: number;
  readonly keyId: string;
  readonly keyVersion: number;
  /** Relative POSIX path bound into the header ('' when none). */
  readonly name: string;
  /** The server's wrapped data key, opaque to this format. */
  readonly wrappedDataKey: string;
}

/** A parsed header. Until unsealing verifies the header tag, every field is an unauthenticated hint. */
export interface SealedHeader extends SealedHeaderFields {
  readonly version: number;
  readonly salt: Uint8Array;
  readonly keyCheck: Uint8Array;
  readonly tag: Uint8Array;
  /** The exact header bytes (0x00..headerLength), tag included. */
  readonly bytes: Uint8Array;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function malformed(message: string): SealedFileError {
  return new SealedFileError('ERR_SEALED_HEADER_MALFORMED', `sealed file header is malformed: ${message}`);
}

/**
 * A relative file name as bound into headers and used to place unsealed files: POSIX separators, no
 * empty, '.' or '..' segments, no leading '/', no backslash or control characters — so a name read
 * from a file can never point outside the output directory.
 */
export function isSafeRelativeName(name: string): boolean {
  if (name.length === 0 || Buffer.byteLength(name) > MAX_NAME_BYTES) return false;
  if (/[\u0000-\u001f\u007f\\]/.test(name)) return false;
  return name.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}

function isPrintableText(text: string, maxBytes: number): boolean {
  return text.length > 0 && Buffer.byteLength(text) <= maxBytes && !/[\u0000-\u001f\u007f]/.test(text);
}

/** Checks the fields a sealer supplies; throws ERR_SEALED_OPTIONS_INVALID naming the field (never its value). */
export function checkHeaderFields(fields: SealedHeaderFields): void {
  const bad = (what: string): never => {
    throw new SealedFileError('ERR_SEALED_OPTIONS_INVALID', `invalid seal options: ${what}`);
  };
  const { chunkSize, keyId, keyVersion, name, wrappedDataKey } = fields;
  if (!Number.isInteger(chunkSize) || chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
    bad(`chunkSize must be an integer in [${MIN_CHUNK_SIZE}, ${MAX_CHUNK_SIZE}]`);
  }
  if (!isPrintableText(keyId, MAX_KEY_ID_BYTES)) bad(`keyId must be 1..${MAX_KEY_ID_BYTES} bytes of printable UTF-8`);
  if (!Number.isInteger(keyVersion) || keyVersion < 1 || keyVersion > 0xffffffff) bad('keyVersion must be an integer in [1, 2^32)');
  if (name !== '' && !isSafeRelativeName(name)) bad('name must be a relative POSIX path without "." or ".." segments');
  if (!isPrintableText(wrappedDataKey, MAX_WRAPPED_KEY_BYTES)) {
    bad(`wrappedDataKey must be 1..${MAX_WRAPPED_KEY_BYTES} bytes of printable UTF-8`);
  }
}

/** Serializes the header up to (not including) the header tag; `keyCheck` is appended as the last field. */
export function encodeHeaderBody(fields: SealedHeaderFields, salt: Uint8Array, keyCheck: Uint8Array): Buffer {
  const keyId = Buffer.from(fields.keyId, 'utf8');
  const name = Buffer.from(fields.name, 'utf8');
  const wrapped = Buffer.from(fields.wrappedDataKey, 'utf8');
  const total = FIXED_HEADER_LENGTH + 2 + keyId.length + 2 + name.length + 2 + wrapped.length + KEY_CHECK_LENGTH + HEADER_TAG_LENGTH;
  const out = Buffer.alloc(total - HEADER_TAG_LENGTH);
  MAGIC.copy(out, 0);
  out.writeUInt16BE(FORMAT_VERSION, OFF_VERSION);
  out.writeUInt32BE(total, OFF_HEADER_LENGTH);
  out.writeUInt8(KIND_BYTES[fields.kind], OFF_KIND);
  out.writeUInt8(0, OFF_RESERVED);
  out.writeUInt32BE(fields.chunkSize, OFF_CHUNK_SIZE);
  out.writeUInt32BE(fields.keyVersion, OFF_KEY_VERSION);
  out.set(salt, OFF_SALT);
  let at = FIXED_HEADER_LENGTH;
  for (const field of [keyId, name, wrapped]) {
    at = out.writeUInt16BE(field.length, at);
    at += field.copy(out, at);
  }
  out.set(keyCheck, at);
  return out;
}

/**
 * Checks the first bytes of a would-be header: magic, then version (so a future version is reported
 * as unsupported, not malformed), then the header length. Returns the header length to read.
 * `prefix` may be shorter than FIXED_HEADER_LENGTH only when the input ended there.
 */
export function parseHeaderPrefix(prefix: Uint8Array): number {
  const have = Math.min(prefix.length, MAGIC.length);
  if (!MAGIC.subarray(0, have).equals(prefix.subarray(0, have))) {
    throw new SealedFileError('ERR_SEALED_NOT_SEALED', 'input is not a keyward sealed file (bad magic)');
  }
  const truncated = (): SealedFileError => new SealedFileError('ERR_SEALED_TRUNCATED', 'sealed file is truncated inside its header');
  if (prefix.length < OFF_HEADER_LENGTH) throw truncated();
  const view = Buffer.from(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  const version = view.readUInt16BE(OFF_VERSION);
  if (version !== FORMAT_VERSION) {
    throw new SealedFileError('ERR_SEALED_VERSION_UNSUPPORTED', `sealed file format version ${version} is not supported`);
  }
  if (prefix.length < FIXED_HEADER_LENGTH) throw truncated();
  const length = view.readUInt32BE(OFF_HEADER_LENGTH);
  if (length < MIN_HEADER_LENGTH || length > MAX_HEADER_LENGTH) throw malformed('header length out of range');
  return length;
}

/** Parses a complete v1 header (exactly `parseHeaderPrefix(bytes)` bytes). Structure only: no keys involved. */
export function parseHeader(bytes: Uint8Array): SealedHeader {
  const headerLength = parseHeaderPrefix(bytes);
  if (bytes.length !== headerLength) throw malformed('header length does not match');
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const kindByte = view.readUInt8(OFF_KIND);
  const kind = (Object.keys(KIND_BYTES) as SealedKind[]).find((k) => KIND_BYTES[k] === kindByte);
  if (kind === undefined) throw malformed('unknown kind');
  if (view.readUInt8(OFF_RESERVED) !== 0) throw malformed('reserved byte is not zero');
  const chunkSize = view.readUInt32BE(OFF_CHUNK_SIZE);
  if (chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) throw malformed('chunk size out of range');
  const keyVersion = view.readUInt32BE(OFF_KEY_VERSION);
  if (keyVersion < 1) throw malformed('key version is zero');

  let at = FIXED_HEADER_LENGTH;
  const readField = (what: string, min: number, max: number): string => {
    if (at + 2 > headerLength) throw malformed(`${what} length runs past the header`);
    const len = view.readUInt16BE(at);
    if (len < min || len > max || at + 2 + len > headerLength) throw malformed(`${what} length out of range`);
    const raw = view.subarray(at + 2, at + 2 + len);
    at += 2 + len;
    try {
      return utf8.decode(raw);
    } catch (err) {
      throw new SealedFileError('ERR_SEALED_HEADER_MALFORMED', `sealed file header is malformed: ${what} is not UTF-8`, { cause: err });
    }
  };
  const keyId = readField('key id', 1, MAX_KEY_ID_BYTES);
  const name = readField('name', 0, MAX_NAME_BYTES);
  const wrappedDataKey = readField('wrapped data key', 1, MAX_WRAPPED_KEY_BYTES);
  if (at + KEY_CHECK_LENGTH + HEADER_TAG_LENGTH !== headerLength) throw malformed('field lengths do not add up to the header length');
  if (!isPrintableText(keyId, MAX_KEY_ID_BYTES)) throw malformed('key id has control characters');
  if (name !== '' && !isSafeRelativeName(name)) throw malformed('name is not a safe relative path');
  if (!isPrintableText(wrappedDataKey, MAX_WRAPPED_KEY_BYTES)) throw malformed('wrapped data key has control characters');

  const copy = new Uint8Array(bytes);
  return {
    version: FORMAT_VERSION,
    kind,
    chunkSize,
    keyId,
    keyVersion,
    name,
    wrappedDataKey,
    salt: copy.slice(OFF_SALT, OFF_SALT + SALT_LENGTH),
    keyCheck: copy.slice(at, at + KEY_CHECK_LENGTH),
    tag: copy.slice(at + KEY_CHECK_LENGTH, headerLength),
    bytes: copy,
  };
}

/** 0x00 flags (bit 0 = final) ‖ 0x01 u32 plaintext length. */
export function encodeRecordPrefix(final: boolean, length: number): Buffer {
  const out = Buffer.alloc(RECORD_PREFIX_LENGTH);
  out.writeUInt8(final ? RECORD_FLAG_FINAL : 0, 0);
  out.writeUInt32BE(length, 1);
  return out;
}

export interface RecordPrefix {
  readonly final: boolean;
  readonly length: number;
}

/**
 * Parses and checks a record prefix against the format's framing rules: non-final chunks carry exactly
 * `chunkSize` bytes; the final chunk 1..chunkSize, or 0 only when it is the only chunk (an empty file).
 * One encoding per plaintext, so the framing itself leaves nothing to malleate.
 */
export function parseRecordPrefix(prefix: Uint8Array, chunkSize: number, index: number): RecordPrefix {
  const view = Buffer.from(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  const flags = view.readUInt8(0);
  const length = view.readUInt32BE(1);
  const bad = (what: string): never => {
    throw new SealedFileError('ERR_SEALED_CHUNK_MALFORMED', `sealed file chunk ${index} is malformed: ${what}`);
  };
  if ((flags & ~RECORD_FLAG_FINAL) !== 0) bad('unknown flags');
  const final = flags === RECORD_FLAG_FINAL;
  if (!final && length !== chunkSize) bad('a non-final chunk must be full');
  if (final && (length > chunkSize || (length === 0 && index !== 0))) bad('final chunk length out of range');
  return { final, length };
}

/** GCM nonce (12 bytes): per-file prefix (7) ‖ chunk counter u32 BE (4) ‖ final flag (1): Tink's STREAM layout. */
export function chunkNonce(prefix: Uint8Array, index: number, final: boolean): Buffer {
  const nonce = Buffer.alloc(NONCE_PREFIX_LENGTH + 5);
  nonce.set(prefix, 0);
  nonce.writeUInt32BE(index, NONCE_PREFIX_LENGTH);
  nonce.writeUInt8(final ? 1 : 0, NONCE_PREFIX_LENGTH + 4);
  return nonce;
}
