// Data keys (the AWS KMS GenerateDataKey shape): a fresh 256-bit key, returned in plaintext to the owner
// and wrapped under one key version. The wrapped form names the key id and version it belongs to and
// opens only under them:
//   kw1.<keyId>.<version>.<base64url(IV[12] ‖ ciphertext[32] ‖ tag[16])>
// The wrapping key is HKDF-SHA-256(material, info "keyward/v1/datakey-wrap") and the GCM AAD is
// "keyward:v1:datakey:<keyId>:<version>", so neither another key, another version, nor an edited header
// can open it.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { RequestError } from '../errors.js';
import { fromBase64Url, isUuid, toBase64Url, zeroize } from '../encoding.js';

export const DATA_KEY_BYTES = 32;
const PREFIX = 'kw1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface WrappedDataKeyRef {
  readonly keyId: string;
  readonly version: number;
  readonly blob: Uint8Array;
}

function invalid(): RequestError {
  // One message for every failure: which check failed must not be observable.
  return new RequestError('ERR_DATAKEY_INVALID', 'The wrapped data key is not valid for this key.');
}

function wrappingKey(material: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', material, Buffer.alloc(0), 'keyward/v1/datakey-wrap', 32));
}

function aad(keyId: string, version: number): Buffer {
  return Buffer.from(`keyward:v1:datakey:${keyId}:${version}`, 'utf8');
}

export function wrapDataKey(material: Uint8Array, keyId: string, version: number, dataKey: Uint8Array): string {
  const key = wrappingKey(material);
  try {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(keyId, version));
    const blob = Buffer.concat([iv, cipher.update(dataKey), cipher.final(), cipher.getAuthTag()]);
    return `${PREFIX}.${keyId}.${version}.${toBase64Url(blob)}`;
  } finally {
    zeroize(key);
  }
}

/** Reads the key id and version a wrapped data key names, without opening it. */
export function parseWrappedDataKey(wrapped: string): WrappedDataKeyRef {
  const parts = wrapped.split('.');
  if (parts.length !== 4 || parts[0] !== PREFIX) throw invalid();
  const [, keyId, versionText, blobText] = parts as [string, string, string, string];
  if (!isUuid(keyId) || !/^[1-9]\d{0,8}$/.test(versionText)) throw invalid();
  const blob = fromBase64Url(blobText);
  if (!blob || blob.length !== IV_BYTES + DATA_KEY_BYTES + TAG_BYTES) throw invalid();
  return { keyId, version: Number(versionText), blob };
}

/** Opens a wrapped data key under the material of (keyId, version); any mismatch is ERR_DATAKEY_INVALID. */
export function unwrapDataKey(material: Uint8Array, keyId: string, version: number, wrapped: string): Uint8Array {
  const ref = parseWrappedDataKey(wrapped);
  if (ref.keyId !== keyId || ref.version !== version) throw invalid();
  const key = wrappingKey(material);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, ref.blob.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(aad(keyId, version));
    decipher.setAuthTag(ref.blob.subarray(IV_BYTES + DATA_KEY_BYTES));
    return new Uint8Array(Buffer.concat([decipher.update(ref.blob.subarray(IV_BYTES, IV_BYTES + DATA_KEY_BYTES)), decipher.final()]));
  } catch {
    throw invalid();
  } finally {
    zeroize(key);
  }
}

export function generateDataKey(): Uint8Array {
  return new Uint8Array(randomBytes(DATA_KEY_BYTES));
}
