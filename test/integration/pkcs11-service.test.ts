// keyward on a PKCS#11 KEK (SoftHSM2): KEYWARD_KEK=pkcs11:... generates the HSM key on first start,
// seals every key version with it, and a restart reads every key back; the PIN never reaches the logs.
import { describe, expect, it, beforeAll } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { startTestKeyward } from '../helpers/keyward.js';
import { initSoftHsmToken, SOFTHSM_MODULE, HSM_PIN } from '../helpers/softhsm.js';
import { SOFTHSM, titleNeeding } from '../helpers/requirements.js';

describe.skipIf(!SOFTHSM.available)(titleNeeding(SOFTHSM, 'a keyward whose KEK is in an HSM (SoftHSM2 over PKCS#11)'), () => {
  beforeAll(() => {
    initSoftHsmToken('keyward-service');
    // KEKs rotated to are reopened from the database with the PIN from the process environment.
    process.env['KEYWARD_KEK_PIN_TEST'] = HSM_PIN;
  });

  it('creates the HSM key on first start, seals under it, and reads every key after a restart', async () => {
    const env = { KEYWARD_KEK: `pkcs11:${SOFTHSM_MODULE}?token=keyward-service&label=keyward-kek&pin-env=KEYWARD_KEK_PIN_TEST`, KEYWARD_KEK_PIN_TEST: HSM_PIN };
    const db = await createTestDatabase('pglite');
    const first = await startTestKeyward('pglite', { db, env });
    const key = (await first.request('POST', '/v1/keys', { body: { name: 'hsm-sealed', kind: 'model' } })).json();
    await first.request('POST', `/v1/keys/${key.id}/rotate`);
    const dk = (await first.request('POST', `/v1/keys/${key.id}/datakey`)).json();
    expect(dk.version).toBe(2);
    const keks = (await first.request('GET', '/v1/kek')).json().items;
    expect(keks).toEqual([expect.objectContaining({ state: 'active', versions: 2, uri: expect.stringMatching(/^pkcs11:.*label=keyward-kek&pin-env=KEYWARD_KEK_PIN_TEST$/) })]);
    expect(keks[0].id).toMatch(/^pkcs11-[0-9a-f]{16}$/);
    expect(first.logs.some((l) => l.includes('"provider":"pkcs11"'))).toBe(true);
    await first.keyward.close();

    const target = `pkcs11:${SOFTHSM_MODULE}?token=keyward-service&label=keyward-kek-2&pin-env=KEYWARD_KEK_PIN_TEST`;
    const second = await startTestKeyward('pglite', { db, env: { ...env, KEYWARD_KEK_TARGETS: `hsm2=${target}` } });
    try {
      expect((await second.request('POST', `/v1/keys/${key.id}/datakey`)).json().version).toBe(2);
      expect((await second.request('GET', '/readyz', { token: null })).json().checks).toContainEqual({ name: 'kek', ok: true });
      // Rotation to a configured HSM target, by name: a new key on the token, everything resealed under it.
      const rotated = await second.request('POST', '/v1/kek/rotate', { body: { target: 'hsm2' } });
      expect(rotated.statusCode, rotated.body).toBe(200);
      expect(rotated.json()).toMatchObject({ from: keks[0].id, resumed: false });
      const after = (await second.request('GET', '/v1/kek')).json().items;
      expect(after.find((k: { state: string }) => k.state === 'active')).toMatchObject({ uri: target, versions: 2 });
      expect((await second.request('POST', `/v1/keys/${key.id}/datakey`)).json().version).toBe(2);
      for (const line of [...first.logs, ...second.logs]) expect(line).not.toContain(`"${HSM_PIN}"`);
    } finally {
      await second.keyward.close();
    }
    // Restarted with the same KEYWARD_KEK: the active KEK (hsm2) comes from the database; the module is configured.
    const third = await startTestKeyward('pglite', { db, env });
    try {
      expect((await third.request('POST', `/v1/keys/${key.id}/datakey`)).json().version).toBe(2);
    } finally {
      await third.keyward.close();
      await db.drop();
    }
  }, 60_000);

  it('refuses to start when KEYWARD_KEK names a PIN variable without the KEYWARD_KEK_PIN_ prefix', async () => {
    const env = { KEYWARD_KEK: `pkcs11:${SOFTHSM_MODULE}?token=keyward-service&label=keyward-kek&pin-env=KEYWARD_TEST_HSM_PIN`, KEYWARD_TEST_HSM_PIN: HSM_PIN };
    await expect(startTestKeyward('pglite', { env })).rejects.toMatchObject({ code: 'ERR_CONFIG_INVALID' });
  });
});
