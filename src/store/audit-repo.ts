// The append-only, hash-chained audit log: head row lock, event insert, listing.
import { sql, type Selectable } from 'kysely';
import type { Db } from './database.js';
import type { AuditEventsTable } from './schema.js';

export type AuditRow = Selectable<AuditEventsTable>;

/**
 * Advances the chain head by one inside `trx` and returns the new sequence number with the previous hash.
 * The row lock it takes serializes appends until the transaction ends.
 */
export async function advanceAuditHead(trx: Db): Promise<{ seq: number; prevHash: Uint8Array }> {
  const head = await trx
    .updateTable('auditHead')
    .set({ seq: sql<number>`seq + 1` })
    .where('singleton', '=', true)
    .returning(['seq', 'hash'])
    .executeTakeFirstOrThrow();
  return { seq: Number(head.seq), prevHash: head.hash };
}

export interface NewAuditRow {
  readonly seq: number;
  readonly id: string;
  readonly at: Date;
  readonly actor: string;
  readonly action: string;
  readonly target: string | null;
  readonly outcome: AuditRow['outcome'];
  readonly requestId: string | null;
  readonly details: Record<string, unknown>;
  readonly prevHash: Uint8Array;
  readonly hash: Uint8Array;
}

/** Inserts the event and moves the head's hash to it, in one statement (one round trip). */
export async function appendAuditRow(trx: Db, row: NewAuditRow): Promise<void> {
  await sql`WITH inserted AS (
      INSERT INTO audit_events (seq, id, at, actor, action, target, outcome, request_id, details, prev_hash, hash)
      VALUES (${row.seq}, ${row.id}, ${row.at}, ${row.actor}, ${row.action}, ${row.target}, ${row.outcome}, ${row.requestId},
              ${JSON.stringify(row.details)}::jsonb, ${row.prevHash}, ${row.hash})
      RETURNING seq)
    UPDATE audit_head SET hash = ${row.hash} WHERE singleton AND seq = (SELECT seq FROM inserted)`.execute(trx);
}

export interface AuditFilter {
  readonly afterSeq?: number;
  readonly action?: string;
  readonly target?: string;
  readonly outcome?: AuditRow['outcome'];
  readonly limit: number;
}

export async function listAuditRows(db: Db, filter: AuditFilter): Promise<AuditRow[]> {
  let q = db.selectFrom('auditEvents').selectAll();
  if (filter.afterSeq !== undefined) q = q.where('seq', '>', filter.afterSeq);
  if (filter.action) q = q.where('action', '=', filter.action);
  if (filter.target) q = q.where('target', '=', filter.target);
  if (filter.outcome) q = q.where('outcome', '=', filter.outcome);
  return q.orderBy('seq').limit(filter.limit).execute();
}

export async function readAuditHead(db: Db): Promise<{ seq: number; hash: Uint8Array }> {
  const head = await db.selectFrom('auditHead').select(['seq', 'hash']).where('singleton', '=', true).executeTakeFirstOrThrow();
  return { seq: Number(head.seq), hash: head.hash };
}
