// A development PKI: mints roots, intermediates, leaves and CRLs that look like vendor PKIs (RSA-PSS for
// AMD, ECDSA P-256 for Intel, P-384 for NVIDIA and AWS). Used by the TEE simulator and by tests; nothing
// minted here is trusted unless its root is configured through KEYWARD_EXTRA_ANCHORS.
import 'reflect-metadata';
import { webcrypto, randomBytes, KeyObject } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
type Algorithm = webcrypto.Algorithm;
type EcdsaParams = webcrypto.EcdsaParams;
type RsaPssParams = webcrypto.RsaPssParams;
type RsaHashedKeyGenParams = webcrypto.RsaHashedKeyGenParams;
type EcKeyGenParams = webcrypto.EcKeyGenParams;
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export type DevKeyAlgorithm = 'rsa-pss-4096' | 'rsa-pss-2048' | 'p256' | 'p384';

export interface DevKeyPair {
  readonly algorithm: DevKeyAlgorithm;
  readonly publicKey: CryptoKey;
  readonly privateKey: CryptoKey;
}

export interface DevCertificate {
  readonly der: Uint8Array;
  readonly pem: string;
  readonly keys: DevKeyPair;
  readonly subject: string;
  readonly cert: x509.X509Certificate;
}

function keyParams(alg: DevKeyAlgorithm): RsaHashedKeyGenParams | EcKeyGenParams {
  switch (alg) {
    case 'rsa-pss-4096':
    case 'rsa-pss-2048':
      return {
        name: 'RSA-PSS',
        modulusLength: alg === 'rsa-pss-4096' ? 4096 : 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-384',
      };
    case 'p256':
      return { name: 'ECDSA', namedCurve: 'P-256' };
    case 'p384':
      return { name: 'ECDSA', namedCurve: 'P-384' };
  }
}

/** The signature algorithm a key of this kind signs certificates and CRLs with (as the vendors do). */
function signingAlgorithm(alg: DevKeyAlgorithm): Algorithm | EcdsaParams | RsaPssParams {
  switch (alg) {
    case 'rsa-pss-4096':
    case 'rsa-pss-2048':
      return { name: 'RSA-PSS', saltLength: 48, hash: 'SHA-384' } as RsaPssParams;
    case 'p256':
      return { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams;
    case 'p384':
      return { name: 'ECDSA', hash: 'SHA-384' } as EcdsaParams;
  }
}

export async function generateDevKeyPair(alg: DevKeyAlgorithm): Promise<DevKeyPair> {
  const pair = (await webcrypto.subtle.generateKey(keyParams(alg), true, ['sign', 'verify'])) as CryptoKeyPair;
  return { algorithm: alg, publicKey: pair.publicKey, privateKey: pair.privateKey };
}

/** The private key as a node KeyObject (for signing raw report bytes with node's crypto). */
export function devPrivateKeyObject(keys: DevKeyPair): KeyObject {
  return KeyObject.from(keys.privateKey);
}

export interface IssueOptions {
  /** X.500 name, e.g. "CN=ARK-Milan, O=Advanced Micro Devices". */
  readonly subject: string;
  readonly keys: DevKeyPair;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly serialNumber?: string;
  readonly ca?: boolean;
  /** basicConstraints pathLenConstraint of a CA (AWS Nitro intermediates carry 2, 1, 0). */
  readonly pathLength?: number;
  /** keyUsage bits (x509.KeyUsageFlags) replacing the default (CA: keyCertSign|cRLSign; leaf: digitalSignature). */
  readonly keyUsages?: number;
  /** Additional extensions (e.g. vendor OIDs). */
  readonly extensions?: readonly x509.Extension[];
}

function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] as number) & 0x7f;
  return bytes.toString('hex');
}

function baseExtensions(opts: IssueOptions): x509.Extension[] {
  const ext: x509.Extension[] = [];
  if (opts.ca) {
    ext.push(new x509.BasicConstraintsExtension(true, opts.pathLength, true));
    ext.push(new x509.KeyUsagesExtension(opts.keyUsages ?? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true));
  } else {
    ext.push(new x509.KeyUsagesExtension(opts.keyUsages ?? x509.KeyUsageFlags.digitalSignature, true));
  }
  return [...ext, ...(opts.extensions ?? [])];
}

function wrap(cert: x509.X509Certificate, keys: DevKeyPair, subject: string): DevCertificate {
  return { der: new Uint8Array(cert.rawData), pem: cert.toString('pem'), keys, subject, cert };
}

export async function createSelfSignedRoot(opts: IssueOptions): Promise<DevCertificate> {
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: opts.serialNumber ?? randomSerial(),
    name: opts.subject,
    notBefore: opts.notBefore,
    notAfter: opts.notAfter,
    keys: { publicKey: opts.keys.publicKey, privateKey: opts.keys.privateKey },
    signingAlgorithm: signingAlgorithm(opts.keys.algorithm),
    extensions: baseExtensions({ ...opts, ca: opts.ca ?? true }),
  });
  return wrap(cert, opts.keys, opts.subject);
}

export async function issueCertificate(issuer: DevCertificate, opts: IssueOptions): Promise<DevCertificate> {
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: opts.serialNumber ?? randomSerial(),
    subject: opts.subject,
    issuer: issuer.cert.subject,
    notBefore: opts.notBefore,
    notAfter: opts.notAfter,
    publicKey: opts.keys.publicKey,
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: signingAlgorithm(issuer.keys.algorithm),
    extensions: baseExtensions(opts),
  });
  return wrap(cert, opts.keys, opts.subject);
}

export interface CrlOptions {
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  /** Serial numbers (hex) to list as revoked. */
  readonly revokedSerials?: readonly string[];
}

export async function createCrl(issuer: DevCertificate, opts: CrlOptions): Promise<Uint8Array> {
  const crl = await x509.X509CrlGenerator.create({
    // The issuer's name as its certificate encodes it, so the CRL matches it byte for byte.
    issuer: issuer.cert.subjectName,
    thisUpdate: opts.thisUpdate,
    nextUpdate: opts.nextUpdate,
    entries: (opts.revokedSerials ?? []).map((serialNumber) => ({ serialNumber, revocationDate: opts.thisUpdate })),
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: signingAlgorithm(issuer.keys.algorithm),
  });
  return new Uint8Array(crl.rawData);
}

export { x509 };
