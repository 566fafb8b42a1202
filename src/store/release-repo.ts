// The consumed set of stateless challenges (nonces) and attestation-token signing keys.
import { sql, type Selectable } from 'kysely';
import type { Db } from './database.js';
import type { NoncesTable, SigningKeysTable } from './schema.js';

export type NonceRow = Selectable<NoncesTable>;
export type SigningKeyRow = Selectable<SigningKeysTable>;

/** A nonce to consume: SHA-256 of its decoded bytes and the expiry it carries. */
export interface NonceUse {
  readonly nonceHash: Uint8Array;
  readonly expiresAt: Date;
  readonly client: string | null;
}

/**
 * Consumes a stateless nonce: inserts it into the consumed set unless it is there already or its expiry
 * has passed by the DATABASE's clock (one clock for every replica). Returns undefined when it could not be
 * consumed; in a transaction, a concurrent consumer of the same nonce waits for this one to end. Consumed,
 * it returns the release-cache epoch of the statement's snapshot (migration 0017), so a release learns
 * whether its cached key rows are still current without a statement of its own.
 */
export async function consumeNonce(db: Db, use: NonceUse): Promise<{ epoch: string } | undefined> {
  const result = await sql<{ epoch: string }>`INSERT INTO nonces (nonce_hash, created_at, expires_at, consumed_at, client)
    SELECT ${use.nonceHash}, now(), ${use.expiresAt}, now(), ${use.client}
    WHERE ${use.expiresAt}::timestamptz > now()
    ON CONFLICT (nonce_hash) DO NOTHING
    RETURNING (SELECT epoch::text FROM release_cache_epoch) AS epoch`.execute(db);
  const row = result.rows[0];
  return row === undefined ? undefined : { epoch: row.epoch };
}

/** Why a nonce could not be consumed: already used, or expired by the database's clock. */
export async function nonceState(db: Db, use: NonceUse): Promise<{ consumed: boolean; expired: boolean }> {
  const result = await sql<{ consumed: boolean; expired: boolean }>`SELECT
    EXISTS (SELECT 1 FROM nonces WHERE nonce_hash = ${use.nonceHash}) AS consumed,
    ${use.expiresAt}::timestamptz <= now() AS expired`.execute(db);
  const row = result.rows[0];
  return { consumed: row?.consumed === true, expired: row?.expired === true };
}

/** Whether a nonce was consumed already (a cheap look before the signature work). */
export async function isNonceConsumed(db: Db, nonceHash: Uint8Array): Promise<boolean> {
  const row = await db.selectFrom('nonces').select('nonceHash').where('nonceHash', '=', nonceHash).executeTakeFirst();
  return row !== undefined;
}

/**
 * Drops consumed nonces whose expiry is more than `skewSeconds` in the past by the database's clock: by
 * then every replica refuses them as expired, so forgetting them cannot let one be used twice.
 */
export async function deleteExpiredNonces(db: Db, skewSeconds: number): Promise<number> {
  const r = await db
    .deleteFrom('nonces')
    .where('expiresAt', '<', sql<Date>`now() - make_interval(secs => ${skewSeconds})`)
    .executeTakeFirst();
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
