// KEK rotation reseals everything sealed under the old KEK — key versions, attestation-token signing keys
// and BYOK import keys — so a keyward started with only the new KEK (the old one deleted) works fully.
import { describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { CompactEncrypt, importJWK, type JWK } from 'jose';
import { randomBytes } from 'node:crypto';
import { DB_KINDS, createTestDatabase } from '../helpers/db.js';
import { startTestKeyward } from '../helpers/keyward.js';
import { openFileKek } from '../../src/keys/kek-file.js';
import { rotateKek, kekStatus } from '../../src/broker/kek-admin.js';
import { systemClock } from '../../src/clock.js';

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
    expect(result).toMatchObject({ resumed: false, to: next.id, resealed: 4 });
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

    const second = await startTestKeyward(kind, { db, env: { KEYWARD_KEK: `file:${newKekPath}` } });
    try {
      expect((await second.request('POST', `/v1/keys/${key.id}/datakey`)).json().version).toBe(2);
      expect(await second.keyward.attestationTokens.verify(token)).toMatchObject({ probe: true });
      const jwe = await new CompactEncrypt(randomBytes(32)).setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: jwk.kid as string }).encrypt(await importJWK(jwk, 'RSA-OAEP-256'));
      expect((await second.request('POST', '/v1/keys/import', { body: { name: 'after-rotation', kind: 'model', jwe } })).statusCode).toBe(201);
      expect((await second.request('GET', '/readyz', { token: null })).json().status).toBe('ready');
      // And once more through the API, inside the running service.
      const viaApi = await second.request('POST', '/v1/kek/rotate');
      expect(viaApi.statusCode, viaApi.body).toBe(200);
      expect(viaApi.json()).toMatchObject({ from: next.id, resumed: false, resealed: 5 }); // 3 key versions, 1 signing key, 1 import key
      const kekList = (await second.request('GET', '/v1/kek')).json().items;
      expect(kekList.filter((k: { state: string }) => k.state === 'active')).toHaveLength(1);
      expect((await second.request('POST', `/v1/keys/${key.id}/datakey`)).statusCode).toBe(200);
      const bad = await second.request('POST', '/v1/kek/rotate', { body: { to: 'vault:nope' } });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().code).toBe('ERR_REQUEST_INVALID');
    } finally {
      await second.keyward.close();
      await db.drop();
    }
  }, 60_000);
});
