// The workload's ephemeral TEE key: public JWK only (accepted by the server's own parser), the RFC 7638
// thumbprint, the binding the server computes, and JWE opening (only with this key, only A256GCM).
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CompactEncrypt, importJWK } from 'jose';
import { createTeeKeyPair, releaseBinding, TEE_KEY_TYPES } from '../../../src/agent/tee-key.js';
import { encryptForTee, parseTeePublicKey } from '../../../src/keys/jwe.js';
import { bindingFor } from '../../../src/broker/release.js';

describe('createTeeKeyPair', () => {
  it.each(TEE_KEY_TYPES)('%s: a public JWK the server accepts, its thumbprint, and a JWE round trip', async (type) => {
    const tee = createTeeKeyPair(type);
    expect(Object.keys(tee.publicJwk).sort()).toEqual(type === 'rsa' ? ['e', 'kty', 'n'] : type === 'p384' ? ['crv', 'kty', 'x', 'y'] : ['crv', 'kty', 'x']);
    const parsed = parseTeePublicKey(tee.publicJwk);
    expect(tee.thumbprint).toEqual(parsed.thumbprint);
    if (type === 'rsa') expect(parsed.key.asymmetricKeyDetails?.modulusLength).toBe(3072);
    const secret = new Uint8Array(randomBytes(32));
    expect(await tee.decrypt(encryptForTee(secret, parsed))).toEqual(secret);
    await expect(createTeeKeyPair(type).decrypt(encryptForTee(secret, parsed))).rejects.toMatchObject({ code: 'ERR_CLIENT_JWE_INVALID' });
  });

  it('refuses a JWE for another key id, a non-JWE, an unexpected algorithm, and unknown key types', async () => {
    const tee = createTeeKeyPair();
    const parsed = parseTeePublicKey(tee.publicJwk);
    const secret = new Uint8Array(32).fill(7);
    const otherKid = encryptForTee(secret, parsed, { kid: 'someone-else' });
    await expect(tee.decrypt(otherKid)).rejects.toMatchObject({ code: 'ERR_CLIENT_JWE_INVALID', message: 'the released secret was encrypted to another TEE key' });
    await expect(tee.decrypt('not a jwe')).rejects.toMatchObject({ code: 'ERR_CLIENT_JWE_INVALID' });
    const cbc = await new CompactEncrypt(secret).setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256CBC-HS512' }).encrypt(await importJWK({ ...tee.publicJwk }, 'ECDH-ES+A256KW'));
    await expect(tee.decrypt(cbc)).rejects.toMatchObject({ code: 'ERR_CLIENT_JWE_INVALID' });
    expect(() => createTeeKeyPair('ed25519' as never)).toThrow(expect.objectContaining({ code: 'ERR_CLIENT_OPTIONS_INVALID' }));
  });

  it('binds exactly as the server does: SHA-512(nonce ‖ thumbprint); a bad nonce is refused', () => {
    const tee = createTeeKeyPair('p384');
    const nonce = randomBytes(32);
    expect(releaseBinding(nonce.toString('base64url'), tee.thumbprint)).toEqual(bindingFor(new Uint8Array(nonce), tee.thumbprint));
    expect(() => releaseBinding(randomBytes(31).toString('base64url'), tee.thumbprint)).toThrow(expect.objectContaining({ code: 'ERR_CLIENT_RESPONSE_INVALID' }));
    expect(() => releaseBinding('not+base64url', tee.thumbprint)).toThrow(expect.objectContaining({ code: 'ERR_CLIENT_RESPONSE_INVALID' }));
  });
});
