// The database is not trusted with authority (docs/threat-model.md "Row MACs"): a key's policy binding and
// every policy version carry a MAC under a KEK-sealed key. Someone who can write the database but not use
// the KEK re-binds a key to a permissive policy, or rewrites a policy version: the release is refused and
// `alert.row-mac-mismatch` is audited. Writes through the API keep working, and so does a KEK rotation.
import { describe, expect, it, afterAll, beforeAll } from 'vitest';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { sql } from 'kysely';
import { createTestDatabase, DB_KINDS, type TestDatabase } from '../helpers/db.js';
import { startTestKeyward, type TestKeyward } from '../helpers/keyward.js';
import { teeKeyPair } from '../helpers/tee.js';
import { openFileKek } from '../../src/keys/kek-file.js';
import { rotateKek } from '../../src/broker/kek-admin.js';
import { systemClock } from '../../src/clock.js';
import { hashToken } from '../../src/broker/api-tokens.js';
import { randomUUID } from 'node:crypto';

const PEOPLE_TABLES = ['tenants', 'platform_members', 'tenant_members', 'passkeys', 'enrolment_codes', 'approvals', 'approval_votes'];
const NEVER = { rules: [{ name: 'never', expr: 'false' }] };
const ANY = { rules: [{ name: 'any', expr: 'true' }] };

async function attestationToken(kw: TestKeyward): Promise<string> {
  const tee = teeKeyPair();
  return (await kw.keyward.attestationTokens.sign({ cnf: { jkt: Buffer.from(tee.thumbprint).toString('base64url'), jwk: tee.publicJwk }, cpu: null, gpus: [] })).token;
}

async function release(kw: TestKeyward, keyId: string) {
  return kw.request('POST', `/v1/keys/${keyId}/release`, { token: await attestationToken(kw), body: {} });
}

async function policy(kw: TestKeyward, name: string, body: Record<string, unknown>): Promise<string> {
  const created = await kw.request('POST', '/v1/policies', { body: { name, ...body } });
  expect(created.statusCode, created.body).toBe(201);
  return created.json().id;
}

async function keyBoundTo(kw: TestKeyward, name: string, policyId: string): Promise<string> {
  const keyId = (await kw.request('POST', '/v1/keys', { body: { name, kind: 'model' } })).json().id;
  const bound = await kw.request('PUT', `/v1/keys/${keyId}/policy`, { body: { policyId } });
  expect(bound.statusCode, bound.body).toBe(200);
  return keyId;
}

async function mismatchAlerts(kw: TestKeyward, target: string): Promise<unknown[]> {
  const items = (await kw.request('GET', '/v1/audit?action=alert.row-mac-mismatch&limit=100')).json().items as { target: string }[];
  return items.filter((e) => e.target === target);
}

describe.each(DB_KINDS)('row MACs on %s', (kind) => {
  let db: TestDatabase;
  let kw: TestKeyward;
  let permissive: string;
  let strict: string;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    kw = await startTestKeyward(kind, { db });
    permissive = await policy(kw, 'permissive', ANY);
    strict = await policy(kw, 'strict', NEVER);
  }, 60_000);
  afterAll(async () => {
    await kw?.keyward.close();
    await db?.drop();
  });

  it('releases through bindings and policy versions written by the API', async () => {
    const keyId = await keyBoundTo(kw, 'legit', permissive);
    expect((await release(kw, keyId)).statusCode).toBe(200);
    const denied = await release(kw, await keyBoundTo(kw, 'legit-strict', strict));
    expect(denied.statusCode).toBe(403);
    expect(denied.json().code).toBe('ERR_POLICY_DENIED');
  });

  it('treats a key re-bound in the database as unbound and audits the alert', async () => {
    const keyId = await keyBoundTo(kw, 'rebound', strict);
    const other = await keyBoundTo(kw, 'donor', permissive);
    const mac = (await kw.keyward.database.db.selectFrom('keys').select('mac').where('id', '=', other).executeTakeFirstOrThrow()).mac;
    // The attacker points the key at the permissive policy, first without a MAC, then with another key's.
    await kw.keyward.database.db.updateTable('keys').set({ policyId: permissive, policyVersion: 1 }).where('id', '=', keyId).execute();
    const refused = await release(kw, keyId);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('ERR_POLICY_NOT_BOUND');
    await kw.keyward.database.db.updateTable('keys').set({ mac }).where('id', '=', keyId).execute();
    expect((await release(kw, keyId)).json().code).toBe('ERR_POLICY_NOT_BOUND');
    expect(await mismatchAlerts(kw, keyId)).toHaveLength(2);
    const metrics = (await kw.request('GET', '/metrics', { token: null })).body;
    expect(metrics).toMatch(/keyward_alerts_total\{kind="alert\.row-mac-mismatch"\} [2-9]/);
    // Binding again through the API writes a MAC that verifies.
    expect((await kw.request('PUT', `/v1/keys/${keyId}/policy`, { body: { policyId: permissive } })).statusCode).toBe(200);
    expect((await release(kw, keyId)).statusCode).toBe(200);
  });

  it('treats a policy version rewritten in the database as absent', async () => {
    const policyId = await policy(kw, 'rewritten', NEVER);
    const keyId = await keyBoundTo(kw, 'rewritten', policyId);
    await kw.keyward.database.db
      .updateTable('policyVersions')
      .set({ document: JSON.stringify({ name: 'rewritten', ...ANY }) })
      .where('policyId', '=', policyId)
      .execute();
    const refused = await release(kw, keyId);
    expect(refused.statusCode, refused.body).toBe(404);
    expect(refused.json().code).toBe('ERR_POLICY_NOT_FOUND');
    expect(await mismatchAlerts(kw, `${policyId}:1`)).toHaveLength(1);
  });

  it('re-pins bound keys with fresh MACs when a policy gets a new version', async () => {
    const policyId = await policy(kw, 'evolving', NEVER);
    const keyId = await keyBoundTo(kw, 'evolving', policyId);
    expect((await release(kw, keyId)).json().code).toBe('ERR_POLICY_DENIED');
    const updated = await kw.request('PUT', `/v1/policies/${policyId}`, { body: { name: 'evolving', ...ANY } });
    expect(updated.statusCode, updated.body).toBe(200);
    expect((await release(kw, keyId)).statusCode).toBe(200);
    // A row without a MAC (as before the backfill) is a mismatch, not a pass.
    await sql`UPDATE keys SET mac = NULL WHERE id = ${keyId}`.execute(kw.keyward.database.db);
    expect((await release(kw, keyId)).json().code).toBe('ERR_POLICY_NOT_BOUND');
  });

  it('refuses API tokens widened or inserted in the database with 401, minted ones keep working', async () => {
    const db = kw.keyward.database.db;
    const minted = (await kw.request('POST', '/v1/tokens', { body: { name: 'narrow', role: 'admin', scopes: ['tokens:admin'] } })).json();
    const fine = (await kw.request('POST', '/v1/tokens', { body: { name: 'fine', role: 'admin', scopes: ['tokens:admin'] } })).json();
    expect((await kw.request('GET', '/v1/tokens', { token: fine.token })).statusCode).toBe(200);
    await db.updateTable('apiTokens').set({ scopes: JSON.stringify([]) }).where('id', '=', minted.id).execute();
    const widened = await kw.request('GET', '/v1/tokens', { token: minted.token });
    expect(widened.statusCode).toBe(401);
    expect(widened.json().code).toBe('ERR_AUTH_INVALID');
    expect(await mismatchAlerts(kw, minted.id)).toHaveLength(1);
    // A row inserted with a known secret, wearing the bootstrap token's MAC.
    const boot = await db.selectFrom('apiTokens').selectAll().where('bootstrap', '=', true).executeTakeFirstOrThrow();
    const forged = { ...boot, id: randomUUID(), name: 'forged', tokenHash: hashToken('kw_forged-secret'), scopes: JSON.stringify([]), bootstrap: false };
    await db.insertInto('apiTokens').values(forged).execute();
    const inserted = await kw.request('GET', '/v1/tokens', { token: 'kw_forged-secret' });
    expect(inserted.statusCode).toBe(401);
    expect(inserted.json().code).toBe('ERR_AUTH_INVALID');
    expect(await mismatchAlerts(kw, forged.id)).toHaveLength(1);
  });

  it('keeps MACs verifying across a KEK rotation and a restart with only the new KEK', async () => {
    const keyId = await keyBoundTo(kw, 'rotating', permissive);
    const newKekPath = join(kw.dataDir, 'kek-next');
    const next = openFileKek(newKekPath, true);
    await rotateKek(db.database.db, kw.keyward.keks, next, systemClock, { id: 'test', name: 'test' });
    expect((await release(kw, keyId)).statusCode).toBe(200);
    await kw.keyward.close();
    rmSync(join(kw.dataDir, 'kek'));
    kw = await startTestKeyward(kind, { db, env: { KEYWARD_KEK: `file:${newKekPath}` } });
    expect((await release(kw, keyId)).statusCode).toBe(200);
    expect((await kw.request('PUT', `/v1/keys/${keyId}/policy`, { body: { policyId: strict } })).statusCode).toBe(200);
    expect((await release(kw, keyId)).json().code).toBe('ERR_POLICY_DENIED');
  }, 60_000);

  it('backfills the rows of a database migrated before 0015 once; deleting the MAC key launders nothing', async () => {
    const keyId = await keyBoundTo(kw, 'before-0015', permissive);
    const env = { KEYWARD_KEK: kw.keyward.keks.active.uri };
    await kw.keyward.close();
    // The database as it was before 0015 (and so before 0016): no MAC columns, no row-MAC key.
    for (const table of ['keys', 'policy_versions', 'api_tokens', ...PEOPLE_TABLES]) await sql.raw(`ALTER TABLE ${table} DROP COLUMN mac`).execute(db.database.db);
    await sql`DELETE FROM service_keys WHERE purpose = 'row-mac'`.execute(db.database.db);
    await sql`DELETE FROM keyward_migrations WHERE version IN (15, 16)`.execute(db.database.db);
    kw = await startTestKeyward(kind, { db, env });
    expect((await release(kw, keyId)).statusCode).toBe(200);
    expect((await kw.request('GET', '/v1/tokens')).statusCode).toBe(200);
    // An attacker deletes the row-MAC key hoping a restart MACs their rows: it MACs nothing.
    await kw.keyward.close();
    await sql`DELETE FROM service_keys WHERE purpose = 'row-mac'`.execute(db.database.db);
    kw = await startTestKeyward(kind, { db, env });
    expect((await release(kw, keyId)).json().code).toBe('ERR_POLICY_NOT_BOUND');
    expect((await kw.request('GET', '/v1/tokens')).statusCode).toBe(401);
    expect(kw.logs.some((l) => l.includes('created a new row-MAC key outside the start that applied migration 0015'))).toBe(true);
  }, 60_000);
});
