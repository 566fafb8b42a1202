// Collateral never rolls back, over HTTP with the dev CA's simulated evidence: once an attestation relied on
// a TCB Info with a higher evaluation data number (or an ARK CRL with a higher cRLNumber), deleting that item
// leaves the older, still unexpired one in place, and keyward refuses it (503 ERR_COLLATERAL_ROLLBACK) instead
// of silently verifying against it. The floors live in the database, so a restart keeps them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { startTestKeyward, type TestKeyward } from '../helpers/keyward.js';
import { uploadRaw } from '../helpers/collateral.js';
import { binding, teeKeyPair } from '../helpers/tee.js';
import { openDevCa, type DevCa } from '../../src/dev/ca.js';
import { devTdxTcbInfo, writeDevCaBundle, type DevCaBundle } from '../../src/dev/ca-collateral.js';
import { createArkCrl } from '../../src/dev/snp.js';
import { createSimulatorProvider } from '../../src/dev/simulator-provider.js';

const DAY = 24 * 3600 * 1000;

describe.each(DB_KINDS)('collateral floors on %s', (kind) => {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-rollback-'));
  let ca: DevCa;
  let bundle: DevCaBundle;
  let db: TestDatabase;
  let kw: TestKeyward;
  const now = new Date();
  const env = () => ({ KEYWARD_EXTRA_ANCHORS: bundle.anchorsDir, KEYWARD_COLLATERAL_DIR: bundle.collateralDir, KEYWARD_KEK: `file:${join(dir, 'kek')}` });
  const start = () => startTestKeyward(kind, { db, env: env() });

  async function attest(tee: 'tdx' | 'snp') {
    const key = teeKeyPair();
    const { nonce } = (await kw.request('POST', '/v1/challenge', { token: null })).json();
    const evidence = await createSimulatorProvider({ tee, ca }).collect(binding(nonce, key));
    return kw.request('POST', '/v1/attest', { token: null, body: { nonce, teePublicKey: key.publicJwk, evidence } });
  }

  beforeAll(async () => {
    ca = await openDevCa({ dataDir: join(dir, 'data'), now, amdKeyAlgorithm: 'rsa-pss-2048' });
    bundle = await writeDevCaBundle(ca, join(dir, 'bundle'), now);
    db = await createTestDatabase(kind);
    kw = await start();
  }, 180_000);
  afterAll(async () => {
    await kw?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses the older TCB Info once a newer one was relied on and then deleted (ERR_COLLATERAL_ROLLBACK)', async () => {
    expect((await attest('tdx')).json().claims.cpu.tcbEvaluationDataNumber).toBe(17);
    const dates = { issueDate: new Date(now.getTime() - 3600_000), nextUpdate: new Date(now.getTime() + 30 * DAY) };
    const newer = await uploadRaw(kw, devTdxTcbInfo(ca, dates, 18), { contentType: 'text/plain', name: 'tcb-info-18.json' });
    expect(newer.statusCode, newer.body).toBe(201);
    const relied = await attest('tdx');
    expect(relied.statusCode, relied.body).toBe(200);
    expect(relied.json().claims.cpu.tcbEvaluationDataNumber).toBe(18);
    expect((await kw.request('DELETE', `/v1/collateral/${newer.json().items[0].id}`)).statusCode).toBe(200);
    const rolledBack = await attest('tdx');
    expect([rolledBack.statusCode, rolledBack.json().code]).toEqual([503, 'ERR_COLLATERAL_ROLLBACK']);
  });

  it('refuses the older ARK CRL once a higher cRLNumber was relied on and then deleted, also after a restart', async () => {
    expect((await attest('snp')).statusCode).toBe(200);
    const window = { thisUpdate: new Date(now.getTime() - 3600_000), nextUpdate: new Date(now.getTime() + 30 * DAY) };
    const crl = await uploadRaw(kw, await createArkCrl(ca.amd.pki, { ...window, crlNumber: 7 }), { contentType: 'application/pkix-crl' });
    expect(crl.statusCode, crl.body).toBe(201);
    expect((await attest('snp')).statusCode).toBe(200);
    expect((await kw.request('DELETE', `/v1/collateral/${crl.json().items[0].id}`)).statusCode).toBe(200);
    const rolledBack = await attest('snp');
    expect([rolledBack.statusCode, rolledBack.json().code]).toEqual([503, 'ERR_COLLATERAL_ROLLBACK']);
    await kw.close();
    kw = await start();
    expect((await attest('snp')).json().code).toBe('ERR_COLLATERAL_ROLLBACK');
  });
});
