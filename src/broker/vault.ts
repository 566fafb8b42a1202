// The key vault: create/import/rotate/disable/enable/destroy keys and issue data keys. Every change and
// its audit event commit in one transaction; key material exists in plaintext only briefly in memory.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { RequestError } from '../errors.js';
import { isUuid, toBase64, zeroize } from '../encoding.js';
import type { Db } from '../store/database.js';
import { DuplicateRowError } from '../store/database.js';
import * as keysRepo from '../store/keys-repo.js';
import type { KeyRow } from '../store/keys-repo.js';
import { activeKekRow } from '../store/keks-repo.js';
import { MATERIAL_BYTES, openMaterial, sealMaterial } from '../keys/envelope.js';
import { generateDataKey, parseWrappedDataKey, unwrapDataKey, wrapDataKey } from '../keys/datakey.js';
import type { KekRing } from '../keys/kek.js';
import { appendAudit, type Actor } from './audit.js';
import { assertTenantScope, resolveTenant, type Scope } from './api-tokens.js';
import { findTenant } from '../store/tenants-repo.js';
import { stale, type Approvals, type Performed, type SensitiveOperation } from './approvals.js';
import type { ImportKeys } from './import-keys.js';

export type KeyKind = KeyRow['kind'];
export type KeyState = KeyRow['state'];

export interface RequestContext {
  readonly actor: Actor;
  readonly requestId: string | null;
}

/** Key metadata as the API shows it: never material. */
export interface KeyMetadata {
  readonly id: string;
  /** The tenant the key belongs to. */
  readonly tenant: string;
  readonly name: string;
  readonly kind: KeyKind;
  readonly description: string;
  readonly labels: Record<string, string>;
  readonly state: KeyState;
  readonly origin: KeyRow['origin'];
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly destroyedAt: string | null;
  /** pending-destroy: when the material will be erased. */
  readonly destroyAfter: string | null;
  /** The release policy bound to the key; null: the key is never released (fail closed). */
  readonly policyId: string | null;
  /** The key's own release budget (releases per minute, 0 = none); null: the configured default applies. */
  readonly rateLimit: { readonly perMinute: number } | null;
  /** The version of that policy the binding pins (null when unbound). */
  readonly policyVersion: number | null;
  /** Whether a release alert (new TEE identity, burst) holds the key until an owner lifts the hold. */
  readonly alertHold: boolean;
  /** The hold an alert placed (releases refused), or null. */
  readonly held: { readonly since: string; readonly alert: string } | null;
  /** Changes on every update; send it back in If-Match. */
  readonly etag: string;
}

export function toKeyMetadata(row: KeyRow): KeyMetadata {
  return {
    id: row.id,
    tenant: row.tenant,
    name: row.name,
    kind: row.kind,
    description: row.description,
    labels: row.labels,
    state: row.state,
    origin: row.origin,
    version: row.currentVersion,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    destroyedAt: row.destroyedAt ? row.destroyedAt.toISOString() : null,
    destroyAfter: row.destroyAfter ? row.destroyAfter.toISOString() : null,
    policyId: row.policyId ?? null,
    rateLimit: row.rateLimitPerMinute === null || row.rateLimitPerMinute === undefined ? null : { perMinute: row.rateLimitPerMinute },
    policyVersion: row.policyVersion ?? null,
    alertHold: row.alertHold,
    held: row.heldAt && row.heldBy ? { since: row.heldAt.toISOString(), alert: `alert.${row.heldBy}` } : null,
    etag: `"${row.revision}"`,
  };
}

export interface CreateKeyInput {
  /** Omitted: the principal's only tenant. */
  readonly tenant?: string;
  readonly name: string;
  readonly kind: KeyKind;
  readonly description?: string;
  readonly labels?: Record<string, string>;
}

export interface DataKey {
  readonly keyId: string;
  readonly version: number;
  /** Plaintext data key: the caller must zero it once sent. */
  readonly plaintext: Uint8Array;
  readonly wrapped: string;
}

function notFound(): RequestError {
  return new RequestError('ERR_KEY_NOT_FOUND', 'No key with this id exists.');
}

/** Refuses use of a key that is not active, with the code for its state. */
export function assertUsable(row: KeyRow): void {
  if (row.state === 'destroyed') throw new RequestError('ERR_KEY_DESTROYED', 'The key has been destroyed; its material is gone.');
  if (row.state === 'disabled') throw new RequestError('ERR_KEY_DISABLED', 'The key is disabled; enable it to use it.');
  if (row.state === 'pending-destroy') throw pendingDestroy();
}

function pendingDestroy(): RequestError {
  return new RequestError('ERR_KEY_PENDING_DESTROY', 'The key is scheduled for destruction; cancel that to use it.');
}

/** The waiting period of a scheduled destruction, in days (AWS KMS: 7 to 30). */
export const PENDING_DAYS = { min: 7, max: 30 } as const;
const DAY_MS = 24 * 60 * 60 * 1000;

export class Vault {
  constructor(
    private readonly db: Db,
    private readonly keks: KekRing,
    private readonly clock: Clock,
    private readonly importKeys: ImportKeys,
    private readonly approvals: Approvals,
  ) {
    approvals.register(this.stateOperation('key.enable', 'active'));
    approvals.register(this.stateOperation('key.destroy', 'destroyed'));
    approvals.register(this.scheduleOperation());
    approvals.register(this.cancelOperation());
  }

  /** Schedules destruction after `pendingDays` (7..30); releases are refused meanwhile. Under the tenant's quorum. */
  async scheduleDestroy(ctx: RequestContext, id: string, pendingDays: number): Promise<Performed<KeyMetadata>> {
    if (!Number.isInteger(pendingDays) || pendingDays < PENDING_DAYS.min || pendingDays > PENDING_DAYS.max) {
      throw new RequestError('ERR_REQUEST_INVALID', `pendingDays must be ${PENDING_DAYS.min} to ${PENDING_DAYS.max}.`);
    }
    return this.approvals.perform(ctx, 'key.schedule-destroy', { id, pendingDays });
  }

  /** Cancels a scheduled destruction: the key returns to the state it had. Under the tenant's quorum. */
  async cancelDestroy(ctx: RequestContext, id: string): Promise<Performed<KeyMetadata>> {
    return this.approvals.perform(ctx, 'key.cancel-destroy', { id });
  }

  private scheduleOperation(): SensitiveOperation<{ id: string; pendingDays: number }, KeyMetadata> {
    return {
      name: 'key.schedule-destroy',
      describe: async (trx, ctx, { id, pendingDays }) => {
        const row = await this.row(ctx, trx, id, 'keys:write', true);
        if (row.state === 'destroyed') throw new RequestError('ERR_KEY_DESTROYED', 'The key has been destroyed.');
        if (row.state === 'pending-destroy') throw pendingDestroy();
        return { tenant: row.tenant, target: row.id, from: { state: row.state }, to: { state: 'pending-destroy', pendingDays } };
      },
      apply: async (trx, change, actx) => {
        const from = change.from as { state: 'active' | 'disabled' };
        const to = change.to as { pendingDays: number };
        const row = await keysRepo.findKeyById(trx, change.target, { forUpdate: true });
        if (!row || row.state !== from.state) throw stale('the key changed');
        const at = this.clock.now();
        // The window starts when the change applies, so approvals never shorten it.
        const destroyAfter = new Date(at.getTime() + to.pendingDays * DAY_MS);
        const updated = await keysRepo.updateKey(trx, row.id, { state: 'pending-destroy', destroyAfter, stateBeforeDestroy: from.state }, at);
        await appendAudit(trx, { actor: actx.actor, action: 'key.schedule-destroy', target: row.id, outcome: 'success', requestId: actx.requestId, details: { tenant: row.tenant, pendingDays: to.pendingDays, destroyAfter: destroyAfter.toISOString(), approvalId: actx.approvalId } }, at);
        return toKeyMetadata(updated);
      },
    };
  }

  private cancelOperation(): SensitiveOperation<{ id: string }, KeyMetadata> {
    return {
      name: 'key.cancel-destroy',
      describe: async (trx, ctx, { id }) => {
        const row = await this.row(ctx, trx, id, 'keys:write', true);
        if (row.state !== 'pending-destroy') throw new RequestError('ERR_KEY_NOT_PENDING_DESTROY', 'The key is not scheduled for destruction.');
        return { tenant: row.tenant, target: row.id, from: { state: 'pending-destroy', destroyAfter: row.destroyAfter?.toISOString() ?? null }, to: { state: row.stateBeforeDestroy } };
      },
      apply: async (trx, change, actx) => {
        const from = change.from as { destroyAfter: string | null };
        const to = change.to as { state: 'active' | 'disabled' };
        const row = await keysRepo.findKeyById(trx, change.target, { forUpdate: true });
        const at = this.clock.now();
        if (!row || row.state !== 'pending-destroy' || (row.destroyAfter?.toISOString() ?? null) !== from.destroyAfter) throw stale('the key changed');
        // Why: once the window has ended the material is due for erasure; a late approval cannot revive it.
        if (row.destroyAfter && row.destroyAfter <= at) throw stale('the destruction window has ended');
        const updated = await keysRepo.updateKey(trx, row.id, { state: to.state, destroyAfter: null, stateBeforeDestroy: null }, at);
        await appendAudit(trx, { actor: actx.actor, action: 'key.cancel-destroy', target: row.id, outcome: 'success', requestId: actx.requestId, details: { tenant: row.tenant, state: to.state, approvalId: actx.approvalId } }, at);
        return toKeyMetadata(updated);
      },
    };
  }

  /** Erases the material of keys whose destruction window has ended; returns how many. */
  async sweepScheduledDestruction(): Promise<number> {
    const now = this.clock.now();
    return this.db.transaction().execute(async (trx) => {
      const due = await keysRepo.keysDueForDestruction(trx, now, 100);
      for (const row of due) {
        const erased = await keysRepo.destroyKeyVersions(trx, row.id, now);
        await keysRepo.updateKey(trx, row.id, { state: 'destroyed', destroyedAt: now, destroyAfter: null, stateBeforeDestroy: null }, now);
        await appendAudit(trx, { actor: { id: 'system', name: 'keyward' }, action: 'key.destroy', target: row.id, outcome: 'success', requestId: null, details: { tenant: row.tenant, versionsErased: erased, scheduled: true } }, now);
      }
      return due.length;
    });
  }

  /**
   * Enabling a disabled key and destroying a key are sensitive changes (under the tenant's quorum):
   * from the key's current state to `target`. Applying re-checks the state is still the one approved.
   */
  private stateOperation(name: string, target: 'active' | 'destroyed'): SensitiveOperation<{ ctx: RequestContext; id: string }, KeyMetadata> {
    return {
      name,
      describe: async (trx, ctx, { id }) => {
        const row = await this.row(ctx, trx, id, 'keys:write', true);
        if (target === 'active' && row.state === 'destroyed') throw new RequestError('ERR_KEY_DESTROYED', 'The key has been destroyed and cannot change state.');
        if (target === 'active' && row.state === 'pending-destroy') throw pendingDestroy();
        return { tenant: row.tenant, target: row.id, from: { state: row.state, version: row.currentVersion }, to: { state: target }, immediate: row.state === target };
      },
      apply: async (trx, change, actx) => {
        const from = change.from as { state: KeyState; version: number };
        const row = await keysRepo.findKeyById(trx, change.target, { forUpdate: true });
        if (!row || row.state !== from.state || row.currentVersion !== from.version) throw stale('the key changed');
        if (row.state === target) return toKeyMetadata(row);
        const at = this.clock.now();
        if (target === 'active') {
          const updated = await keysRepo.updateKey(trx, row.id, { state: 'active' }, at);
          await appendAudit(trx, { actor: actx.actor, action: 'key.enable', target: row.id, outcome: 'success', requestId: actx.requestId, details: { tenant: row.tenant, approvalId: actx.approvalId } }, at);
          return toKeyMetadata(updated);
        }
        const erased = await keysRepo.destroyKeyVersions(trx, row.id, at);
        const updated = await keysRepo.updateKey(trx, row.id, { state: 'destroyed', destroyedAt: at, destroyAfter: null, stateBeforeDestroy: null }, at);
        await appendAudit(trx, { actor: actx.actor, action: 'key.destroy', target: row.id, outcome: 'success', requestId: actx.requestId, details: { tenant: row.tenant, versionsErased: erased, approvalId: actx.approvalId } }, at);
        return toKeyMetadata(updated);
      },
    };
  }

  /** The tenant a new key goes to, once the principal may write keys there. */
  private async tenantForNewKey(ctx: RequestContext, given: string | undefined): Promise<string> {
    const tenant = resolveTenant(ctx.actor, given);
    assertTenantScope(ctx.actor, tenant, 'keys:write');
    if (!(await findTenant(this.db, tenant))) throw new RequestError('ERR_TENANT_NOT_FOUND', `No tenant "${tenant}" exists.`);
    return tenant;
  }

  async create(ctx: RequestContext, input: CreateKeyInput): Promise<KeyMetadata> {
    const tenant = await this.tenantForNewKey(ctx, input.tenant);
    const material = new Uint8Array(randomBytes(MATERIAL_BYTES));
    try {
      return await this.insertWithMaterial(ctx, { ...input, tenant }, material, 'generated');
    } finally {
      zeroize(material);
    }
  }

  /** BYOK: the material arrives as a JWE to keyward's import key and is sealed without ever being stored plain. */
  async import(ctx: RequestContext, input: CreateKeyInput & { jwe: string }): Promise<KeyMetadata> {
    const tenant = await this.tenantForNewKey(ctx, input.tenant);
    // Why only `default`: the shared import key is not bound to a key or tenant, so a captured JWE could
    // be imported into another tenant; other tenants wait for per-key import parameters.
    if (tenant !== 'default') throw new RequestError('ERR_IMPORT_TENANT_UNSUPPORTED', 'Imports with the shared import key go to tenant "default" only.');
    await this.assertNameFree(tenant, input.name);
    const material = await this.importKeys.decrypt(input.jwe);
    try {
      return await this.insertWithMaterial(ctx, { ...input, tenant }, material, 'imported');
    } finally {
      zeroize(material);
    }
  }

  /** The shared import key is for tenant `default` only: refuses a principal that cannot write keys there. */
  assertImportKeyAccess(ctx: RequestContext): void {
    assertTenantScope(ctx.actor, 'default', 'keys:write');
  }

  private async assertNameFree(tenant: string, name: string): Promise<void> {
    const existing = await keysRepo.findKeyByName(this.db, tenant, name);
    if (existing) throw this.nameTaken(existing.id);
  }

  private nameTaken(existingId: string): RequestError {
    return new RequestError('ERR_KEY_NAME_TAKEN', 'A key with this name already exists.', { extra: { existingId } });
  }

  private async insertWithMaterial(
    ctx: RequestContext,
    input: CreateKeyInput & { tenant: string },
    material: Uint8Array,
    origin: KeyRow['origin'],
  ): Promise<KeyMetadata> {
    const id = randomUUID();
    const at = this.clock.now();
    try {
      return await this.db.transaction().execute(async (trx) => {
        const kek = await this.lockActiveKek(trx);
        const sealed = await sealMaterial(kek, id, 1, material);
        const row = await keysRepo.insertKey(trx, {
          id,
          name: input.name,
          kind: input.kind,
          description: input.description ?? '',
          labels: input.labels ?? {},
          origin,
          tenant: input.tenant,
          at,
        });
        await keysRepo.insertKeyVersion(trx, { keyId: id, version: 1, kekId: kek.id, sealed, at });
        await appendAudit(
          trx,
          { actor: ctx.actor, action: origin === 'imported' ? 'key.import' : 'key.create', target: id, outcome: 'success', requestId: ctx.requestId, details: { tenant: input.tenant, name: input.name, kind: input.kind, version: 1 } },
          at,
        );
        return toKeyMetadata(row);
      });
    } catch (err) {
      if (err instanceof DuplicateRowError) {
        const existing = await keysRepo.findKeyByName(this.db, input.tenant, input.name);
        if (existing) throw this.nameTaken(existing.id);
      }
      throw err;
    }
  }

  /** The active KEK, share-locked for the transaction so a KEK rotation waits for it. */
  private async lockActiveKek(trx: Db) {
    const row = await activeKekRow(trx, { lock: true });
    if (!row) return this.keks.active;
    return this.keks.resolve(row.id);
  }

  /** A usable key the caller may write (scope `keys:write` in its tenant). */
  async writableKey(ctx: RequestContext, id: string): Promise<KeyRow> {
    const row = await this.row(ctx, this.db, id, 'keys:write');
    assertUsable(row);
    return row;
  }

  async get(ctx: RequestContext, id: string): Promise<KeyMetadata> {
    return toKeyMetadata(await this.row(ctx, this.db, id, 'keys:read'));
  }

  /** The key row, once the principal holds `scope` in the key's tenant (the resource names the tenant). */
  private async row(ctx: RequestContext, db: Db, id: string, scope: Scope, forUpdate = false): Promise<KeyRow> {
    if (!isUuid(id)) throw notFound();
    const row = await keysRepo.findKeyById(db, id, { forUpdate });
    if (!row) throw notFound();
    assertTenantScope(ctx.actor, row.tenant, scope);
    return row;
  }

  async list(
    ctx: RequestContext,
    filter: Omit<keysRepo.KeyListFilter, 'after' | 'tenant'> & { cursor?: string; tenant?: string },
  ): Promise<{ items: KeyMetadata[]; nextCursor: string | null }> {
    const tenant = resolveTenant(ctx.actor, filter.tenant);
    assertTenantScope(ctx.actor, tenant, 'keys:read');
    const after = filter.cursor ? decodeCursor(filter.cursor) : undefined;
    const rows = await keysRepo.listKeys(this.db, { ...filter, tenant, limit: filter.limit + 1, ...(after ? { after } : {}) });
    const page = rows.slice(0, filter.limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toKeyMetadata),
      nextCursor: rows.length > filter.limit && last ? encodeCursor(last) : null,
    };
  }

  async update(
    ctx: RequestContext,
    id: string,
    patch: { description?: string; labels?: Record<string, string>; rateLimit?: { perMinute: number } | null; alertHold?: boolean },
    ifMatch: string | undefined,
  ): Promise<KeyMetadata> {
    return this.db.transaction().execute(async (trx) => {
      const row = await this.row(ctx, trx, id, 'keys:write', true);
      if (ifMatch !== undefined && ifMatch !== `"${row.revision}"` && ifMatch !== '*') {
        throw new RequestError('ERR_PRECONDITION_FAILED', 'The key changed since you read it; fetch it again and retry with its new ETag.');
      }
      if (row.state === 'destroyed') throw new RequestError('ERR_KEY_DESTROYED', 'The key has been destroyed; its metadata is frozen.');
      const at = this.clock.now();
      const { rateLimit, ...rest } = patch;
      const updated = await keysRepo.updateKey(trx, id, { ...rest, ...(rateLimit !== undefined ? { rateLimitPerMinute: rateLimit?.perMinute ?? null } : {}) }, at);
      const details = { tenant: row.tenant, fields: Object.keys(patch), ...(rateLimit !== undefined ? { rateLimit } : {}), ...(patch.alertHold !== undefined ? { alertHold: patch.alertHold } : {}) };
      await appendAudit(trx, { actor: ctx.actor, action: 'key.update', target: id, outcome: 'success', requestId: ctx.requestId, details }, at);
      return toKeyMetadata(updated);
    });
  }

  async rotate(ctx: RequestContext, id: string): Promise<KeyMetadata> {
    return this.addVersion(ctx, id, 'key.rotate', async () => ({ material: new Uint8Array(randomBytes(MATERIAL_BYTES)), details: {} }));
  }

  /**
   * Adds a version whose material `produce` yields inside the transaction, once the caller may write the
   * usable key (a rotation, or a BYOK import that consumes its import token there). The material is zeroed.
   */
  async addVersion(
    ctx: RequestContext,
    id: string,
    action: 'key.rotate' | 'key.import',
    produce: (trx: Db, key: KeyRow) => Promise<{ material: Uint8Array; details: Record<string, unknown> }>,
  ): Promise<KeyMetadata> {
    return this.db.transaction().execute(async (trx) => {
      const current = await this.row(ctx, trx, id, 'keys:write', true);
      assertUsable(current);
      const { material, details } = await produce(trx, current);
      try {
        const at = this.clock.now();
        const kek = await this.lockActiveKek(trx);
        const row = await keysRepo.nextKeyVersion(trx, id, at);
        const sealed = await sealMaterial(kek, id, row.currentVersion, material);
        await keysRepo.insertKeyVersion(trx, { keyId: id, version: row.currentVersion, kekId: kek.id, sealed, at });
        await appendAudit(trx, { actor: ctx.actor, action, target: id, outcome: 'success', requestId: ctx.requestId, details: { tenant: current.tenant, version: row.currentVersion, ...details } }, at);
        return toKeyMetadata(row);
      } finally {
        zeroize(material);
      }
    });
  }

  /** Disabling applies at once; enabling a disabled key is a sensitive change (under the tenant's quorum). */
  async setEnabled(ctx: RequestContext, id: string, enabled: boolean): Promise<Performed<KeyMetadata>> {
    if (enabled) return this.approvals.perform(ctx, 'key.enable', { ctx, id });
    return { applied: await this.disable(ctx, id) };
  }

  private async disable(ctx: RequestContext, id: string): Promise<KeyMetadata> {
    return this.db.transaction().execute(async (trx) => {
      const row = await this.row(ctx, trx, id, 'keys:write', true);
      if (row.state === 'destroyed') throw new RequestError('ERR_KEY_DESTROYED', 'The key has been destroyed and cannot change state.');
      if (row.state === 'disabled') return toKeyMetadata(row);
      if (row.state === 'pending-destroy') throw pendingDestroy();
      const at = this.clock.now();
      const updated = await keysRepo.updateKey(trx, id, { state: 'disabled' }, at);
      await appendAudit(trx, { actor: ctx.actor, action: 'key.disable', target: id, outcome: 'success', requestId: ctx.requestId, details: { tenant: row.tenant } }, at);
      return toKeyMetadata(updated);
    });
  }

  /**
   * Crypto-shredding: every version's sealed material is erased; the metadata stays as a tombstone. A
   * sensitive change (under the tenant's quorum).
   */
  async destroy(ctx: RequestContext, id: string): Promise<Performed<KeyMetadata>> {
    return this.approvals.perform(ctx, 'key.destroy', { ctx, id });
  }

  async dataKey(ctx: RequestContext, id: string): Promise<DataKey> {
    const found = isUuid(id) ? await keysRepo.findKeyForRelease(this.db, id, undefined) : undefined;
    if (!found) throw notFound();
    const row = found.key;
    assertTenantScope(ctx.actor, row.tenant, 'keys:datakey');
    assertUsable(row);
    const material = await this.openVersionRow(id, row.currentVersion, found.version);
    const plaintext = generateDataKey();
    try {
      const wrapped = wrapDataKey(material, id, row.currentVersion, plaintext);
      // A single statement: the audit row is atomic without a transaction around it.
      await appendAudit(this.db, { actor: ctx.actor, action: 'key.datakey', target: id, outcome: 'success', requestId: ctx.requestId, details: { tenant: row.tenant, version: row.currentVersion } }, this.clock.now());
      return { keyId: id, version: row.currentVersion, plaintext, wrapped };
    } catch (err) {
      zeroize(plaintext);
      throw err;
    } finally {
      zeroize(material);
    }
  }

  /** Opens the material of one version of a key (for release to an attested workload). Caller zeroes it. */
  async openVersion(db: Db, row: KeyRow, version: number): Promise<Uint8Array> {
    return this.openVersionRow(row.id, version, await keysRepo.findKeyVersion(db, row.id, version));
  }

  /** Opens an already-read version row (undefined: it does not exist). Caller zeroes the result. */
  async openVersionRow(keyId: string, version: number, v: Pick<keysRepo.KeyVersionRow, 'state' | 'kekId' | 'sealed'> | undefined): Promise<Uint8Array> {
    if (!v) throw new RequestError('ERR_KEY_VERSION_NOT_FOUND', `Key version ${version} does not exist.`);
    if (v.state === 'destroyed' || !v.sealed || !v.kekId) throw new RequestError('ERR_KEY_DESTROYED', 'This key version has been destroyed.');
    return openMaterial(await this.keks.resolve(v.kekId), keyId, version, v.sealed);
  }

  /** Opens a wrapped data key of this key (for release with wrappedDataKey). Caller zeroes it. */
  async openDataKey(db: Db, row: KeyRow, wrapped: string): Promise<{ version: number; dataKey: Uint8Array }> {
    const ref = parseWrappedDataKey(wrapped);
    if (ref.keyId !== row.id) throw new RequestError('ERR_DATAKEY_INVALID', 'The wrapped data key is not valid for this key.');
    const material = await this.openVersion(db, row, ref.version);
    try {
      return { version: ref.version, dataKey: unwrapDataKey(material, row.id, ref.version, wrapped) };
    } finally {
      zeroize(material);
    }
  }

  async versions(ctx: RequestContext, id: string): Promise<{ version: number; state: string; createdAt: string; destroyedAt: string | null }[]> {
    await this.row(ctx, this.db, id, 'keys:read');
    const rows = await keysRepo.listKeyVersions(this.db, id);
    return rows.map((v) => ({ version: v.version, state: v.state, createdAt: v.createdAt.toISOString(), destroyedAt: v.destroyedAt?.toISOString() ?? null }));
  }
}

function encodeCursor(row: KeyRow): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (!id || !isUuid(id) || Number.isNaN(createdAt.getTime())) {
    throw new RequestError('ERR_REQUEST_INVALID', 'The cursor is not one this API returned.');
  }
  return { createdAt, id };
}

export function dataKeyResponse(dk: DataKey): { keyId: string; version: number; plaintext: string; wrapped: string } {
  return { keyId: dk.keyId, version: dk.version, plaintext: toBase64(dk.plaintext), wrapped: dk.wrapped };
}
