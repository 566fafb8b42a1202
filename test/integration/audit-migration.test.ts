// Migration 0013 links the events written before it into their chains (tenant or platform), in seq order, so
// an export of an upgraded database verifies from its first event; appends after it continue each chain, also
// when many race (on Postgres: several connections, new and existing chains alike).
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { DB_KINDS, createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { loadMigrations, migrate } from '../../src/store/migrate.js';
import { appendAudit, eventBody } from '../../src/broker/audit.js';
import { AuditExporter } from '../../src/broker/audit-export.js';
import { verifyAuditExport } from '../../src/broker/audit-verify.js';
import { systemClock } from '../../src/clock.js';
import { AuditLog } from '../../src/broker/audit-log.js';
import type { Db } from '../../src/store/database.js';

/** An append exactly as keyward wrote one before 0013 (no chain columns). */
async function appendBefore0013(db: Db, tenant: string | undefined): Promise<void> {
  const entry = {
    id: randomUUID(),
    at: new Date().toISOString(),
    actor: 'system',
    action: 'test.old',
    target: null,
    outcome: 'success' as const,
    requestId: null,
    details: { actorName: 'keyward', ...(tenant ? { tenant } : {}) },
  };
  await sql`WITH old AS (SELECT seq, hash FROM audit_head WHERE singleton FOR UPDATE),
    head AS (
      UPDATE audit_head AS h SET seq = old.seq + 1, hash = sha256(old.hash || int8send(old.seq + 1) || convert_to(${eventBody(entry)}, 'UTF8'))
      FROM old WHERE h.singleton RETURNING h.seq, h.hash, old.hash AS prev)
    INSERT INTO audit_events (seq, id, at, actor, action, target, outcome, request_id, details, prev_hash, hash)
    SELECT head.seq, ${entry.id}, ${new Date(entry.at)}, ${entry.actor}, ${entry.action}, ${entry.target}, ${entry.outcome}, ${entry.requestId},
           ${JSON.stringify(entry.details)}::jsonb, head.prev, head.hash FROM head`.execute(db);
}

describe.each(DB_KINDS)('migration 0013 on %s', (kind) => {
  let test: TestDatabase | undefined;
  afterEach(async () => test?.drop());

  it('links pre-existing events into their chains; later appends continue them; exports verify', async () => {
    test = await createTestDatabase(kind, { migrated: false });
    const { database } = test;
    await migrate(database, loadMigrations().filter((m) => m.version < 13));
    for (const tenant of ['alpha', undefined, 'beta', 'alpha', 'alpha', undefined]) await appendBefore0013(database.db, tenant);
    await migrate(database);
    const rows = await database.db.selectFrom('auditEvents').select(['seq', 'chain', 'chainSeq']).orderBy('seq').execute();
    expect(rows.map((r) => [r.chain, Number(r.chainSeq)])).toEqual([
      ['tenant:alpha', 1],
      ['platform', 1],
      ['tenant:beta', 1],
      ['tenant:alpha', 2],
      ['tenant:alpha', 3],
      ['platform', 2],
    ]);
    await appendAudit(database.db, { actor: { id: 'system', name: 'keyward' }, action: 'test.new', target: null, outcome: 'success', requestId: null, details: { tenant: 'alpha' } }, new Date());
    const exporter = new AuditExporter(database.db, systemClock);
    const system = { id: 'system', name: 'keyward' };
    const alpha = await exporter.export(system, { tenant: 'alpha', from: 1, limit: 100 });
    expect(alpha.rows.map((r) => r.chainSeq)).toEqual([1, 2, 3, 4]);
    expect(verifyAuditExport(alpha)).toMatchObject({ verified: true, rows: 4, lastCheckpointedSeq: null, notYetCovered: 4 });
    expect(verifyAuditExport(await exporter.export(system, { from: 1, limit: 100 }))).toMatchObject({ verified: true, rows: 7 });
  });

  it('keeps every chain whole when appends race, for new and existing chains', async () => {
    test = await createTestDatabase(kind);
    const { database } = test;
    const tenants = ['t1', 't2', 't3', undefined];
    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        appendAudit(database.db, { actor: { id: 'system', name: 'keyward' }, action: 'test.race', target: String(i), outcome: 'success', requestId: null, details: tenants[i % 4] ? { tenant: tenants[i % 4] } : {} }, new Date()),
      ),
    );
    const exporter = new AuditExporter(database.db, systemClock);
    const system = { id: 'system', name: 'keyward' };
    for (const tenant of ['t1', 't2', 't3']) {
      const doc = await exporter.export(system, { tenant, from: 1, limit: 100 });
      expect(doc.rows).toHaveLength(15);
      expect(verifyAuditExport(doc)).toMatchObject({ verified: true, rows: 15 });
    }
    expect(verifyAuditExport(await exporter.export(system, { from: 1, limit: 1000 }))).toMatchObject({ verified: true });
  });

  it('GET /v1/audit/verify (AuditLog.verifyChain) also walks each chain: a re-linked tenant row is named', async () => {
    test = await createTestDatabase(kind);
    const { database } = test;
    for (const tenant of ['x', 'y', 'x', 'x']) {
      await appendAudit(database.db, { actor: { id: 'system', name: 'keyward' }, action: 'test.chain', target: null, outcome: 'success', requestId: null, details: { tenant } }, new Date());
    }
    const log = new AuditLog(database.db);
    expect(await log.verifyChain()).toMatchObject({ ok: true, events: 4, brokenAt: null });
    // Someone with write access to the database (trigger off) points the third event's tenant link elsewhere.
    await sql`ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update`.execute(database.db);
    await sql`UPDATE audit_events SET chain_prev_hash = decode(repeat('00', 32), 'hex') WHERE seq = 3`.execute(database.db);
    await sql`ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update`.execute(database.db);
    expect(await log.verifyChain()).toMatchObject({ ok: false, brokenAt: 3 });
  });
});
