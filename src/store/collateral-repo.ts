// Collateral rows (migrations/0002_collateral.sql): items stored once by SHA-256, the generation counter
// that a trigger bumps on every change, and the fetch clients' key/value cache. Works in or out of a transaction.
import { sql, type Selectable } from 'kysely';
import type { Db } from './database.js';
import type { CollateralItemsTable, CollateralKindColumn, CollateralSourceColumn } from './schema.js';

export type CollateralRow = Selectable<CollateralItemsTable>;
/** A row without its data, for listings. */
export type CollateralMetaRow = Omit<CollateralRow, 'data'>;

export interface NewCollateralRow {
  readonly sha256: Uint8Array;
  readonly kind: CollateralKindColumn;
  readonly label: string;
  readonly series: string;
  readonly details: Record<string, unknown>;
  readonly data: Uint8Array;
  readonly validFrom: Date | null;
  readonly validUntil: Date | null;
  readonly source: CollateralSourceColumn;
  readonly name: string | null;
  readonly uploadedBy: string;
  readonly createdAt: Date;
}

const META_COLUMNS = ['sha256', 'kind', 'label', 'series', 'details', 'validFrom', 'validUntil', 'source', 'name', 'uploadedBy', 'createdAt', 'trustedBy', 'trustedAt'] as const;

/**
 * Inserts rows that are not held yet (by SHA-256) and returns, per input row, the stored row's metadata
 * and whether this call inserted it. Rows must have distinct hashes.
 */
export async function insertCollateral(db: Db, rows: readonly NewCollateralRow[]): Promise<{ row: CollateralMetaRow; inserted: boolean }[]> {
  if (rows.length === 0) return [];
  const inserted = await db
    .insertInto('collateralItems')
    .values(rows.map((r) => ({ ...r, details: JSON.stringify(r.details) })))
    .onConflict((oc) => oc.column('sha256').doNothing())
    .returning(META_COLUMNS)
    .execute();
  const fresh = new Set(inserted.map((r) => Buffer.from(r.sha256).toString('hex')));
  const held = rows.filter((r) => !fresh.has(Buffer.from(r.sha256).toString('hex'))).map((r) => r.sha256);
  const existing = held.length === 0 ? [] : await db.selectFrom('collateralItems').select(META_COLUMNS).where('sha256', 'in', held).execute();
  const byHex = new Map<string, CollateralMetaRow>([...inserted, ...existing].map((r) => [Buffer.from(r.sha256).toString('hex'), r]));
  return rows.map((r) => {
    const hex = Buffer.from(r.sha256).toString('hex');
    // A held row deleted between the two statements is reported as given.
    const { data: _data, ...given } = r;
    return { row: byHex.get(hex) ?? { ...given, trustedBy: null, trustedAt: null }, inserted: fresh.has(hex) };
  });
}

export interface CollateralListFilter {
  readonly kind?: CollateralKindColumn;
  readonly source?: CollateralSourceColumn;
  /** true: only items past validUntil at `now`; false: only items that are not. */
  readonly stale?: boolean;
  readonly now: Date;
  readonly limit: number;
  /** Position after the last row of the previous page. */
  readonly after?: { createdAt: Date; sha256: Uint8Array };
}

export async function listCollateral(db: Db, filter: CollateralListFilter): Promise<CollateralMetaRow[]> {
  let q = db.selectFrom('collateralItems').select(META_COLUMNS);
  if (filter.kind) q = q.where('kind', '=', filter.kind);
  if (filter.source) q = q.where('source', '=', filter.source);
  if (filter.stale === true) q = q.where('validUntil', '<', filter.now);
  if (filter.stale === false) q = q.where((eb) => eb.or([eb('validUntil', 'is', null), eb('validUntil', '>=', filter.now)]));
  if (filter.after) {
    const { createdAt, sha256 } = filter.after;
    q = q.where((eb) => eb.or([eb('createdAt', '>', createdAt), eb.and([eb('createdAt', '=', createdAt), eb('sha256', '>', sha256)])]));
  }
  return q.orderBy('createdAt').orderBy('sha256').limit(filter.limit).execute();
}

/** Deletes one item; returns its metadata, or undefined when it was not held. */
export async function deleteCollateral(db: Db, sha256: Uint8Array): Promise<CollateralMetaRow | undefined> {
  return db.deleteFrom('collateralItems').where('sha256', '=', sha256).returning(META_COLUMNS).executeTakeFirst();
}

/** Marks one item trusted by `by` (kept when it already is); returns its metadata, or undefined when not held. */
export async function trustCollateral(db: Db, sha256: Uint8Array, by: string, at: Date): Promise<CollateralMetaRow | undefined> {
  return db
    .updateTable('collateralItems')
    .set({ trustedBy: by, trustedAt: at })
    .where('sha256', '=', sha256)
    .where('trustedBy', 'is', null)
    .returning(META_COLUMNS)
    .executeTakeFirst()
    .then(async (row) => row ?? db.selectFrom('collateralItems').select(META_COLUMNS).where('sha256', '=', sha256).executeTakeFirst());
}

/** Held items with their data, by SHA-256 (absent ones are left out). */
export async function loadCollateral(db: Db, sha256s: readonly Uint8Array[]): Promise<CollateralRow[]> {
  if (sha256s.length === 0) return [];
  return db.selectFrom('collateralItems').selectAll().where('sha256', 'in', [...sha256s]).execute();
}

/** Every held item with its data (the broker's snapshot). */
export async function loadAllCollateral(db: Db): Promise<CollateralRow[]> {
  return db.selectFrom('collateralItems').selectAll().orderBy('createdAt').orderBy('sha256').execute();
}

/** The change counter: any insert, update or delete of collateral_items raises it. */
export async function readCollateralGeneration(db: Db): Promise<number> {
  const row = await db.selectFrom('collateralState').select('generation').where('singleton', '=', true).executeTakeFirstOrThrow();
  return Number(row.generation);
}

/** Every collateral floor: series → the highest version accepted. */
export async function readCollateralFloors(db: Db): Promise<Map<string, number>> {
  const rows = await db.selectFrom('collateralFloors').select(['series', 'number']).execute();
  return new Map(rows.map((r) => [r.series, Number(r.number)]));
}

/** Raises floors to the given versions (never lowers one); one statement. */
export async function raiseCollateralFloors(db: Db, versions: readonly { series: string; number: number }[], at: Date): Promise<void> {
  // One row per series: an upsert may not touch the same row twice in one statement.
  const highest = new Map<string, number>();
  for (const v of versions) highest.set(v.series, Math.max(v.number, highest.get(v.series) ?? -1));
  if (highest.size === 0) return;
  await db
    .insertInto('collateralFloors')
    .values([...highest].map(([series, number]) => ({ series, number, updatedAt: at })))
    .onConflict((oc) =>
      oc.column('series').doUpdateSet({
        number: sql`greatest(collateral_floors.number, excluded.number)`,
        updatedAt: sql`case when excluded.number > collateral_floors.number then excluded.updated_at else collateral_floors.updated_at end`,
      }),
    )
    .execute();
}

export async function readCacheEntry(db: Db, key: string): Promise<{ data: Uint8Array; fetchedAt: Date } | undefined> {
  const row = await db.selectFrom('collateralCache').select(['data', 'fetchedAt']).where('key', '=', key).executeTakeFirst();
  return row ? { data: new Uint8Array(row.data), fetchedAt: row.fetchedAt } : undefined;
}

export async function writeCacheEntry(db: Db, key: string, data: Uint8Array, fetchedAt: Date): Promise<void> {
  await db
    .insertInto('collateralCache')
    .values({ key, data, fetchedAt })
    .onConflict((oc) => oc.column('key').doUpdateSet({ data: sql`excluded.data`, fetchedAt: sql`excluded.fetched_at` }))
    .execute();
}
