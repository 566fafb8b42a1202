// Release policies as stored objects: create, new versions, list, delete, bind to keys, dry-run.
// Documents are type-checked when saved (a typo is a 422 then, not a silent deny in production).
import { createHash, randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { RequestError } from '../errors.js';
import { isUuid, MAX_INT4 } from '../encoding.js';
import type { Db } from '../store/database.js';
import { DuplicateRowError } from '../store/database.js';
import * as repo from '../store/policies-repo.js';
import * as keysRepo from '../store/keys-repo.js';
import { compilePolicy, type CompiledPolicy } from '../policy/compile.js';
import { parsePolicyText } from '../policy/document.js';
import type { PolicyDecision, PolicyInput } from '../policy/evaluate.js';
import type { PolicySandbox } from './policy-sandbox.js';
import { LruMemo } from '../evidence/memo.js';
import { canonicalJson, appendAudit } from './audit.js';
import { toKeyMetadata, type KeyMetadata, type RequestContext } from './vault.js';
import { assertTenantScope, resolveTenant, type Scope } from './api-tokens.js';
import { findTenant } from '../store/tenants-repo.js';
import { stale, type Approvals, type Performed, type SensitiveOperation } from './approvals.js';
import type { RowMac } from './row-mac.js';
import { missingTrustInputs, type TrustInputProblem } from './trust-inputs.js';

export interface PolicyInfo {
  readonly id: string;
  readonly tenant: string;
  readonly name: string;
  readonly version: number;
  readonly description: string;
  readonly document: unknown;
  readonly sha256: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly versionCreatedAt: string;
}

/** A policy version ready to evaluate. */
export interface LoadedPolicy {
  readonly id: string;
  readonly version: number;
  readonly compiled: CompiledPolicy;
}

function notFound(): RequestError {
  return new RequestError('ERR_POLICY_NOT_FOUND', 'No policy with this id exists.');
}

/** A policy submitted as JSON (already parsed) or as YAML/JSON text. */
export type PolicySubmission = { readonly document: unknown } | { readonly text: string };

function readSubmission(input: PolicySubmission): { document: unknown; source: string | null } {
  if ('text' in input) return { document: parsePolicyText(input.text), source: input.text };
  return { document: input.document, source: null };
}

interface PolicyUpdateInput {
  readonly id: string;
  readonly document: { readonly name: string };
  readonly source: string | null;
  readonly sha256: string;
  /** Learns the policy's tenant (for the name-taken answer). */
  readonly onTenant: (tenant: string) => void;
}

export interface PolicyLimits {
  /** Refuse (when saved, and when loaded) policies whose worst-case cost estimate is above this. */
  readonly maxCost: number;
  /** Where decisions are evaluated: inline when cheap, else under a time and memory limit. */
  readonly sandbox: PolicySandbox;
}

export class Policies {
  private readonly compiled = new LruMemo(512);

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly limits: PolicyLimits,
    private readonly approvals: Approvals,
    /** Row MACs of bindings and policy versions (row-mac.ts). */
    readonly rowMac: RowMac,
  ) {
    approvals.register(this.bindOperation());
    approvals.register(this.updateOperation());
  }

  private compile(document: unknown): CompiledPolicy {
    return compilePolicy(document, { maxCost: this.limits.maxCost });
  }

  /**
   * Type-checks a document exactly as create would, without saving anything (plan-time checks by
   * Terraform and the console's editor): the same PolicyError, or { valid: true }.
   */
  validate(input: PolicySubmission): { valid: true } {
    this.compile(readSubmission(input).document);
    return { valid: true };
  }

  /** The policy row, once the principal holds `scope` in the policy's tenant. */
  private async authorized(ctx: RequestContext, db: Db, id: string, scope: Scope, forUpdate = false): Promise<repo.PolicyRow> {
    const row = isUuid(id) ? await repo.findPolicy(db, id, { forUpdate }) : undefined;
    if (!row) throw notFound();
    assertTenantScope(ctx.actor, row.tenant, scope);
    return row;
  }

  async create(ctx: RequestContext, input: PolicySubmission, givenTenant?: string): Promise<PolicyInfo> {
    const tenant = resolveTenant(ctx.actor, givenTenant);
    assertTenantScope(ctx.actor, tenant, 'policies:write');
    if (!(await findTenant(this.db, tenant))) throw new RequestError('ERR_TENANT_NOT_FOUND', `No tenant "${tenant}" exists.`);
    const { document, source } = readSubmission(input);
    const compiled = this.compile(document);
    const id = randomUUID();
    const at = this.clock.now();
    const doc = compiled.document;
    const sha256 = createHash('sha256').update(canonicalJson(doc)).digest('hex');
    try {
      await this.db.transaction().execute(async (trx) => {
        await repo.insertPolicy(trx, { id, tenant, name: doc.name, at });
        await repo.insertPolicyVersion(trx, { policyId: id, version: 1, document: doc, source, sha256, at, createdBy: ctx.actor.id, mac: this.rowMac.policyVersion({ policyId: id, version: 1, sha256, document: doc }) });
        await appendAudit(trx, { actor: ctx.actor, action: 'policy.create', target: id, outcome: 'success', requestId: ctx.requestId, details: { tenant, name: doc.name, version: 1, sha256 } }, at);
      });
    } catch (err) {
      if (err instanceof DuplicateRowError) throw await this.nameTaken(tenant, doc.name);
      throw err;
    }
    return this.get(id);
  }

  private async nameTaken(tenant: string, name: string): Promise<RequestError> {
    const existing = await repo.findPolicyByName(this.db, tenant, name);
    return new RequestError('ERR_POLICY_NAME_TAKEN', 'A policy with this name already exists.', existing ? { extra: { existingId: existing.id } } : {});
  }

  /**
   * Saves a new version. Keys bound to the policy are re-pinned to it, so for a bound policy this is a
   * sensitive change (under the tenant's quorum); an unbound policy changes at once.
   */
  async update(ctx: RequestContext, id: string, input: PolicySubmission): Promise<Performed<PolicyInfo>> {
    const { document, source } = readSubmission(input);
    const doc = this.compile(document).document;
    const sha256 = createHash('sha256').update(canonicalJson(doc)).digest('hex');
    let tenant = '';
    try {
      const out = await this.approvals.perform<PolicyUpdateInput, string>(ctx, 'policy.update', { id, document: doc, source, sha256, onTenant: (t) => (tenant = t) });
      return 'applied' in out ? { applied: await this.get(out.applied) } : out;
    } catch (err) {
      if (err instanceof DuplicateRowError) throw await this.nameTaken(tenant, doc.name);
      throw err;
    }
  }

  private updateOperation(): SensitiveOperation<PolicyUpdateInput, string> {
    return {
      name: 'policy.update',
      describe: async (trx, ctx, input) => {
        const policy = await this.authorized(ctx, trx, input.id, 'policies:write', true);
        input.onTenant(policy.tenant);
        const current = await repo.findPolicyVersion(trx, policy.id, policy.currentVersion);
        const bound = await keysRepo.keysBoundToPolicy(trx, policy.id);
        return {
          tenant: policy.tenant,
          target: policy.id,
          from: { version: policy.currentVersion, sha256: current?.sha256 ?? null, keys: bound.map((k) => ({ keyId: k.id, policyVersion: k.policyVersion })) },
          to: { name: input.document.name, document: input.document, source: input.source, sha256: input.sha256 },
          immediate: bound.length === 0,
        };
      },
      apply: async (trx, change, actx) => {
        const from = change.from as { version: number; keys: { keyId: string; policyVersion: number | null }[] };
        const to = change.to as { name: string; document: Record<string, unknown>; source: string | null; sha256: string };
        const policy = await repo.findPolicy(trx, change.target, { forUpdate: true });
        if (!policy || policy.currentVersion !== from.version) throw stale('the policy has a newer version');
        const bound = await keysRepo.keysBoundToPolicy(trx, policy.id);
        if (canonicalJson(bound.map((k) => ({ keyId: k.id, policyVersion: k.policyVersion }))) !== canonicalJson(from.keys)) throw stale('the keys bound to the policy changed');
        // Re-checked at apply: the document still compiles under today's limits and is what was hashed.
        const doc = this.compile(to.document).document;
        if (createHash('sha256').update(canonicalJson(doc)).digest('hex') !== to.sha256) throw stale('the document does not match its hash');
        const at = this.clock.now();
        const row = await repo.bumpPolicyVersion(trx, policy.id, doc.name, at);
        const mac = this.rowMac.policyVersion({ policyId: policy.id, version: row.currentVersion, sha256: to.sha256, document: doc });
        await repo.insertPolicyVersion(trx, { policyId: policy.id, version: row.currentVersion, document: doc, source: to.source, sha256: to.sha256, at, createdBy: actx.actor.id, mac });
        const repinned = await this.repin(trx, bound, row.currentVersion, at);
        await appendAudit(trx, { actor: actx.actor, action: 'policy.update', target: policy.id, outcome: 'success', requestId: actx.requestId, details: { tenant: policy.tenant, name: doc.name, version: row.currentVersion, sha256: to.sha256, keysRepinned: repinned, approvalId: actx.approvalId } }, at);
        return policy.id;
      },
    };
  }

  async get(id: string, version?: number): Promise<PolicyInfo> {
    if (!isUuid(id)) throw notFound();
    const row = await repo.findPolicy(this.db, id);
    if (!row) throw notFound();
    if (version !== undefined && (!Number.isSafeInteger(version) || version < 1 || version > MAX_INT4)) {
      throw new RequestError('ERR_POLICY_NOT_FOUND', `Policy version ${version} does not exist.`);
    }
    const v = await repo.findPolicyVersion(this.db, id, version ?? row.currentVersion);
    if (!v) throw new RequestError('ERR_POLICY_NOT_FOUND', `Policy version ${version} does not exist.`);
    const doc = v.document as { description?: string };
    return {
      id: row.id,
      tenant: row.tenant,
      name: row.name,
      version: v.version,
      description: doc.description ?? '',
      document: v.document,
      sha256: v.sha256,
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
      versionCreatedAt: v.createdAt.toISOString(),
    };
  }

  /** A policy version, for a principal allowed to read policies in its tenant. */
  async show(ctx: RequestContext, id: string, version?: number): Promise<PolicyInfo> {
    await this.authorized(ctx, this.db, id, 'policies:read');
    return this.get(id, version);
  }

  async list(ctx: RequestContext, givenTenant: string | undefined, limit: number, after?: string): Promise<{ items: PolicyInfo[]; nextAfter: string | null }> {
    const tenant = resolveTenant(ctx.actor, givenTenant);
    assertTenantScope(ctx.actor, tenant, 'policies:read');
    const rows = await repo.listPolicies(this.db, tenant, limit + 1, after);
    const page = rows.slice(0, limit);
    const items = await Promise.all(page.map((r) => this.get(r.id)));
    return { items, nextAfter: rows.length > limit ? (page[page.length - 1]?.name ?? null) : null };
  }

  /** Deletes a policy no live key is bound to (its versions stay, for the audit trail). */
  async delete(ctx: RequestContext, id: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const policy = await this.authorized(ctx, trx, id, 'policies:write', true);
      const bound = await repo.keysBoundTo(trx, id);
      if (bound.length > 0) {
        throw new RequestError('ERR_POLICY_IN_USE', 'Keys are bound to this policy; bind them to another policy first.', { extra: { keyIds: bound } });
      }
      const at = this.clock.now();
      await repo.markPolicyDeleted(trx, id, at);
      await appendAudit(trx, { actor: ctx.actor, action: 'policy.delete', target: id, outcome: 'success', requestId: ctx.requestId, details: { tenant: policy.tenant } }, at);
    });
  }

  /**
   * Binds a key to the current version of a policy, pinning that version (null unbinds: the key is then
   * never released). A sensitive change: under the tenant's quorum.
   */
  async bind(ctx: RequestContext, keyId: string, policyId: string | null): Promise<Performed<KeyMetadata>> {
    return this.approvals.perform<{ keyId: string; policyId: string | null }, KeyMetadata>(ctx, 'key.bind-policy', { keyId, policyId });
  }

  private bindOperation(): SensitiveOperation<{ keyId: string; policyId: string | null }, KeyMetadata> {
    return {
      name: 'key.bind-policy',
      describe: async (trx, ctx, { keyId, policyId }) => {
        const key = isUuid(keyId) ? await keysRepo.findKeyById(trx, keyId, { forUpdate: true }) : undefined;
        if (!key) throw new RequestError('ERR_KEY_NOT_FOUND', 'No key with this id exists.');
        assertTenantScope(ctx.actor, key.tenant, 'policies:write');
        if (key.state === 'destroyed') throw new RequestError('ERR_KEY_DESTROYED', 'The key has been destroyed.');
        // Why the tenant check: a key binds only to a policy of its own tenant; another tenant's policy
        // does not exist from here (the same answer as an unknown id, so nothing about it leaks).
        const policy = policyId !== null && isUuid(policyId) ? await repo.findPolicy(trx, policyId) : undefined;
        if (policyId !== null && (!policy || policy.tenant !== key.tenant)) throw notFound();
        const version = policy ? await repo.findPolicyVersion(trx, policy.id, policy.currentVersion) : undefined;
        return {
          tenant: key.tenant,
          target: key.id,
          from: { policyId: key.policyId, policyVersion: key.policyVersion },
          to: policy && version ? { policyId: policy.id, policyVersion: version.version, sha256: version.sha256, document: version.document } : null,
        };
      },
      apply: async (trx, change, actx) => {
        const from = change.from as { policyId: string | null; policyVersion: number | null };
        const to = change.to as { policyId: string; policyVersion: number; sha256: string; document: unknown } | null;
        const key = await keysRepo.findKeyById(trx, change.target, { forUpdate: true });
        if (!key || key.state === 'destroyed' || key.policyId !== from.policyId || key.policyVersion !== from.policyVersion) throw stale('the key or its binding changed');
        if (to) {
          const policy = await repo.findPolicy(trx, to.policyId);
          const version = await repo.findPolicyVersion(trx, to.policyId, to.policyVersion);
          if (!policy || policy.tenant !== key.tenant || !version || version.sha256 !== to.sha256 || canonicalJson(version.document) !== canonicalJson(to.document)) {
            throw stale('the policy version is not the one approved');
          }
        }
        const at = this.clock.now();
        const binding = { id: key.id, policyId: to?.policyId ?? null, policyVersion: to?.policyVersion ?? null };
        const updated = await keysRepo.updateKey(trx, key.id, { ...binding, mac: this.rowMac.keyBinding(binding) }, at);
        await appendAudit(trx, {
          actor: actx.actor,
          action: 'key.bind-policy',
          target: key.id,
          outcome: 'success',
          requestId: actx.requestId,
          details: { tenant: key.tenant, policyId: to?.policyId ?? null, policyVersion: to?.policyVersion ?? null, sha256: to?.sha256 ?? null, previous: from.policyId, previousVersion: from.policyVersion, approvalId: actx.approvalId },
        }, at);
        return toKeyMetadata(updated);
      },
    };
  }

  /** Re-pins the keys bound to a policy to its new version, each with its binding's new row MAC. */
  private async repin(trx: Db, bound: readonly { id: string; policyId: string | null }[], version: number, at: Date): Promise<number> {
    for (const k of bound) await keysRepo.repinKey(trx, k.id, version, this.rowMac.keyBinding({ id: k.id, policyId: k.policyId, policyVersion: version }), at);
    return bound.length;
  }

  /** The current version of a policy, compiled (cached by id and version). */
  async load(db: Db, id: string): Promise<LoadedPolicy> {
    const row = isUuid(id) ? await repo.findPolicy(db, id) : undefined;
    if (!row) throw notFound();
    return this.loadVersion(db, id, row.currentVersion);
  }

  async loadVersion(db: Db, id: string, version: number): Promise<LoadedPolicy> {
    if (!isUuid(id) || !Number.isSafeInteger(version) || version < 1 || version > MAX_INT4) throw notFound();
    const key = `${id}:${version}`;
    const cached = this.compiled.peek<CompiledPolicy>(key);
    if (cached) return { id, version, compiled: cached };
    const v = await repo.findPolicyVersion(db, id, version);
    if (!v) throw notFound();
    // A version whose row MAC fails was not written by keyward: it does not exist (and raises an alert).
    if (!this.rowMac.policyVersionIntact(v)) {
      await this.rowMac.alarm(db, 'policy_versions', `${id}:${version}`);
      throw notFound();
    }
    const compiled = this.compiled.remember(key, () => this.compile(v.document));
    return { id, version, compiled };
  }

  /** Decides over claims with a loaded policy version, within the evaluation limits. */
  async decide(loaded: LoadedPolicy, input: PolicyInput): Promise<PolicyDecision> {
    return this.limits.sandbox.evaluate(loaded.compiled, input);
  }

  /**
   * The dry run for a principal allowed to read policies in the policy's tenant. Outside tenant `default`
   * it also names the trust inputs the policy would have to accept (`trustInputs`), as a release would.
   */
  async dryRun(ctx: RequestContext, id: string, input: PolicyInput, version?: number): Promise<PolicyDecision & { policyId: string; version: number; trustInputs?: TrustInputProblem[] }> {
    const row = await this.authorized(ctx, this.db, id, 'policies:read');
    const loaded = version === undefined ? await this.load(this.db, id) : await this.loadVersion(this.db, id, version);
    const decision = await this.decide(loaded, input);
    const trustInputs = input.cpu === undefined && input.gpus === undefined ? [] : missingTrustInputs(row.tenant, loaded.compiled.refs, [input.cpu, ...(input.gpus ?? [])]);
    if (trustInputs.length === 0) return { ...decision, policyId: id, version: loaded.version };
    return { ...decision, allowed: false, policyId: id, version: loaded.version, trustInputs };
  }

  /** Dry run: evaluates a policy version over claims and explains every rule. */
  async evaluate(id: string, input: PolicyInput, version?: number): Promise<PolicyDecision & { policyId: string; version: number }> {
    const loaded = version === undefined ? await this.load(this.db, id) : await this.loadVersion(this.db, id, version);
    return { ...(await this.decide(loaded, input)), policyId: id, version: loaded.version };
  }
}
