// API tokens: hashed at rest, looked up by hash, revoked by id.
import type { Selectable } from 'kysely';
import type { Db } from './database.js';
import type { ApiTokensTable } from './schema.js';

export type TokenRow = Selectable<ApiTokensTable>;

export interface NewToken {
  readonly id: string;
  readonly name: string;
  readonly tokenHash: Uint8Array;
  readonly role: TokenRow['role'];
  readonly scopes: readonly string[];
  readonly bootstrap: boolean;
  readonly createdAt: Date;
  readonly createdBy: string;
  readonly expiresAt: Date | null;
  readonly userId: string;
  readonly tenant: string | null;
}

export async function insertToken(db: Db, token: NewToken & { readonly mac: Uint8Array }): Promise<TokenRow> {
  return db
    .insertInto('apiTokens')
    .values({ ...token, scopes: JSON.stringify(token.scopes), revokedAt: null })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findTokenByHash(db: Db, tokenHash: Uint8Array): Promise<TokenRow | undefined> {
  return db.selectFrom('apiTokens').selectAll().where('tokenHash', '=', tokenHash).executeTakeFirst();
}

export async function findTokenById(db: Db, id: string): Promise<TokenRow | undefined> {
  return db.selectFrom('apiTokens').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function setTokenMac(db: Db, id: string, mac: Uint8Array): Promise<void> {
  await db.updateTable('apiTokens').set({ mac }).where('id', '=', id).execute();
}

export async function listTokens(db: Db): Promise<TokenRow[]> {
  return db.selectFrom('apiTokens').selectAll().orderBy('createdAt').orderBy('id').execute();
}

export async function revokeToken(db: Db, id: string, at: Date): Promise<TokenRow | undefined> {
  return db
    .updateTable('apiTokens')
    .set({ revokedAt: at, mac: null })
    .where('id', '=', id)
    .where('revokedAt', 'is', null)
    .returningAll()
    .executeTakeFirst();
}

/** Whether any admin token exists at all (revoked or not): bootstrap happens only on a fresh install. */
export async function anyAdminTokenEver(db: Db): Promise<boolean> {
  const row = await db.selectFrom('apiTokens').select('id').where('role', '=', 'admin').limit(1).executeTakeFirst();
  return row !== undefined;
}

/** Revokes every live token of `userId` that acts in `tenant` (a member's removal); returns their hashes. */
export async function revokeUserTenantTokens(db: Db, userId: string, tenant: string, at: Date): Promise<Uint8Array[]> {
  const rows = await db
    .updateTable('apiTokens')
    .set({ revokedAt: at, mac: null })
    .where('userId', '=', userId)
    .where('tenant', '=', tenant)
    .where('revokedAt', 'is', null)
    .returning('tokenHash')
    .execute();
  return rows.map((r) => r.tokenHash);
}

/** Revokes the bootstrap token(s) still live; returns their ids. */
export async function revokeBootstrapTokens(db: Db, at: Date): Promise<string[]> {
  const rows = await db.updateTable('apiTokens').set({ revokedAt: at, mac: null }).where('bootstrap', '=', true).where('revokedAt', 'is', null).returning('id').execute();
  return rows.map((r) => r.id);
}
