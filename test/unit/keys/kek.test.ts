// KEK providers: the file KEK (created 0600, refused when readable by others) and a real PKCS#11 token
// (SoftHSM2): both seal with AAD binding, refuse moved or edited records, and share one record format.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, statSync, writeFileSync, chmodSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFileKek } from '../../../src/keys/kek-file.js';
import { openPkcs11Kek } from '../../../src/keys/kek-pkcs11.js';
import { sealMaterial, openMaterial } from '../../../src/keys/envelope.js';
import { KeywardError } from '../../../src/errors.js';
import type { Kek } from '../../../src/keys/kek.js';
import { initSoftHsmToken, SOFTHSM_MODULE, HSM_PIN } from '../../helpers/softhsm.js';
import { SOFTHSM, titleNeeding } from '../../helpers/requirements.js';

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof KeywardError) return err.code;
    throw err;
  }
  return 'no error';
}

function contract(name: string, make: () => Promise<Kek>) {
  describe(`${name} KEK`, () => {
    let kek: Kek;
    beforeAll(async () => {
      kek = await make();
    });
    afterAll(async () => kek?.close());

    const keyId = '7f3f1c52-1111-4222-8333-944455556666';
    const material = new Uint8Array(32).map((_, i) => i + 1);

    it('round-trips material bound to key id and version', async () => {
      const record = await sealMaterial(kek, keyId, 3, material);
      expect(record[0]).toBe(1);
      expect(record.length).toBe(1 + 12 + 32 + 16);
      expect(Buffer.from(record).includes(Buffer.from(material))).toBe(false);
      expect(await openMaterial(kek, keyId, 3, record)).toEqual(material);
    });

    it('refuses a record moved to another version or key, or edited', async () => {
      const record = await sealMaterial(kek, keyId, 3, material);
      expect(await codeOf(openMaterial(kek, keyId, 4, record))).toBe('ERR_SEALED_RECORD_INVALID');
      expect(await codeOf(openMaterial(kek, '7f3f1c52-1111-4222-8333-000000000000', 3, record))).toBe('ERR_SEALED_RECORD_INVALID');
      for (const i of [0, 5, 20, record.length - 1]) {
        const edited = record.slice();
        edited[i] = (edited[i] as number) ^ 0x01;
        expect(await codeOf(openMaterial(kek, keyId, 3, edited))).toBe('ERR_SEALED_RECORD_INVALID');
      }
      expect(await codeOf(openMaterial(kek, keyId, 3, record.subarray(0, 20)))).toBe('ERR_SEALED_RECORD_INVALID');
    });

    it('has a stable, non-secret id', () => {
      expect(kek.id).toMatch(new RegExp(`^${kek.provider}-[0-9a-f]{16}$`));
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'keyward-kek-'));
contract('file', async () => openFileKek(join(dir, 'kek'), true));

describe('file KEK on disk', () => {
  it('creates a 32-byte key with mode 0600 and reopens the same key', async () => {
    const path = join(dir, 'kek-2');
    const a = openFileKek(path, true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path)).toHaveLength(32);
    const b = openFileKek(path, false);
    expect(b.id).toBe(a.id);
    const aad = Buffer.from('x');
    expect(await b.open(await a.seal(new Uint8Array([9]), aad), aad)).toEqual(new Uint8Array([9]));
  });

  it('refuses a missing file without create, a world-readable file and a wrong size', () => {
    expect(() => openFileKek(join(dir, 'absent'), false)).toThrow(expect.objectContaining({ code: 'ERR_KEK_UNAVAILABLE' }));
    const loose = join(dir, 'loose');
    writeFileSync(loose, Buffer.alloc(32, 1));
    chmodSync(loose, 0o644);
    expect(() => openFileKek(loose, false)).toThrow(expect.objectContaining({ code: 'ERR_KEK_CONFIG_INVALID' }));
    const short = join(dir, 'short');
    writeFileSync(short, Buffer.alloc(16, 1), { mode: 0o600 });
    expect(() => openFileKek(short, false)).toThrow(expect.objectContaining({ code: 'ERR_KEK_CONFIG_INVALID' }));
  });
});

describe.skipIf(!SOFTHSM.available)(titleNeeding(SOFTHSM, 'PKCS#11 KEK on SoftHSM2'), () => {
  beforeAll(() => {
    initSoftHsmToken('keyward-unit');
  });
  contract('pkcs11', async () =>
    openPkcs11Kek({ provider: 'pkcs11', module: SOFTHSM_MODULE, token: 'keyward-unit', label: 'kek-a', pin: HSM_PIN, uri: 'pkcs11:test', create: true }),
  );

  it('generates the key once, finds it again by label, and refuses a wrong PIN or missing key', async () => {
    const cfg = { provider: 'pkcs11' as const, module: SOFTHSM_MODULE, token: 'keyward-unit', label: 'kek-b', pin: HSM_PIN, uri: 'pkcs11:test' };
    const first = openPkcs11Kek({ ...cfg, create: true });
    const aad = Buffer.from('aad');
    const record = await first.seal(new Uint8Array([1, 2, 3]), aad);
    const again = openPkcs11Kek({ ...cfg, create: false });
    expect(again.id).toBe(first.id);
    expect(await again.open(record, aad)).toEqual(new Uint8Array([1, 2, 3]));
    await first.close();
    await again.close();
    expect(() => openPkcs11Kek({ ...cfg, label: 'kek-absent', create: false })).toThrow(expect.objectContaining({ code: 'ERR_KEK_UNAVAILABLE' }));
    expect(() => openPkcs11Kek({ ...cfg, token: 'no-such-token', create: false })).toThrow(expect.objectContaining({ code: 'ERR_KEK_UNAVAILABLE' }));
  });
});
