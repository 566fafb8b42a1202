// Per-file keys of sealed files (docs/sealed-format.md §4): HKDF-SHA-256 (RFC 5869) from the data key and
// the file's salt, the key check, and the header tag (HMAC-SHA-256 over the header body).
import { createHmac, hkdfSync } from 'node:crypto';
import { constantTimeEqual, zeroize } from '../../encoding.js';
import { NONCE_PREFIX_LENGTH, KEY_CHECK_LENGTH } from './format.js';
import { SealedFileError } from './sealed-error.js';

export const DATA_KEY_LENGTH = 32;

/** HKDF `info` labels; one per derived value so no two outputs can ever coincide. */
const INFO = {
  aesKey: 'keyward sealed v1 aes-256-gcm key',
  noncePrefix: 'keyward sealed v1 nonce prefix',
  macKey: 'keyward sealed v1 header hmac key',
  keyCheck: 'keyward sealed v1 key check',
} as const;

/** Everything derived from (data key, salt). Zero with `zeroFileKeys` when done. */
export interface FileKeys {
  readonly aesKey: Buffer;
  readonly noncePrefix: Buffer;
  readonly macKey: Buffer;
  readonly keyCheck: Buffer;
}

/** The data key must be exactly 32 bytes (an AES-256 data key from POST /v1/keys/{id}/datakey). */
export function checkDataKey(dataKey: unknown): asserts dataKey is Uint8Array {
  if (!(dataKey instanceof Uint8Array) || dataKey.length !== DATA_KEY_LENGTH) {
    throw new SealedFileError('ERR_SEALED_OPTIONS_INVALID', `the data key must be ${DATA_KEY_LENGTH} bytes`);
  }
}

function expand(dataKey: Uint8Array, salt: Uint8Array, info: string, length: number): Buffer {
  return Buffer.from(hkdfSync('sha256', dataKey, salt, info, length));
}

/**
 * Derives the file's AES key, nonce prefix, header MAC key and key check. Only the salt enters the
 * derivation, never other header fields: so a wrong data key (key check differs) is told apart from an
 * edited header (tag differs), while the header hash in every chunk's AAD still binds all of it.
 */
export function deriveFileKeys(dataKey: Uint8Array, salt: Uint8Array): FileKeys {
  checkDataKey(dataKey);
  return {
    aesKey: expand(dataKey, salt, INFO.aesKey, 32),
    noncePrefix: expand(dataKey, salt, INFO.noncePrefix, NONCE_PREFIX_LENGTH),
    macKey: expand(dataKey, salt, INFO.macKey, 32),
    keyCheck: expand(dataKey, salt, INFO.keyCheck, KEY_CHECK_LENGTH),
  };
}

export function zeroFileKeys(keys: FileKeys | undefined): void {
  if (keys) zeroize(keys.aesKey, keys.noncePrefix, keys.macKey, keys.keyCheck);
}

export function computeHeaderTag(macKey: Uint8Array, headerBody: Uint8Array): Buffer {
  return createHmac('sha256', macKey).update(headerBody).digest();
}

/**
 * Opens a parsed header with derived keys: key check first (constant time) — a mismatch means this
 * data key does not belong to this file — then the header tag over every byte before it.
 */
export function authenticateHeader(keys: FileKeys, header: { keyCheck: Uint8Array; tag: Uint8Array; bytes: Uint8Array }): void {
  if (!constantTimeEqual(keys.keyCheck, header.keyCheck)) {
    throw new SealedFileError(
      'ERR_SEALED_KEY_MISMATCH',
      'the data key does not open this sealed file (wrong data key, or the header salt or key check was altered)',
    );
  }
  const body = header.bytes.subarray(0, header.bytes.length - header.tag.length);
  if (!constantTimeEqual(computeHeaderTag(keys.macKey, body), header.tag)) {
    throw new SealedFileError('ERR_SEALED_HEADER_AUTH_FAILED', 'sealed file header failed authentication (the header was altered)');
  }
}
