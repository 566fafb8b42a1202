// Challenges (nonces) and attestation-token signing keys.
import type { Selectable } from 'kysely';
import type { Db } from './database.js';
import type { NoncesTable, SigningKeysTable } from './schema.js';

export type NonceRow = Selectable<NoncesTable>;
export type SigningKeyRow = Selectable<SigningKeysTable>;

export async function insertNonce(db: Db, row: { nonceHash: Uint8Array; createdAt: Date; expiresAt: Date; client: string | null }): Promise<void> {
  await db.insertInto('nonces').values({ ...row, consumedAt: null }).execute();
}

export async function findNonce(db: Db, nonceHash: Uint8Array): Promise<NonceRow | undefined> {
  return db.selectFrom('nonces').selectAll().where('nonceHash', '=', nonceHash).executeTakeFirst();
}

/** Drops nonces that expired before `before` (they can no longer be consumed or replayed). */
export async function deleteExpiredNonces(db: Db, before: Date): Promise<number> {
  const r = await db.deleteFrom('nonces').where('expiresAt', '<', before).executeTakeFirst();
  return Number(r.numDeletedRows);
}

export async function listSigningKeys(db: Db, now: Date): Promise<SigningKeyRow[]> {
  return db.selectFrom('signingKeys').selectAll().where('expiresAt', '>', now).orderBy('createdAt', 'desc').execute();
}

export async function insertSigningKey(db: Db, row: Omit<SigningKeyRow, 'publicJwk'> & { publicJwk: Record<string, unknown> }): Promise<void> {
  await db.insertInto('signingKeys').values({ ...row, publicJwk: JSON.stringify(row.publicJwk) }).execute();
}

export async function signingKeysNotUnderKek(db: Db, kekId: string): Promise<SigningKeyRow[]> {
  return db.selectFrom('signingKeys').selectAll().where('kekId', '<>', kekId).execute();
}

export async function resealSigningKey(db: Db, kid: string, fromKekId: string, toKekId: string, sealed: Uint8Array): Promise<boolean> {
  const r = await db
    .updateTable('signingKeys')
    .set({ kekId: toKekId, sealedPrivate: sealed })
    .where('kid', '=', kid)
    .where('kekId', '=', fromKekId)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}
