// Tenants, users, their platform and tenant roles, enrolment codes and passkey counts: the SQL of the
// admin side's membership tables. Works inside or outside a transaction.
import { sql, type Selectable } from 'kysely';
import { mapStoreErrors, type Db } from './database.js';
import type { EnrolmentCodesTable, PasskeysTable, TenantMembersTable, TenantsTable, UsersTable } from './schema.js';

export type TenantRow = Selectable<TenantsTable>;
export type UserRow = Selectable<UsersTable>;
export type TenantMemberRow = Selectable<TenantMembersTable>;
export type EnrolmentCodeRow = Selectable<EnrolmentCodesTable>;

/** The id of the bootstrap admin's user (migrations/0004_tenants.sql). */
export const BOOTSTRAP_USER_ID = '00000000-0000-4000-8000-000000000001';

/** Throws DuplicateRowError when the name is taken. */
export async function insertTenant(db: Db, row: { name: string; quorum: number; at: Date; createdBy: string; mac: Uint8Array }): Promise<TenantRow> {
  return mapStoreErrors('tenants', () =>
    db.insertInto('tenants').values({ name: row.name, quorum: row.quorum, createdAt: row.at, createdBy: row.createdBy, mac: row.mac }).returningAll().executeTakeFirstOrThrow(),
  );
}

export async function findTenant(db: Db, name: string, opts: { forUpdate?: boolean } = {}): Promise<TenantRow | undefined> {
  let q = db.selectFrom('tenants').selectAll().where('name', '=', name);
  if (opts.forUpdate) q = q.forUpdate();
  return q.executeTakeFirst();
}

export async function listTenants(db: Db, names?: readonly string[]): Promise<TenantRow[]> {
  if (names !== undefined && names.length === 0) return [];
  let q = db.selectFrom('tenants').selectAll();
  if (names !== undefined) q = q.where('name', 'in', names);
  return q.orderBy('name').execute();
}

export async function insertUser(db: Db, row: { id: string; name: string; at: Date; createdBy: string }): Promise<UserRow> {
  return db.insertInto('users').values({ id: row.id, name: row.name, createdAt: row.at, createdBy: row.createdBy }).returningAll().executeTakeFirstOrThrow();
}

export async function findUser(db: Db, id: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export interface UserRoles {
  readonly platform: 'admin' | 'operator' | null;
  readonly tenants: ReadonlyMap<string, 'owner' | 'auditor'>;
}

/** A platform role (tenant null) or a tenant role, with its row MAC. */
export interface MembershipRow {
  readonly tenant: string | null;
  readonly userId: string;
  readonly role: string;
  readonly mac: Uint8Array | null;
}

/**
 * A user's current platform role and tenant roles (one round trip); `keep` drops rows that must not
 * count (those whose row MAC fails).
 */
export async function findUserRoles(db: Db, userId: string, keep: (m: MembershipRow) => boolean): Promise<UserRoles> {
  const rows = await sql<MembershipRow>`
    SELECT NULL::text AS tenant, user_id AS "userId", role, mac FROM platform_members WHERE user_id = ${userId}
    UNION ALL
    SELECT tenant, user_id AS "userId", role, mac FROM tenant_members WHERE user_id = ${userId}`.execute(db);
  let platform: UserRoles['platform'] = null;
  const tenants = new Map<string, 'owner' | 'auditor'>();
  for (const r of rows.rows) {
    if (!keep(r)) continue;
    if (r.tenant === null) platform = r.role as 'admin' | 'operator';
    else tenants.set(r.tenant, r.role as 'owner' | 'auditor');
  }
  return { platform, tenants };
}

export async function insertPlatformMember(db: Db, row: { userId: string; role: 'admin' | 'operator'; at: Date; mac: Uint8Array }): Promise<void> {
  await db.insertInto('platformMembers').values({ userId: row.userId, role: row.role, createdAt: row.at, mac: row.mac }).execute();
}

export async function insertTenantMember(db: Db, row: { tenant: string; userId: string; role: 'owner' | 'auditor'; at: Date; createdBy: string; mac: Uint8Array }): Promise<void> {
  await db.insertInto('tenantMembers').values({ tenant: row.tenant, userId: row.userId, role: row.role, createdAt: row.at, createdBy: row.createdBy, mac: row.mac }).execute();
}

export async function deleteTenantMember(db: Db, tenant: string, userId: string): Promise<TenantMemberRow | undefined> {
  return db.deleteFrom('tenantMembers').where('tenant', '=', tenant).where('userId', '=', userId).returningAll().executeTakeFirst();
}

export async function findTenantMember(db: Db, tenant: string, userId: string): Promise<TenantMemberRow | undefined> {
  return db.selectFrom('tenantMembers').selectAll().where('tenant', '=', tenant).where('userId', '=', userId).executeTakeFirst();
}

export interface MemberListing {
  readonly userId: string;
  readonly name: string;
  readonly role: 'owner' | 'auditor';
  readonly createdAt: Date;
  readonly createdBy: string;
  readonly passkeys: number;
  /** The newest enrolment code's expiry and whether it is still usable (null: none issued). */
  readonly inviteExpiresAt: Date | null;
  readonly inviteOpen: boolean;
}

/** A tenant's members with their passkey count and the state of their newest invite. */
export async function listTenantMembers(db: Db, tenant: string, now: Date): Promise<MemberListing[]> {
  const rows = await sql<{ userId: string; name: string; role: 'owner' | 'auditor'; createdAt: Date; createdBy: string; passkeys: number; inviteExpiresAt: Date | null; inviteOpen: boolean }>`
    SELECT m.user_id AS "userId", u.name, m.role, m.created_at AS "createdAt", m.created_by AS "createdBy",
           (SELECT count(*)::int FROM passkeys p WHERE p.user_id = m.user_id) AS passkeys,
           (SELECT max(e.expires_at) FROM enrolment_codes e WHERE e.user_id = m.user_id) AS "inviteExpiresAt",
           EXISTS (SELECT 1 FROM enrolment_codes e WHERE e.user_id = m.user_id AND e.used_at IS NULL
                   AND e.revoked_at IS NULL AND e.expires_at > ${now}) AS "inviteOpen"
    FROM tenant_members m JOIN users u ON u.id = m.user_id
    WHERE m.tenant = ${tenant}
    ORDER BY m.created_at, m.user_id`.execute(db);
  return rows.rows.map((r) => ({ ...r, passkeys: Number(r.passkeys), createdAt: new Date(r.createdAt), inviteExpiresAt: r.inviteExpiresAt ? new Date(r.inviteExpiresAt) : null }));
}

/** How many owners of the tenant hold at least one passkey. */
export async function countOwnersWithPasskey(db: Db, tenant: string): Promise<number> {
  const row = await sql<{ n: number }>`
    SELECT count(DISTINCT m.user_id)::int AS n FROM tenant_members m JOIN passkeys p ON p.user_id = m.user_id
    WHERE m.tenant = ${tenant} AND m.role = 'owner'`.execute(db);
  return Number(row.rows[0]?.n ?? 0);
}

/** How many platform admins hold at least one passkey (the bootstrap token's user holds none). */
export async function countPlatformAdminsWithPasskey(db: Db): Promise<number> {
  const row = await sql<{ n: number }>`
    SELECT count(DISTINCT m.user_id)::int AS n FROM platform_members m JOIN passkeys p ON p.user_id = m.user_id
    WHERE m.role = 'admin'`.execute(db);
  return Number(row.rows[0]?.n ?? 0);
}

export async function countPasskeys(db: Db, userId: string): Promise<number> {
  const row = await db.selectFrom('passkeys').select(sql<number>`count(*)::int`.as('n')).where('userId', '=', userId).executeTakeFirst();
  return Number(row?.n ?? 0);
}

export async function insertEnrolmentCode(
  db: Db,
  row: { codeHash: Uint8Array; userId: string; tenant: string | null; at: Date; createdBy: string; expiresAt: Date; mac: Uint8Array },
): Promise<void> {
  await db
    .insertInto('enrolmentCodes')
    .values({ codeHash: row.codeHash, userId: row.userId, tenant: row.tenant, createdAt: row.at, createdBy: row.createdBy, expiresAt: row.expiresAt, usedAt: null, revokedAt: null, mac: row.mac })
    .execute();
}

export async function revokeEnrolmentCodes(db: Db, userId: string, at: Date): Promise<number> {
  const result = await db
    .updateTable('enrolmentCodes')
    .set({ revokedAt: at })
    .where('userId', '=', userId)
    .where('usedAt', 'is', null)
    .where('revokedAt', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Marks a code used if it is still usable at `now`; undefined when it is unknown, used, revoked or expired. */
export async function consumeEnrolmentCode(db: Db, codeHash: Uint8Array, now: Date): Promise<EnrolmentCodeRow | undefined> {
  return db
    .updateTable('enrolmentCodes')
    .set({ usedAt: now })
    .where('codeHash', '=', codeHash)
    .where('usedAt', 'is', null)
    .where('revokedAt', 'is', null)
    .where('expiresAt', '>', now)
    .returningAll()
    .executeTakeFirst();
}

export async function findEnrolmentCode(db: Db, codeHash: Uint8Array): Promise<EnrolmentCodeRow | undefined> {
  return db.selectFrom('enrolmentCodes').selectAll().where('codeHash', '=', codeHash).executeTakeFirst();
}

export async function updateTenantQuorum(db: Db, name: string, quorum: number, mac: Uint8Array): Promise<TenantRow> {
  return db.updateTable('tenants').set({ quorum, mac }).where('name', '=', name).returningAll().executeTakeFirstOrThrow();
}

export async function updateTenantMemberRole(db: Db, tenant: string, userId: string, role: 'owner' | 'auditor', mac: Uint8Array): Promise<TenantMemberRow | undefined> {
  return db.updateTable('tenantMembers').set({ role, mac }).where('tenant', '=', tenant).where('userId', '=', userId).returningAll().executeTakeFirst();
}

/** The migration-seeded rows that still hold exactly their seeded values (and no MAC). */
export async function seedRows(db: Db): Promise<{ tenant: boolean; memberships: { tenant: string | null; userId: string; role: string }[] }> {
  const tenant = await db.selectFrom('tenants').select('name').where('name', '=', 'default').where('quorum', '=', 1).where('createdBy', '=', 'system').where('mac', 'is', null).executeTakeFirst();
  const platform = await db.selectFrom('platformMembers').select(['userId', 'role']).where('userId', '=', BOOTSTRAP_USER_ID).where('role', '=', 'admin').where('mac', 'is', null).execute();
  const owner = await db
    .selectFrom('tenantMembers')
    .select(['tenant', 'userId', 'role'])
    .where('tenant', '=', 'default')
    .where('userId', '=', BOOTSTRAP_USER_ID)
    .where('role', '=', 'owner')
    .where('createdBy', '=', 'system')
    .where('mac', 'is', null)
    .execute();
  return { tenant: tenant !== undefined, memberships: [...platform.map((m) => ({ ...m, tenant: null })), ...owner] };
}

/** Every row the people-side row MACs cover (the 0016 backfill). */
export async function allPeopleRows(db: Db): Promise<{ tenants: TenantRow[]; memberships: MembershipRow[]; passkeys: Selectable<PasskeysTable>[]; enrolmentCodes: EnrolmentCodeRow[] }> {
  const platform = await db.selectFrom('platformMembers').select(['userId', 'role', 'mac']).execute();
  const tenant = await db.selectFrom('tenantMembers').select(['tenant', 'userId', 'role', 'mac']).execute();
  return {
    tenants: await db.selectFrom('tenants').selectAll().execute(),
    memberships: [...platform.map((m) => ({ ...m, tenant: null })), ...tenant],
    passkeys: await db.selectFrom('passkeys').selectAll().execute(),
    enrolmentCodes: await db.selectFrom('enrolmentCodes').selectAll().execute(),
  };
}

export async function setTenantMac(db: Db, name: string, mac: Uint8Array): Promise<void> {
  await db.updateTable('tenants').set({ mac }).where('name', '=', name).execute();
}

export async function setMembershipMac(db: Db, m: { tenant: string | null; userId: string }, mac: Uint8Array): Promise<void> {
  if (m.tenant === null) await db.updateTable('platformMembers').set({ mac }).where('userId', '=', m.userId).execute();
  else await db.updateTable('tenantMembers').set({ mac }).where('tenant', '=', m.tenant).where('userId', '=', m.userId).execute();
}

export async function setPasskeyMac(db: Db, credentialId: string, mac: Uint8Array): Promise<void> {
  await db.updateTable('passkeys').set({ mac }).where('credentialId', '=', credentialId).execute();
}

export async function setEnrolmentCodeMac(db: Db, codeHash: Uint8Array, mac: Uint8Array): Promise<void> {
  await db.updateTable('enrolmentCodes').set({ mac }).where('codeHash', '=', codeHash).execute();
}
