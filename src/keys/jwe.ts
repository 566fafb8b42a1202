// Release to a TEE (DESIGN.md release protocol step 4): key material or a data key encrypted as a compact
// JWE to the ephemeral public key born inside the TEE — ECDH-ES+A256KW for EC/OKP keys, RSA-OAEP-256 for
// RSA ≥ 3072; enc A256GCM. Also validates that key and computes its RFC 7638 thumbprint.
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { CompactEncrypt } from 'jose';
import { RequestError } from '../errors.js';

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
  if (jwk.kty === 'RSA' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) {
    throw invalid(`teePublicKey RSA keys must have at least ${MIN_RSA_BITS} bits.`);
  }
  return { jwk, key, thumbprint: jwkThumbprint(jwk), alg: jwk.kty === 'RSA' ? 'RSA-OAEP-256' : 'ECDH-ES+A256KW' };
}

/** Encrypts `plaintext` to the TEE key as a compact JWE; `kid` of the header is the key's thumbprint. */
export async function encryptForTee(plaintext: Uint8Array, tee: TeeKey, extraHeader: Record<string, string> = {}): Promise<string> {
  return new CompactEncrypt(plaintext)
    .setProtectedHeader({ alg: tee.alg, enc: 'A256GCM', kid: Buffer.from(tee.thumbprint).toString('base64url'), ...extraHeader })
    .encrypt(tee.key);
}
