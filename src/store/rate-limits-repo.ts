// Windowed request counters shared by every replica (migrations/0006_rate_limits.sql): one statement
// counts a request against all of its budgets and returns each budget's new count together with the
// count of the window before it (callers weigh the two into a sliding-window estimate).
import { sql } from 'kysely';
import type { Db } from './database.js';

export interface CounterRef {
  readonly tenantId: string;
  readonly scope: string;
  readonly subject: string;
}

export interface CounterValue extends CounterRef {
  /** This window's count, including the request just counted. */
  readonly count: number;
  /** The previous window's final count (0 when it counted nothing). */
  readonly previous: number;
}

function sortedUnique(refs: readonly CounterRef[]): CounterRef[] {
  const seen = new Map<string, CounterRef>();
  for (const r of refs) seen.set(`${r.tenantId}\u0000${r.scope}\u0000${r.subject}`, r);
  // Why sorted: concurrent multi-row upserts that lock rows in one order cannot deadlock each other.
  return [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
}

/**
 * Adds one to each counter of `windowStart` (creating it at 1) and returns the new counts beside the
 * previous window's: one statement (an INSERT ... ON CONFLICT DO UPDATE ... RETURNING joined to the previous
 * window's rows), so concurrent replicas never lose an increment.
 */
export async function incrementCounters(db: Db, refs: readonly CounterRef[], windowStart: Date, previousStart: Date): Promise<CounterValue[]> {
  const rows = sortedUnique(refs);
  if (rows.length === 0) return [];
  return db
    .with('up', (qb) =>
      qb
        .insertInto('rateCounters')
        .values(rows.map((r) => ({ tenantId: r.tenantId, scope: r.scope, subject: r.subject, windowStart, count: 1 })))
        .onConflict((oc) => oc.columns(['tenantId', 'scope', 'subject', 'windowStart']).doUpdateSet({ count: sql<number>`rate_counters.count + 1` }))
        .returning(['tenantId', 'scope', 'subject', 'count']),
    )
    .selectFrom('up')
    .leftJoin('rateCounters as prev', (join) =>
      join
        .onRef('prev.tenantId', '=', 'up.tenantId')
        .onRef('prev.scope', '=', 'up.scope')
        .onRef('prev.subject', '=', 'up.subject')
        .on('prev.windowStart', '=', previousStart),
    )
    .select(['up.tenantId', 'up.scope', 'up.subject', 'up.count', sql<number>`coalesce(prev.count, 0)`.as('previous')])
    .execute();
}

/** The counts of one counter in `windowStart` and the window before it (0 when nothing was counted). */
export async function readCounter(db: Db, ref: CounterRef, windowStart: Date, previousStart: Date): Promise<{ count: number; previous: number }> {
  const rows = await db
    .selectFrom('rateCounters')
    .select(['windowStart', 'count'])
    .where('tenantId', '=', ref.tenantId)
    .where('scope', '=', ref.scope)
    .where('subject', '=', ref.subject)
    .where('windowStart', 'in', [windowStart, previousStart])
    .execute();
  const at = (d: Date): number => rows.find((r) => r.windowStart.getTime() === d.getTime())?.count ?? 0;
  return { count: at(windowStart), previous: at(previousStart) };
}

/** Drops the counters of windows that started before `before` (they no longer decide anything). */
export async function deleteCountersBefore(db: Db, before: Date): Promise<number> {
  const r = await db.deleteFrom('rateCounters').where('windowStart', '<', before).executeTakeFirst();
  return Number(r.numDeletedRows);
}
