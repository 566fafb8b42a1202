// Keys and key versions: the only SQL that touches the vault tables. Works inside or outside a transaction.
import { sql, type Selectable } from 'kysely';
import { mapStoreErrors, type Db } from './database.js';
import type { KeysTable, KeyVersionsTable } from './schema.js';

export type KeyRow = Selectable<KeysTable>;
export type KeyVersionRow = Selectable<KeyVersionsTable>;

export interface NewKey {
  readonly id: string;
  readonly name: string;
  readonly kind: KeyRow['kind'];
  readonly description: string;
  readonly labels: Record<string, string>;
  readonly origin: KeyRow['origin'];
  readonly tenant: string;
  readonly at: Date;
}

/** Throws DuplicateRowError when the name is taken. */
export async function insertKey(db: Db, key: NewKey): Promise<KeyRow> {
  return mapStoreErrors('keys', () =>
    db
      .insertInto('keys')
      .values({
        id: key.id,
        name: key.name,
        kind: key.kind,
        description: key.description,
        labels: JSON.stringify(key.labels),
        state: 'active',
        origin: key.origin,
        tenant: key.tenant,
        currentVersion: 1,
        createdAt: key.at,
        updatedAt: key.at,
        destroyedAt: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow(),
  );
}

export async function insertKeyVersion(
  db: Db,
  row: { keyId: string; version: number; kekId: string; sealed: Uint8Array; at: Date },
): Promise<void> {
  await db
    .insertInto('keyVersions')
    .values({ keyId: row.keyId, version: row.version, state: 'active', kekId: row.kekId, sealed: row.sealed, createdAt: row.at, destroyedAt: null })
    .execute();
}

export async function findKeyById(db: Db, id: string, opts: { forUpdate?: boolean } = {}): Promise<KeyRow | undefined> {
  let q = db.selectFrom('keys').selectAll().where('id', '=', id);
  if (opts.forUpdate) q = q.forUpdate();
  return q.executeTakeFirst();
}

export async function findKeyByName(db: Db, tenant: string, name: string): Promise<KeyRow | undefined> {
  return db.selectFrom('keys').selectAll().where('tenant', '=', tenant).where('name', '=', name).executeTakeFirst();
}

export interface KeyListFilter {
  readonly tenant: string;
  readonly kind?: KeyRow['kind'];
  readonly state?: KeyRow['state'];
  readonly labels?: Record<string, string>;
  readonly limit: number;
  /** Opaque position from a previous page: (createdAt, id) of its last row. */
  readonly after?: { createdAt: Date; id: string };
}

export async function listKeys(db: Db, filter: KeyListFilter): Promise<KeyRow[]> {
  let q = db.selectFrom('keys').selectAll().where('tenant', '=', filter.tenant);
  if (filter.kind) q = q.where('kind', '=', filter.kind);
  if (filter.state) q = q.where('state', '=', filter.state);
  if (filter.labels && Object.keys(filter.labels).length > 0) {
    q = q.where(sql<boolean>`labels @> ${JSON.stringify(filter.labels)}::jsonb`);
  }
  if (filter.after) {
    const { createdAt, id } = filter.after;
    q = q.where((eb) => eb.or([eb('createdAt', '>', createdAt), eb.and([eb('createdAt', '=', createdAt), eb('id', '>', id)])]));
  }
  return q.orderBy('createdAt').orderBy('id').limit(filter.limit).execute();
}

export async function updateKey(
  db: Db,
  id: string,
  patch: {
    description?: string;
    labels?: Record<string, string>;
    state?: KeyRow['state'];
    destroyedAt?: Date;
    policyId?: string | null;
    rateLimitPerMinute?: number | null;
    policyVersion?: number | null;
    destroyAfter?: Date | null;
    stateBeforeDestroy?: 'active' | 'disabled' | null;
    alertHold?: boolean;
    /** The binding's row MAC (broker/row-mac.ts); set with every change of policyId/policyVersion. */
    mac?: Uint8Array | null;
  },
  at: Date,
): Promise<KeyRow> {
  return db
    .updateTable('keys')
    .set({
      ...(patch.description !== undefined ? { description: patch.description } : {}),
      ...(patch.labels !== undefined ? { labels: JSON.stringify(patch.labels) } : {}),
      ...(patch.state !== undefined ? { state: patch.state } : {}),
      ...(patch.destroyedAt !== undefined ? { destroyedAt: patch.destroyedAt } : {}),
      ...(patch.policyId !== undefined ? { policyId: patch.policyId } : {}),
      ...(patch.rateLimitPerMinute !== undefined ? { rateLimitPerMinute: patch.rateLimitPerMinute } : {}),
      ...(patch.policyVersion !== undefined ? { policyVersion: patch.policyVersion } : {}),
      ...(patch.destroyAfter !== undefined ? { destroyAfter: patch.destroyAfter } : {}),
      ...(patch.stateBeforeDestroy !== undefined ? { stateBeforeDestroy: patch.stateBeforeDestroy } : {}),
      ...(patch.alertHold !== undefined ? { alertHold: patch.alertHold } : {}),
      ...(patch.mac !== undefined ? { mac: patch.mac } : {}),
      updatedAt: at,
      revision: sql<number>`revision + 1`,
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Adds one to the key's current version under its row lock; concurrent callers get distinct versions. */
export async function nextKeyVersion(db: Db, id: string, at: Date): Promise<KeyRow> {
  return db
    .updateTable('keys')
    .set({ currentVersion: sql<number>`current_version + 1`, revision: sql<number>`revision + 1`, updatedAt: at })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findKeyVersion(db: Db, keyId: string, version: number): Promise<KeyVersionRow | undefined> {
  return db.selectFrom('keyVersions').selectAll().where('keyId', '=', keyId).where('version', '=', version).executeTakeFirst();
}

export async function listKeyVersions(db: Db, keyId: string): Promise<Omit<KeyVersionRow, 'sealed'>[]> {
  return db
    .selectFrom('keyVersions')
    .select(['keyId', 'version', 'state', 'kekId', 'createdAt', 'destroyedAt'])
    .where('keyId', '=', keyId)
    .orderBy('version')
    .execute();
}

/** Crypto-shredding: erase every version's sealed material; the rows stay as tombstones. */
export async function destroyKeyVersions(db: Db, keyId: string, at: Date): Promise<number> {
  const result = await db
    .updateTable('keyVersions')
    .set({ state: 'destroyed', sealed: null, kekId: null, destroyedAt: at })
    .where('keyId', '=', keyId)
    .where('state', '=', 'active')
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Versions still sealed under a KEK other than `kekId` (for rewrapping after a KEK rotation). */
export async function versionsNotUnderKek(db: Db, kekId: string, limit: number): Promise<KeyVersionRow[]> {
  return db
    .selectFrom('keyVersions')
    .selectAll()
    .where('kekId', 'is not', null)
    .where('kekId', '<>', kekId)
    .orderBy('keyId')
    .orderBy('version')
    .limit(limit)
    .execute();
}

/** Replaces a version's sealed record only if it is still sealed under `fromKekId` (no lost updates). */
export async function resealKeyVersion(
  db: Db,
  row: { keyId: string; version: number; fromKekId: string; toKekId: string; sealed: Uint8Array },
): Promise<boolean> {
  const result = await db
    .updateTable('keyVersions')
    .set({ kekId: row.toKekId, sealed: row.sealed })
    .where('keyId', '=', row.keyId)
    .where('version', '=', row.version)
    .where('kekId', '=', row.fromKekId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function countVersionsByKek(db: Db): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('keyVersions')
    .select(['kekId', sql<number>`count(*)::int`.as('count')])
    .where('kekId', 'is not', null)
    .groupBy('kekId')
    .execute();
  return new Map(rows.map((r) => [r.kekId as string, Number(r.count)]));
}

export interface KeyForRelease {
  readonly key: KeyRow;
  /** The pinned version of the bound policy (undefined: unbound or the policy was deleted). */
  readonly policyVersion: number | undefined;
  /** The requested (or current) version's row, if it exists. */
  readonly version: Pick<KeyVersionRow, 'version' | 'state' | 'kekId' | 'sealed'> | undefined;
  /** The release-cache epoch (migration 0017) these rows were read at, in the same statement. */
  readonly epoch: string;
}

/**
 * One round trip for a release: the key, its policy's current version, the version's sealed material, and
 * the release-cache epoch read in the same snapshot (a change committed after it bumps the epoch).
 */
export async function findKeyForRelease(db: Db, keyId: string, version: number | undefined): Promise<KeyForRelease | undefined> {
  const row = await db
    .selectFrom('keys as k')
    .leftJoin('policies as p', (j) => j.onRef('p.id', '=', 'k.policyId').on('p.deletedAt', 'is', null))
    .leftJoin('keyVersions as v', (j) =>
      j.onRef('v.keyId', '=', 'k.id').on(version === undefined ? sql<boolean>`v.version = k.current_version` : sql<boolean>`v.version = ${version}`),
    )
    .selectAll('k')
    .select(['p.id as livePolicyId', 'v.version as vVersion', 'v.state as vState', 'v.kekId as vKekId', 'v.sealed as vSealed'])
    .select(sql<string>`(SELECT epoch::text FROM release_cache_epoch)`.as('cacheEpoch'))
    .where('k.id', '=', keyId)
    .executeTakeFirst();
  if (!row) return undefined;
  const { livePolicyId, vVersion, vState, vKekId, vSealed, cacheEpoch, ...key } = row;
  return {
    epoch: cacheEpoch,
    key: key as KeyRow,
    policyVersion: livePolicyId !== null && livePolicyId !== undefined && key.policyVersion !== null ? key.policyVersion : undefined,
    version: vVersion === null || vVersion === undefined ? undefined : { version: vVersion, state: vState as KeyVersionRow['state'], kekId: vKekId ?? null, sealed: vSealed ?? null },
  };
}

/** Keys bound to a policy (any pinned version), locked for a re-pin. */
export async function keysBoundToPolicy(db: Db, policyId: string): Promise<KeyRow[]> {
  return db.selectFrom('keys').selectAll().where('policyId', '=', policyId).where('state', '<>', 'destroyed').orderBy('id').forUpdate().execute();
}

/** Re-pins one bound key to `version` with the binding's new row MAC. */
export async function repinKey(db: Db, id: string, version: number, mac: Uint8Array | null, at: Date): Promise<void> {
  await db
    .updateTable('keys')
    .set({ policyVersion: version, mac, updatedAt: at, revision: sql<number>`revision + 1` })
    .where('id', '=', id)
    .execute();
}

/** Every bound key's binding (the row-MAC backfill). */
export async function allBindings(db: Db): Promise<{ id: string; policyId: string | null; policyVersion: number | null }[]> {
  return db.selectFrom('keys').select(['id', 'policyId', 'policyVersion']).where('policyId', 'is not', null).execute();
}

export async function setKeyMac(db: Db, id: string, mac: Uint8Array | null): Promise<void> {
  await db.updateTable('keys').set({ mac }).where('id', '=', id).execute();
}

/** Keys whose destruction window ended at `now`, locked (skipping rows another replica is sweeping). */
export async function keysDueForDestruction(db: Db, now: Date, limit: number): Promise<KeyRow[]> {
  return db
    .selectFrom('keys')
    .selectAll()
    .where('state', '=', 'pending-destroy')
    .where('destroyAfter', '<=', now)
    .orderBy('destroyAfter')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
}
