// Fresh asymmetric key pairs, generated encoded and reloaded as key objects of their own.
//
// Why not use the key objects generateKeyPairSync returns: on Node 20 a key object still shared with its
// generation job can deadlock the process. Exporting it (JWK, DER) takes the key's lock, and a garbage
// collection during the export may free the generation job, whose destructor waits for that same lock.
// A soak replica froze this way (KeyGenJob::~KeyGenJob under ExportJWKEdKey). Keys parsed back from the
// encoded output share nothing with the job.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';

export type KeyPairSpec = { type: 'ed25519' } | { type: 'x25519' } | { type: 'ec'; namedCurve: 'P-256' | 'P-384' } | { type: 'rsa'; modulusLength: number };

export interface FreshKeyPair {
  readonly publicKey: KeyObject;
  readonly privateKey: KeyObject;
  /** SubjectPublicKeyInfo DER of the public key. */
  readonly spki: Buffer;
  /** PKCS#8 DER of the private key: the caller zeroes it when done (seals it, or drops it). */
  readonly pkcs8: Buffer;
}

const SPKI = { type: 'spki', format: 'der' } as const;
const PKCS8 = { type: 'pkcs8', format: 'der' } as const;

function generateDer(spec: KeyPairSpec): { publicKey: Buffer; privateKey: Buffer } {
  switch (spec.type) {
    case 'ed25519':
      return generateKeyPairSync('ed25519', { publicKeyEncoding: SPKI, privateKeyEncoding: PKCS8 });
    case 'x25519':
      return generateKeyPairSync('x25519', { publicKeyEncoding: SPKI, privateKeyEncoding: PKCS8 });
    case 'ec':
      return generateKeyPairSync('ec', { namedCurve: spec.namedCurve, publicKeyEncoding: SPKI, privateKeyEncoding: PKCS8 });
    case 'rsa':
      return generateKeyPairSync('rsa', { modulusLength: spec.modulusLength, publicKeyEncoding: SPKI, privateKeyEncoding: PKCS8 });
  }
}

/** A new key pair whose key objects are safe to export and use at once. */
export function freshKeyPair(spec: KeyPairSpec): FreshKeyPair {
  const { publicKey: spki, privateKey: pkcs8 } = generateDer(spec);
  return {
    spki,
    pkcs8,
    publicKey: createPublicKey({ key: spki, format: 'der', type: 'spki' }),
    privateKey: createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }),
  };
}
