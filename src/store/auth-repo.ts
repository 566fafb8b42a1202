// WebAuthn challenges, passkeys, sessions and keyward's sealed service keys: the SQL of people's login.
// Works inside or outside a transaction.
import { sql, type Selectable } from 'kysely';
import type { Db } from './database.js';
import type { PasskeysTable, ServiceKeysTable, SessionsTable, WebauthnChallengesTable } from './schema.js';

export type ChallengeRow = Selectable<WebauthnChallengesTable>;
export type PasskeyRow = Selectable<PasskeysTable>;
export type SessionRow = Selectable<SessionsTable>;
export type ServiceKeyRow = Selectable<ServiceKeysTable>;

export async function insertChallenge(
  db: Db,
  row: { challenge: string; purpose: ChallengeRow['purpose']; userId: string | null; enrolmentCodeHash?: Uint8Array; sessionId?: string; approvalId?: string; randomness?: Uint8Array; at: Date; expiresAt: Date },
): Promise<void> {
  await db
    .insertInto('webauthnChallenges')
    .values({
      challenge: row.challenge,
      purpose: row.purpose,
      userId: row.userId,
      enrolmentCodeHash: row.enrolmentCodeHash ?? null,
      sessionId: row.sessionId ?? null,
      approvalId: row.approvalId ?? null,
      randomness: row.randomness ?? null,
      createdAt: row.at,
      expiresAt: row.expiresAt,
      consumedAt: null,
    })
    .execute();
}

/** Consumes a challenge of `purpose` once, if it has not expired at `now`; undefined otherwise. */
export async function consumeChallenge(db: Db, challenge: string, purpose: ChallengeRow['purpose'], now: Date): Promise<ChallengeRow | undefined> {
  return db
    .updateTable('webauthnChallenges')
    .set({ consumedAt: now })
    .where('challenge', '=', challenge)
    .where('purpose', '=', purpose)
    .where('consumedAt', 'is', null)
    .where('expiresAt', '>', now)
    .returningAll()
    .executeTakeFirst();
}

export async function purgeChallenges(db: Db, before: Date): Promise<void> {
  await db.deleteFrom('webauthnChallenges').where('expiresAt', '<', before).execute();
}

export async function insertPasskey(db: Db, row: { credentialId: string; userId: string; publicKey: Uint8Array; signCount: number; transports: string[]; at: Date; mac: Uint8Array }): Promise<void> {
  await db
    .insertInto('passkeys')
    .values({ credentialId: row.credentialId, userId: row.userId, publicKey: row.publicKey, signCount: row.signCount, transports: JSON.stringify(row.transports), createdAt: row.at, lastUsedAt: null, mac: row.mac })
    .execute();
}

export async function findPasskey(db: Db, credentialId: string): Promise<PasskeyRow | undefined> {
  return db.selectFrom('passkeys').selectAll().where('credentialId', '=', credentialId).executeTakeFirst();
}

export async function listUserPasskeys(db: Db, userId: string): Promise<PasskeyRow[]> {
  return db.selectFrom('passkeys').selectAll().where('userId', '=', userId).orderBy('createdAt').execute();
}

/** Advances the sign counter only from the value that was verified against (no lost or replayed update). */
export async function advancePasskeyCounter(db: Db, credentialId: string, from: number, to: number, at: Date): Promise<boolean> {
  const result = await db
    .updateTable('passkeys')
    .set({ signCount: to, lastUsedAt: at })
    .where('credentialId', '=', credentialId)
    .where(sql<boolean>`sign_count = ${from}`)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function insertSession(db: Db, row: { id: string; userId: string; credentialId: string; csrfHash: Uint8Array; at: Date }): Promise<void> {
  await db
    .insertInto('sessions')
    .values({ id: row.id, userId: row.userId, credentialId: row.credentialId, csrfHash: row.csrfHash, loginAt: row.at, lastSeenAt: row.at, revokedAt: null })
    .execute();
}

export async function findSession(db: Db, id: string): Promise<SessionRow | undefined> {
  return db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function touchSession(db: Db, id: string, at: Date): Promise<void> {
  await db.updateTable('sessions').set({ lastSeenAt: at }).where('id', '=', id).execute();
}

export async function revokeSession(db: Db, id: string, at: Date): Promise<void> {
  await db.updateTable('sessions').set({ revokedAt: at }).where('id', '=', id).where('revokedAt', 'is', null).execute();
}

export async function revokeUserSessions(db: Db, userId: string, at: Date): Promise<number> {
  const result = await db.updateTable('sessions').set({ revokedAt: at }).where('userId', '=', userId).where('revokedAt', 'is', null).executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export async function findServiceKey(db: Db, purpose: ServiceKeyRow['purpose']): Promise<ServiceKeyRow | undefined> {
  return db.selectFrom('serviceKeys').selectAll().where('purpose', '=', purpose).executeTakeFirst();
}

/** Inserts the service key unless another replica did first; returns the row that won. */
export async function insertServiceKey(db: Db, row: { purpose: ServiceKeyRow['purpose']; kekId: string; sealed: Uint8Array; at: Date }): Promise<ServiceKeyRow> {
  await db
    .insertInto('serviceKeys')
    .values({ purpose: row.purpose, kekId: row.kekId, sealed: row.sealed, createdAt: row.at })
    .onConflict((oc) => oc.column('purpose').doNothing())
    .execute();
  return db.selectFrom('serviceKeys').selectAll().where('purpose', '=', row.purpose).executeTakeFirstOrThrow();
}

export async function serviceKeysNotUnderKek(db: Db, kekId: string): Promise<ServiceKeyRow[]> {
  return db.selectFrom('serviceKeys').selectAll().where('kekId', '<>', kekId).execute();
}

export async function resealServiceKey(db: Db, purpose: ServiceKeyRow['purpose'], fromKekId: string, toKekId: string, sealed: Uint8Array): Promise<boolean> {
  const result = await db.updateTable('serviceKeys').set({ kekId: toKekId, sealed }).where('purpose', '=', purpose).where('kekId', '=', fromKekId).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
