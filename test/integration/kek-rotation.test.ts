// KEK rotation reseals everything sealed under the old KEK — key versions, attestation-token signing keys
// and BYOK import keys — so a keyward started with only the new KEK (the old one deleted) works fully.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompactEncrypt, importJWK, type JWK } from 'jose';
import { randomBytes } from 'node:crypto';
import { DB_KINDS, createTestDatabase } from '../helpers/db.js';
import { startTestKeyward } from '../helpers/keyward.js';
import { run } from '../helpers/process.js';
import { openFileKek } from '../../src/keys/kek-file.js';
import { rotateKek, kekStatus } from '../../src/broker/kek-admin.js';
import { systemClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { kekOpenerFor } from '../../src/service.js';

describe.each(DB_KINDS)('KEK rotation on %s', (kind) => {
  it('reseals key versions, signing keys and import keys; the old KEK can then be deleted', async () => {
    const db = await createTestDatabase(kind);
    const first = await startTestKeyward(kind, { db });
    const key = (await first.request('POST', '/v1/keys', { body: { name: 'rotating', kind: 'model' } })).json();
    await first.request('POST', `/v1/keys/${key.id}/rotate`);
    const jwk = (await first.request('GET', '/v1/import-key')).json() as JWK;
    const { token } = await first.keyward.attestationTokens.sign({ probe: true });
    const oldKekPath = join(first.dataDir, 'kek');
    const newKekPath = join(first.dataDir, 'kek-next');
    const next = openFileKek(newKekPath, true);
    const result = await rotateKek(db.database.db, first.keyward.keks, next, systemClock, { id: 'test', name: 'test' });
    expect(result).toMatchObject({ resumed: false, to: next.id, resealed: 7 }); // 2 key versions, 1 signing key, 1 import key, the session, nonce and row-MAC keys
    const status = await kekStatus(db.database.db);
    expect(status.find((k) => k.id === next.id)).toMatchObject({ state: 'active', versions: 2 });
    expect(status.filter((k) => k.id !== next.id).map((k) => k.state)).toEqual(['retired']);
    for (const table of ['signingKeys', 'importKeys'] as const) {
      const rows = await db.database.db.selectFrom(table).select('kekId').execute();
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((r) => r.kekId === next.id)).toBe(true);
    }
    await first.keyward.close();
    rmSync(oldKekPath);

    const targetPath = join(first.dataDir, 'kek-target');
    const second = await startTestKeyward(kind, { db, env: { KEYWARD_KEK: `file:${newKekPath}`, KEYWARD_KEK_TARGETS: `offsite=file:${targetPath}` } });
    try {
      expect((await second.request('POST', `/v1/keys/${key.id}/datakey`)).json().version).toBe(2);
      expect(await second.keyward.attestationTokens.verify(token)).toMatchObject({ probe: true });
      const jwe = await new CompactEncrypt(randomBytes(32)).setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: jwk.kid as string }).encrypt(await importJWK(jwk, 'RSA-OAEP-256'));
      expect((await second.request('POST', '/v1/keys/import', { body: { name: 'after-rotation', kind: 'model', jwe } })).statusCode).toBe(201);
      expect((await second.request('GET', '/readyz', { token: null })).json().status).toBe('ready');
      // And once more through the API, inside the running service.
      const viaApi = await second.request('POST', '/v1/kek/rotate');
      expect(viaApi.statusCode, viaApi.body).toBe(200);
      expect(viaApi.json()).toMatchObject({ from: next.id, resumed: false, resealed: 8 }); // 3 key versions, 1 signing key, 1 import key, the session, nonce and row-MAC keys
      const kekList = (await second.request('GET', '/v1/kek')).json().items;
      expect(kekList.filter((k: { state: string }) => k.state === 'active')).toHaveLength(1);
      expect((await second.request('POST', `/v1/keys/${key.id}/datakey`)).statusCode).toBe(200);
      // Only configured targets, by name: a URI in the request is refused before anything is loaded.
      const evil = await second.request('POST', '/v1/kek/rotate', { body: { to: `pkcs11:${join(first.dataDir, 'evil.so')}?token=t&label=l&pin-env=HOME` } });
      expect(evil.statusCode).toBe(400);
      expect(evil.json().code).toBe('ERR_REQUEST_INVALID');
      const unknown = await second.request('POST', '/v1/kek/rotate', { body: { target: 'nope' } });
      expect(unknown.statusCode).toBe(400);
      expect(unknown.json().code).toBe('ERR_KEK_TARGET_UNKNOWN');
      expect((await second.request('GET', '/v1/kek')).json().targets).toEqual([{ name: 'offsite', uri: `file:${targetPath}` }]);
      const toTarget = await second.request('POST', '/v1/kek/rotate', { body: { target: 'offsite' } });
      expect(toTarget.statusCode, toTarget.body).toBe(200);
      expect(toTarget.json()).toMatchObject({ resumed: false, resealed: 8 });
      expect(statSync(targetPath).mode & 0o777).toBe(0o600);
      const again = await second.request('POST', '/v1/kek/rotate', { body: { target: 'offsite' } });
      expect(again.statusCode).toBe(409);
      expect(again.json().code).toBe('ERR_KEK_TARGET_ACTIVE');
      expect((await second.request('POST', `/v1/keys/${key.id}/datakey`)).statusCode).toBe(200);
    } finally {
      await second.keyward.close();
      await db.drop();
    }
  }, 60_000);
});

describe('KEKs named in the database', () => {
  it('open only in PKCS#11 modules the configuration names, with a KEYWARD_KEK_PIN_ variable', async () => {
    const open = kekOpenerFor(loadConfig({ KEYWARD_KEK: 'pkcs11:/tmp/configured.so?token=t&label=l&pin-env=KEYWARD_KEK_PIN_X', KEYWARD_KEK_PIN_X: '1234' }));
    await expect(open('pkcs11:/tmp/not-configured.so?token=t&label=l&pin-env=KEYWARD_KEK_PIN_X')).rejects.toMatchObject({ code: 'ERR_KEK_CONFIG_INVALID' });
    await expect(open('pkcs11:/tmp/configured.so?token=t&label=other&pin-env=HOME')).rejects.toMatchObject({ code: 'ERR_CONFIG_INVALID' });
  });
});

describe('keyward kek rotate', () => {
  it('rotates only to a configured target by name; a URI is a usage error, an unknown name ERR_KEK_TARGET_UNKNOWN', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'keyward-kek-cli-'));
    try {
      const env = { KEYWARD_DATA_DIR: dataDir, KEYWARD_KEK_TARGETS: `next=file:${join(dataDir, 'kek-next')}` };
      expect((await run(['kek', 'rotate', '--to', `file:${join(dataDir, 'elsewhere')}`], env)).code).toBe(2);
      const unknown = await run(['kek', 'rotate', '--target', 'elsewhere'], env);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain('ERR_KEK_TARGET_UNKNOWN');
      const rotated = await run(['kek', 'rotate', '--target', 'next', '--json'], env);
      expect(rotated.code, rotated.stderr).toBe(0);
      expect(JSON.parse(rotated.stdout)).toMatchObject({ resumed: false });
      expect(statSync(join(dataDir, 'kek-next')).isFile()).toBe(true);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
