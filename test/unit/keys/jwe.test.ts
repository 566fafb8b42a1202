// TEE keys keyward encrypts releases to: small-order X25519 points and weak RSA keys are refused, so a
// release can never be readable by whoever sees the JWE.
import { describe, expect, it } from 'vitest';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { encryptForTee, jwkThumbprint, parseTeePublicKey, type TeeKey, type TeePublicJwk } from '../../../src/keys/jwe.js';
import { X25519_SMALL_ORDER_POINTS } from '../../helpers/x25519.js';
import { teeKeyPair } from '../../helpers/tee.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

describe('parseTeePublicKey', () => {
  it('refuses every X25519 point of small order, canonical or with the top bit set', () => {
    expect(X25519_SMALL_ORDER_POINTS).toHaveLength(14);
    for (const hex of X25519_SMALL_ORDER_POINTS) {
      const jwk = { kty: 'OKP', crv: 'X25519', x: Buffer.from(hex, 'hex').toString('base64url') };
      expect(codeOf(() => parseTeePublicKey(jwk)), hex).toBe('ERR_ATTEST_KEY_INVALID');
    }
    expect(() => parseTeePublicKey(teeKeyPair('x25519').publicJwk)).not.toThrow();
  });

  it('refuses RSA exponents below 65537 or even, and moduli outside 3072..8192 bits', () => {
    const { n } = generateKeyPairSync('rsa', { modulusLength: 3072 }).publicKey.export({ format: 'jwk' }) as { n: string };
    for (const e of ['AQ', 'Aw', 'Ag', 'AQAA']) expect(codeOf(() => parseTeePublicKey({ kty: 'RSA', n, e })), e).toBe('ERR_ATTEST_KEY_INVALID');
    expect(() => parseTeePublicKey({ kty: 'RSA', n, e: 'AQAB' })).not.toThrow();
    const small = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' }) as { n: string };
    expect(codeOf(() => parseTeePublicKey({ kty: 'RSA', n: small.n, e: 'AQAB' }))).toBe('ERR_ATTEST_KEY_INVALID');
  });
});

describe('encryptForTee', () => {
  it('fails with ERR_ATTEST_KEY_INVALID, not a crash, when the key agreement yields nothing secret', () => {
    const jwk: TeePublicJwk = { kty: 'OKP', crv: 'X25519', x: Buffer.alloc(32).toString('base64url') };
    const tee: TeeKey = { jwk, key: createPublicKey({ key: { ...jwk }, format: 'jwk' }), thumbprint: jwkThumbprint(jwk), alg: 'ECDH-ES+A256KW' };
    expect(codeOf(() => encryptForTee(new Uint8Array(32), tee))).toBe('ERR_ATTEST_KEY_INVALID');
  });
});
