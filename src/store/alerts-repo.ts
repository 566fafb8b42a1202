// Anomaly-alert state (migrations/0012_alerts.sql): the TEE identities each key was released to, windowed
// release and denial counters, and a key's hold. Works inside or outside a transaction.
import { sql } from 'kysely';
import type { Db } from './database.js';
import type { KeyRow } from './keys-repo.js';

export interface AlertCounterRef {
  readonly tenantId: string;
  readonly scope: 'releases' | 'denials';
  readonly subject: string;
}

/**
 * Records that `keyId` was released to each identity and returns the ones never recorded before: one
 * INSERT ... ON CONFLICT DO NOTHING, so of two replicas racing on a new identity exactly one sees it as new.
 */
export async function recordReleaseIdentities(db: Db, keyId: string, identities: readonly string[], at: Date): Promise<string[]> {
  const unique = [...new Set(identities)].sort();
  if (unique.length === 0) return [];
  const rows = await db
    .insertInto('releaseIdentities')
    .values(unique.map((identity) => ({ keyId, identity, firstSeen: at })))
    .onConflict((oc) => oc.columns(['keyId', 'identity']).doNothing())
    .returning('identity')
    .execute();
  return rows.map((r) => r.identity);
}

/** Adds one to the counter of `windowStart` (creating it at 1) and returns the new count, atomically. */
export async function incrementAlertCounter(db: Db, ref: AlertCounterRef, windowStart: Date): Promise<number> {
  const row = await db
    .insertInto('alertCounters')
    .values({ ...ref, windowStart, count: 1 })
    .onConflict((oc) => oc.columns(['tenantId', 'scope', 'subject', 'windowStart']).doUpdateSet({ count: sql<number>`alert_counters.count + 1` }))
    .returning('count')
    .executeTakeFirstOrThrow();
  return row.count;
}

/** The sum of a counter over the windows that started in [from, to). */
export async function sumAlertCounter(db: Db, ref: AlertCounterRef, from: Date, to: Date): Promise<number> {
  const row = await db
    .selectFrom('alertCounters')
    .select(sql<string | null>`sum(count)`.as('total'))
    .where('tenantId', '=', ref.tenantId)
    .where('scope', '=', ref.scope)
    .where('subject', '=', ref.subject)
    .where('windowStart', '>=', from)
    .where('windowStart', '<', to)
    .executeTakeFirst();
  return Number(row?.total ?? 0);
}

/** Drops counters of windows that started before `before`. */
export async function deleteAlertCountersBefore(db: Db, before: Date): Promise<number> {
  const r = await db.deleteFrom('alertCounters').where('windowStart', '<', before).executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** Holds a key whose owner turned alertHold on and that is not held yet; returns the held row, or undefined. */
export async function holdKey(db: Db, keyId: string, heldBy: string, at: Date): Promise<KeyRow | undefined> {
  return db
    .updateTable('keys')
    .set({ heldAt: at, heldBy, updatedAt: at, revision: sql<number>`revision + 1` })
    .where('id', '=', keyId)
    .where('alertHold', '=', true)
    .where('heldAt', 'is', null)
    .where('state', '<>', 'destroyed')
    .returningAll()
    .executeTakeFirst();
}

/** Lifts the hold placed at `heldAt` (a later hold is a new one, not lifted by an approval of this one). */
export async function liftKeyHold(db: Db, keyId: string, heldAt: Date, at: Date): Promise<KeyRow | undefined> {
  return db
    .updateTable('keys')
    .set({ heldAt: null, heldBy: null, updatedAt: at, revision: sql<number>`revision + 1` })
    .where('id', '=', keyId)
    .where('heldAt', '=', heldAt)
    .returningAll()
    .executeTakeFirst();
}
