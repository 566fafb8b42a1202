// BYOK import (docs/design.md "Keys"): keyward publishes an RSA-OAEP-256 or ECDH-ES public JWK; an owner
// encrypts the key material to it as a compact JWE (enc A256GCM), so plaintext never crosses the API.
import { createPrivateKey, createHash, type KeyObject } from 'node:crypto';
import { compactDecrypt, decodeProtectedHeader, exportJWK, type JWK } from 'jose';
import { RequestError } from '../errors.js';
import { freshKeyPair } from './key-pair.js';
import { toBase64Url, zeroize } from '../encoding.js';

export type ImportAlgorithm = 'RSA-OAEP-256' | 'ECDH-ES+A256KW';
export const IMPORT_ALGORITHMS: readonly ImportAlgorithm[] = ['RSA-OAEP-256', 'ECDH-ES+A256KW'];

export interface ImportKeyPair {
  readonly kid: string;
  readonly alg: ImportAlgorithm;
  readonly publicJwk: JWK;
  /** PKCS#8 DER of the private key: seal it under the KEK before it is stored. */
  readonly privatePkcs8: Uint8Array;
}

export const MIN_IMPORT_MATERIAL = 16;
export const MAX_IMPORT_MATERIAL = 64;

export async function generateImportKeyPair(alg: ImportAlgorithm): Promise<ImportKeyPair> {
  const { publicKey, spki, pkcs8 } = freshKeyPair(alg === 'RSA-OAEP-256' ? { type: 'rsa', modulusLength: 3072 } : { type: 'ec', namedCurve: 'P-384' });
  const jwk = await exportJWK(publicKey);
  const kid = `import-${toBase64Url(createHash('sha256').update(spki).digest()).slice(0, 22)}`;
  const privatePkcs8 = new Uint8Array(pkcs8);
  pkcs8.fill(0);
  return { kid, alg, publicJwk: { ...jwk, kid, alg, use: 'enc' }, privatePkcs8 };
}

function invalid(message: string, cause?: unknown): RequestError {
  return new RequestError('ERR_IMPORT_JWE_INVALID', message, cause === undefined ? {} : { cause });
}

/** The `kid` and `alg` of a compact JWE's protected header (to find the import key before decrypting). */
export function readImportJweHeader(jwe: string): { kid: string; alg: string } {
  let header: { kid?: unknown; alg?: unknown; enc?: unknown };
  try {
    header = decodeProtectedHeader(jwe) as typeof header;
  } catch (cause) {
    throw invalid('The jwe is not a compact JWE.', cause);
  }
  if (typeof header.kid !== 'string') {
    throw new RequestError('ERR_IMPORT_KEY_UNKNOWN', 'The JWE header must name the import key in "kid" (from GET /v1/import-key).');
  }
  if (typeof header.alg !== 'string' || !(IMPORT_ALGORITHMS as readonly string[]).includes(header.alg) || header.enc !== 'A256GCM') {
    throw invalid(`The JWE must use alg ${IMPORT_ALGORITHMS.join(' or ')} with enc A256GCM.`);
  }
  return { kid: header.kid, alg: header.alg };
}

/**
 * The `importToken` of a compact JWE's protected header (per-key import parameters), or undefined. The
 * protected header is authenticated by A256GCM, so the token cannot be removed or replaced undetected.
 */
export function readImportToken(jwe: string): string | undefined {
  let header: { importToken?: unknown };
  try {
    header = decodeProtectedHeader(jwe) as typeof header;
  } catch (cause) {
    throw invalid('The jwe is not a compact JWE.', cause);
  }
  if (header.importToken === undefined) return undefined;
  if (typeof header.importToken !== 'string') throw invalid('The JWE header\'s "importToken" must be a string.');
  return header.importToken;
}

/** Decrypts the import JWE with the import private key; returns the key material (caller zeroes it). */
export async function decryptImportJwe(jwe: string, alg: ImportAlgorithm, privatePkcs8: Uint8Array): Promise<Uint8Array> {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: Buffer.from(privatePkcs8), format: 'der', type: 'pkcs8' });
  } finally {
    zeroize(privatePkcs8);
  }
  let plaintext: Uint8Array;
  try {
    const result = await compactDecrypt(jwe, key, { keyManagementAlgorithms: [alg], contentEncryptionAlgorithms: ['A256GCM'] });
    plaintext = result.plaintext;
  } catch (cause) {
    throw invalid('The JWE could not be decrypted with the import key.', cause);
  }
  if (plaintext.length < MIN_IMPORT_MATERIAL || plaintext.length > MAX_IMPORT_MATERIAL) {
    zeroize(plaintext);
    throw new RequestError(
      'ERR_IMPORT_MATERIAL_INVALID',
      `Imported key material must be ${MIN_IMPORT_MATERIAL}–${MAX_IMPORT_MATERIAL} bytes.`,
    );
  }
  return plaintext;
}
