// Release policies and their versions, and which policy each key is bound to.
import type { Selectable } from 'kysely';
import { mapStoreErrors, type Db } from './database.js';
import type { PoliciesTable, PolicyVersionsTable } from './schema.js';

export type PolicyRow = Selectable<PoliciesTable>;
export type PolicyVersionRow = Selectable<PolicyVersionsTable>;

/** Throws DuplicateRowError when the name is taken. */
export async function insertPolicy(db: Db, row: { id: string; tenant: string; name: string; at: Date }): Promise<PolicyRow> {
  return mapStoreErrors('policies', () =>
    db
      .insertInto('policies')
      .values({ id: row.id, tenant: row.tenant, name: row.name, currentVersion: 1, createdAt: row.at, updatedAt: row.at, deletedAt: null })
      .returningAll()
      .executeTakeFirstOrThrow(),
  );
}

export async function insertPolicyVersion(
  db: Db,
  row: { policyId: string; version: number; document: unknown; source: string | null; sha256: string; at: Date; createdBy: string; mac: Uint8Array },
): Promise<void> {
  await db
    .insertInto('policyVersions')
    .values({
      policyId: row.policyId,
      version: row.version,
      document: JSON.stringify(row.document),
      source: row.source,
      sha256: row.sha256,
      createdAt: row.at,
      createdBy: row.createdBy,
      mac: row.mac,
    })
    .execute();
}

export async function findPolicy(db: Db, id: string, opts: { forUpdate?: boolean } = {}): Promise<PolicyRow | undefined> {
  let q = db.selectFrom('policies').selectAll().where('id', '=', id).where('deletedAt', 'is', null);
  if (opts.forUpdate) q = q.forUpdate();
  return q.executeTakeFirst();
}

export async function findPolicyByName(db: Db, tenant: string, name: string): Promise<PolicyRow | undefined> {
  return db.selectFrom('policies').selectAll().where('tenant', '=', tenant).where('name', '=', name).executeTakeFirst();
}

export async function findPolicyVersion(db: Db, policyId: string, version: number): Promise<PolicyVersionRow | undefined> {
  return db.selectFrom('policyVersions').selectAll().where('policyId', '=', policyId).where('version', '=', version).executeTakeFirst();
}

export async function listPolicies(db: Db, tenant: string, limit: number, afterName?: string): Promise<PolicyRow[]> {
  let q = db.selectFrom('policies').selectAll().where('tenant', '=', tenant).where('deletedAt', 'is', null);
  if (afterName !== undefined) q = q.where('name', '>', afterName);
  return q.orderBy('name').limit(limit).execute();
}

export async function bumpPolicyVersion(db: Db, id: string, name: string, at: Date): Promise<PolicyRow> {
  const current = await db.selectFrom('policies').select('currentVersion').where('id', '=', id).executeTakeFirstOrThrow();
  return mapStoreErrors('policies', () =>
    db
      .updateTable('policies')
      .set({ currentVersion: current.currentVersion + 1, name, updatedAt: at })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow(),
  );
}

export async function markPolicyDeleted(db: Db, id: string, at: Date): Promise<void> {
  await db.updateTable('policies').set({ deletedAt: at, updatedAt: at }).where('id', '=', id).execute();
}

export async function keysBoundTo(db: Db, policyId: string): Promise<string[]> {
  const rows = await db.selectFrom('keys').select('id').where('policyId', '=', policyId).where('state', '<>', 'destroyed').execute();
  return rows.map((r) => r.id);
}

/** Every policy version's MAC'd columns (the row-MAC backfill). */
export async function allPolicyVersions(db: Db): Promise<Pick<PolicyVersionRow, 'policyId' | 'version' | 'sha256' | 'document'>[]> {
  return db.selectFrom('policyVersions').select(['policyId', 'version', 'sha256', 'document']).execute();
}

export async function setPolicyVersionMac(db: Db, policyId: string, version: number, mac: Uint8Array): Promise<void> {
  await db.updateTable('policyVersions').set({ mac }).where('policyId', '=', policyId).where('version', '=', version).execute();
}
