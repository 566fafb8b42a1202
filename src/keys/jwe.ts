// Release to a TEE (docs/design.md "Release protocol", step 4): key material or a data key encrypted as a
// compact JWE to the ephemeral public key born inside the TEE — ECDH-ES+A256KW for EC/OKP keys, RSA-OAEP-256
// for RSA ≥ 3072; enc A256GCM. Also validates that key and computes its RFC 7638 thumbprint.
import {
  constants,
  createCipheriv,
  createHash,
  createPublicKey,
  diffieHellman,
  publicEncrypt,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { RequestError } from '../errors.js';
import { freshKeyPair } from './key-pair.js';

/** The public members of a TEE key JWK, and nothing else (a private member is refused). */
export type TeePublicJwk =
  | { readonly kty: 'EC'; readonly crv: 'P-384'; readonly x: string; readonly y: string }
  | { readonly kty: 'OKP'; readonly crv: 'X25519'; readonly x: string }
  | { readonly kty: 'RSA'; readonly n: string; readonly e: string };

export interface TeeKey {
  readonly jwk: TeePublicJwk;
  readonly key: KeyObject;
  /** RFC 7638 SHA-256 thumbprint, raw 32 bytes. */
  readonly thumbprint: Uint8Array;
  readonly alg: 'ECDH-ES+A256KW' | 'RSA-OAEP-256';
}

export const MIN_RSA_BITS = 3072;
/** Larger moduli only slow the release down; no TEE needs them. */
export const MAX_RSA_BITS = 8192;

/**
 * The X25519 public values of small order (RFC 7748 §6.1; the list libsodium refuses), little-endian with
 * the top bit masked as X25519 masks it. Any shared secret with one of them is a fixed value an observer
 * knows, so a release to such a "key" would be readable by anyone who sees the JWE.
 */
const X25519_SMALL_ORDER = [
  '0000000000000000000000000000000000000000000000000000000000000000', // 0
  '0100000000000000000000000000000000000000000000000000000000000000', // 1
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800', // order 8
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157', // order 8
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // p - 1
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // p (= 0)
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // p + 1 (= 1)
].map((h) => Buffer.from(h, 'hex'));

function isSmallOrderX25519(x: Buffer): boolean {
  if (x.length !== 32) return true;
  const masked = Buffer.from(x);
  masked[31] = masked[31]! & 0x7f;
  return X25519_SMALL_ORDER.some((point) => point.equals(masked));
}

/** RSA public exponents other than odd values from 65537 up make OAEP weak or trivially invertible (e = 1). */
function checkRsaKey(key: KeyObject): void {
  const details = key.asymmetricKeyDetails;
  const bits = details?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
    throw invalid(`teePublicKey RSA keys must have ${MIN_RSA_BITS} to ${MAX_RSA_BITS} bits.`);
  }
  const e = details?.publicExponent ?? 0n;
  if (e < 65537n || e % 2n === 0n || e >= 1n << 256n) throw invalid('teePublicKey RSA exponent must be odd and at least 65537.');
}

function invalid(message: string, cause?: unknown): RequestError {
  return new RequestError('ERR_ATTEST_KEY_INVALID', message, cause === undefined ? {} : { cause });
}

const B64URL = /^[A-Za-z0-9_-]+$/;

function member(jwk: Record<string, unknown>, name: string): string {
  const v = jwk[name];
  if (typeof v !== 'string' || !B64URL.test(v)) throw invalid(`teePublicKey.${name} must be base64url.`);
  return v;
}

/** RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace. */
export function jwkThumbprint(jwk: TeePublicJwk): Uint8Array {
  const canonical =
    jwk.kty === 'EC'
      ? `{"crv":"${jwk.crv}","kty":"EC","x":"${jwk.x}","y":"${jwk.y}"}`
      : jwk.kty === 'OKP'
        ? `{"crv":"${jwk.crv}","kty":"OKP","x":"${jwk.x}"}`
        : `{"e":"${jwk.e}","kty":"RSA","n":"${jwk.n}"}`;
  return new Uint8Array(createHash('sha256').update(canonical).digest());
}

/** Validates a teePublicKey JWK: EC P-384, OKP X25519 or RSA ≥ 3072, public only, key actually valid. */
export function parseTeePublicKey(value: unknown): TeeKey {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('teePublicKey must be a JWK object.');
  const raw = value as Record<string, unknown>;
  for (const priv of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) {
    // A private key sent to keyward was exposed outside the TEE: refuse it loudly.
    if (priv in raw) throw invalid('teePublicKey must be a public key; it holds private key material.');
  }
  let jwk: TeePublicJwk;
  if (raw['kty'] === 'EC' && raw['crv'] === 'P-384') jwk = { kty: 'EC', crv: 'P-384', x: member(raw, 'x'), y: member(raw, 'y') };
  else if (raw['kty'] === 'OKP' && raw['crv'] === 'X25519') jwk = { kty: 'OKP', crv: 'X25519', x: member(raw, 'x') };
  else if (raw['kty'] === 'RSA') jwk = { kty: 'RSA', n: member(raw, 'n'), e: member(raw, 'e') };
  else throw invalid('teePublicKey must be EC P-384, OKP X25519 or RSA of at least 3072 bits.');
  let key: KeyObject;
  try {
    key = createPublicKey({ key: { ...jwk }, format: 'jwk' });
  } catch (cause) {
    throw invalid('teePublicKey is not a valid public key.', cause);
  }
  if (jwk.kty === 'RSA') checkRsaKey(key);
  if (jwk.kty === 'OKP' && isSmallOrderX25519(Buffer.from(jwk.x, 'base64url'))) {
    throw invalid('teePublicKey is an X25519 point of small order; a key agreed with it is no secret.');
  }
  return { jwk, key, thumbprint: jwkThumbprint(jwk), alg: jwk.kty === 'RSA' ? 'RSA-OAEP-256' : 'ECDH-ES+A256KW' };
}

const b64u = (bytes: Uint8Array | string): string => Buffer.from(bytes).toString('base64url');

/** RFC 7518 §4.6.2 Concat KDF for ECDH-ES+A256KW (SHA-256, one round: 256 bits), empty apu/apv. */
function concatKdf(z: Buffer): Buffer {
  const alg = Buffer.from('ECDH-ES+A256KW');
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  return createHash('sha256')
    .update(u32(1))
    .update(z)
    .update(u32(alg.length))
    .update(alg)
    .update(u32(0))
    .update(u32(0))
    .update(u32(256))
    .digest();
}

/**
 * The JWK members of an ephemeral public key from its SPKI DER: the key is the DER's tail (X25519: the 32
 * raw bytes; P-384: the uncompressed point 0x04 ‖ x ‖ y, 48 bytes each).
 */
function ephemeralJwk(spkiDer: Buffer, okp: boolean): Record<string, string> {
  if (okp) return { kty: 'OKP', crv: 'X25519', x: spkiDer.subarray(spkiDer.length - 32).toString('base64url') };
  const point = spkiDer.subarray(spkiDer.length - 97);
  if (point[0] !== 0x04) throw new Error('unexpected P-384 public key encoding');
  return { kty: 'EC', crv: 'P-384', x: point.subarray(1, 49).toString('base64url'), y: point.subarray(49).toString('base64url') };
}

/** The content-encryption key wrapped to the TEE key, and the header members that say how. */
function wrapCek(cek: Buffer, tee: TeeKey): { encryptedKey: Buffer; header: Record<string, unknown> } {
  if (tee.jwk.kty === 'RSA') {
    return { encryptedKey: publicEncrypt({ key: tee.key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, cek), header: {} };
  }
  // The ephemeral key's JWK members are read from its SPKI, never exported from a key object (see key-pair.ts).
  const ephemeral = freshKeyPair(tee.jwk.kty === 'OKP' ? { type: 'x25519' } : { type: 'ec', namedCurve: 'P-384' });
  const ephemeralPrivate = ephemeral.privateKey;
  ephemeral.pkcs8.fill(0);
  let z: Buffer;
  try {
    z = diffieHellman({ privateKey: ephemeralPrivate, publicKey: tee.key });
  } catch (cause) {
    // OpenSSL refuses an all-zero X25519 result: the TEE key is of small order.
    throw invalid('teePublicKey cannot agree a secret key.', cause);
  }
  const kek = concatKdf(z);
  z.fill(0);
  // RFC 3394 AES key wrap with the default IV.
  const wrap = createCipheriv('id-aes256-wrap', kek, Buffer.from('a6a6a6a6a6a6a6a6', 'hex'));
  const encryptedKey = Buffer.concat([wrap.update(cek), wrap.final()]);
  kek.fill(0);
  const epkMembers = ephemeralJwk(ephemeral.spki, tee.jwk.kty === 'OKP');
  return { encryptedKey, header: { epk: epkMembers } };
}

/**
 * Encrypts `plaintext` to the TEE key as a compact JWE (RFC 7516) with node's synchronous crypto:
 * ECDH-ES+A256KW (X25519 or P-384 ephemeral key) or RSA-OAEP-256 for the CEK, A256GCM for the content.
 * The header `kid` is the TEE key's thumbprint.
 */
export function encryptForTee(plaintext: Uint8Array, tee: TeeKey, extraHeader: Record<string, string> = {}): string {
  const cek = randomBytes(32);
  try {
    const { encryptedKey, header } = wrapCek(cek, tee);
    const protectedHeader = b64u(JSON.stringify({ alg: tee.alg, enc: 'A256GCM', kid: b64u(tee.thumbprint), ...header, ...extraHeader }));
    const iv = randomBytes(12);
    const gcm = createCipheriv('aes-256-gcm', cek, iv);
    gcm.setAAD(Buffer.from(protectedHeader, 'ascii'));
    const ciphertext = Buffer.concat([gcm.update(plaintext), gcm.final()]);
    return [protectedHeader, b64u(encryptedKey), b64u(iv), b64u(ciphertext), b64u(gcm.getAuthTag())].join('.');
  } finally {
    cek.fill(0);
  }
}
