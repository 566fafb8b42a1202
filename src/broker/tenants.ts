// Tenants and their members (docs/design.md "Admin side"): a platform admin creates tenants and invites
// their first owners until one of them enrols a passkey; from then on only the tenant's owners manage its
// members. Invites are single-use enrolment codes, stored as SHA-256, valid 24 h, revocable.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { RequestError } from '../errors.js';
import { isUuid } from '../encoding.js';
import type { Db } from '../store/database.js';
import { DuplicateRowError } from '../store/database.js';
import * as repo from '../store/tenants-repo.js';
import { revokeUserTenantTokens } from '../store/tokens-repo.js';
import { revokeUserSessions } from '../store/auth-repo.js';
import { appendAudit } from './audit.js';
import { assertTenantScope, isPrincipal, type Principal, type TenantRole, type Tokens } from './api-tokens.js';
import type { RequestContext } from './vault.js';
import { stale, type Approvals, type Performed, type SensitiveOperation } from './approvals.js';
import { cancelPending } from '../store/approvals-repo.js';

/** How long an enrolment code stays usable. */
export const ENROLMENT_TTL_MS = 24 * 60 * 60 * 1000;

export interface TenantInfo {
  readonly name: string;
  readonly quorum: number;
  readonly createdAt: string;
  /** The caller's role in the tenant (null: none; a platform admin sees every tenant's name). */
  readonly role: TenantRole | null;
}

export interface MemberInfo {
  readonly userId: string;
  readonly name: string;
  readonly role: TenantRole;
  /** `invited`: no passkey yet (see `inviteOpen`); `active`: holds at least one passkey. */
  readonly state: 'invited' | 'active';
  readonly passkeys: number;
  readonly inviteOpen: boolean;
  readonly inviteExpiresAt: string | null;
  readonly createdAt: string;
  readonly createdBy: string;
}

export interface Invite {
  readonly userId: string;
  readonly enrolmentCode: string;
  readonly expiresAt: string;
}

export function hashEnrolmentCode(code: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(code, 'utf8').digest());
}

export function newEnrolmentCode(): string {
  return `kwe_${randomBytes(24).toString('base64url')}`;
}

function principal(ctx: RequestContext): Principal {
  if (!isPrincipal(ctx.actor)) throw new RequestError('ERR_AUTH_REQUIRED', 'Authentication is required.');
  return ctx.actor;
}

/**
 * Whether the caller may manage the tenant's members: an owner of it, or a platform admin while no
 * owner has enrolled a passkey (then only for owner invites). Runs under the tenant's row lock so an
 * enrolment and an invite cannot interleave.
 */
export async function assertMemberAdmin(trx: Db, p: Principal, tenant: string, role: TenantRole | undefined): Promise<'owner' | 'platform'> {
  const row = await repo.findTenant(trx, tenant, { forUpdate: true });
  if (p.tenantRoles.get(tenant) === 'owner') {
    assertTenantScope(p, tenant, 'members:write');
    return 'owner';
  }
  if (p.platformRole !== 'admin' || !p.scopes.has('tenants:admin')) throw new RequestError('ERR_TENANT_FORBIDDEN', `This principal cannot manage the members of tenant "${tenant}".`);
  if (!row) throw new RequestError('ERR_TENANT_NOT_FOUND', `No tenant "${tenant}" exists.`);
  // Why: once an owner holds a passkey the tenant is theirs; the platform can no longer add anyone.
  if ((await repo.countOwnersWithPasskey(trx, tenant)) > 0) {
    throw new RequestError('ERR_TENANT_OWNERS_ENROLLED', `An owner of tenant "${tenant}" has enrolled; only its owners manage its members now.`);
  }
  if (role !== undefined && role !== 'owner') throw new RequestError('ERR_TENANT_FORBIDDEN', 'A platform admin invites only owners.');
  return 'platform';
}

/** Why: removing an owner may not leave fewer owners with a passkey than the quorum needs. */
export async function assertQuorumKept(trx: Db, tenant: string, quorum: number): Promise<void> {
  const owners = await repo.countOwnersWithPasskey(trx, tenant);
  if (owners < quorum) {
    throw new RequestError('ERR_TENANT_QUORUM_UNREACHABLE', `Tenant "${tenant}" needs ${quorum} owners with a passkey; there would be ${owners}.`);
  }
}

export class Tenants {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly tokens: Tokens,
    private readonly approvals: Approvals,
  ) {
    approvals.register(this.inviteOperation());
    approvals.register(this.removeOperation());
    approvals.register(this.quorumOperation());
  }

  async create(ctx: RequestContext, input: { name: string; quorum?: number }): Promise<TenantInfo> {
    const p = principal(ctx);
    if (p.platformRole !== 'admin') throw new RequestError('ERR_AUTH_FORBIDDEN', 'Only a platform admin creates tenants.');
    const at = this.clock.now();
    try {
      const row = await this.db.transaction().execute(async (trx) => {
        const quorum = input.quorum ?? 1;
        const created = await repo.insertTenant(trx, { name: input.name, quorum, at, createdBy: p.id, mac: this.approvals.rowMac.tenant({ name: input.name, quorum }) });
        await appendAudit(trx, { actor: p, action: 'tenant.create', target: created.name, outcome: 'success', requestId: ctx.requestId, details: { name: created.name, quorum: created.quorum } }, at);
        return created;
      });
      return { name: row.name, quorum: row.quorum, createdAt: row.createdAt.toISOString(), role: null };
    } catch (err) {
      if (err instanceof DuplicateRowError) throw new RequestError('ERR_TENANT_NAME_TAKEN', `A tenant named "${input.name}" exists.`);
      throw err;
    }
  }

  /** The tenants the caller acts in; a platform admin sees every tenant (names and quorum only). */
  async list(ctx: RequestContext): Promise<{ items: TenantInfo[] }> {
    const p = principal(ctx);
    const rows = await repo.listTenants(this.db, p.platformRole === 'admin' ? undefined : [...p.tenantRoles.keys()]);
    return { items: rows.map((r) => ({ name: r.name, quorum: r.quorum, createdAt: r.createdAt.toISOString(), role: p.tenantRoles.get(r.name) ?? null })) };
  }

  /**
   * Invites a new member: a user, the role, and a single-use enrolment code (shown once, stored hashed).
   * A member change: under the tenant's quorum once owners enrolled (the code works once it applies).
   */
  async invite(ctx: RequestContext, tenant: string, input: { name: string; role: TenantRole }): Promise<Performed<Invite>> {
    const code = newEnrolmentCode();
    const out = await this.approvals.perform<InviteInput, Invite>(ctx, 'member.invite', { tenant, name: input.name, role: input.role, code });
    return 'applied' in out ? { applied: { ...out.applied, enrolmentCode: code } } : { ...out, extra: { userId: (out.extra ?? {})['userId'], enrolmentCode: code } };
  }

  private inviteOperation(): SensitiveOperation<InviteInput, Invite> {
    return {
      name: 'member.invite',
      describe: async (trx, ctx, input) => {
        const path = await assertMemberAdmin(trx, principal(ctx), input.tenant, input.role);
        const userId = randomUUID();
        return {
          tenant: input.tenant,
          target: userId,
          from: { member: null },
          to: { userId, name: input.name, role: input.role, codeHash: Buffer.from(hashEnrolmentCode(input.code)).toString('hex') },
          // The platform admin's owner invites (before any owner enrolled) have nobody to approve them.
          immediate: path === 'platform',
          extra: { userId },
        };
      },
      apply: async (trx, change, actx) => {
        const to = change.to as { userId: string; name: string; role: TenantRole; codeHash: string };
        const tenant = change.tenant as string;
        const at = this.clock.now();
        const expiresAt = new Date(at.getTime() + ENROLMENT_TTL_MS);
        await repo.findTenant(trx, tenant, { forUpdate: true });
        await repo.insertUser(trx, { id: to.userId, name: to.name, at, createdBy: actx.actor.id });
        const rowMac = this.approvals.rowMac;
        await repo.insertTenantMember(trx, { tenant, userId: to.userId, role: to.role, at, createdBy: actx.actor.id, mac: rowMac.membership({ tenant, userId: to.userId, role: to.role }) });
        const code = { codeHash: new Uint8Array(Buffer.from(to.codeHash, 'hex')), userId: to.userId, tenant, at, createdBy: actx.actor.id, expiresAt };
        await repo.insertEnrolmentCode(trx, { ...code, mac: rowMac.enrolmentCode(code) });
        const cancelled = await cancelPending(trx, tenant, actx.approvalId, at, actx.actor.id);
        await appendAudit(trx, { actor: actx.actor, action: 'member.invite', target: to.userId, outcome: 'success', requestId: actx.requestId, details: { tenant, role: to.role, name: to.name, expiresAt: expiresAt.toISOString(), approvalId: actx.approvalId, approvalsCancelled: cancelled } }, at);
        return { userId: to.userId, enrolmentCode: '', expiresAt: expiresAt.toISOString() };
      },
    };
  }

  /**
   * Invites a platform admin or operator (a platform admin, scope `tenants:admin`): a user with the role
   * and an enrolment code. When the first invited admin enrols a passkey the bootstrap token is revoked.
   */
  async invitePlatform(ctx: RequestContext, input: { name: string; role: 'admin' | 'operator' }): Promise<Invite> {
    const p = principal(ctx);
    if (p.platformRole !== 'admin') throw new RequestError('ERR_AUTH_FORBIDDEN', 'Only a platform admin invites platform members.');
    const code = newEnrolmentCode();
    const at = this.clock.now();
    const expiresAt = new Date(at.getTime() + ENROLMENT_TTL_MS);
    const userId = randomUUID();
    await this.db.transaction().execute(async (trx) => {
      await repo.insertUser(trx, { id: userId, name: input.name, at, createdBy: p.id });
      const rowMac = this.approvals.rowMac;
      await repo.insertPlatformMember(trx, { userId, role: input.role, at, mac: rowMac.membership({ tenant: null, userId, role: input.role }) });
      const invite = { codeHash: hashEnrolmentCode(code), userId, tenant: null, at, createdBy: p.id, expiresAt };
      await repo.insertEnrolmentCode(trx, { ...invite, mac: rowMac.enrolmentCode(invite) });
      await appendAudit(trx, { actor: p, action: 'platform.invite', target: userId, outcome: 'success', requestId: ctx.requestId, details: { role: input.role, name: input.name, expiresAt: expiresAt.toISOString() } }, at);
    });
    return { userId, enrolmentCode: code, expiresAt: expiresAt.toISOString() };
  }

  /** Who the caller is: the user, the platform role and the tenants with their roles. */
  async me(ctx: RequestContext): Promise<{ userId: string; name: string; via: 'token' | 'session'; platformRole: string | null; tenants: { tenant: string; role: TenantRole }[]; passkeys: number }> {
    const p = principal(ctx);
    const user = await repo.findUser(this.db, p.userId);
    return {
      userId: p.userId,
      name: user?.name ?? p.name,
      via: p.session ? 'session' : 'token',
      platformRole: p.platformRole,
      tenants: [...p.tenantRoles].map(([tenant, role]) => ({ tenant, role })),
      passkeys: await repo.countPasskeys(this.db, p.userId),
    };
  }

  /** Members and pending invites: for the tenant's members, and for a platform admin until an owner enrols. */
  async members(ctx: RequestContext, tenant: string): Promise<{ items: MemberInfo[] }> {
    const p = principal(ctx);
    if (!p.tenantRoles.has(tenant)) {
      await this.db.transaction().execute((trx) => assertMemberAdmin(trx, p, tenant, undefined));
    }
    const rows = await repo.listTenantMembers(this.db, tenant, this.clock.now());
    return {
      items: rows.map((r) => ({
        userId: r.userId,
        name: r.name,
        role: r.role,
        state: r.passkeys > 0 ? 'active' : 'invited',
        passkeys: r.passkeys,
        inviteOpen: r.inviteOpen,
        inviteExpiresAt: r.inviteExpiresAt?.toISOString() ?? null,
        createdAt: r.createdAt.toISOString(),
        createdBy: r.createdBy,
      })),
    };
  }

  /**
   * Removes a member or revokes a pending invite: the membership goes, open enrolment codes are revoked,
   * and the member's tokens for this tenant and sessions are revoked (their authority was already gone
   * with the role). A member change: under the tenant's quorum once owners enrolled.
   */
  async remove(ctx: RequestContext, tenant: string, userId: string): Promise<Performed<null>> {
    const out = await this.approvals.perform<{ tenant: string; userId: string }, null>(ctx, 'member.remove', { tenant, userId });
    // Platform tokens of the member carried this tenant role too: every cached authority is re-read.
    this.tokens.forget();
    return out;
  }

  private removeOperation(): SensitiveOperation<{ tenant: string; userId: string }, null> {
    return {
      name: 'member.remove',
      describe: async (trx, ctx, { tenant, userId }) => {
        const path = await assertMemberAdmin(trx, principal(ctx), tenant, undefined);
        const member = isUuid(userId) ? await repo.findTenantMember(trx, tenant, userId) : undefined;
        if (!member) throw new RequestError('ERR_MEMBER_NOT_FOUND', `No member ${userId} in tenant "${tenant}".`);
        const tenantRow = await repo.findTenant(trx, tenant);
        if (member.role === 'owner' && tenantRow && (await repo.countPasskeys(trx, userId)) > 0) {
          await assertQuorumKept(trx, tenant, tenantRow.quorum + 1);
        }
        return { tenant, target: userId, from: { userId, role: member.role }, to: { member: null }, immediate: path === 'platform' };
      },
      apply: async (trx, change, actx) => {
        const tenant = change.tenant as string;
        const from = change.from as { userId: string; role: TenantRole };
        const at = this.clock.now();
        const tenantRow = await repo.findTenant(trx, tenant, { forUpdate: true });
        const member = await repo.deleteTenantMember(trx, tenant, from.userId);
        if (!member || member.role !== from.role || !tenantRow) throw stale('the membership changed');
        if (member.role === 'owner' && (await repo.countPasskeys(trx, from.userId)) > 0) await assertQuorumKept(trx, tenant, tenantRow.quorum);
        const codes = await repo.revokeEnrolmentCodes(trx, from.userId, at);
        const tokens = await revokeUserTenantTokens(trx, from.userId, tenant, at);
        const sessions = await revokeUserSessions(trx, from.userId, at);
        const cancelled = await cancelPending(trx, tenant, actx.approvalId, at, actx.actor.id);
        await appendAudit(trx, {
          actor: actx.actor,
          action: 'member.remove',
          target: from.userId,
          outcome: 'success',
          requestId: actx.requestId,
          details: { tenant, role: member.role, codesRevoked: codes, tokensRevoked: tokens.length, sessionsRevoked: sessions, approvalId: actx.approvalId, approvalsCancelled: cancelled },
        }, at);
        return null;
      },
    };
  }

  /** Changes the tenant's quorum (under the current quorum); never above its owners holding a passkey. */
  async setQuorum(ctx: RequestContext, tenant: string, quorum: number): Promise<Performed<TenantInfo>> {
    return this.approvals.perform<{ tenant: string; quorum: number }, TenantInfo>(ctx, 'tenant.quorum', { tenant, quorum });
  }

  private quorumOperation(): SensitiveOperation<{ tenant: string; quorum: number }, TenantInfo> {
    return {
      name: 'tenant.quorum',
      describe: async (trx, ctx, { tenant, quorum }) => {
        assertTenantScope(ctx.actor, tenant, 'members:write');
        const row = await repo.findTenant(trx, tenant, { forUpdate: true });
        if (!row) throw new RequestError('ERR_TENANT_NOT_FOUND', `No tenant "${tenant}" exists.`);
        await assertQuorumKept(trx, tenant, quorum);
        return { tenant, target: tenant, from: { quorum: row.quorum }, to: { quorum }, immediate: row.quorum === quorum };
      },
      apply: async (trx, change, actx) => {
        const tenant = change.tenant as string;
        const from = change.from as { quorum: number };
        const to = change.to as { quorum: number };
        const row = await repo.findTenant(trx, tenant, { forUpdate: true });
        if (!row || row.quorum !== from.quorum) throw stale('the quorum changed');
        await assertQuorumKept(trx, tenant, to.quorum);
        const at = this.clock.now();
        const updated = await repo.updateTenantQuorum(trx, tenant, to.quorum, this.approvals.rowMac.tenant({ name: tenant, quorum: to.quorum }));
        const cancelled = await cancelPending(trx, tenant, actx.approvalId, at, actx.actor.id);
        await appendAudit(trx, { actor: actx.actor, action: 'tenant.quorum', target: tenant, outcome: 'success', requestId: actx.requestId, details: { tenant, from: from.quorum, to: to.quorum, approvalId: actx.approvalId, approvalsCancelled: cancelled } }, at);
        return { name: updated.name, quorum: updated.quorum, createdAt: updated.createdAt.toISOString(), role: isPrincipal(actx.actor) ? (actx.actor.tenantRoles.get(tenant) ?? null) : null };
      },
    };
  }
}

interface InviteInput {
  readonly tenant: string;
  readonly name: string;
  readonly role: TenantRole;
  /** The enrolment code (its hash goes in the change; the code itself only to the requester). */
  readonly code: string;
}
