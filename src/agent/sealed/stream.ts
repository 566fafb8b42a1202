// Sealing and unsealing as streams (docs/sealed-format.md §5): STREAM-style chunked AES-256-GCM with the
// header hash in every chunk's AAD. Bounded memory: one chunk in flight; nothing is written before it
// authenticates.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { zeroize } from '../../encoding.js';
import { ByteReader } from './byte-reader.js';
import {
  DEFAULT_CHUNK_SIZE,
  FIXED_HEADER_LENGTH,
  GCM_TAG_LENGTH,
  MAX_CHUNKS,
  RECORD_PREFIX_LENGTH,
  SALT_LENGTH,
  checkHeaderFields,
  chunkNonce,
  encodeHeaderBody,
  encodeRecordPrefix,
  parseHeader,
  parseHeaderPrefix,
  parseRecordPrefix,
  type SealedHeader,
  type SealedHeaderFields,
  type SealedKind,
} from './format.js';
import { authenticateHeader, checkDataKey, computeHeaderTag, deriveFileKeys, zeroFileKeys, type FileKeys } from './keys.js';
import { SealedFileError, toSealedFileError } from './sealed-error.js';

/** Anything that yields bytes: a Node Readable, or an async iterable of Uint8Array pieces. */
export type ByteSource = Readable | AsyncIterable<Uint8Array>;

export interface Progress {
  /** Input bytes consumed so far (plaintext when sealing, sealed bytes when unsealing). */
  readonly bytesDone: number;
  /** Input size when known (from the file size or `totalBytes`). */
  readonly bytesTotal: number | undefined;
}

interface StreamOptions {
  /** Called as input is consumed (per input piece when sealing, per chunk when unsealing); keep it cheap. */
  readonly onProgress?: (progress: Progress) => void;
  /** The input's size, for progress only. */
  readonly totalBytes?: number;
  /** Aborting stops the pipeline with ERR_SEALED_ABORTED (the file helpers then remove their temp file). */
  readonly signal?: AbortSignal;
  /** End `output` when done (default true). Pass false to keep writing to it afterwards. */
  readonly end?: boolean;
}

export interface SealOptions extends StreamOptions {
  /** The 32-byte plaintext data key. The caller owns it and zeroes it; keys derived from it are zeroed here. */
  readonly dataKey: Uint8Array;
  readonly keyId: string;
  readonly keyVersion: number;
  /** The server's wrapped form of `dataKey`, stored in the header for the unsealer. */
  readonly wrappedDataKey: string;
  /** Plaintext bytes per chunk (default 1 MiB). */
  readonly chunkSize?: number;
  /** Relative POSIX path bound into the header ('' or absent: none). */
  readonly name?: string;
}

export interface SealResult {
  readonly header: SealedHeader;
  readonly plaintextBytes: number;
  readonly sealedBytes: number;
}

/** What the unsealer insists the (authenticated) header says. */
export interface SealedExpectations {
  readonly keyId?: string;
  readonly keyVersion?: number;
  readonly name?: string;
}

export interface UnsealOptions extends StreamOptions {
  /** The 32-byte plaintext data key (released for `header.wrappedDataKey`). The caller owns and zeroes it. */
  readonly dataKey: Uint8Array;
  readonly expect?: SealedExpectations;
}

export interface UnsealResult {
  readonly header: SealedHeader;
  readonly plaintextBytes: number;
}

/** A sealed stream whose header has been read; the rest of the input is still unread. */
export interface OpenedSealedStream {
  /** Unauthenticated until `unseal` verifies it: use it to fetch the data key, trust it only afterwards. */
  readonly header: SealedHeader;
  unseal(output: Writable, options: UnsealOptions): Promise<UnsealResult>;
  /** Releases the input without unsealing (destroys a Readable). */
  close(): Promise<void>;
}

function sha256(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest();
}

/** AAD of a chunk: SHA-256(header) ‖ record prefix (flags, length). */
function chunkAad(headerHash: Buffer, recordPrefix: Uint8Array): Buffer {
  return Buffer.concat([headerHash, recordPrefix]);
}

function sealChunk(keys: FileKeys, headerHash: Buffer, plain: Uint8Array, index: number, final: boolean): Buffer[] {
  if (index >= MAX_CHUNKS) {
    throw new SealedFileError('ERR_SEALED_TOO_LARGE', `input is too large for this chunk size (over ${MAX_CHUNKS} chunks)`);
  }
  const prefix = encodeRecordPrefix(final, plain.length);
  const cipher = createCipheriv('aes-256-gcm', keys.aesKey, chunkNonce(keys.noncePrefix, index, final), { authTagLength: GCM_TAG_LENGTH });
  cipher.setAAD(chunkAad(headerHash, prefix));
  const body = cipher.update(plain);
  cipher.final();
  return [prefix, body, cipher.getAuthTag()];
}

interface SealState {
  header?: SealedHeader;
  plaintextBytes: number;
  sealedBytes: number;
}

/**
 * Yields the header, then one record per chunk. A full chunk is emitted as non-final only once more
 * input arrives; at the end of input the pending chunk (possibly empty, for an empty input) is final.
 */
async function* sealRecords(source: AsyncIterable<unknown>, fields: SealedHeaderFields, options: SealOptions, state: SealState) {
  const salt = randomBytes(SALT_LENGTH);
  const keys = deriveFileKeys(options.dataKey, salt);
  const pending = Buffer.allocUnsafe(fields.chunkSize);
  try {
    const body = encodeHeaderBody(fields, salt, keys.keyCheck);
    const headerBytes = Buffer.concat([body, computeHeaderTag(keys.macKey, body)]);
    state.header = parseHeader(headerBytes);
    const headerHash = sha256(headerBytes);
    state.sealedBytes += headerBytes.length;
    yield headerBytes;
    let fill = 0;
    let index = 0;
    for await (const piece of source) {
      if (!(piece instanceof Uint8Array)) throw new SealedFileError('ERR_SEALED_INPUT_UNREADABLE', 'input to seal must be a byte stream');
      for (let off = 0; off < piece.length; ) {
        if (fill === fields.chunkSize) {
          const record = sealChunk(keys, headerHash, pending, index++, false);
          state.sealedBytes += RECORD_PREFIX_LENGTH + fill + GCM_TAG_LENGTH;
          yield* record;
          fill = 0;
        }
        const n = Math.min(fields.chunkSize - fill, piece.length - off);
        pending.set(piece.subarray(off, off + n), fill);
        fill += n;
        off += n;
      }
      state.plaintextBytes += piece.length;
      options.onProgress?.({ bytesDone: state.plaintextBytes, bytesTotal: options.totalBytes });
    }
    state.sealedBytes += RECORD_PREFIX_LENGTH + fill + GCM_TAG_LENGTH;
    yield* sealChunk(keys, headerHash, pending.subarray(0, fill), index, true);
  } finally {
    zeroFileKeys(keys);
    pending.fill(0);
  }
}

/** Seals `input` to `output` (header, then chunk records) as a sealed file of `kind` ('manifest' for directories). */
export async function sealStreamAs(kind: SealedKind, input: ByteSource, output: Writable, options: SealOptions): Promise<SealResult> {
  const fields: SealedHeaderFields = {
    kind,
    chunkSize: options.chunkSize ?? DEFAULT_CHUNK_SIZE,
    keyId: options.keyId,
    keyVersion: options.keyVersion,
    name: options.name ?? '',
    wrappedDataKey: options.wrappedDataKey,
  };
  const state: SealState = { plaintextBytes: 0, sealedBytes: 0 };
  try {
    checkDataKey(options.dataKey);
    checkHeaderFields(fields);
    await pipeline(sealRecords(input, fields, options, state), output, { signal: options.signal, end: options.end ?? true });
  } catch (err) {
    if (options.end !== false) output.destroy();
    throw toSealedFileError(err, 'sealing');
  }
  return { header: state.header as SealedHeader, plaintextBytes: state.plaintextBytes, sealedBytes: state.sealedBytes };
}

/** Seals `input` to `output`: a keyward sealed file (format v1) of kind 'file'. */
export function sealStream(input: ByteSource, output: Writable, options: SealOptions): Promise<SealResult> {
  return sealStreamAs('file', input, output, options);
}

async function readHeader(reader: ByteReader): Promise<SealedHeader> {
  const prefix = Buffer.from(await reader.read(FIXED_HEADER_LENGTH));
  const length = parseHeaderPrefix(prefix);
  const rest = await reader.read(length - FIXED_HEADER_LENGTH);
  if (rest.length < length - FIXED_HEADER_LENGTH) {
    throw new SealedFileError('ERR_SEALED_TRUNCATED', 'sealed file is truncated inside its header');
  }
  return parseHeader(Buffer.concat([prefix, rest]));
}

function truncated(index: number): SealedFileError {
  return new SealedFileError('ERR_SEALED_TRUNCATED', `sealed file is truncated (it ends in or before chunk ${index}; no final chunk)`);
}

/**
 * Yields each chunk's plaintext only after its tag verified, and the final chunk's only after the
 * input is known to end right there: so every byte written is authentic, in order, from this file.
 */
async function* openRecords(reader: ByteReader, header: SealedHeader, keys: FileKeys, options: UnsealOptions, state: { plaintextBytes: number }) {
  const headerHash = sha256(header.bytes);
  for (let index = 0; ; index++) {
    if (index >= MAX_CHUNKS) throw new SealedFileError('ERR_SEALED_TOO_LARGE', 'sealed file has more chunks than the format allows');
    const prefix = Buffer.from(await reader.read(RECORD_PREFIX_LENGTH));
    if (prefix.length < RECORD_PREFIX_LENGTH) throw truncated(index);
    const { final, length } = parseRecordPrefix(prefix, header.chunkSize, index);
    const body = await reader.readParts(length + GCM_TAG_LENGTH);
    if (totalLength(body) < length + GCM_TAG_LENGTH) throw truncated(index);
    const plain = openChunk(keys, headerHash, prefix, body, length, index, final);
    if (final && !(await reader.atEnd())) {
      zeroize(...plain);
      throw new SealedFileError('ERR_SEALED_EXTENDED', 'sealed file has data after its final chunk');
    }
    state.plaintextBytes += length;
    options.onProgress?.({ bytesDone: reader.consumed, bytesTotal: options.totalBytes });
    for (const part of plain) if (part.length > 0) yield part;
    if (final) return;
  }
}

function totalLength(parts: readonly Uint8Array[]): number {
  return parts.reduce((sum, p) => sum + p.length, 0);
}

/**
 * Decrypts one chunk given as slices (ciphertext of `length` bytes, then the 16-byte tag, split
 * anywhere) and returns its plaintext pieces only if the tag verifies.
 */
function openChunk(keys: FileKeys, headerHash: Buffer, prefix: Buffer, body: Buffer[], length: number, index: number, final: boolean): Buffer[] {
  const decipher = createDecipheriv('aes-256-gcm', keys.aesKey, chunkNonce(keys.noncePrefix, index, final), {
    authTagLength: GCM_TAG_LENGTH,
  });
  decipher.setAAD(chunkAad(headerHash, prefix));
  const tag = Buffer.alloc(GCM_TAG_LENGTH);
  const plain: Buffer[] = [];
  let at = 0;
  for (const part of body) {
    const cipherBytes = Math.max(0, Math.min(part.length, length - at));
    if (cipherBytes > 0) plain.push(decipher.update(part.subarray(0, cipherBytes)));
    if (cipherBytes < part.length) part.copy(tag, at + cipherBytes - length, cipherBytes);
    at += part.length;
  }
  decipher.setAuthTag(tag);
  try {
    decipher.final();
  } catch (err) {
    zeroize(...plain);
    throw new SealedFileError('ERR_SEALED_CHUNK_AUTH_FAILED', `sealed file chunk ${index} failed authentication`, { cause: err });
  }
  return plain;
}

function checkExpectations(header: SealedHeader, expect: SealedExpectations | undefined): void {
  if (expect?.keyId !== undefined && expect.keyId !== header.keyId) {
    throw new SealedFileError('ERR_SEALED_KEY_ID_MISMATCH', 'sealed file was sealed under another key id than expected');
  }
  if (expect?.keyVersion !== undefined && expect.keyVersion !== header.keyVersion) {
    throw new SealedFileError('ERR_SEALED_KEY_ID_MISMATCH', 'sealed file was sealed under another key version than expected');
  }
  if (expect?.name !== undefined && expect.name !== header.name) {
    throw new SealedFileError('ERR_SEALED_NAME_MISMATCH', 'sealed file carries another name than expected (renamed or swapped)');
  }
}

async function unsealFromReader(reader: ByteReader, header: SealedHeader, output: Writable, options: UnsealOptions): Promise<UnsealResult> {
  let keys: FileKeys | undefined;
  const state = { plaintextBytes: 0 };
  try {
    checkDataKey(options.dataKey);
    keys = deriveFileKeys(options.dataKey, header.salt);
    authenticateHeader(keys, header);
    checkExpectations(header, options.expect);
    await pipeline(openRecords(reader, header, keys, options, state), output, { signal: options.signal, end: options.end ?? true });
  } catch (err) {
    if (options.end !== false) output.destroy();
    throw toSealedFileError(err, 'unsealing');
  } finally {
    zeroFileKeys(keys);
    await reader.close();
  }
  return { header, plaintextBytes: state.plaintextBytes };
}

/** Reads and parses the header of a sealed stream, leaving the rest unread for `unseal`. */
export async function openSealedStream(input: ByteSource): Promise<OpenedSealedStream> {
  const reader = ByteReader.from(input);
  let header: SealedHeader;
  try {
    header = await readHeader(reader);
  } catch (err) {
    await reader.close().catch(() => undefined);
    throw toSealedFileError(err, 'reading the sealed header');
  }
  let used = false;
  return {
    header,
    unseal: async (output, options) => {
      if (used) throw new SealedFileError('ERR_SEALED_OPTIONS_INVALID', 'a sealed stream can be unsealed only once');
      used = true;
      return unsealFromReader(reader, header, output, options);
    },
    close: () => reader.close(),
  };
}

/** Unseals `input` to `output`, writing each chunk only once it authenticated. */
export async function unsealStream(input: ByteSource, output: Writable, options: UnsealOptions): Promise<UnsealResult> {
  let opened: OpenedSealedStream;
  try {
    opened = await openSealedStream(input);
  } catch (err) {
    if (options.end !== false) output.destroy();
    throw err;
  }
  return opened.unseal(output, options);
}

/** Reads only the header of a sealed stream (then releases the input). */
export async function readSealedStreamHeader(input: ByteSource): Promise<SealedHeader> {
  const opened = await openSealedStream(input);
  await opened.close();
  return opened.header;
}
