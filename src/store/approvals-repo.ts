// Approvals of sensitive changes and their votes: the SQL of quorum approvals.
import type { Selectable } from 'kysely';
import type { Db } from './database.js';
import type { ApprovalVotesTable, ApprovalsTable } from './schema.js';

export type ApprovalRow = Selectable<ApprovalsTable>;
export type VoteRow = Selectable<ApprovalVotesTable>;

export async function insertApproval(
  db: Db,
  row: Omit<ApprovalRow, 'change' | 'decidedAt' | 'decidedBy' | 'reason' | 'state'> & { change: Record<string, unknown> },
): Promise<ApprovalRow> {
  return db
    .insertInto('approvals')
    .values({ ...row, change: JSON.stringify(row.change), state: 'pending', decidedAt: null, decidedBy: null, reason: null })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findApproval(db: Db, id: string, opts: { forUpdate?: boolean } = {}): Promise<ApprovalRow | undefined> {
  let q = db.selectFrom('approvals').selectAll().where('id', '=', id);
  if (opts.forUpdate) q = q.forUpdate();
  return q.executeTakeFirst();
}

export async function listApprovals(db: Db, filter: { tenants: readonly string[]; platform: boolean; state?: ApprovalRow['state']; now: Date }): Promise<ApprovalRow[]> {
  let q = db.selectFrom('approvals').selectAll();
  q = q.where((eb) =>
    eb.or([
      ...(filter.tenants.length > 0 ? [eb('tenant', 'in', filter.tenants)] : []),
      ...(filter.platform ? [eb('tenant', 'is', null)] : []),
      eb.val(false),
    ]),
  );
  if (filter.state) q = q.where('state', '=', filter.state);
  if (filter.state === 'pending') q = q.where('expiresAt', '>', filter.now);
  return q.orderBy('createdAt', 'desc').limit(500).execute();
}

export async function decideApproval(db: Db, id: string, state: ApprovalRow['state'], at: Date, by: string, reason: string | null): Promise<void> {
  await db.updateTable('approvals').set({ state, decidedAt: at, decidedBy: by, reason }).where('id', '=', id).where('state', '=', 'pending').execute();
}

/** Cancels a tenant's pending approvals (a member or quorum change), except `keep`; returns their ids. */
export async function cancelPending(db: Db, tenant: string, keep: string | null, at: Date, by: string): Promise<string[]> {
  let q = db.updateTable('approvals').set({ state: 'cancelled', decidedAt: at, decidedBy: by, reason: 'a member or quorum change' }).where('tenant', '=', tenant).where('state', '=', 'pending');
  if (keep) q = q.where('id', '<>', keep);
  return (await q.returning('id').execute()).map((r) => r.id);
}

/** Every approval and vote (the 0016 backfill). */
export async function allApprovals(db: Db): Promise<ApprovalRow[]> {
  return db.selectFrom('approvals').selectAll().execute();
}

export async function allVotes(db: Db): Promise<VoteRow[]> {
  return db.selectFrom('approvalVotes').selectAll().execute();
}

export async function setApprovalMac(db: Db, id: string, mac: Uint8Array): Promise<void> {
  await db.updateTable('approvals').set({ mac }).where('id', '=', id).execute();
}

export async function setVoteMac(db: Db, approvalId: string, userId: string, mac: Uint8Array): Promise<void> {
  await db.updateTable('approvalVotes').set({ mac }).where('approvalId', '=', approvalId).where('userId', '=', userId).execute();
}

export async function insertVote(db: Db, row: VoteRow): Promise<void> {
  await db.insertInto('approvalVotes').values(row).execute();
}

export async function listVotes(db: Db, approvalId: string): Promise<VoteRow[]> {
  return db.selectFrom('approvalVotes').selectAll().where('approvalId', '=', approvalId).orderBy('at').execute();
}
