// The append-only, hash-chained audit log: head row lock, event insert, listing.
import { sql, type Selectable } from 'kysely';
import type { Db } from './database.js';
import type { AuditEventsTable } from './schema.js';

export type AuditRow = Selectable<AuditEventsTable>;

export interface NewAuditRow {
  readonly id: string;
  readonly at: Date;
  readonly actor: string;
  readonly action: string;
  readonly target: string | null;
  readonly outcome: AuditRow['outcome'];
  readonly requestId: string | null;
  readonly details: Record<string, unknown>;
  /** Canonical JSON of the event without its sequence number: what the chain hash covers. */
  readonly body: string;
  /** 'platform' or 'tenant:<name>': the chain of its own the event also links into. */
  readonly chain: string;
}

/**
 * Appends one event in ONE statement: takes the chain head (row lock, serializing appends until the
 * enclosing transaction ends), computes hash = SHA-256(prevHash ‖ seq as 8-byte big-endian ‖ body) in SQL,
 * advances the event's own chain (tenant or platform: chainHash = SHA-256(chainPrevHash ‖ chainSeq ‖ hash)),
 * inserts the event and advances the head. The chain head is upserted from `head`'s output, so it is locked
 * only after the global head: appends still serialize on one lock, in one order. (The LIMITs tell the planner
 * these are single rows: a tiny unanalyzed table is otherwise estimated at hundreds of rows, and the
 * multiplied estimate makes Postgres JIT-compile every append, ~300 ms each.)
 */
export async function appendAuditRow(db: Db, row: NewAuditRow): Promise<{ seq: number }> {
  const appended = await appendAuditRowIf(db, row, undefined);
  if (!appended) throw new Error('the audit head row is missing');
  return appended;
}

/**
 * appendAuditRow, but only if the release-cache epoch (migration 0017) is still `epoch` in the statement's
 * snapshot: undefined (nothing written) when it moved. The three-call release's single write, so a release
 * judged on cached key rows commits only if they were current, in the same statement.
 */
export async function appendAuditRowIf(db: Db, row: NewAuditRow, epoch: string | undefined): Promise<{ seq: number } | undefined> {
  const current = epoch === undefined ? sql<boolean>`true` : sql<boolean>`(SELECT epoch::text FROM release_cache_epoch) = ${epoch}`;
  const result = await sql<{ seq: number }>`WITH
    old AS (SELECT seq, hash FROM audit_head WHERE singleton AND ${current} LIMIT 1 FOR UPDATE),
    head AS (
      UPDATE audit_head AS h
      SET seq = old.seq + 1, hash = sha256(old.hash || int8send(old.seq + 1) || convert_to(${row.body}, 'UTF8'))
      FROM old WHERE h.singleton
      RETURNING h.seq, h.hash, old.hash AS prev),
    link AS (
      INSERT INTO audit_chain_heads AS c (chain, seq, hash, prev_hash, last_row_hash)
      SELECT ${row.chain}, 1, sha256(decode(repeat('00', 32), 'hex') || int8send(1) || head.hash), decode(repeat('00', 32), 'hex'), head.hash
      FROM head
      ON CONFLICT (chain) DO UPDATE
      SET seq = c.seq + 1, hash = sha256(c.hash || int8send(c.seq + 1) || EXCLUDED.last_row_hash), prev_hash = c.hash, last_row_hash = EXCLUDED.last_row_hash
      RETURNING c.seq, c.hash, c.prev_hash)
    INSERT INTO audit_events (seq, id, at, actor, action, target, outcome, request_id, details, prev_hash, hash, chain, chain_seq, chain_prev_hash, chain_hash)
    SELECT head.seq, ${row.id}, ${row.at}, ${row.actor}, ${row.action}, ${row.target}, ${row.outcome}, ${row.requestId},
           ${JSON.stringify(row.details)}::jsonb, head.prev, head.hash, ${row.chain}, link.seq, link.prev_hash, link.hash
    FROM head, (SELECT seq, hash, prev_hash FROM link LIMIT 1) AS link
    RETURNING seq`.execute(db);
  const first = result.rows[0];
  return first ? { seq: Number(first.seq) } : undefined;
}

export interface AuditFilter {
  readonly afterSeq?: number;
  readonly action?: string;
  readonly target?: string;
  readonly outcome?: AuditRow['outcome'];
  readonly limit: number;
  /** Only events of these tenants (details.tenant), plus events of no tenant when `platform`; omitted: all. */
  readonly visible?: { readonly tenants: readonly string[]; readonly platform: boolean };
}

export async function listAuditRows(db: Db, filter: AuditFilter): Promise<AuditRow[]> {
  let q = db.selectFrom('auditEvents').selectAll();
  if (filter.afterSeq !== undefined) q = q.where('seq', '>', filter.afterSeq);
  if (filter.action) q = q.where('action', '=', filter.action);
  if (filter.target) q = q.where('target', '=', filter.target);
  if (filter.outcome) q = q.where('outcome', '=', filter.outcome);
  const visible = filter.visible;
  if (visible) {
    q = q.where((eb) =>
      eb.or([
        ...(visible.tenants.length > 0 ? [eb(sql<string>`details->>'tenant'`, 'in', visible.tenants)] : []),
        ...(visible.platform ? [eb(sql<string>`details->>'tenant'`, 'is', null)] : []),
        eb.val(false),
      ]),
    );
  }
  return q.orderBy('seq').limit(filter.limit).execute();
}

export async function readAuditHead(db: Db): Promise<{ seq: number; hash: Uint8Array }> {
  const head = await db.selectFrom('auditHead').select(['seq', 'hash']).where('singleton', '=', true).executeTakeFirstOrThrow();
  return { seq: Number(head.seq), hash: head.hash };
}

/** One chain's events (`chain`: 'platform' or 'tenant:<name>') from chain seq `from`, oldest first. */
export async function listChainRows(db: Db, chain: string, from: number, limit: number): Promise<AuditRow[]> {
  return db.selectFrom('auditEvents').selectAll().where('chain', '=', chain).where('chainSeq', '>=', from).orderBy('chainSeq').limit(limit).execute();
}

/** The global chain's events from seq `from`, oldest first. */
export async function listGlobalRows(db: Db, from: number, limit: number): Promise<AuditRow[]> {
  return db.selectFrom('auditEvents').selectAll().where('seq', '>=', from).orderBy('seq').limit(limit).execute();
}

/** The release and denial events of one key, oldest first, within [from, to). */
export async function listKeyReleases(db: Db, filter: { keyId: string; from?: Date; to?: Date; outcome?: AuditRow['outcome']; limit: number }): Promise<AuditRow[]> {
  let q = db.selectFrom('auditEvents').selectAll().where('action', '=', 'key.release').where('target', '=', filter.keyId);
  if (filter.from) q = q.where('at', '>=', filter.from);
  if (filter.to) q = q.where('at', '<', filter.to);
  if (filter.outcome) q = q.where('outcome', '=', filter.outcome);
  return q.orderBy('seq').limit(filter.limit).execute();
}
