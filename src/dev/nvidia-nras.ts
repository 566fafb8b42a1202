// Synthetic NRAS attestation results for tests and the simulator: an ES384 signing key published as a
// JWKS, and detached EATs shaped like NRAS's (overall token with submods digests + one token per device).
import { KeyObject, createHash } from 'node:crypto';
import { freshKeyPair } from '../keys/key-pair.js';
import { SignJWT, exportJWK, type JWK } from 'jose';
import { toHex } from '../encoding.js';
import { devPrivateKeyObject, generateDevKeyPair, issueCertificate, type DevCertificate } from './pki.js';

export const DEV_NRAS_ISSUER = 'https://nras.attestation.nvidia.com';

export interface DevNrasKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  /** The public JWK (with kid and alg) to publish in a JWKS. */
  readonly jwk: JWK;
}

export interface DevNrasKeyOptions {
  readonly kid?: string;
  /**
   * A dev CA to certify the key (x5c = [key certificate, CA]). With the CA's root configured as an extra
   * anchor, results signed with this key are labelled with that anchor instead of passing for NVIDIA's.
   */
  readonly issuer?: DevCertificate;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
}

export async function createDevNrasKey(opts: DevNrasKeyOptions = {}): Promise<DevNrasKey> {
  const kid = opts.kid ?? 'nv-eat-kid-dev-simulated';
  if (!opts.issuer) {
    const { privateKey, publicKey } = freshKeyPair({ type: 'ec', namedCurve: 'P-384' });
    return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES384', use: 'sig' } };
  }
  const keys = await generateDevKeyPair('p384');
  const cert = await issueCertificate(opts.issuer, {
    subject: 'CN=SIMULATED NVIDIA Attestation Service GPU',
    keys,
    notBefore: opts.notBefore ?? opts.issuer.cert.notBefore,
    notAfter: opts.notAfter ?? opts.issuer.cert.notAfter,
  });
  const x5c = [cert.der, opts.issuer.der].map((der) => Buffer.from(der).toString('base64'));
  const jwk = { ...(await exportJWK(KeyObject.from(keys.publicKey))), kid, alg: 'ES384', use: 'sig', x5c };
  return { kid, privateKey: devPrivateKeyObject(keys), jwk };
}

export interface DevNrasDevice {
  /** "GPU-0", "SWITCH-0", ... */
  readonly name: string;
  readonly claims: Readonly<Record<string, unknown>>;
}

/** The claims NRAS puts in a successful GPU token (v3 style, with per-chain OCSP status). */
export function devNrasGpuClaims(opts: { driverVersion: string; vbiosVersion: string; ueid: string; hwmodel?: string }): Record<string, unknown> {
  const chain = { 'x-nvidia-cert-status': 'valid', 'x-nvidia-cert-ocsp-status': 'good', 'x-nvidia-cert-revocation-reason': null };
  return {
    hwmodel: opts.hwmodel ?? 'GH100 A01 GSP BROM',
    measres: 'success',
    secboot: true,
    dbgstat: 'disabled',
    oemid: '5703',
    ueid: opts.ueid,
    'x-nvidia-gpu-driver-version': opts.driverVersion,
    'x-nvidia-gpu-vbios-version': opts.vbiosVersion.toUpperCase(),
    'x-nvidia-gpu-attestation-report-nonce-match': true,
    'x-nvidia-gpu-attestation-report-cert-chain': chain,
    'x-nvidia-gpu-driver-rim-cert-chain': chain,
    'x-nvidia-gpu-vbios-rim-cert-chain': chain,
  };
}

export interface DevNrasResultOptions {
  readonly key: DevNrasKey;
  readonly nonce: Uint8Array;
  readonly devices: readonly DevNrasDevice[];
  /** iat/nbf; exp is one hour later, as NRAS does. */
  readonly now: Date;
  readonly overallResult?: boolean;
  readonly issuer?: string;
}

async function sign(payload: Record<string, unknown>, opts: DevNrasResultOptions): Promise<string> {
  const iat = Math.floor(opts.now.getTime() / 1000);
  return new SignJWT({ ...payload, iss: opts.issuer ?? DEV_NRAS_ISSUER, iat, nbf: iat, exp: iat + 3600 })
    .setProtectedHeader({ alg: 'ES384', kid: opts.key.kid })
    .sign(opts.key.privateKey);
}

/** A detached EAT `[["JWT", overall], {name: jwt}]` as NRAS returns it (JSON text). */
export async function mintNrasResult(opts: DevNrasResultOptions): Promise<string> {
  const eatNonce = toHex(opts.nonce);
  const tokens: Record<string, string> = {};
  const submods: Record<string, unknown> = {};
  for (const device of opts.devices) {
    const jwt = await sign({ ...device.claims, eat_nonce: eatNonce }, opts);
    tokens[device.name] = jwt;
    submods[device.name] = ['DIGEST', ['SHA-256', createHash('sha256').update(jwt, 'ascii').digest('hex')]];
  }
  const overall = await sign(
    { sub: 'NVIDIA-PLATFORM-ATTESTATION', 'x-nvidia-ver': '3.0', 'x-nvidia-overall-att-result': opts.overallResult ?? true, submods, eat_nonce: eatNonce },
    opts,
  );
  return JSON.stringify([['JWT', overall], tokens]);
}
