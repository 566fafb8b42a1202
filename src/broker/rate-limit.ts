// Request budgets shared by every replica (docs/design.md "Rate limits"): fixed one-minute windows counted in
// Postgres, so N replicas behind a balancer enforce the configured budget in total, not N times it. Per
// client address (challenge, attest, failed release attempts) and, for releases, per key, tenant and TEE
// identity (SNP chip, DCAP platform, Nitro module, GPU).
import type { Clock } from '../clock.js';
import { RequestError } from '../errors.js';
import type { Db } from '../store/database.js';
import * as counters from '../store/rate-limits-repo.js';

export type BudgetScope = 'client' | 'failures' | 'key' | 'tenant' | 'tee';

/** One budget a request is counted against: `limit` requests per window (0 = no limit). */
export interface Budget {
  readonly scope: BudgetScope;
  readonly subject: string;
  readonly limit: number;
  /** The tenant the counter belongs to (the key's, for release budgets; 'default' for per-address ones). */
  readonly tenantId?: string;
}

/** Release budgets per minute when a key sets none of its own (KEYWARD_KEY/TENANT/TEE_RATE_LIMIT). */
export interface ReleaseBudgetDefaults {
  readonly perKey: number;
  readonly perTenant: number;
  readonly perTee: number;
}

export const DEFAULT_TENANT = 'default';
export const WINDOW_MS = 60_000;

const WHAT: Record<BudgetScope, string> = {
  client: 'requests from this client address',
  failures: 'failed attempts from this client address',
  key: 'releases of this key',
  tenant: 'releases for this tenant',
  tee: 'releases to this TEE',
};

function refOf(b: Budget): counters.CounterRef {
  return { tenantId: b.tenantId ?? DEFAULT_TENANT, scope: b.scope, subject: b.subject };
}

export class RateLimits {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /**
   * Counts one request against every budget (one database statement) and throws 429 — ERR_RATE_LIMITED,
   * with `retryAfterSeconds` until the window ends — when any of them is over its limit.
   */
  async take(budgets: readonly Budget[]): Promise<void> {
    const active = budgets.filter((b) => b.limit > 0);
    if (active.length === 0) return;
    const { windowStart, retryAfterSeconds } = this.window();
    const counts = await counters.incrementCounters(this.db, active.map(refOf), windowStart);
    for (const b of active) {
      const ref = refOf(b);
      const c = counts.find((v) => v.tenantId === ref.tenantId && v.scope === ref.scope && v.subject === ref.subject);
      if (c && c.count > b.limit) throw this.refusal(b, retryAfterSeconds);
    }
  }

  /** Throws as `take` would, without counting: for budgets charged only after the outcome is known. */
  async check(budget: Budget): Promise<void> {
    if (budget.limit <= 0) return;
    const { windowStart, retryAfterSeconds } = this.window();
    if ((await counters.readCounter(this.db, refOf(budget), windowStart)) >= budget.limit) throw this.refusal(budget, retryAfterSeconds);
  }

  /** Counts one request against `budget`; never refuses. */
  async charge(budget: Budget): Promise<void> {
    if (budget.limit <= 0) return;
    await counters.incrementCounters(this.db, [refOf(budget)], this.window().windowStart);
  }

  /** Drops counters of windows before the previous one; returns how many. */
  async purge(): Promise<number> {
    return counters.deleteCountersBefore(this.db, new Date(this.window().windowStart.getTime() - WINDOW_MS));
  }

  private window(): { windowStart: Date; retryAfterSeconds: number } {
    const now = this.clock.now().getTime();
    const start = Math.floor(now / WINDOW_MS) * WINDOW_MS;
    return { windowStart: new Date(start), retryAfterSeconds: Math.max(1, Math.ceil((start + WINDOW_MS - now) / 1000)) };
  }

  private refusal(b: Budget, retryAfterSeconds: number): RequestError {
    const code = b.scope === 'failures' ? 'ERR_AUTH_TOO_MANY_FAILURES' : 'ERR_RATE_LIMITED';
    return new RequestError(code, `Too many ${WHAT[b.scope]}; retry later.`, { extra: { retryAfterSeconds } });
  }
}

/**
 * The TEE identities a verified attestation token speaks for: the SNP chip (chipId), the TDX/SGX platform
 * (FMSPC and PCE ID of the PCK certificate), the Nitro module, and every GPU (deviceId).
 */
export function teeIdentities(payload: Readonly<Record<string, unknown>>): string[] {
  const ids: string[] = [];
  const cpu = payload['cpu'] as Record<string, unknown> | null | undefined;
  if (cpu && typeof cpu === 'object') {
    const tee = cpu['tee'];
    if (tee === 'snp' && typeof cpu['chipId'] === 'string') ids.push(`snp:${cpu['chipId']}`);
    if ((tee === 'tdx' || tee === 'sgx') && typeof cpu['fmspc'] === 'string') ids.push(`${tee}:${cpu['fmspc']}:${String(cpu['pceId'] ?? '')}`);
    if (tee === 'nitro' && typeof cpu['moduleId'] === 'string') ids.push(`nitro:${cpu['moduleId']}`);
  }
  const gpus = payload['gpus'];
  if (Array.isArray(gpus)) {
    for (const g of gpus as Record<string, unknown>[]) if (typeof g?.['deviceId'] === 'string') ids.push(`gpu:${g['deviceId']}`);
  }
  return ids;
}

/** Every budget one release is counted against: the key's (its own override first), the tenant's, each TEE's. */
export function releaseBudgets(
  keyId: string,
  keyOverride: number | null,
  payload: Readonly<Record<string, unknown>>,
  defaults: ReleaseBudgetDefaults,
  tenantId = DEFAULT_TENANT,
): Budget[] {
  return [
    { scope: 'key', subject: keyId, limit: keyOverride ?? defaults.perKey, tenantId },
    { scope: 'tenant', subject: tenantId, limit: defaults.perTenant, tenantId },
    ...teeIdentities(payload).map((subject): Budget => ({ scope: 'tee', subject, limit: defaults.perTee, tenantId })),
  ];
}
