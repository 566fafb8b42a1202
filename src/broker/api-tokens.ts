// API tokens for automation and admins: random secrets shown once, stored as SHA-256, scoped by role,
// expiring, revocable. The bootstrap admin token is created on a fresh install (README.md "Two commands").
// A token belongs to the user who minted it and names one tenant (platform tokens none); its authority at
// each use is its scopes ∩ what that user's CURRENT roles allow (docs/design.md "Admin side").
import type { RowMac } from './row-mac.js';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { RequestError } from '../errors.js';
import { isUuid } from '../encoding.js';
import type { Db } from '../store/database.js';
import * as repo from '../store/tokens-repo.js';
import type { TokenRow } from '../store/tokens-repo.js';
import { BOOTSTRAP_USER_ID, findUserRoles, type UserRoles } from '../store/tenants-repo.js';
import { appendAudit, type Actor } from './audit.js';
import type { RequestContext } from './vault.js';

export type Role = TokenRow['role'];
export const ROLES: readonly Role[] = ['admin', 'owner', 'operator', 'auditor'];
export type PlatformRole = 'admin' | 'operator';
export type TenantRole = 'owner' | 'auditor';

export function isTenantRole(role: Role): role is TenantRole {
  return role === 'owner' || role === 'auditor';
}

/** Everything a token can be allowed to do. Routes name the one scope they need. */
export const SCOPES = [
  'keys:read',
  'keys:write',
  'keys:datakey',
  'policies:read',
  'policies:write',
  'audit:read',
  'tokens:admin',
  'evidence:verify',
  'collateral:read',
  'collateral:write',
  'collateral:trust',
  'kek:admin',
  'tenants:admin',
  'members:write',
] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * What each role may do. The operator runs keyward but can neither read keys' data keys nor write
 * policies (docs/design.md "Overview": an operator must not be able to loosen a policy or read keys), nor
 * trust collateral as an anchor: `collateral:trust` belongs to platform admins alone.
 */
const ROLE_SCOPES: Record<Role, readonly Scope[]> = {
  admin: SCOPES,
  owner: ['keys:read', 'keys:write', 'keys:datakey', 'policies:read', 'policies:write', 'audit:read', 'evidence:verify', 'collateral:read', 'members:write'],
  operator: ['keys:read', 'audit:read', 'evidence:verify', 'collateral:read', 'collateral:write', 'kek:admin'],
  auditor: ['keys:read', 'policies:read', 'audit:read', 'collateral:read'],
};

/** Scopes that act inside one tenant: checked against the principal's role in the resource's tenant. */
export const TENANT_SCOPES: ReadonlySet<Scope> = new Set<Scope>(['keys:read', 'keys:write', 'keys:datakey', 'policies:read', 'policies:write', 'members:write']);

export interface Principal extends Actor {
  /** The API token (null: a passkey session). */
  readonly tokenId: string | null;
  /** The user the token or session belongs to. */
  readonly userId: string;
  readonly role: Role;
  /** Everything this principal may do somewhere: token scopes ∩ the user's current roles. */
  readonly scopes: ReadonlySet<Scope>;
  /** When the token expires (null: never). Tokens it mints expire no later. */
  readonly expiresAt: Date | null;
  /** The platform role it acts with now (null: none). */
  readonly platformRole: PlatformRole | null;
  /** The tenants it acts in now and its role in each. */
  readonly tenantRoles: ReadonlyMap<string, TenantRole>;
  readonly bootstrap: boolean;
  /** Set for a passkey session: which, and when its user-verified login happened. */
  readonly session?: { readonly id: string; readonly loginAt: Date };
}

/** The authority of a user's passkey session: exactly the user's current roles. */
export function sessionAuthority(roles: UserRoles): { scopes: Set<Scope>; platformRole: PlatformRole | null; tenantRoles: Map<string, TenantRole>; role: Role } {
  const tenantRoles = new Map(roles.tenants);
  const scopes = new Set<Scope>([...(roles.platform ? ROLE_SCOPES[roles.platform] : []), ...[...tenantRoles.values()].flatMap((r) => ROLE_SCOPES[r])]);
  const role: Role = roles.platform ?? ([...tenantRoles.values()].includes('owner') ? 'owner' : 'auditor');
  return { scopes, platformRole: roles.platform, tenantRoles, role };
}

export interface NewTokenInput {
  readonly name: string;
  readonly role: Role;
  readonly scopes?: readonly string[];
  readonly expiresInSeconds?: number;
  /** The tenant an owner or auditor token acts in (omitted: the minter's only tenant). */
  readonly tenant?: string;
}

/** The scopes of a role, for the per-tenant check. */
export function roleScopes(role: Role): readonly Scope[] {
  return ROLE_SCOPES[role];
}

/**
 * What a token or session may do now: the scopes it was given, the platform role its user still holds
 * (never more than the token's), and the tenant roles its user still holds (a tenant token: only in its
 * tenant and never above its role; a platform admin token: in every tenant its user is a member of).
 */
export function currentAuthority(
  token: { role: Role; scopes: readonly string[]; tenant: string | null },
  roles: UserRoles,
): { scopes: Set<Scope>; platformRole: PlatformRole | null; tenantRoles: Map<string, TenantRole> } {
  let platformRole: PlatformRole | null = null;
  const tenantRoles = new Map<string, TenantRole>();
  if (token.tenant === null) {
    if (token.role === 'admin' && roles.platform === 'admin') platformRole = 'admin';
    else if (token.role === 'operator' && roles.platform !== null) platformRole = 'operator';
    if (platformRole === 'admin') for (const [t, r] of roles.tenants) tenantRoles.set(t, r);
  } else if (isTenantRole(token.role)) {
    const held = roles.tenants.get(token.tenant);
    if (held === 'owner' || (held === 'auditor' && token.role === 'auditor')) tenantRoles.set(token.tenant, token.role);
  }
  const allowed = new Set<Scope>([...(platformRole ? ROLE_SCOPES[platformRole] : []), ...[...tenantRoles.values()].flatMap((r) => ROLE_SCOPES[r])]);
  const scopes = new Set([...effectiveScopes(token.role, token.scopes)].filter((s) => allowed.has(s)));
  return { scopes, platformRole, tenantRoles };
}

/**
 * The tenant a create or list acts in: the one named, else the principal's only tenant. Why never a
 * silent `default`: a principal with several tenants would otherwise write into the wrong one.
 */
export function resolveTenant(actor: Actor, given: string | undefined): string {
  if (given !== undefined) return given;
  if (!isPrincipal(actor)) return 'default';
  const tenants = [...actor.tenantRoles.keys()];
  if (tenants.length === 1 && tenants[0] !== undefined) return tenants[0];
  if (tenants.length === 0) throw new RequestError('ERR_TENANT_FORBIDDEN', 'This principal acts in no tenant.');
  throw new RequestError('ERR_TENANT_REQUIRED', `This principal acts in several tenants (${tenants.join(', ')}); name one in "tenant".`);
}

/**
 * Refuses `scope` inside `tenant` unless the principal holds a role there that grants it. A platform
 * admin without a role in the tenant is refused here: it can neither read, release, re-bind nor loosen
 * anything inside a tenant. Internal actors (not principals) are keyward itself.
 */
export function assertTenantScope(actor: Actor, tenant: string, scope: Scope): void {
  if (!isPrincipal(actor)) return;
  const role = actor.tenantRoles.get(tenant);
  if (!role) throw new RequestError('ERR_TENANT_FORBIDDEN', `This principal has no role in tenant "${tenant}".`);
  if (!actor.scopes.has(scope) || !ROLE_SCOPES[role].includes(scope)) {
    throw new RequestError('ERR_AUTH_FORBIDDEN', `The ${role} role in tenant "${tenant}" (or this token) lacks the "${scope}" scope.`);
  }
}

/** The scopes a token holds: its role's, narrowed by its own list when it has one. */
export function effectiveScopes(role: Role, scopes: readonly string[]): Set<Scope> {
  const granted = ROLE_SCOPES[role];
  return new Set(scopes.length > 0 ? granted.filter((s) => scopes.includes(s)) : granted);
}

/** Whether `minter` may hand out `role`: everything the role can do, the minter's role can do. */
function roleWithin(role: Role, minter: Role): boolean {
  return role === minter || ROLE_SCOPES[role].every((s) => ROLE_SCOPES[minter].includes(s));
}

function exceeds(message: string): RequestError {
  return new RequestError('ERR_TOKEN_EXCEEDS_MINTER', message);
}

/**
 * The expiry of a token `minter` mints: never later than the minter's own (a token without
 * `expiresInSeconds` inherits it). A token can delegate no more than it holds: role, scopes, lifetime.
 */
function boundedExpiry(minter: Actor, input: NewTokenInput, at: Date): Date | null {
  const requested = input.expiresInSeconds ? new Date(at.getTime() + input.expiresInSeconds * 1000) : null;
  if (!isPrincipal(minter)) return requested;
  if (!roleWithin(input.role, minter.role)) throw exceeds(`A ${minter.role} token cannot create a ${input.role} token.`);
  if (isTenantRole(input.role)) {
    const held = minter.tenantRoles.get(resolveTenant(minter, input.tenant));
    if (!held) throw new RequestError('ERR_TENANT_FORBIDDEN', 'The minter has no role in this tenant.');
    if (!roleWithin(input.role, held)) throw exceeds(`An ${held} of this tenant cannot create a ${input.role} token.`);
  } else if (minter.platformRole === null || !roleWithin(input.role, minter.platformRole)) {
    throw exceeds(`This principal cannot create a platform ${input.role} token.`);
  }
  const minted = effectiveScopes(input.role, input.scopes ?? []);
  const beyond = [...minted].filter((s) => !minter.scopes.has(s));
  if (beyond.length > 0) throw exceeds(`The new token would hold scopes this token lacks (${beyond.join(', ')}); name a narrower "scopes" list.`);
  if (minter.expiresAt === null) return requested;
  if (requested !== null && requested > minter.expiresAt) throw exceeds('The new token would outlive this token; ask for a shorter expiresInSeconds.');
  return requested ?? minter.expiresAt;
}

export function isPrincipal(actor: Actor): actor is Principal {
  return 'tenantRoles' in actor && 'scopes' in actor;
}

export interface TokenInfo {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  readonly scopes: readonly string[];
  readonly bootstrap: boolean;
  readonly tenant: string | null;
  readonly userId: string;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
}

export function hashToken(token: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(token, 'utf8').digest());
}

export function newTokenSecret(): string {
  return `kw_${randomBytes(32).toString('base64url')}`;
}

function toInfo(row: TokenRow): TokenInfo {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    scopes: row.scopes,
    bootstrap: row.bootstrap,
    tenant: row.tenant,
    userId: row.userId,
    createdAt: row.createdAt.toISOString(),
    createdBy: row.createdBy,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}

export const SYSTEM_ACTOR: Actor = { id: 'system', name: 'keyward' };

/**
 * How long a verified token is trusted without asking the database again. A revocation takes effect at
 * once in the process that performed it and within this time in other replicas (it must stay under a
 * second); the cost is one indexed lookup per token and replica every half second.
 */
export const TOKEN_CACHE_MS = 500;

export class Tokens {
  private readonly cache = new Map<string, { row: TokenRow; roles: UserRoles; until: number }>();

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly rowMac: RowMac,
  ) {}

  /** Inserts a token row with its row MAC (row-mac.ts). */
  private insert(trx: Db, token: repo.NewToken): Promise<TokenRow> {
    return repo.insertToken(trx, { ...token, mac: this.rowMac.apiToken(token) });
  }

  /** The token row and its user's current roles (cached together, as briefly as a revocation allows). */
  private async lookup(tokenHash: Uint8Array, now: Date): Promise<{ row: TokenRow; roles: UserRoles } | undefined> {
    const key = Buffer.from(tokenHash).toString('hex');
    const hit = this.cache.get(key);
    if (hit && hit.until > now.getTime()) return hit;
    const row = await this.intact(await repo.findTokenByHash(this.db, tokenHash));
    if (this.cache.size > 10_000) this.cache.clear();
    if (!row) {
      this.cache.delete(key);
      return undefined;
    }
    const entry = { row, roles: await findUserRoles(this.db, row.userId, this.rowMac.keepMembership), until: now.getTime() + TOKEN_CACHE_MS };
    this.cache.set(key, entry);
    return entry;
  }

  /** The row, unless its row MAC fails: such a token was not minted by keyward and counts as absent (alerted). */
  private async intact(row: TokenRow | undefined): Promise<TokenRow | undefined> {
    // A revoked token keeps no MAC, and is refused as revoked: no alarm for it.
    if (!row || row.revokedAt || this.rowMac.apiTokenIntact(row)) return row;
    await this.rowMac.alarm(this.db, 'api_tokens', row.id);
    return undefined;
  }

  /** Forgets cached tokens (after a role change or a revocation in this process). */
  forget(tokenHashes?: readonly Uint8Array[]): void {
    if (tokenHashes === undefined) this.cache.clear();
    else for (const h of tokenHashes) this.cache.delete(Buffer.from(h).toString('hex'));
  }

  /** Resolves a Bearer secret to its principal; unknown, expired or revoked is ERR_AUTH_INVALID. */
  async authenticate(secret: string): Promise<Principal> {
    const now = this.clock.now();
    const found = await this.lookup(hashToken(secret), now);
    const row = found?.row;
    if (!found || !row || row.revokedAt || (row.expiresAt && row.expiresAt <= now)) {
      throw new RequestError('ERR_AUTH_INVALID', 'The bearer token is not valid.');
    }
    // Token scopes narrow the role and the user's current roles narrow both; nothing widens them.
    const authority = currentAuthority(row, found.roles);
    return {
      id: `token:${row.id}`,
      name: row.name,
      tokenId: row.id,
      userId: row.userId,
      role: row.role,
      expiresAt: row.expiresAt,
      bootstrap: row.bootstrap,
      ...authority,
    };
  }

  /**
   * On a fresh install (no admin token was ever created) creates the bootstrap admin token from
   * `preset` or a random secret. Returns the secret only when it was generated here (print it once).
   */
  async bootstrap(preset: string | undefined): Promise<{ created: boolean; secret?: string; tokenId?: string }> {
    return this.db.transaction().execute(async (trx) => {
      // Serialize concurrent first starts: both processes must not mint a bootstrap token.
      await trx.selectFrom('auditHead').select('seq').forUpdate().execute();
      if (await repo.anyAdminTokenEver(trx)) return { created: false };
      const secret = preset ?? newTokenSecret();
      const at = this.clock.now();
      const row = await this.insert(trx, {
        id: randomUUID(),
        name: 'bootstrap admin',
        tokenHash: hashToken(secret),
        role: 'admin',
        scopes: [],
        bootstrap: true,
        createdAt: at,
        createdBy: SYSTEM_ACTOR.id,
        expiresAt: null,
        userId: BOOTSTRAP_USER_ID,
        tenant: null,
      });
      await appendAudit(trx, { actor: SYSTEM_ACTOR, action: 'token.bootstrap', target: row.id, outcome: 'success', requestId: null, details: { role: 'admin', preset: preset !== undefined } }, at);
      return preset === undefined ? { created: true, secret, tokenId: row.id } : { created: true, tokenId: row.id };
    });
  }

  /** Mints a token; a token minting another can delegate no more than its own role, scopes and lifetime. */
  async create(ctx: RequestContext, input: NewTokenInput): Promise<{ token: string; info: TokenInfo }> {
    const unknown = (input.scopes ?? []).filter((s) => !(SCOPES as readonly string[]).includes(s));
    if (unknown.length > 0) throw new RequestError('ERR_REQUEST_INVALID', `Unknown scope "${unknown[0]}".`);
    const at = this.clock.now();
    const expiresAt = boundedExpiry(ctx.actor, input, at);
    const tenant = isTenantRole(input.role) ? resolveTenant(ctx.actor, input.tenant) : null;
    if (!isTenantRole(input.role) && input.tenant !== undefined) {
      throw new RequestError('ERR_REQUEST_INVALID', `A ${input.role} token is a platform token: it names no tenant.`);
    }
    const userId = isPrincipal(ctx.actor) ? ctx.actor.userId : BOOTSTRAP_USER_ID;
    const secret = newTokenSecret();
    const info = await this.db.transaction().execute(async (trx) => {
      const row = await this.insert(trx, {
        id: randomUUID(),
        name: input.name,
        tokenHash: hashToken(secret),
        role: input.role,
        scopes: input.scopes ?? [],
        bootstrap: false,
        createdAt: at,
        createdBy: ctx.actor.id,
        expiresAt,
        userId,
        tenant,
      });
      await appendAudit(trx, { actor: ctx.actor, action: 'token.create', target: row.id, outcome: 'success', requestId: ctx.requestId, details: { role: input.role, name: input.name, tenant } }, at);
      return toInfo(row);
    });
    return { token: secret, info };
  }

  async list(): Promise<TokenInfo[]> {
    return (await repo.listTokens(this.db)).map(toInfo);
  }

  async revoke(ctx: RequestContext, id: string): Promise<TokenInfo> {
    return this.db.transaction().execute(async (trx) => {
      const existing = isUuid(id) ? await repo.findTokenById(trx, id) : undefined;
      if (!existing) throw new RequestError('ERR_TOKEN_NOT_FOUND', 'No token with this id exists.');
      if (existing.revokedAt) return toInfo(existing);
      const at = this.clock.now();
      const row = (await repo.revokeToken(trx, id, at)) ?? existing;
      this.cache.delete(Buffer.from(existing.tokenHash).toString('hex'));
      await appendAudit(trx, { actor: ctx.actor, action: 'token.revoke', target: id, outcome: 'success', requestId: ctx.requestId }, at);
      return toInfo(row);
    });
  }
}
