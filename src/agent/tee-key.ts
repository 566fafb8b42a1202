// The workload's ephemeral TEE key (docs/design.md "Release protocol", step 2): a key pair generated in memory
// (X25519 by default, P-384 or RSA-3072), its RFC 7638 thumbprint, the binding
// SHA-512(nonce ‖ thumbprint) the evidence must carry, and opening the released JWE with the private key.
import { createHash, type KeyObject } from 'node:crypto';
import { compactDecrypt, decodeProtectedHeader } from 'jose';
import { fromBase64Url, toBase64Url } from '../encoding.js';
import { jwkThumbprint, type TeePublicJwk } from '../keys/jwe.js';
import { freshKeyPair } from '../keys/key-pair.js';
import { KeywardClientError } from './client-error.js';

export type TeeKeyType = 'x25519' | 'p384' | 'rsa';

export const TEE_KEY_TYPES: readonly TeeKeyType[] = ['x25519', 'p384', 'rsa'];

/** RSA keys are at least 3072 bits (the server refuses smaller ones). */
const RSA_BITS = 3072;
/**
 * A nonce is opaque to the client: 32 random bytes at least (the stateless nonces keyward issues are 72:
 * randomness, expiry and an HMAC), at most 128. The binding hashes all of its decoded bytes.
 */
const MIN_NONCE_BYTES = 32;
const MAX_NONCE_BYTES = 128;

/**
 * An ephemeral key pair whose private half never leaves this object: it cannot be exported through
 * this interface, is never written anywhere, and is dropped with the object.
 */
export interface TeeKeyPair {
  readonly type: TeeKeyType;
  /** The public key as the server takes it (`teePublicKey`). */
  readonly publicJwk: TeePublicJwk;
  /** RFC 7638 SHA-256 thumbprint of `publicJwk`, raw 32 bytes. */
  readonly thumbprint: Uint8Array;
  /** Opens a compact JWE released to this key (ECDH-ES+A256KW or RSA-OAEP-256, A256GCM). Caller zeroes the result. */
  decrypt(jwe: string): Promise<Uint8Array>;
}

function publicMembers(type: TeeKeyType, publicKey: KeyObject): TeePublicJwk {
  const jwk = publicKey.export({ format: 'jwk' }) as Record<string, string>;
  if (type === 'rsa') return { kty: 'RSA', n: jwk['n'] as string, e: jwk['e'] as string };
  if (type === 'p384') return { kty: 'EC', crv: 'P-384', x: jwk['x'] as string, y: jwk['y'] as string };
  return { kty: 'OKP', crv: 'X25519', x: jwk['x'] as string };
}

function jweInvalid(message: string, cause?: unknown): KeywardClientError {
  return new KeywardClientError('ERR_CLIENT_JWE_INVALID', message, { operation: 'open released JWE' }, cause === undefined ? {} : { cause });
}

/** Generates a fresh TEE key pair in memory. */
export function createTeeKeyPair(type: TeeKeyType = 'x25519'): TeeKeyPair {
  if (!TEE_KEY_TYPES.includes(type)) {
    throw new KeywardClientError('ERR_CLIENT_OPTIONS_INVALID', `the TEE key type must be one of ${TEE_KEY_TYPES.join(', ')}`);
  }
  const pair = freshKeyPair(type === 'rsa' ? { type: 'rsa', modulusLength: RSA_BITS } : type === 'p384' ? { type: 'ec', namedCurve: 'P-384' } : { type: 'x25519' });
  pair.pkcs8.fill(0);
  const privateKey = pair.privateKey;
  const publicJwk = publicMembers(type, pair.publicKey);
  const thumbprint = jwkThumbprint(publicJwk);
  const alg = type === 'rsa' ? 'RSA-OAEP-256' : 'ECDH-ES+A256KW';
  return {
    type,
    publicJwk,
    thumbprint,
    async decrypt(jwe) {
      let kid: unknown;
      try {
        kid = decodeProtectedHeader(jwe).kid;
      } catch (err) {
        throw jweInvalid('the released secret is not a compact JWE', err);
      }
      if (kid !== undefined && kid !== toBase64Url(thumbprint)) throw jweInvalid('the released secret was encrypted to another TEE key');
      try {
        const { plaintext } = await compactDecrypt(jwe, privateKey, { keyManagementAlgorithms: [alg], contentEncryptionAlgorithms: ['A256GCM'] });
        return plaintext;
      } catch (err) {
        throw jweInvalid('the released secret does not open with this TEE key', err);
      }
    },
  };
}

/** bind = SHA-512(nonceBytes ‖ thumbprint): REPORT_DATA for CPU TEEs, bind[0..32) the GPU SPDM nonce. */
export function releaseBinding(nonce: string, thumbprint: Uint8Array): Uint8Array {
  const bytes = fromBase64Url(nonce);
  if (!bytes || bytes.length < MIN_NONCE_BYTES || bytes.length > MAX_NONCE_BYTES) {
    throw new KeywardClientError('ERR_CLIENT_RESPONSE_INVALID', 'the challenge nonce is not 32 to 128 bytes of base64url', { operation: 'POST /v1/challenge' });
  }
  return new Uint8Array(createHash('sha512').update(bytes).update(thumbprint).digest());
}
