// Fixed-window request counters shared by every replica (migrations/0004_rate_limits.sql): one statement
// counts a request against all of its budgets and returns each budget's new count.
import { sql } from 'kysely';
import type { Db } from './database.js';

export interface CounterRef {
  readonly tenantId: string;
  readonly scope: string;
  readonly subject: string;
}

export interface CounterValue extends CounterRef {
  readonly count: number;
}

function sortedUnique(refs: readonly CounterRef[]): CounterRef[] {
  const seen = new Map<string, CounterRef>();
  for (const r of refs) seen.set(`${r.tenantId}\u0000${r.scope}\u0000${r.subject}`, r);
  // Why sorted: concurrent multi-row upserts that lock rows in one order cannot deadlock each other.
  return [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
}

/**
 * Adds one to each counter of `windowStart` (creating it at 1) and returns the new counts: a single
 * INSERT ... ON CONFLICT DO UPDATE ... RETURNING, so concurrent replicas never lose an increment.
 */
export async function incrementCounters(db: Db, refs: readonly CounterRef[], windowStart: Date): Promise<CounterValue[]> {
  const rows = sortedUnique(refs);
  if (rows.length === 0) return [];
  return db
    .insertInto('rateCounters')
    .values(rows.map((r) => ({ tenantId: r.tenantId, scope: r.scope, subject: r.subject, windowStart, count: 1 })))
    .onConflict((oc) => oc.columns(['tenantId', 'scope', 'subject', 'windowStart']).doUpdateSet({ count: sql<number>`rate_counters.count + 1` }))
    .returning(['tenantId', 'scope', 'subject', 'count'])
    .execute();
}

/** The current count of one counter in `windowStart` (0 when no request was counted yet). */
export async function readCounter(db: Db, ref: CounterRef, windowStart: Date): Promise<number> {
  const row = await db
    .selectFrom('rateCounters')
    .select('count')
    .where('tenantId', '=', ref.tenantId)
    .where('scope', '=', ref.scope)
    .where('subject', '=', ref.subject)
    .where('windowStart', '=', windowStart)
    .executeTakeFirst();
  return row?.count ?? 0;
}

/** Drops the counters of windows that started before `before` (they no longer decide anything). */
export async function deleteCountersBefore(db: Db, before: Date): Promise<number> {
  const r = await db.deleteFrom('rateCounters').where('windowStart', '<', before).executeTakeFirst();
  return Number(r.numDeletedRows);
}
