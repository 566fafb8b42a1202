// API tokens for automation and admins: random secrets shown once, stored as SHA-256, scoped by role,
// expiring, revocable. The bootstrap admin token is created on a fresh install (README.md "Two commands").
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { RequestError } from '../errors.js';
import { isUuid } from '../encoding.js';
import type { Db } from '../store/database.js';
import * as repo from '../store/tokens-repo.js';
import type { TokenRow } from '../store/tokens-repo.js';
import { appendAudit, type Actor } from './audit.js';
import type { RequestContext } from './vault.js';

export type Role = TokenRow['role'];
export const ROLES: readonly Role[] = ['admin', 'owner', 'operator', 'auditor'];

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
] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * What each role may do. The operator runs keyward but can neither read keys' data keys nor write
 * policies (docs/design.md "Overview": an operator must not be able to loosen a policy or read keys), nor
 * trust collateral as an anchor: `collateral:trust` belongs to platform admins alone.
 */
const ROLE_SCOPES: Record<Role, readonly Scope[]> = {
  admin: SCOPES,
  owner: ['keys:read', 'keys:write', 'keys:datakey', 'policies:read', 'policies:write', 'audit:read', 'evidence:verify', 'collateral:read'],
  operator: ['keys:read', 'audit:read', 'evidence:verify', 'collateral:read', 'collateral:write', 'kek:admin'],
  auditor: ['keys:read', 'policies:read', 'audit:read', 'collateral:read'],
};

export interface Principal extends Actor {
  readonly tokenId: string;
  readonly role: Role;
  readonly scopes: ReadonlySet<Scope>;
  /** When the token expires (null: never). Tokens it mints expire no later. */
  readonly expiresAt: Date | null;
}

export interface NewTokenInput {
  readonly name: string;
  readonly role: Role;
  readonly scopes?: readonly string[];
  readonly expiresInSeconds?: number;
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
  const minted = effectiveScopes(input.role, input.scopes ?? []);
  const beyond = [...minted].filter((s) => !minter.scopes.has(s));
  if (beyond.length > 0) throw exceeds(`The new token would hold scopes this token lacks (${beyond.join(', ')}); name a narrower "scopes" list.`);
  if (minter.expiresAt === null) return requested;
  if (requested !== null && requested > minter.expiresAt) throw exceeds('The new token would outlive this token; ask for a shorter expiresInSeconds.');
  return requested ?? minter.expiresAt;
}

function isPrincipal(actor: Actor): actor is Principal {
  return 'tokenId' in actor && 'scopes' in actor;
}

export interface TokenInfo {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  readonly scopes: readonly string[];
  readonly bootstrap: boolean;
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
  private readonly cache = new Map<string, { row: TokenRow; until: number }>();

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  private async lookup(tokenHash: Uint8Array, now: Date): Promise<TokenRow | undefined> {
    const key = Buffer.from(tokenHash).toString('hex');
    const hit = this.cache.get(key);
    if (hit && hit.until > now.getTime()) return hit.row;
    const row = await repo.findTokenByHash(this.db, tokenHash);
    if (this.cache.size > 10_000) this.cache.clear();
    if (row) this.cache.set(key, { row, until: now.getTime() + TOKEN_CACHE_MS });
    else this.cache.delete(key);
    return row;
  }

  /** Resolves a Bearer secret to its principal; unknown, expired or revoked is ERR_AUTH_INVALID. */
  async authenticate(secret: string): Promise<Principal> {
    const now = this.clock.now();
    const row = await this.lookup(hashToken(secret), now);
    if (!row || row.revokedAt || (row.expiresAt && row.expiresAt <= now)) {
      throw new RequestError('ERR_AUTH_INVALID', 'The bearer token is not valid.');
    }
    // Token scopes narrow the role; they never widen it.
    const scopes = effectiveScopes(row.role, row.scopes);
    return { id: `token:${row.id}`, name: row.name, tokenId: row.id, role: row.role, scopes, expiresAt: row.expiresAt };
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
      const row = await repo.insertToken(trx, {
        id: randomUUID(),
        name: 'bootstrap admin',
        tokenHash: hashToken(secret),
        role: 'admin',
        scopes: [],
        bootstrap: true,
        createdAt: at,
        createdBy: SYSTEM_ACTOR.id,
        expiresAt: null,
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
    const secret = newTokenSecret();
    const info = await this.db.transaction().execute(async (trx) => {
      const row = await repo.insertToken(trx, {
        id: randomUUID(),
        name: input.name,
        tokenHash: hashToken(secret),
        role: input.role,
        scopes: input.scopes ?? [],
        bootstrap: false,
        createdAt: at,
        createdBy: ctx.actor.id,
        expiresAt,
      });
      await appendAudit(trx, { actor: ctx.actor, action: 'token.create', target: row.id, outcome: 'success', requestId: ctx.requestId, details: { role: input.role, name: input.name } }, at);
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
