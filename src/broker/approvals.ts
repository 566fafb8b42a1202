// Quorum approvals (docs/design.md "Admin side"): a sensitive change is described as one exact change
// JSON (tenant, approval id, expiry, the state it changes from and everything it applies); with quorum 1
// it applies at once, otherwise it waits until `quorum` distinct owners have signed its digest with a
// passkey, and is then re-checked and applied in one transaction with the audit rows of every approver.
import { createHash, randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { KeywardError, RequestError } from '../errors.js';
import { isUuid } from '../encoding.js';
import type { Db } from '../store/database.js';
import * as repo from '../store/approvals-repo.js';
import type { ApprovalRow, VoteRow } from '../store/approvals-repo.js';
import { countPlatformAdminsWithPasskey, findTenant } from '../store/tenants-repo.js';
import { appendAudit, canonicalJson, type Actor } from './audit.js';
import { isPrincipal, type Principal } from './api-tokens.js';
import type { RowMac } from './row-mac.js';
import type { RequestContext } from './vault.js';

/** How long an approval waits for its quorum. */
export const APPROVAL_TTL_MS = 24 * 60 * 60 * 1000;
/** The domain separation label of approval challenges. */
export const APPROVAL_LABEL = 'keyward-approval:v1';

/** The exact change an approval is for; its digest is SHA-256 of its RFC 8785 canonical JSON. */
export interface ChangeJson {
  readonly version: 'keyward-change:v1';
  readonly operation: string;
  readonly tenant: string | null;
  readonly approvalId: string | null;
  readonly expiresAt: string | null;
  readonly requestedBy: string;
  readonly target: string;
  readonly from: unknown;
  readonly to: unknown;
}

export interface Described {
  readonly tenant: string | null;
  readonly target: string;
  readonly from: unknown;
  readonly to: unknown;
  /** Applies without approvals (a platform admin's owner invite before any owner enrolled). */
  readonly immediate?: boolean;
  /** Returned to the requester with a pending approval (e.g. an invite's enrolment code). */
  readonly extra?: Record<string, unknown>;
}

export interface ApplyContext {
  readonly actor: Actor;
  readonly requestId: string | null;
  readonly approvalId: string | null;
  readonly approvers: readonly VoteRow[];
}

export interface SensitiveOperation<I, R> {
  readonly name: string;
  /** Reads and checks the current state (under row locks) and describes the change. */
  describe(trx: Db, ctx: RequestContext, input: I): Promise<Described>;
  /** Re-checks that the state is still `change.from` (else ERR_APPROVAL_STALE) and applies `change.to`. */
  apply(trx: Db, change: ChangeJson, ctx: ApplyContext): Promise<R>;
  /**
   * Work that cannot run inside the apply transaction (a KEK rotation's rewrap of every record), run once
   * it committed; its result is what the caller sees.
   */
  afterCommit?(applied: R, ctx: ApplyContext): Promise<R>;
}

export interface ApprovalInfo {
  readonly id: string;
  readonly tenant: string | null;
  readonly operation: string;
  readonly target: string;
  readonly digest: string;
  readonly required: number;
  readonly approvedBy: string[];
  readonly state: ApprovalRow['state'] | 'expired';
  readonly requestedBy: string;
  readonly createdAt: string;
  readonly expiresAt: string;
}

export type Performed<R> = { readonly applied: R } | { readonly approval: ApprovalInfo; readonly extra?: Record<string, unknown> };

export function changeDigest(change: unknown): string {
  return createHash('sha256').update(canonicalJson(change), 'utf8').digest('hex');
}

/** challenge = SHA-256("keyward-approval:v1" ‖ digest (32 bytes) ‖ 16 random bytes), base64url. */
export function approvalChallenge(digest: string, randomness: Uint8Array): string {
  return createHash('sha256').update(APPROVAL_LABEL, 'utf8').update(Buffer.from(digest, 'hex')).update(randomness).digest('base64url');
}

export function stale(what: string): RequestError {
  return new RequestError('ERR_APPROVAL_STALE', `The state this change was approved against has changed (${what}); request it again.`);
}

function toInfo(row: ApprovalRow, votes: readonly VoteRow[], now: Date): ApprovalInfo {
  const state = row.state === 'pending' && row.expiresAt <= now ? 'expired' : row.state;
  return {
    id: row.id,
    tenant: row.tenant,
    operation: row.operation,
    target: row.target,
    digest: row.digest,
    required: row.required,
    approvedBy: votes.map((v) => v.userId),
    state,
    requestedBy: row.requestedBy,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt.toISOString(),
  };
}

export class Approvals {
  // Operations have their own input and result types; the registry only routes by name.
  private readonly ops = new Map<string, SensitiveOperation<never, unknown>>();

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    /** Row MACs of approvals, votes and tenants; the people side's writers use it too. */
    readonly rowMac: RowMac,
    /** KEYWARD_PLATFORM_QUORUM: distinct platform admins who approve a platform change (tenant null). */
    private readonly platformQuorum = 1,
  ) {}

  register<I, R>(op: SensitiveOperation<I, R>): void {
    this.ops.set(op.name, op as unknown as SensitiveOperation<never, unknown>);
  }

  private op(name: string): SensitiveOperation<never, unknown> {
    const op = this.ops.get(name);
    if (!op) throw new RequestError('ERR_APPROVAL_NOT_FOUND', `No operation "${name}".`);
    return op;
  }

  /**
   * A tenant's quorum, or for platform changes (tenant null) the platform quorum. Why the refusal: a
   * platform quorum above the platform admins holding a passkey could never be met; failing the request
   * names the problem instead of leaving approvals that can only expire.
   */
  private async quorumOf(db: Db, tenant: string | null): Promise<number> {
    if (tenant !== null) {
      // Why not a default: a tenant row that is missing or whose MAC fails (a lowered quorum) must not mean 1.
      const row = this.rowMac.intactOrAbsent(await findTenant(db, tenant), (t) => this.rowMac.tenantIntact(t), 'tenants', (t) => t.name);
      if (!row) throw new RequestError('ERR_TENANT_NOT_FOUND', `No tenant "${tenant}" exists.`);
      return row.quorum;
    }
    if (this.platformQuorum <= 1) return 1;
    const admins = await countPlatformAdminsWithPasskey(db);
    if (admins < this.platformQuorum) {
      throw new RequestError('ERR_PLATFORM_QUORUM_UNREACHABLE', `KEYWARD_PLATFORM_QUORUM is ${this.platformQuorum} but only ${admins} platform admins hold a passkey; invite and enrol more (POST /v1/platform/members).`);
    }
    return this.platformQuorum;
  }

  /** Applies a sensitive change at once (quorum 1) or records it as a pending approval. */
  async perform<I, R>(ctx: RequestContext, name: string, input: I): Promise<Performed<R>> {
    const op = this.op(name) as unknown as SensitiveOperation<I, R>;
    const now = this.clock.now();
    const out = await this.db.transaction().execute(async (trx): Promise<Performed<R>> => {
      const d = await op.describe(trx, ctx, input);
      const required = d.immediate ? 1 : await this.quorumOf(trx, d.tenant);
      const base = { version: 'keyward-change:v1' as const, operation: name, tenant: d.tenant, requestedBy: ctx.actor.id, target: d.target, from: d.from, to: d.to };
      if (required <= 1) {
        const change: ChangeJson = { ...base, approvalId: null, expiresAt: null };
        return { applied: await op.apply(trx, change, { actor: ctx.actor, requestId: ctx.requestId, approvalId: null, approvers: [] }) };
      }
      const id = randomUUID();
      const expiresAt = new Date(now.getTime() + APPROVAL_TTL_MS);
      const change: ChangeJson = { ...base, approvalId: id, expiresAt: expiresAt.toISOString() };
      const digest = changeDigest(change);
      const fields = {
        id,
        tenant: d.tenant,
        operation: name,
        target: d.target,
        change: change as unknown as Record<string, unknown>,
        digest,
        required,
        requestedBy: ctx.actor.id,
        requestedByUser: isPrincipal(ctx.actor) ? ctx.actor.userId : null,
        createdAt: now,
        expiresAt,
      };
      const row = await repo.insertApproval(trx, { ...fields, mac: this.rowMac.approval(fields) });
      await appendAudit(trx, { actor: ctx.actor, action: 'approval.request', target: id, outcome: 'success', requestId: ctx.requestId, details: { tenant: d.tenant, operation: name, target: d.target, digest, required } }, now);
      return { approval: toInfo(row, [], now), ...(d.extra ? { extra: d.extra } : {}) };
    });
    if (!('applied' in out) || !op.afterCommit) return out;
    return { applied: await op.afterCommit(out.applied, { actor: ctx.actor, requestId: ctx.requestId, approvalId: null, approvers: [] }) };
  }

  /** Whether `p` may see (and, with a session, sign or reject) approvals of `tenant`. */
  private assertEligible(p: Principal, row: ApprovalRow, action: 'read' | 'decide'): void {
    const ok = row.tenant === null ? p.platformRole === 'admin' : action === 'read' ? p.tenantRoles.has(row.tenant) : p.tenantRoles.get(row.tenant) === 'owner';
    if (!ok) throw new RequestError(row.tenant === null ? 'ERR_AUTH_FORBIDDEN' : 'ERR_TENANT_FORBIDDEN', 'This principal cannot act on this approval.');
  }

  private async row(db: Db, ctx: RequestContext, id: string, action: 'read' | 'decide', forUpdate = false): Promise<ApprovalRow> {
    const found = isUuid(id) ? await repo.findApproval(db, id, { forUpdate }) : undefined;
    const row = this.rowMac.intactOrAbsent(found, (a) => this.rowMac.approvalIntact(a), 'approvals', (a) => a.id);
    if (!row) throw new RequestError('ERR_APPROVAL_NOT_FOUND', 'No approval with this id exists.');
    if (!isPrincipal(ctx.actor)) throw new RequestError('ERR_AUTH_REQUIRED', 'Authentication is required.');
    this.assertEligible(ctx.actor, row, action);
    return row;
  }

  async list(ctx: RequestContext, state?: ApprovalRow['state']): Promise<{ items: ApprovalInfo[] }> {
    if (!isPrincipal(ctx.actor)) throw new RequestError('ERR_AUTH_REQUIRED', 'Authentication is required.');
    const now = this.clock.now();
    const listed = await repo.listApprovals(this.db, { tenants: [...ctx.actor.tenantRoles.keys()], platform: ctx.actor.platformRole === 'admin', now, ...(state ? { state } : {}) });
    const rows = listed.filter((r) => this.rowMac.intactOrAbsent(r, (a) => this.rowMac.approvalIntact(a), 'approvals', (a) => a.id));
    return { items: await Promise.all(rows.map(async (r) => toInfo(r, await this.votes(this.db, r.id), now))) };
  }

  /** The approval and its exact change JSON: clients recompute the digest from it before signing. */
  async get(ctx: RequestContext, id: string): Promise<{ approval: ApprovalInfo; change: Record<string, unknown> }> {
    const row = await this.row(this.db, ctx, id, 'read');
    return { approval: toInfo(row, await this.votes(this.db, row.id), this.clock.now()), change: row.change };
  }

  /** A pending, unexpired approval the caller may sign, whose stored change still hashes to its digest. */
  async forSigning(ctx: RequestContext, id: string, db: Db = this.db, forUpdate = false): Promise<ApprovalRow> {
    const row = await this.row(db, ctx, id, 'decide', forUpdate);
    const p = ctx.actor as Principal;
    if (!p.session) throw new RequestError('ERR_APPROVAL_PASSKEY_REQUIRED', 'Approvals are signed with a passkey in a session; API tokens can request, never approve.');
    if (row.state !== 'pending') throw new RequestError('ERR_APPROVAL_NOT_PENDING', `The approval is ${row.state}.`);
    if (row.expiresAt <= this.clock.now()) throw new RequestError('ERR_APPROVAL_EXPIRED', 'The approval has expired; request the change again.');
    // Why: the row is in the database, which is not trusted; the signed digest must be of this change.
    if (changeDigest(row.change) !== row.digest) throw new RequestError('ERR_APPROVAL_DIGEST_MISMATCH', 'The stored change does not match its digest.');
    return row;
  }

  /**
   * Records a verified passkey signature of the approval's digest and, when the quorum is reached,
   * re-checks and applies the change in the same transaction as every approver's audit row.
   */
  async approve(ctx: RequestContext, id: string, vote: Omit<VoteRow, 'approvalId' | 'at' | 'mac'>): Promise<{ approval: ApprovalInfo; applied?: unknown }> {
    const now = this.clock.now();
    let out: { approval: ApprovalInfo; applied?: unknown; operation?: string; approvers?: readonly VoteRow[] };
    try {
      out = await this.db.transaction().execute(async (trx) => {
        const row = await this.forSigning(ctx, id, trx, true);
        const votes = await this.votes(trx, id);
        if (votes.some((v) => v.userId === vote.userId)) throw new RequestError('ERR_APPROVAL_ALREADY_APPROVED', 'This owner has already approved; another owner must.');
        const cast = { ...vote, approvalId: id, at: now };
        await repo.insertVote(trx, { ...cast, mac: this.rowMac.vote(cast) });
        await appendAudit(trx, { actor: ctx.actor, action: 'approval.approve', target: id, outcome: 'success', requestId: ctx.requestId, details: { tenant: row.tenant, digest: row.digest, credentialId: vote.credentialId } }, now);
        const all = await this.votes(trx, id);
        if (all.length < row.required) return { approval: toInfo(row, all, now) };
        const change = row.change as unknown as ChangeJson;
        const applied = await this.op(row.operation).apply(trx, change, { actor: ctx.actor, requestId: ctx.requestId, approvalId: id, approvers: all });
        for (const v of all) {
          await appendAudit(trx, {
            actor: { id: `user:${v.userId}`, name: v.userId },
            action: 'approval.signature',
            target: id,
            outcome: 'success',
            requestId: ctx.requestId,
            details: {
              tenant: row.tenant,
              digest: row.digest,
              randomness: Buffer.from(v.randomness).toString('hex'),
              credentialId: v.credentialId,
              publicKey: Buffer.from(v.publicKey).toString('base64url'),
              authenticatorData: v.authenticatorData,
              clientDataJSON: v.clientDataJson,
              signature: v.signature,
            },
          }, now);
        }
        await repo.decideApproval(trx, id, 'applied', now, ctx.actor.id, null);
        await appendAudit(trx, { actor: ctx.actor, action: 'approval.apply', target: id, outcome: 'success', requestId: ctx.requestId, details: { tenant: row.tenant, operation: row.operation, digest: row.digest, approvers: all.map((v) => v.userId) } }, now);
        return { approval: { ...toInfo(row, all, now), state: 'applied' as const }, applied, operation: row.operation, approvers: all };
      });
    } catch (err) {
      // A change whose state moved on can never apply: mark it failed (nothing of it was written).
      if (err instanceof KeywardError && err.code === 'ERR_APPROVAL_STALE') await this.fail(id, err.message);
      throw err;
    }
    const { operation, approvers, ...result } = out;
    const op = operation ? this.op(operation) : undefined;
    if (!op?.afterCommit || !('applied' in result)) return result;
    return { ...result, applied: await op.afterCommit(result.applied, { actor: ctx.actor, requestId: ctx.requestId, approvalId: id, approvers: approvers ?? [] }) };
  }

  /** An approval's votes; a vote whose MAC fails was not cast through keyward and does not count (alarmed). */
  private async votes(db: Db, approvalId: string): Promise<VoteRow[]> {
    const all = await repo.listVotes(db, approvalId);
    return all.filter((v) => this.rowMac.intactOrAbsent(v, (x) => this.rowMac.voteIntact(x), 'approval_votes', (x) => `${x.approvalId}:${x.userId}`));
  }

  private async fail(id: string, reason: string): Promise<void> {
    const at = this.clock.now();
    await this.db.transaction().execute(async (trx) => {
      const row = await repo.findApproval(trx, id, { forUpdate: true });
      if (row?.state !== 'pending') return;
      await repo.decideApproval(trx, id, 'failed', at, 'system', reason);
      await appendAudit(trx, { actor: { id: 'system', name: 'keyward' }, action: 'approval.fail', target: id, outcome: 'failure', requestId: null, details: { tenant: row.tenant, reason } }, at);
    });
  }

  /** Any owner (or, for platform changes, platform admin) may reject a pending approval. */
  async reject(ctx: RequestContext, id: string): Promise<ApprovalInfo> {
    const now = this.clock.now();
    return this.db.transaction().execute(async (trx) => {
      const row = await this.row(trx, ctx, id, 'decide', true);
      if (row.state !== 'pending') throw new RequestError('ERR_APPROVAL_NOT_PENDING', `The approval is ${row.state}.`);
      await repo.decideApproval(trx, id, 'rejected', now, ctx.actor.id, null);
      await appendAudit(trx, { actor: ctx.actor, action: 'approval.reject', target: id, outcome: 'success', requestId: ctx.requestId, details: { tenant: row.tenant, digest: row.digest } }, now);
      return { ...toInfo(row, await this.votes(trx, id), now), state: 'rejected' as const };
    });
  }
}
