// Member changes beside invites and removals (docs/governance.md): changing a member's role and
// re-enrolling an existing member (a new single-use enrolment code, e.g. after losing every passkey).
// Both are member changes under the tenant's quorum; both cancel the tenant's other pending approvals.
import type { Clock } from '../clock.js';
import { RequestError } from '../errors.js';
import { isUuid } from '../encoding.js';
import type { Db } from '../store/database.js';
import * as repo from '../store/tenants-repo.js';
import { cancelPending } from '../store/approvals-repo.js';
import { appendAudit } from './audit.js';
import { isPrincipal, type Principal, type TenantRole, type Tokens } from './api-tokens.js';
import { stale, type Approvals, type Performed, type SensitiveOperation } from './approvals.js';
import { ENROLMENT_TTL_MS, assertMemberAdmin, assertQuorumKept, hashEnrolmentCode, newEnrolmentCode, type Invite } from './tenants.js';
import type { RequestContext } from './vault.js';

interface MemberTarget {
  readonly tenant: string;
  readonly userId: string;
}

function principal(ctx: RequestContext): Principal {
  if (!isPrincipal(ctx.actor)) throw new RequestError('ERR_AUTH_REQUIRED', 'Authentication is required.');
  return ctx.actor;
}

async function findMember(trx: Db, tenant: string, userId: string): Promise<repo.TenantMemberRow> {
  const member = isUuid(userId) ? await repo.findTenantMember(trx, tenant, userId) : undefined;
  if (!member) throw new RequestError('ERR_MEMBER_NOT_FOUND', `No member ${userId} in tenant "${tenant}".`);
  return member;
}

/** Why: demoting an owner who holds a passkey may not leave fewer such owners than the quorum. */
async function assertDemotionKeepsQuorum(trx: Db, tenant: string, userId: string, extra: number): Promise<void> {
  const row = await repo.findTenant(trx, tenant);
  if (row && (await repo.countPasskeys(trx, userId)) > 0) await assertQuorumKept(trx, tenant, row.quorum + extra);
}

export class MemberChanges {
  constructor(
    private readonly clock: Clock,
    private readonly tokens: Tokens,
    private readonly approvals: Approvals,
  ) {
    approvals.register(this.roleOperation());
    approvals.register(this.reenrolOperation());
  }

  /** Changes a member's role (`PATCH /v1/tenants/{t}/members/{userId}`), under the tenant's quorum. */
  async setRole(ctx: RequestContext, tenant: string, userId: string, role: TenantRole): Promise<Performed<{ userId: string; role: TenantRole }>> {
    const out = await this.approvals.perform<MemberTarget & { role: TenantRole }, { userId: string; role: TenantRole }>(ctx, 'member.role', { tenant, userId, role });
    // A token's authority is its scopes ∩ its minter's current roles: cached authorities are re-read.
    this.tokens.forget();
    return out;
  }

  private roleOperation(): SensitiveOperation<MemberTarget & { role: TenantRole }, { userId: string; role: TenantRole }> {
    return {
      name: 'member.role',
      describe: async (trx, ctx, { tenant, userId, role }) => {
        // Why owners only: before any owner enrolled, a platform admin removes and invites instead.
        if ((await assertMemberAdmin(trx, principal(ctx), tenant, undefined)) !== 'owner') {
          throw new RequestError('ERR_TENANT_FORBIDDEN', 'Only the tenant\'s owners change roles.');
        }
        const member = await findMember(trx, tenant, userId);
        if (member.role === role) throw new RequestError('ERR_REQUEST_INVALID', `The member already has the role ${role}.`);
        if (member.role === 'owner') await assertDemotionKeepsQuorum(trx, tenant, userId, 1);
        return { tenant, target: userId, from: { userId, role: member.role }, to: { userId, role } };
      },
      apply: async (trx, change, actx) => {
        const tenant = change.tenant as string;
        const from = change.from as { userId: string; role: TenantRole };
        const to = change.to as { userId: string; role: TenantRole };
        await repo.findTenant(trx, tenant, { forUpdate: true });
        const member = await repo.findTenantMember(trx, tenant, from.userId);
        if (!member || member.role !== from.role) throw stale('the membership changed');
        await repo.updateTenantMemberRole(trx, tenant, to.userId, to.role, this.approvals.rowMac.membership({ tenant, userId: to.userId, role: to.role }));
        if (from.role === 'owner') await assertDemotionKeepsQuorum(trx, tenant, from.userId, 0);
        const at = this.clock.now();
        const cancelled = await cancelPending(trx, tenant, actx.approvalId, at, actx.actor.id);
        await appendAudit(trx, { actor: actx.actor, action: 'member.role', target: to.userId, outcome: 'success', requestId: actx.requestId, details: { tenant, from: from.role, to: to.role, approvalId: actx.approvalId, approvalsCancelled: cancelled } }, at);
        return { userId: to.userId, role: to.role };
      },
    };
  }

  /**
   * Re-enrols an existing member: their open codes are revoked and a new single-use enrolment code issued
   * (`POST /v1/tenants/{t}/members/{userId}/enrolment`), under the tenant's quorum (a platform admin's
   * owner before any owner enrolled: at once). The code works once the change applies.
   */
  async reenrol(ctx: RequestContext, tenant: string, userId: string): Promise<Performed<Invite>> {
    const code = newEnrolmentCode();
    const out = await this.approvals.perform<MemberTarget & { code: string }, Invite>(ctx, 'member.re-enrol', { tenant, userId, code });
    return 'applied' in out ? { applied: { ...out.applied, enrolmentCode: code } } : { ...out, extra: { userId, enrolmentCode: code } };
  }

  private reenrolOperation(): SensitiveOperation<MemberTarget & { code: string }, Invite> {
    return {
      name: 'member.re-enrol',
      describe: async (trx, ctx, { tenant, userId, code }) => {
        const path = await assertMemberAdmin(trx, principal(ctx), tenant, undefined);
        const member = await findMember(trx, tenant, userId);
        if (path === 'platform' && member.role !== 'owner') throw new RequestError('ERR_TENANT_FORBIDDEN', 'A platform admin re-enrols only owners.');
        const codeHash = Buffer.from(hashEnrolmentCode(code)).toString('hex');
        return { tenant, target: userId, from: { userId, role: member.role }, to: { userId, role: member.role, codeHash }, immediate: path === 'platform' };
      },
      apply: async (trx, change, actx) => {
        const tenant = change.tenant as string;
        const to = change.to as { userId: string; role: TenantRole; codeHash: string };
        await repo.findTenant(trx, tenant, { forUpdate: true });
        const member = await repo.findTenantMember(trx, tenant, to.userId);
        if (!member || member.role !== to.role) throw stale('the membership changed');
        const at = this.clock.now();
        const expiresAt = new Date(at.getTime() + ENROLMENT_TTL_MS);
        const revoked = await repo.revokeEnrolmentCodes(trx, to.userId, at);
        const code = { codeHash: new Uint8Array(Buffer.from(to.codeHash, 'hex')), userId: to.userId, tenant, at, createdBy: actx.actor.id, expiresAt };
        await repo.insertEnrolmentCode(trx, { ...code, mac: this.approvals.rowMac.enrolmentCode(code) });
        const cancelled = await cancelPending(trx, tenant, actx.approvalId, at, actx.actor.id);
        await appendAudit(trx, { actor: actx.actor, action: 'member.re-enrol', target: to.userId, outcome: 'success', requestId: actx.requestId, details: { tenant, role: to.role, codesRevoked: revoked, expiresAt: expiresAt.toISOString(), approvalId: actx.approvalId, approvalsCancelled: cancelled } }, at);
        return { userId: to.userId, enrolmentCode: '', expiresAt: expiresAt.toISOString() };
      },
    };
  }
}
