// The PKCS#11 KEK provider (`pkcs11:<module>?token=..&label=..&pin-env=..`): an AES-256 key that never
// leaves the HSM seals records with CKM_AES_GCM (SoftHSM2 in CI, a real HSM in production).
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as Pkcs11Types from 'pkcs11js';
import { KeywardError } from '../errors.js';
import { GCM_IV_BYTES, GCM_TAG_BYTES, invalidRecord, joinRecord, splitRecord, type Kek, type KekConfig } from './kek.js';

type Pkcs11Module = typeof Pkcs11Types;
type Pkcs11Config = Extract<KekConfig, { provider: 'pkcs11' }>;

const require = createRequire(import.meta.url);

interface LoadedLibrary {
  readonly lib: Pkcs11Types.PKCS11;
  users: number;
}

// One loaded library per module path: C_Initialize must run once per process.
const libraries = new Map<string, LoadedLibrary>();

function loadLibrary(p11: Pkcs11Module, modulePath: string): LoadedLibrary {
  let entry = libraries.get(modulePath);
  if (!entry) {
    const lib = new p11.PKCS11();
    lib.load(modulePath);
    lib.C_Initialize();
    entry = { lib, users: 0 };
    libraries.set(modulePath, entry);
  }
  entry.users++;
  return entry;
}

function releaseLibrary(modulePath: string): void {
  const entry = libraries.get(modulePath);
  if (!entry) return;
  entry.users--;
  if (entry.users <= 0) {
    libraries.delete(modulePath);
    try {
      entry.lib.C_Finalize();
      entry.lib.close();
    } catch {
      // finalizing a library that is already gone is harmless
    }
  }
}

function findSlot(lib: Pkcs11Types.PKCS11, token: string): Pkcs11Types.Handle {
  for (const slot of lib.C_GetSlotList(true)) {
    if (lib.C_GetTokenInfo(slot).label.trim() === token) return slot;
  }
  throw new KeywardError('ERR_KEK_UNAVAILABLE', `No PKCS#11 token labelled "${token}" is present.`);
}

function findKey(p11: Pkcs11Module, lib: Pkcs11Types.PKCS11, session: Pkcs11Types.Handle, label: string): Pkcs11Types.Handle | undefined {
  lib.C_FindObjectsInit(session, [
    { type: p11.CKA_CLASS, value: p11.CKO_SECRET_KEY },
    { type: p11.CKA_LABEL, value: label },
  ]);
  try {
    const found = lib.C_FindObjects(session, 2);
    if (found.length > 1) throw new KeywardError('ERR_KEK_CONFIG_INVALID', `More than one HSM key is labelled "${label}".`);
    return found[0];
  } finally {
    lib.C_FindObjectsFinal(session);
  }
}

function generateKey(p11: Pkcs11Module, lib: Pkcs11Types.PKCS11, session: Pkcs11Types.Handle, label: string): Pkcs11Types.Handle {
  return lib.C_GenerateKey(session, { mechanism: p11.CKM_AES_KEY_GEN }, [
    { type: p11.CKA_CLASS, value: p11.CKO_SECRET_KEY },
    { type: p11.CKA_KEY_TYPE, value: p11.CKK_AES },
    { type: p11.CKA_VALUE_LEN, value: 32 },
    { type: p11.CKA_LABEL, value: label },
    { type: p11.CKA_TOKEN, value: true },
    { type: p11.CKA_PRIVATE, value: true },
    { type: p11.CKA_SENSITIVE, value: true },
    // The KEK must never leave the HSM.
    { type: p11.CKA_EXTRACTABLE, value: false },
    { type: p11.CKA_ENCRYPT, value: true },
    { type: p11.CKA_DECRYPT, value: true },
  ]);
}

/** Opens the HSM key named by the configuration, generating it on first start when allowed. */
export function openPkcs11Kek(config: Pkcs11Config): Kek {
  let p11: Pkcs11Module;
  try {
    p11 = require('pkcs11js') as Pkcs11Module;
  } catch (cause) {
    throw new KeywardError('ERR_KEK_UNAVAILABLE', 'The pkcs11js module is not available.', { cause });
  }
  let loaded: LoadedLibrary;
  try {
    loaded = loadLibrary(p11, config.module);
  } catch (cause) {
    throw new KeywardError('ERR_KEK_UNAVAILABLE', `The PKCS#11 module ${config.module} could not be loaded.`, { cause });
  }
  const { lib } = loaded;
  let session: Pkcs11Types.Handle;
  let key: Pkcs11Types.Handle;
  try {
    const slot = findSlot(lib, config.token);
    session = lib.C_OpenSession(slot, p11.CKF_SERIAL_SESSION | p11.CKF_RW_SESSION);
    try {
      lib.C_Login(session, p11.CKU_USER, config.pin);
    } catch (err) {
      // Another KEK on the same token already logged this application in.
      if (!String((err as Error).message).includes('CKR_USER_ALREADY_LOGGED_IN')) throw err;
    }
    const existing = findKey(p11, lib, session, config.label);
    if (existing) key = existing;
    else if (config.create) key = generateKey(p11, lib, session, config.label);
    else throw new KeywardError('ERR_KEK_UNAVAILABLE', `No HSM key labelled "${config.label}" on token "${config.token}".`);
  } catch (cause) {
    releaseLibrary(config.module);
    if (cause instanceof KeywardError) throw cause;
    throw new KeywardError('ERR_KEK_UNAVAILABLE', 'The HSM key could not be opened.', { cause });
  }
  const id = `pkcs11-${createHash('sha256').update(`${config.token}\0${config.label}`).digest('hex').slice(0, 16)}`;
  let closed = false;
  const gcm = (iv: Uint8Array, aad: Uint8Array): Pkcs11Types.Mechanism => ({
    mechanism: p11.CKM_AES_GCM,
    parameter: { type: p11.CK_PARAMS_AES_GCM, iv: Buffer.from(iv), aad: Buffer.from(aad), ivBits: GCM_IV_BYTES * 8, tagBits: GCM_TAG_BYTES * 8 } as Pkcs11Types.AesGCM,
  });
  const live = (): void => {
    if (closed) throw new KeywardError('ERR_KEK_UNAVAILABLE', 'The KEK was closed.');
  };
  return {
    id,
    uri: config.uri,
    provider: 'pkcs11',
    async seal(plaintext, aad) {
      live();
      const iv = randomBytes(GCM_IV_BYTES);
      try {
        lib.C_EncryptInit(session, gcm(iv, aad), key);
        const out = lib.C_Encrypt(session, Buffer.from(plaintext), Buffer.alloc(plaintext.length + GCM_TAG_BYTES + 16));
        return joinRecord(iv, new Uint8Array(out));
      } catch (cause) {
        throw new KeywardError('ERR_KEK_UNAVAILABLE', 'The HSM could not seal a record.', { cause });
      }
    },
    async open(record, aad) {
      live();
      const { iv, body } = splitRecord(record);
      try {
        lib.C_DecryptInit(session, gcm(iv, aad), key);
        return new Uint8Array(lib.C_Decrypt(session, Buffer.from(body), Buffer.alloc(body.length)));
      } catch (cause) {
        throw invalidRecord(cause);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        lib.C_CloseSession(session);
      } catch {
        // the session may already be gone with the library
      }
      releaseLibrary(config.module);
    },
  };
}
