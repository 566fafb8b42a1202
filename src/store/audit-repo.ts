// The append-only, hash-chained audit log: head row lock, event insert, listing.
import type { Selectable } from 'kysely';
import type { Db } from './database.js';
import type { AuditEventsTable } from './schema.js';

export type AuditRow = Selectable<AuditEventsTable>;

/** Locks the chain head for this transaction (serializes appends) and returns it. */
export async function lockAuditHead(trx: Db): Promise<{ seq: number; hash: Uint8Array }> {
  const head = await trx.selectFrom('auditHead').select(['seq', 'hash']).where('singleton', '=', true).forUpdate().executeTakeFirstOrThrow();
  return { seq: Number(head.seq), hash: head.hash };
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

export async function appendAuditRow(trx: Db, row: NewAuditRow): Promise<void> {
  await trx.insertInto('auditEvents').values({ ...row, details: JSON.stringify(row.details) }).execute();
  await trx.updateTable('auditHead').set({ seq: row.seq, hash: row.hash }).where('singleton', '=', true).execute();
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
