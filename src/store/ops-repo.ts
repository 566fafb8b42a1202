// Read-only queries for `keyward doctor` (docs/operations.md "keyward doctor"): the database's clock, the
// keyward processes connected to it, one sealed version per KEK, and the collateral that expires next.
import { sql } from 'kysely';
import type { Db } from './database.js';

export async function databaseNow(db: Db): Promise<Date> {
  const r = await sql<{ now: Date }>`select now() as now`.execute(db);
  return new Date(r.rows[0]?.now ?? 0);
}

/** keyward processes connected to this Postgres database (application_name keyward/<host>/<pid>), with their connection counts. */
export async function keywardConnections(db: Db): Promise<{ name: string; connections: number }[]> {
  const r = await sql<{ name: string; connections: number }>`
    select application_name as name, count(*)::int as connections from pg_stat_activity
    where datname = current_database() and application_name like 'keyward/%' and pid <> pg_backend_pid()
    group by application_name order by application_name`.execute(db);
  return r.rows;
}

/** One sealed key version under each KEK that seals any (to prove the KEK opens what it sealed). */
export async function oneSealedVersionPerKek(db: Db): Promise<{ kekId: string; keyId: string; version: number; sealed: Uint8Array }[]> {
  const r = await sql<{ kekId: string; keyId: string; version: number; sealed: Uint8Array }>`
    select distinct on (kek_id) kek_id as "kekId", key_id as "keyId", version, sealed from key_versions
    where kek_id is not null and sealed is not null order by kek_id, key_id, version`.execute(db);
  return r.rows;
}

/** Collateral already past its validity, and the item whose validity ends next. */
export async function collateralExpiry(db: Db, now: Date): Promise<{ stale: number; total: number; next: { label: string; kind: string; validUntil: Date } | undefined }> {
  const counts = await db
    .selectFrom('collateralItems')
    .select((eb) => [eb.fn.countAll<number>().as('total'), eb.fn.count<number>(eb.case().when('validUntil', '<', now).then(1).end()).as('stale')])
    .executeTakeFirstOrThrow();
  const next = await db
    .selectFrom('collateralItems')
    .select(['label', 'kind', 'validUntil'])
    .where('validUntil', '>=', now)
    .orderBy('validUntil')
    .limit(1)
    .executeTakeFirst();
  return {
    stale: Number(counts.stale),
    total: Number(counts.total),
    next: next?.validUntil ? { label: next.label, kind: String(next.kind), validUntil: next.validUntil } : undefined,
  };
}
