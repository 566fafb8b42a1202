// Row MACs (docs/threat-model.md "Row MACs"): the database is not trusted with authority. A key's policy
// binding, every policy version and every API token carry an HMAC-SHA-256 under a KEK-sealed service key;
// a row whose MAC does not verify counts as absent (the key is unbound, the version or token does not
// exist) and raises an alert, so whoever can write the database but not use the KEK cannot re-bind a
// key, rewrite a policy or forge a token.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Db } from '../store/database.js';
import type { KekRing } from '../keys/kek.js';
import * as authRepo from '../store/auth-repo.js';
import * as keysRepo from '../store/keys-repo.js';
import * as policiesRepo from '../store/policies-repo.js';
import * as tokensRepo from '../store/tokens-repo.js';
import * as tenantsRepo from '../store/tenants-repo.js';
import * as approvalsRepo from '../store/approvals-repo.js';
import { activeKekRow } from '../store/keks-repo.js';
import { serviceKeyAad } from './kek-admin.js';
import { SYSTEM_ACTOR } from './api-tokens.js';
import { appendAudit, canonicalJson } from './audit.js';

const PURPOSE = 'row-mac';
const LABEL = 'keyward:row-mac:v1\0';

/** The binding columns of a key row. */
export interface KeyBinding {
  readonly id: string;
  readonly policyId: string | null;
  readonly policyVersion: number | null;
  readonly mac?: Uint8Array | null;
}

/** The columns of an API token row that decide what it may do. */
export interface ApiTokenFields {
  readonly id: string;
  readonly tokenHash: Uint8Array;
  readonly role: string;
  readonly scopes: readonly string[];
  readonly tenant: string | null;
  readonly expiresAt: Date | null;
  readonly userId: string;
  readonly createdBy: string;
  readonly bootstrap: boolean;
  readonly mac?: Uint8Array | null;
}

/** The columns of a policy version row that decide a release. */
export interface PolicyVersionFields {
  readonly policyId: string;
  readonly version: number;
  readonly sha256: string;
  readonly document: unknown;
  readonly mac?: Uint8Array | null;
}

export interface RowMacLog {
  error(obj: object, msg: string): void;
}

export class RowMac {
  /** Called once per mismatch (the alerts metric). */
  onMismatch: (table: string) => void = () => undefined;

  constructor(
    private readonly key: Uint8Array,
    private readonly clock: Clock,
    private readonly log: RowMacLog,
    /** Where alarms raised inside another transaction write their audit row (alarmDetached). */
    private readonly db?: Db,
  ) {}

  /** HMAC-SHA-256 over the canonical JSON of (table, primary key, security-relevant columns). */
  sign(table: string, pk: unknown, fields: unknown): Buffer {
    return createHmac('sha256', this.key).update(LABEL).update(canonicalJson({ table, pk, fields }), 'utf8').digest();
  }

  verify(table: string, pk: unknown, fields: unknown, mac: Uint8Array | null | undefined): boolean {
    if (!mac || mac.length !== 32) return false;
    return timingSafeEqual(Buffer.from(mac), this.sign(table, pk, fields));
  }

  /** The MAC of a key's binding; NULL for an unbound key (unbound is the safe state and needs none). */
  keyBinding(k: KeyBinding): Buffer | null {
    if (k.policyId === null) return null;
    return this.sign('keys', k.id, { policyId: k.policyId, policyVersion: k.policyVersion });
  }

  /** True when the key is unbound or its binding's MAC verifies. */
  keyBindingIntact(k: KeyBinding): boolean {
    if (k.policyId === null) return true;
    return this.verify('keys', k.id, { policyId: k.policyId, policyVersion: k.policyVersion }, k.mac);
  }

  policyVersion(v: PolicyVersionFields): Buffer {
    return this.sign('policy_versions', [v.policyId, v.version], { sha256: v.sha256, document: v.document });
  }

  policyVersionIntact(v: PolicyVersionFields): boolean {
    return this.verify('policy_versions', [v.policyId, v.version], { sha256: v.sha256, document: v.document }, v.mac);
  }

  apiToken(t: ApiTokenFields): Buffer {
    return this.sign('api_tokens', t.id, tokenFields(t));
  }

  apiTokenIntact(t: ApiTokenFields): boolean {
    return this.verify('api_tokens', t.id, tokenFields(t), t.mac);
  }

  tenant(t: TenantFields): Buffer {
    return this.sign('tenants', t.name, { quorum: t.quorum });
  }

  tenantIntact(t: TenantFields): boolean {
    return this.verify('tenants', t.name, { quorum: t.quorum }, t.mac);
  }

  /** A platform role (tenant null) or a tenant role of a user. */
  membership(m: MembershipFields): Buffer {
    return m.tenant === null ? this.sign('platform_members', m.userId, { role: m.role }) : this.sign('tenant_members', [m.tenant, m.userId], { role: m.role });
  }

  membershipIntact(m: MembershipFields): boolean {
    return m.tenant === null ? this.verify('platform_members', m.userId, { role: m.role }, m.mac) : this.verify('tenant_members', [m.tenant, m.userId], { role: m.role }, m.mac);
  }

  passkey(p: PasskeyFields): Buffer {
    return this.sign('passkeys', p.credentialId, passkeyFields(p));
  }

  passkeyIntact(p: PasskeyFields): boolean {
    return this.verify('passkeys', p.credentialId, passkeyFields(p), p.mac);
  }

  enrolmentCode(c: EnrolmentCodeFields): Buffer {
    return this.sign('enrolment_codes', Buffer.from(c.codeHash).toString('hex'), enrolmentFields(c));
  }

  enrolmentCodeIntact(c: EnrolmentCodeFields): boolean {
    return this.verify('enrolment_codes', Buffer.from(c.codeHash).toString('hex'), enrolmentFields(c), c.mac);
  }

  approval(a: ApprovalFields): Buffer {
    return this.sign('approvals', a.id, approvalFields(a));
  }

  approvalIntact(a: ApprovalFields): boolean {
    return this.verify('approvals', a.id, approvalFields(a), a.mac);
  }

  vote(v: VoteFields): Buffer {
    return this.sign('approval_votes', [v.approvalId, v.userId], voteFields(v));
  }

  voteIntact(v: VoteFields): boolean {
    return this.verify('approval_votes', [v.approvalId, v.userId], voteFields(v), v.mac);
  }

  /** `findUserRoles`'s filter: a membership whose MAC fails does not count (and alarms). */
  readonly keepMembership = (m: MembershipFields): boolean => {
    if (this.membershipIntact(m)) return true;
    this.alarmDetached(m.tenant === null ? 'platform_members' : 'tenant_members', m.tenant === null ? m.userId : `${m.tenant}:${m.userId}`);
    return false;
  };

  /** The row if its MAC verifies; otherwise undefined, alarmed as `table`/`target`. */
  intactOrAbsent<T>(row: T | undefined, ok: (row: T) => boolean, table: string, target: (row: T) => string): T | undefined {
    if (row === undefined || ok(row)) return row;
    this.alarmDetached(table, target(row));
    return undefined;
  }

  /**
   * The alarm for a row found inside another transaction: logged and counted at once, audited in a
   * transaction of its own that is not awaited (awaiting it could wait on a lock the caller holds).
   */
  alarmDetached(table: string, target: string): void {
    const db = this.db;
    if (!db) {
      this.log.error({ table, target }, 'row MAC mismatch: the row was written without the KEK; it counts as absent');
      this.onMismatch(table);
      return;
    }
    this.alarm(db, table, target).catch((err: unknown) => this.log.error({ err, table, target }, 'could not audit a row MAC mismatch'));
  }

  /** A row whose MAC failed: logged as an error, counted, and audited as `alert.row-mac-mismatch`. */
  async alarm(db: Db, table: string, target: string): Promise<void> {
    this.log.error({ table, target }, 'row MAC mismatch: the row was written without the KEK; it counts as absent');
    this.onMismatch(table);
    await appendAudit(db, { actor: SYSTEM_ACTOR, action: 'alert.row-mac-mismatch', target, outcome: 'failure', requestId: null, details: { table } }, this.clock.now());
  }
}

export interface TenantFields {
  readonly name: string;
  readonly quorum: number;
  readonly mac?: Uint8Array | null;
}

export interface MembershipFields {
  /** null: the platform role. */
  readonly tenant: string | null;
  readonly userId: string;
  readonly role: string;
  readonly mac?: Uint8Array | null;
}

export interface PasskeyFields {
  readonly credentialId: string;
  readonly userId: string;
  readonly publicKey: Uint8Array;
  readonly mac?: Uint8Array | null;
}

export interface EnrolmentCodeFields {
  readonly codeHash: Uint8Array;
  readonly userId: string;
  readonly tenant: string | null;
  readonly createdBy: string;
  readonly expiresAt: Date;
  readonly mac?: Uint8Array | null;
}

export interface ApprovalFields {
  readonly id: string;
  readonly tenant: string | null;
  readonly operation: string;
  readonly target: string;
  readonly change: unknown;
  readonly digest: string;
  readonly required: number;
  readonly requestedBy: string;
  readonly requestedByUser: string | null;
  readonly expiresAt: Date;
  readonly mac?: Uint8Array | null;
}

export interface VoteFields {
  readonly approvalId: string;
  readonly userId: string;
  readonly randomness: Uint8Array;
  readonly credentialId: string;
  readonly publicKey: Uint8Array;
  readonly authenticatorData: string;
  readonly clientDataJson: string;
  readonly signature: string;
  readonly mac?: Uint8Array | null;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function passkeyFields(p: PasskeyFields): Record<string, unknown> {
  return { userId: p.userId, publicKey: hex(p.publicKey) };
}

function enrolmentFields(c: EnrolmentCodeFields): Record<string, unknown> {
  return { userId: c.userId, tenant: c.tenant, createdBy: c.createdBy, expiresAt: c.expiresAt.toISOString() };
}

function approvalFields(a: ApprovalFields): Record<string, unknown> {
  return {
    tenant: a.tenant,
    operation: a.operation,
    target: a.target,
    change: a.change,
    digest: a.digest,
    required: a.required,
    requestedBy: a.requestedBy,
    requestedByUser: a.requestedByUser,
    expiresAt: a.expiresAt.toISOString(),
  };
}

function voteFields(v: VoteFields): Record<string, unknown> {
  return {
    randomness: hex(v.randomness),
    credentialId: v.credentialId,
    publicKey: hex(v.publicKey),
    authenticatorData: v.authenticatorData,
    clientDataJson: v.clientDataJson,
    signature: v.signature,
  };
}

function tokenFields(t: ApiTokenFields): Record<string, unknown> {
  return {
    tokenHash: Buffer.from(t.tokenHash).toString('hex'),
    role: t.role,
    scopes: [...t.scopes],
    tenant: t.tenant,
    expiresAt: t.expiresAt ? t.expiresAt.toISOString() : null,
    userId: t.userId,
    createdBy: t.createdBy,
    bootstrap: t.bootstrap,
  };
}

/** Which one-time backfills the start that applied them runs (migrations 0015 and 0016). */
export interface RowMacBackfill {
  /** 0015: key bindings and policy versions. */
  readonly authority: boolean;
  /** 0016: tenants, memberships, passkeys, enrolment codes, approvals, votes and live API tokens. */
  readonly people: boolean;
}

/**
 * The row-MAC key: 32 random bytes sealed under the KEK (service key 'row-mac', resealed by a KEK rotation
 * like the session and nonce keys). The start that applied migration 0015 creates it and, in the same
 * transaction, MACs every existing row (the one-time backfill); the start that applied 0016 MACs the
 * people rows that exist then. A key created by any other start (someone deleted the row) MACs nothing, so
 * deleting the key cannot launder rows written without the KEK: they count as absent until written again
 * through the API.
 */
export async function loadRowMac(db: Db, keks: KekRing, clock: Clock, log: RowMacLog, backfill: RowMacBackfill): Promise<RowMac> {
  return db.transaction().execute(async (trx) => {
    // The lock initKeks takes: one replica creates the key and backfills; the others wait and load it.
    await trx.selectFrom('auditHead').select('seq').forUpdate().execute();
    const row = await authRepo.findServiceKey(trx, PURPOSE);
    if (row) {
      const rowMac = new RowMac(await (await keks.resolve(row.kekId)).open(row.sealed, serviceKeyAad(PURPOSE)), clock, log, db);
      if (backfill.people) await macPeopleRows(trx, rowMac);
      return rowMac;
    }
    const fresh = randomBytes(32);
    const active = await activeKekRow(trx);
    const kek = active ? await keks.resolve(active.id) : keks.active;
    await authRepo.insertServiceKey(trx, { purpose: PURPOSE, kekId: kek.id, sealed: await kek.seal(fresh, serviceKeyAad(PURPOSE)), at: clock.now() });
    const rowMac = new RowMac(fresh, clock, log, db);
    await macSeedRows(trx, rowMac);
    if (backfill.authority) await macAuthorityRows(trx, rowMac);
    else if ((await keysRepo.allBindings(trx)).length + (await policiesRepo.allPolicyVersions(trx)).length + (await tokensRepo.listTokens(trx)).length > 0) {
      log.error({}, 'created a new row-MAC key outside the start that applied migration 0015: existing bindings and policy versions count as absent');
    }
    if (backfill.people) await macPeopleRows(trx, rowMac);
    return rowMac;
  });
}

/**
 * The rows migrations seed (tenant `default` at quorum 1, the bootstrap user as platform admin and owner
 * of `default`), MAC'd by whichever start creates the key, when they still hold exactly the seeded values:
 * a database migrated before keyward first started (a test template, an init job) has them unMAC'd.
 * Nothing is laundered: these are the values any installation starts with.
 */
async function macSeedRows(trx: Db, rowMac: RowMac): Promise<void> {
  const seeded = await tenantsRepo.seedRows(trx);
  if (seeded.tenant) await tenantsRepo.setTenantMac(trx, 'default', rowMac.tenant({ name: 'default', quorum: 1 }));
  for (const m of seeded.memberships) await tenantsRepo.setMembershipMac(trx, m, rowMac.membership(m));
}

async function macAuthorityRows(trx: Db, rowMac: RowMac): Promise<void> {
  for (const k of await keysRepo.allBindings(trx)) await keysRepo.setKeyMac(trx, k.id, rowMac.keyBinding(k));
  for (const v of await policiesRepo.allPolicyVersions(trx)) await policiesRepo.setPolicyVersionMac(trx, v.policyId, v.version, rowMac.policyVersion(v));
}

async function macPeopleRows(trx: Db, rowMac: RowMac): Promise<void> {
  const rows = await tenantsRepo.allPeopleRows(trx);
  for (const t of rows.tenants) await tenantsRepo.setTenantMac(trx, t.name, rowMac.tenant(t));
  for (const m of rows.memberships) await tenantsRepo.setMembershipMac(trx, m, rowMac.membership(m));
  for (const p of rows.passkeys) await tenantsRepo.setPasskeyMac(trx, p.credentialId, rowMac.passkey(p));
  for (const c of rows.enrolmentCodes) await tenantsRepo.setEnrolmentCodeMac(trx, c.codeHash, rowMac.enrolmentCode(c));
  for (const a of await approvalsRepo.allApprovals(trx)) await approvalsRepo.setApprovalMac(trx, a.id, rowMac.approval(a));
  for (const v of await approvalsRepo.allVotes(trx)) await approvalsRepo.setVoteMac(trx, v.approvalId, v.userId, rowMac.vote(v));
  // API tokens' MAC column comes with 0016 too. A revoked token keeps no MAC (clearing revoked_at must not revive it).
  for (const t of await tokensRepo.listTokens(trx)) if (!t.revokedAt) await tokensRepo.setTokenMac(trx, t.id, rowMac.apiToken(t));
}
