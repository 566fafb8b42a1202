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

function newEnrolmentCode(): string {
  return `kwe_${randomBytes(24).toString('base64url')}`;
}

function principal(ctx: RequestContext): Principal {
  if (!isPrincipal(ctx.actor)) throw new RequestError('ERR_AUTH_REQUIRED', 'Authentication is required.');
  return ctx.actor;
}

export class Tenants {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly tokens: Tokens,
  ) {}

  async create(ctx: RequestContext, input: { name: string; quorum?: number }): Promise<TenantInfo> {
    const p = principal(ctx);
    if (p.platformRole !== 'admin') throw new RequestError('ERR_AUTH_FORBIDDEN', 'Only a platform admin creates tenants.');
    const at = this.clock.now();
    try {
      const row = await this.db.transaction().execute(async (trx) => {
        const created = await repo.insertTenant(trx, { name: input.name, quorum: input.quorum ?? 1, at, createdBy: p.id });
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
   * Whether the caller may manage the tenant's members: an owner of it, or a platform admin while no
   * owner has enrolled a passkey (then only for owner invites). Runs under the tenant's row lock so an
   * enrolment and an invite cannot interleave.
   */
  private async assertMemberAdmin(trx: Db, p: Principal, tenant: string, role: TenantRole | undefined): Promise<void> {
    const row = await repo.findTenant(trx, tenant, { forUpdate: true });
    if (p.tenantRoles.get(tenant) === 'owner') {
      assertTenantScope(p, tenant, 'members:write');
      return;
    }
    if (p.platformRole !== 'admin' || !p.scopes.has('tenants:admin')) throw new RequestError('ERR_TENANT_FORBIDDEN', `This principal cannot manage the members of tenant "${tenant}".`);
    if (!row) throw new RequestError('ERR_TENANT_NOT_FOUND', `No tenant "${tenant}" exists.`);
    // Why: once an owner holds a passkey the tenant is theirs; the platform can no longer add anyone.
    if ((await repo.countOwnersWithPasskey(trx, tenant)) > 0) {
      throw new RequestError('ERR_TENANT_OWNERS_ENROLLED', `An owner of tenant "${tenant}" has enrolled; only its owners manage its members now.`);
    }
    if (role !== undefined && role !== 'owner') throw new RequestError('ERR_TENANT_FORBIDDEN', 'A platform admin invites only owners.');
  }

  /** Invites a new member: a user, the role, and a single-use enrolment code (shown once, stored hashed). */
  async invite(ctx: RequestContext, tenant: string, input: { name: string; role: TenantRole }): Promise<Invite> {
    const p = principal(ctx);
    const code = newEnrolmentCode();
    const at = this.clock.now();
    const expiresAt = new Date(at.getTime() + ENROLMENT_TTL_MS);
    const userId = randomUUID();
    await this.db.transaction().execute(async (trx) => {
      await this.assertMemberAdmin(trx, p, tenant, input.role);
      await repo.insertUser(trx, { id: userId, name: input.name, at, createdBy: p.id });
      await repo.insertTenantMember(trx, { tenant, userId, role: input.role, at, createdBy: p.id });
      await repo.insertEnrolmentCode(trx, { codeHash: hashEnrolmentCode(code), userId, tenant, at, createdBy: p.id, expiresAt });
      await appendAudit(trx, { actor: p, action: 'member.invite', target: userId, outcome: 'success', requestId: ctx.requestId, details: { tenant, role: input.role, name: input.name, expiresAt: expiresAt.toISOString() } }, at);
    });
    return { userId, enrolmentCode: code, expiresAt: expiresAt.toISOString() };
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
      await repo.insertPlatformMember(trx, { userId, role: input.role, at });
      await repo.insertEnrolmentCode(trx, { codeHash: hashEnrolmentCode(code), userId, tenant: null, at, createdBy: p.id, expiresAt });
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
      await this.db.transaction().execute((trx) => this.assertMemberAdmin(trx, p, tenant, undefined));
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
   * and the member's tokens for this tenant are revoked (their authority was already gone with the role).
   */
  async remove(ctx: RequestContext, tenant: string, userId: string): Promise<void> {
    const p = principal(ctx);
    const at = this.clock.now();
    await this.db.transaction().execute(async (trx) => {
      await this.assertMemberAdmin(trx, p, tenant, undefined);
      const member = isUuid(userId) ? await repo.findTenantMember(trx, tenant, userId) : undefined;
      if (!member) throw new RequestError('ERR_MEMBER_NOT_FOUND', `No member ${userId} in tenant "${tenant}".`);
      const tenantRow = await repo.findTenant(trx, tenant);
      await repo.deleteTenantMember(trx, tenant, userId);
      // Why: removing an owner may not leave fewer owners with a passkey than the quorum needs.
      if (member.role === 'owner' && (await repo.countPasskeys(trx, userId)) > 0 && tenantRow) {
        const left = await repo.countOwnersWithPasskey(trx, tenant);
        if (left < tenantRow.quorum) {
          throw new RequestError('ERR_TENANT_QUORUM_UNREACHABLE', `Tenant "${tenant}" needs ${tenantRow.quorum} owners with a passkey; removing this one would leave ${left}.`);
        }
      }
      const codes = await repo.revokeEnrolmentCodes(trx, userId, at);
      const tokens = await revokeUserTenantTokens(trx, userId, tenant, at);
      const sessions = await revokeUserSessions(trx, userId, at);
      await appendAudit(trx, { actor: p, action: 'member.remove', target: userId, outcome: 'success', requestId: ctx.requestId, details: { tenant, role: member.role, codesRevoked: codes, tokensRevoked: tokens.length, sessionsRevoked: sessions } }, at);
    });
    // Platform tokens of the member carried this tenant role too: every cached authority is re-read.
    this.tokens.forget();
  }
}
