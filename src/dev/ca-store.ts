// Files of the development CA (<dataDir>/dev-ca, docs/simulator.md §"The development CA"): certificates as
// PEM, private keys as PKCS#8 PEM readable by the owner only, and whole directories built aside and renamed
// into place, so two agents starting at once never see half a CA (the loser of the rename reads the winner's).
import { createPrivateKey, createPublicKey, randomBytes, webcrypto, type KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { KeywardError } from '../errors.js';
import { x509, type DevCertificate, type DevKeyAlgorithm, type DevKeyPair } from './pki.js';

export const KEY_FILE_MODE = 0o600;
export const DIR_MODE = 0o700;

export function devCaInvalid(dir: string, why: string, cause?: unknown): KeywardError {
  return new KeywardError(
    'ERR_AGENT_DEV_CA_INVALID',
    `The development CA in ${dir} is unusable (${why}); remove that directory to create a new one.`,
    cause === undefined ? {} : { cause },
  );
}

function pem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}-----END ${label}-----\n`;
}

export function crlPem(der: Uint8Array): string {
  return pem('X509 CRL', der);
}

/** The algorithm of a stored private key, read from the key itself. */
function keyAlgorithm(key: KeyObject): DevKeyAlgorithm {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  if ((type === 'rsa' || type === 'rsa-pss') && (details.modulusLength === 4096 || details.modulusLength === 2048)) {
    return details.modulusLength === 4096 ? 'rsa-pss-4096' : 'rsa-pss-2048';
  }
  if (type === 'ec' && details.namedCurve === 'prime256v1') return 'p256';
  if (type === 'ec' && details.namedCurve === 'secp384r1') return 'p384';
  throw new Error(`unexpected key type ${type ?? '?'}`);
}

function importParams(alg: DevKeyAlgorithm): webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams {
  if (alg === 'p256') return { name: 'ECDSA', namedCurve: 'P-256' };
  if (alg === 'p384') return { name: 'ECDSA', namedCurve: 'P-384' };
  return { name: 'RSA-PSS', hash: 'SHA-384' };
}

export async function exportKeyPem(keys: DevKeyPair): Promise<string> {
  return pem('PRIVATE KEY', new Uint8Array(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)));
}

/** Rebuilds a DevKeyPair (webcrypto keys) from a PKCS#8 PEM private key. */
export async function importKeyPem(text: string): Promise<DevKeyPair> {
  const privateObject = createPrivateKey({ key: text, format: 'pem' });
  const algorithm = keyAlgorithm(privateObject);
  const params = importParams(algorithm);
  const pkcs8 = privateObject.export({ type: 'pkcs8', format: 'der' });
  const spki = createPublicKey(privateObject).export({ type: 'spki', format: 'der' });
  const [privateKey, publicKey] = await Promise.all([
    webcrypto.subtle.importKey('pkcs8', pkcs8, params, true, ['sign']),
    webcrypto.subtle.importKey('spki', spki, params, true, ['verify']),
  ]);
  return { algorithm, privateKey, publicKey };
}

/** Writes `<name>.pem` (certificate) and `<name>.key.pem` (PKCS#8, 0600) into `dir`. */
export async function saveDevCertificate(dir: string, name: string, cert: DevCertificate): Promise<void> {
  await writeFile(join(dir, `${name}.pem`), cert.pem.endsWith('\n') ? cert.pem : `${cert.pem}\n`, { mode: 0o644 });
  const keyPath = join(dir, `${name}.key.pem`);
  await writeFile(keyPath, await exportKeyPem(cert.keys), { mode: KEY_FILE_MODE });
  await chmod(keyPath, KEY_FILE_MODE);
}

/** Reads a certificate and its key saved by saveDevCertificate; the key must match the certificate. */
export async function loadDevCertificate(dir: string, name: string): Promise<DevCertificate> {
  const [certText, keyText] = await Promise.all([readFile(join(dir, `${name}.pem`), 'latin1'), readFile(join(dir, `${name}.key.pem`), 'latin1')]);
  const cert = new x509.X509Certificate(certText);
  const keys = await importKeyPem(keyText);
  const spki = Buffer.from(await webcrypto.subtle.exportKey('spki', keys.publicKey));
  if (!spki.equals(Buffer.from(cert.publicKey.rawData))) throw new Error(`${name}.key.pem does not belong to ${name}.pem`);
  return { der: new Uint8Array(cert.rawData), pem: cert.toString('pem'), keys, subject: cert.subject, cert };
}

/** A fresh empty directory next to `target`, to be filled and then published with publishDirectory. */
export async function stagingDirectory(target: string): Promise<string> {
  await mkdir(dirname(target), { recursive: true, mode: DIR_MODE });
  const dir = `${target}.tmp-${randomBytes(6).toString('hex')}`;
  await mkdir(dir, { mode: DIR_MODE });
  return dir;
}

/**
 * Renames a staged directory to `target`. Returns false (and removes the staging copy) when another
 * process published first: rename(2) never replaces a non-empty directory, so the first one wins.
 */
export async function publishDirectory(staging: string, target: string): Promise<boolean> {
  try {
    await rename(staging, target);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    await rm(staging, { recursive: true, force: true });
    if (code === 'ENOTEMPTY' || code === 'EEXIST') return false;
    throw err;
  }
}

/** Replaces a file atomically (write aside, then rename over it). */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    await writeFile(tmp, data, { mode });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
