// Signed audit checkpoints and offline verification of an export: per-tenant chains (a tenant's export
// verifies alone), a checkpoint once N events are uncovered (one per seq across concurrent writers), who may
// export what, and `keyward audit verify FILE` naming the first edited or missing row and a forged checkpoint.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS } from '../helpers/db.js';
import { startTestKeyward, type TestKeyward } from '../helpers/keyward.js';
import { inviteAndLogin, type Session } from '../helpers/people.js';
import { main, type CliIo } from '../../src/cli/main.js';
import { verifyAuditExport, type AuditExport } from '../../src/broker/audit-verify.js';
import { AuditCheckpoints } from '../../src/broker/audit-checkpoints.js';
import { systemClock } from '../../src/clock.js';

const EVERY = 5;

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { out: (t) => void (stdout += t), err: (t) => void (stderr += t) };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

describe.each(DB_KINDS)('audit checkpoints and exports on %s', (kind) => {
  let kw: TestKeyward;
  let north: Session;
  let south: Session;
  let dir: string;

  async function exportAs(session: Session | null, query: string): Promise<AuditExport> {
    const res = session ? await session.request('GET', `/v1/audit/export${query}`) : await kw.request('GET', `/v1/audit/export${query}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as AuditExport;
  }

  async function verifyFile(doc: unknown, extra: string[] = []): Promise<{ code: number; verdict: Record<string, any>; stderr: string }> {
    const file = join(dir, `export-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify(doc));
    const res = await cli(['audit', 'verify', file, '--json', ...extra]);
    return { code: res.code, verdict: JSON.parse(res.stdout || '{}'), stderr: res.stderr };
  }

  async function createKeys(session: Session, tenant: string, n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const res = await session.request('POST', '/v1/keys', { tenant, name: `k-${i}-${Date.now()}`, kind: 'generic' });
      expect(res.statusCode, res.body).toBe(201);
    }
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keyward-audit-export-'));
    kw = await startTestKeyward(kind, { env: { KEYWARD_AUDIT_CHECKPOINT_EVENTS: String(EVERY), KEYWARD_AUDIT_CHECKPOINT_INTERVAL: '86400' } });
    for (const name of ['north', 'south']) expect((await kw.request('POST', '/v1/tenants', { body: { name } })).statusCode).toBe(201);
    north = (await inviteAndLogin(kw, 'north', 'nora', 'owner')).session;
    south = (await inviteAndLogin(kw, 'south', 'sven', 'owner')).session;
  }, 60_000);
  afterAll(async () => {
    await kw?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes a checkpoint once N events are uncovered, one per seq even when writers race', async () => {
    await kw.keyward.auditCheckpoints.runDue();
    await createKeys(north, 'north', EVERY - 1);
    expect(await kw.keyward.auditCheckpoints.runDue()).toBeUndefined();
    await createKeys(north, 'north', 1);
    const written = await Promise.all([kw.keyward.auditCheckpoints.runDue(), kw.keyward.auditCheckpoints.runDue()]);
    const infos = written.filter((w) => w !== undefined);
    expect(infos).toHaveLength(1);
    const head = (await kw.request('GET', '/v1/audit/verify')).json();
    expect(infos[0]?.seq).toBe(head.headSeq - 1);
    const events = (await kw.request('GET', '/v1/audit?action=audit.checkpoint&limit=1000')).json().items;
    expect(events[events.length - 1]).toMatchObject({ actor: 'system', target: String(infos[0]?.seq), details: { seq: infos[0]?.seq, kid: infos[0]?.kid } });
    // Its own audit event alone does not make the next one due.
    expect(await kw.keyward.auditCheckpoints.runDue()).toBeUndefined();
  });

  it('publishes the checkpoint key apart from the attestation-token JWKS', async () => {
    const keys = (await kw.request('GET', '/v1/audit/checkpoint-keys', { token: null })).json().keys;
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
    expect(keys[0].d).toBeUndefined();
    const jwks = (await kw.request('GET', '/.well-known/jwks.json', { token: null })).json().keys;
    expect(jwks.map((k: { kid: string }) => k.kid)).not.toContain(keys[0].kid);
  });

  it("exports a tenant's chain that verifies alone, with its checkpoint; rows after it are reported uncovered", async () => {
    await createKeys(south, 'south', 2);
    await createKeys(north, 'north', EVERY);
    expect(await kw.keyward.auditCheckpoints.runDue()).toBeDefined();
    await createKeys(north, 'north', 2);
    const doc = await exportAs(north, '?tenant=north');
    expect(doc.chain).toBe('tenant:north');
    expect(doc.rows.every((r) => r.chain === 'tenant:north')).toBe(true);
    expect(doc.rows.map((r) => r.chainSeq)).toEqual(doc.rows.map((_, i) => i + 1));
    expect(doc.checkpoints.length).toBeGreaterThanOrEqual(2);
    const { code, verdict } = await verifyFile(doc);
    expect(code).toBe(0);
    expect(verdict).toMatchObject({ verified: true, chain: 'tenant:north', rows: doc.rows.length, keySource: 'file', notYetCovered: 2, lastCheckpointedSeq: doc.rows.length - 2 });
    // The same with the published key pinned.
    const keyFile = join(dir, 'checkpoint-keys.json');
    writeFileSync(keyFile, (await kw.request('GET', '/v1/audit/checkpoint-keys', { token: null })).body);
    expect((await verifyFile(doc, ['--key', keyFile])).verdict).toMatchObject({ verified: true, keySource: 'pinned' });
    const human = await cli(['audit', 'verify', keyFile.replace('checkpoint-keys', 'missing')]);
    expect(human.code).toBe(2);
  });

  it('names the first edited row, a deleted row, a forged checkpoint and an untrusted key (exit 1)', async () => {
    const doc = await exportAs(north, '?tenant=north');
    const edited = structuredClone(doc) as any;
    edited.rows[2].details.name = 'renamed';
    const e = await verifyFile(edited);
    expect(e.code).toBe(1);
    expect(e.verdict).toMatchObject({ verified: false, error: { row: doc.rows[2]?.seq } });
    expect(e.stderr).toContain(`row seq ${doc.rows[2]?.seq} (tenant:north #3): its content does not match its hash`);

    const deleted = structuredClone(doc) as any;
    deleted.rows.splice(1, 1);
    const d = await verifyFile(deleted);
    expect(d.code).toBe(1);
    expect(d.verdict.error).toMatchObject({ row: doc.rows[2]?.seq });
    expect(d.verdict.error.message).toContain('a row before it is missing');

    // Removing the tail a checkpoint covers is caught too.
    const covered = doc.checkpoints[doc.checkpoints.length - 1]?.leaves[0]?.seq as number;
    const cut = { ...structuredClone(doc), rows: doc.rows.slice(0, covered - 1) };
    expect((await verifyFile(cut)).verdict.error.message).toContain('that row is missing from the export');

    const forged = structuredClone(doc) as any;
    const statement = JSON.parse(forged.checkpoints[0].statement);
    statement.at = '2000-01-01T00:00:00.000Z';
    forged.checkpoints[0].statement = JSON.stringify(statement);
    const f = await verifyFile(forged);
    expect(f.code).toBe(1);
    expect(f.verdict.error).toMatchObject({ checkpoint: doc.checkpoints[0]?.seq });
    expect(f.verdict.error.message).toContain('signature does not verify');

    // A checkpoint re-signed with an attacker's key under the real kid: caught when the real key is pinned.
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const kid = doc.checkpoints[0]?.kid as string;
    const resigned = structuredClone(doc) as any;
    resigned.keys = [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'EdDSA' }];
    for (const cp of resigned.checkpoints) cp.signature = sign(null, Buffer.from(cp.statement), privateKey).toString('base64url');
    expect((await verifyFile(resigned)).verdict.verified).toBe(true);
    const keyFile = join(dir, 'pinned.json');
    writeFileSync(keyFile, (await kw.request('GET', '/v1/audit/checkpoint-keys', { token: null })).body);
    const pinned = await verifyFile(resigned, ['--key', keyFile]);
    expect(pinned.code).toBe(1);
    expect(pinned.verdict.error.message).toContain('signature does not verify');
  });

  it("refuses another tenant's export (ERR_TENANT_FORBIDDEN), the platform admin's included", async () => {
    const res = await south.request('GET', '/v1/audit/export?tenant=north');
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('ERR_TENANT_FORBIDDEN');
    const admin = await kw.request('GET', '/v1/audit/export?tenant=north');
    expect(admin.statusCode).toBe(403);
    expect(admin.json().code).toBe('ERR_TENANT_FORBIDDEN');
    // Without a tenant, an owner of one tenant exports that one.
    expect((await exportAs(south, '')).chain).toBe('tenant:south');
  });

  it("gives the platform admin the global chain with other tenants' rows reduced to links; it verifies", async () => {
    const doc = await exportAs(null, '');
    expect(doc.chain).toBe('global');
    const redacted = doc.rows.filter((r) => r.redacted);
    expect(new Set(redacted.map((r) => r.chain))).toEqual(new Set(['tenant:north', 'tenant:south']));
    expect(JSON.stringify(redacted)).not.toContain('"details"');
    expect(doc.rows.filter((r) => !r.redacted).every((r) => r.chain === 'platform' || r.chain === 'tenant:default')).toBe(true);
    expect(verifyAuditExport(doc)).toMatchObject({ verified: true, chain: 'global', rows: doc.rows.length });
    // A visible row removed and the next (redacted) row re-linked over the gap: its own chain breaks.
    const i = doc.rows.findIndex((r, j) => !r.redacted && j > 0 && doc.rows[j + 1]?.redacted);
    const tampered = structuredClone(doc) as any;
    tampered.rows[i + 1].prevHash = tampered.rows[i - 1].hash;
    tampered.rows.splice(i, 1);
    const verdict = verifyAuditExport(tampered);
    expect(verdict.verified).toBe(false);
    expect(verdict.error?.row).toBe(doc.rows[i + 1]?.seq);
    // A page from a later seq verifies from its first row on.
    const later = await exportAs(null, `?from=${doc.rows[3]?.seq}&limit=5`);
    expect(later.rows).toHaveLength(5);
    expect(later.nextFrom).toBe((doc.rows[3]?.seq as number) + 5);
  });

  it('reseals the checkpoint key at KEK rotation; a fresh process signs with it and old checkpoints still verify', async () => {
    const rotated = await kw.request('POST', '/v1/kek/rotate');
    expect(rotated.statusCode, rotated.body).toBe(200);
    const row = await kw.keyward.database.db.selectFrom('auditCheckpointKeys').selectAll().executeTakeFirstOrThrow();
    expect(row.kekId).toBe(rotated.json().to);
    const fresh = new AuditCheckpoints(kw.keyward.database.db, kw.keyward.keks, systemClock, { everyEvents: 1, intervalSeconds: 86_400 });
    const info = await fresh.runDue();
    expect(info?.kid).toBe(row.kid);
    const doc = await exportAs(null, '');
    expect(doc.checkpoints[doc.checkpoints.length - 1]?.seq).toBe(info?.seq);
    expect(verifyAuditExport(doc)).toMatchObject({ verified: true, lastCheckpointedSeq: info?.seq });
  });

  it('keeps secrets out of exported rows', async () => {
    const key = (await north.request('POST', '/v1/keys', { tenant: 'north', name: 'secret-holder', kind: 'generic' })).json();
    const dataKey = (await north.request('POST', `/v1/keys/${key.id}/datakey`)).json();
    expect(typeof dataKey.plaintext).toBe('string');
    const text = JSON.stringify(await exportAs(north, '?tenant=north'));
    expect(text).not.toContain(dataKey.plaintext);
    expect(text).not.toContain(Buffer.from(dataKey.plaintext, 'base64').toString('hex'));
    expect(text).not.toContain('test-bootstrap-admin-token');
  });
});
