// The file KEK provider (`file:<path>`): a 32-byte AES-256 key in a 0600 file, created on first start.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { openSync, readFileSync, writeSync, closeSync, fsyncSync, statSync, constants, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { KeywardError } from '../errors.js';
import { zeroize } from '../encoding.js';
import { GCM_IV_BYTES, GCM_TAG_BYTES, invalidRecord, joinRecord, splitRecord, type Kek } from './kek.js';

const KEY_BYTES = 32;

function createKeyFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const key = randomBytes(KEY_BYTES);
  // O_EXCL: two processes starting together must not both write a key; the loser reads the winner's.
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    writeSync(fd, key);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
    zeroize(key);
  }
}

function readKey(path: string): Buffer {
  const key = readFileSync(path);
  if (key.length !== KEY_BYTES) {
    zeroize(key);
    throw new KeywardError('ERR_KEK_CONFIG_INVALID', `The KEK file ${path} must hold exactly ${KEY_BYTES} bytes.`);
  }
  return key;
}

/** Opens (or with `create`, first creates) the KEK file at `path`. */
export function openFileKek(path: string, create: boolean): Kek {
  let exists = true;
  try {
    statSync(path);
  } catch {
    exists = false;
  }
  if (!exists) {
    if (!create) throw new KeywardError('ERR_KEK_UNAVAILABLE', `The KEK file ${path} does not exist.`);
    try {
      createKeyFile(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new KeywardError('ERR_KEK_UNAVAILABLE', `The KEK file ${path} could not be created.`, { cause: err });
      }
    }
  }
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new KeywardError('ERR_KEK_CONFIG_INVALID', `The KEK file ${path} is readable by others (mode ${mode.toString(8)}); chmod 600 it.`);
  }
  let key: Buffer | undefined = readKey(path);
  const id = `file-${createHmac('sha256', key).update('keyward kek id v1').digest('hex').slice(0, 16)}`;
  const live = (): Buffer => {
    if (!key) throw new KeywardError('ERR_KEK_UNAVAILABLE', 'The KEK was closed.');
    return key;
  };
  return {
    id,
    uri: `file:${path}`,
    provider: 'file',
    async seal(plaintext, aad) {
      const iv = randomBytes(GCM_IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', live(), iv, { authTagLength: GCM_TAG_BYTES });
      cipher.setAAD(aad);
      const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
      return joinRecord(iv, body);
    },
    async open(record, aad) {
      const { iv, body } = splitRecord(record);
      const decipher = createDecipheriv('aes-256-gcm', live(), iv, { authTagLength: GCM_TAG_BYTES });
      decipher.setAAD(aad);
      decipher.setAuthTag(body.subarray(body.length - GCM_TAG_BYTES));
      try {
        return new Uint8Array(Buffer.concat([decipher.update(body.subarray(0, body.length - GCM_TAG_BYTES)), decipher.final()]));
      } catch (cause) {
        throw invalidRecord(cause);
      }
    },
    async close() {
      if (key) zeroize(key);
      key = undefined;
    },
  };
}
