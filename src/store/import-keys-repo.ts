// BYOK import keys: public JWK plus the private key sealed under a KEK.
import type { Selectable } from 'kysely';
import type { Db } from './database.js';
import type { ImportKeysTable, ImportTokensTable } from './schema.js';

export type ImportKeyRow = Selectable<ImportKeysTable>;

export async function currentImportKey(db: Db, alg: string, now: Date): Promise<ImportKeyRow | undefined> {
  return db
    .selectFrom('importKeys')
    .selectAll()
    .where('alg', '=', alg)
    .where('expiresAt', '>', now)
    .orderBy('createdAt', 'desc')
    .limit(1)
    .executeTakeFirst();
}

export async function findImportKey(db: Db, kid: string): Promise<ImportKeyRow | undefined> {
  return db.selectFrom('importKeys').selectAll().where('kid', '=', kid).executeTakeFirst();
}

export async function insertImportKey(
  db: Db,
  row: { kid: string; alg: string; publicJwk: Record<string, unknown>; kekId: string; sealedPrivate: Uint8Array; createdAt: Date; expiresAt: Date },
): Promise<void> {
  await db.insertInto('importKeys').values({ ...row, publicJwk: JSON.stringify(row.publicJwk) }).execute();
}

export async function importKeysNotUnderKek(db: Db, kekId: string): Promise<ImportKeyRow[]> {
  return db.selectFrom('importKeys').selectAll().where('kekId', '<>', kekId).execute();
}

export async function resealImportKey(db: Db, kid: string, fromKekId: string, toKekId: string, sealed: Uint8Array): Promise<boolean> {
  const r = await db
    .updateTable('importKeys')
    .set({ kekId: toKekId, sealedPrivate: sealed })
    .where('kid', '=', kid)
    .where('kekId', '=', fromKekId)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export type ImportTokenRow = Selectable<ImportTokensTable>;

export async function insertImportToken(db: Db, row: Omit<ImportTokenRow, 'usedAt'>): Promise<void> {
  await db.insertInto('importTokens').values({ ...row, usedAt: null }).execute();
}

/** Marks the token used if it is unused, unexpired at `now` and issued for `keyId`; undefined otherwise. */
export async function consumeImportToken(db: Db, tokenHash: Uint8Array, keyId: string, now: Date): Promise<ImportTokenRow | undefined> {
  return db
    .updateTable('importTokens')
    .set({ usedAt: now })
    .where('tokenHash', '=', tokenHash)
    .where('keyId', '=', keyId)
    .where('usedAt', 'is', null)
    .where('expiresAt', '>', now)
    .returningAll()
    .executeTakeFirst();
}
