// Signed audit checkpoints and their signing keys (migrations/0013_audit_checkpoints.sql).
import { sql, type Selectable } from 'kysely';
import type { Db } from './database.js';
import type { AuditCheckpointKeysTable, AuditCheckpointsTable } from './schema.js';

export type CheckpointKeyRow = Selectable<AuditCheckpointKeysTable>;
export type CheckpointRow = Selectable<AuditCheckpointsTable>;

export interface ChainHead {
  readonly chain: string;
  readonly seq: number;
  readonly hash: Uint8Array;
}

export async function findActiveCheckpointKey(db: Db): Promise<CheckpointKeyRow | undefined> {
  return db.selectFrom('auditCheckpointKeys').selectAll().where('state', '=', 'active').executeTakeFirst();
}

/** Inserts the active key unless another replica did first (the partial unique index decides); returns the winner. */
export async function insertActiveCheckpointKey(
  db: Db,
  row: { kid: string; publicJwk: Record<string, unknown>; kekId: string; sealedPrivate: Uint8Array; at: Date },
): Promise<CheckpointKeyRow> {
  await sql`INSERT INTO audit_checkpoint_keys (kid, alg, public_jwk, kek_id, sealed_private, state, created_at)
    VALUES (${row.kid}, 'EdDSA', ${JSON.stringify(row.publicJwk)}::jsonb, ${row.kekId}, ${row.sealedPrivate}, 'active', ${row.at})
    ON CONFLICT (state) WHERE state = 'active' DO NOTHING`.execute(db);
  return db.selectFrom('auditCheckpointKeys').selectAll().where('state', '=', 'active').executeTakeFirstOrThrow();
}

export async function listCheckpointKeys(db: Db, kids?: readonly string[]): Promise<CheckpointKeyRow[]> {
  if (kids !== undefined && kids.length === 0) return [];
  let q = db.selectFrom('auditCheckpointKeys').selectAll();
  if (kids !== undefined) q = q.where('kid', 'in', kids);
  return q.orderBy('createdAt').execute();
}

export async function checkpointKeysNotUnderKek(db: Db, kekId: string): Promise<CheckpointKeyRow[]> {
  return db.selectFrom('auditCheckpointKeys').selectAll().where('kekId', '<>', kekId).execute();
}

export async function resealCheckpointKey(db: Db, kid: string, fromKekId: string, toKekId: string, sealed: Uint8Array): Promise<boolean> {
  const r = await db.updateTable('auditCheckpointKeys').set({ kekId: toKekId, sealedPrivate: sealed }).where('kid', '=', kid).where('kekId', '=', fromKekId).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Locks the global head (as an append does): nothing is appended until the caller's transaction ends. */
export async function lockAuditHead(db: Db): Promise<{ seq: number; hash: Uint8Array }> {
  const head = await db.selectFrom('auditHead').select(['seq', 'hash']).where('singleton', '=', true).forUpdate().executeTakeFirstOrThrow();
  return { seq: Number(head.seq), hash: head.hash };
}

export async function listChainHeads(db: Db): Promise<ChainHead[]> {
  const rows = await db.selectFrom('auditChainHeads').select(['chain', 'seq', 'hash']).orderBy('chain').execute();
  return rows.map((r) => ({ chain: r.chain, seq: Number(r.seq), hash: r.hash }));
}

export async function latestCheckpoint(db: Db): Promise<{ seq: number; at: Date } | undefined> {
  const row = await db.selectFrom('auditCheckpoints').select(['seq', 'at']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  return row ? { seq: Number(row.seq), at: row.at } : undefined;
}

/** When the event at `seq` was written (undefined: no such event). */
export async function auditEventTime(db: Db, seq: number): Promise<Date | undefined> {
  return (await db.selectFrom('auditEvents').select('at').where('seq', '=', seq).executeTakeFirst())?.at;
}

/** Inserts a checkpoint; false when one for that seq exists already (another replica wrote it). */
export async function insertCheckpoint(
  db: Db,
  row: { seq: number; head: Uint8Array; at: Date; kid: string; statement: string; signature: Uint8Array; chains: Record<string, { seq: number; head: string }> },
): Promise<boolean> {
  const r = await db
    .insertInto('auditCheckpoints')
    .values({ ...row, chains: JSON.stringify(row.chains) })
    .onConflict((oc) => oc.column('seq').doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
}

/** Checkpoints whose global seq lies in [from, to], oldest first. */
export async function listCheckpointsBetween(db: Db, from: number, to: number): Promise<CheckpointRow[]> {
  return db.selectFrom('auditCheckpoints').selectAll().where('seq', '>=', from).where('seq', '<=', to).orderBy('seq').execute();
}

/**
 * For each head seq of `chain` in [from, to] that a checkpoint signed, the latest such checkpoint (a quiet
 * tenant's head appears in many checkpoints; one per head is enough to prove it), oldest first.
 */
export async function listChainCheckpoints(db: Db, chain: string, from: number, to: number): Promise<CheckpointRow[]> {
  const result = await sql<CheckpointRow>`SELECT seq, head, at, kid, statement, signature, chains FROM (
      SELECT DISTINCT ON (h) * FROM (
        SELECT c.*, (c.chains -> k.name ->> 'seq')::bigint AS h
        FROM audit_checkpoints AS c, (SELECT ${chain}::text AS name) AS k
        WHERE c.chains ? k.name) AS s
      WHERE h BETWEEN ${from} AND ${to}
      ORDER BY h, seq DESC) AS latest
    ORDER BY seq`.execute(db);
  return result.rows;
}
