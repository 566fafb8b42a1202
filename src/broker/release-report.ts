// "Who received my key" (docs/design.md "Admin side"): each release and denial of a key, from the audit
// log, with the workload's TEE, chip or platform, measurement, evidence digests, attestation token id,
// the policy version that decided, and for denials the failing rules; as JSON or CSV.
import { RequestError } from '../errors.js';
import type { Db } from '../store/database.js';
import { listKeyReleases } from '../store/audit-repo.js';
import type { RequestContext } from './vault.js';
import type { Vault } from './vault.js';

export interface ReleaseRecord {
  readonly at: string;
  readonly outcome: 'released' | 'denied';
  readonly version: number | null;
  readonly tee: string | null;
  readonly chipId: string | null;
  readonly platformId: string | null;
  readonly measurement: string | null;
  readonly evidenceDigests: string[];
  readonly attestationTokenId: string | null;
  readonly policyId: string | null;
  readonly policyVersion: number | null;
  readonly code: string | null;
  readonly failingRules: string[];
  /** Denials: each failing rule's explanation (outcome, the values it read), as evaluation recorded it. JSON only. */
  readonly reasons?: readonly Record<string, unknown>[];
}

const CSV_COLUMNS = ['at', 'outcome', 'version', 'tee', 'chipId', 'platformId', 'measurement', 'evidenceDigests', 'attestationTokenId', 'policyId', 'policyVersion', 'code', 'failingRules'] as const;

function csvCell(value: unknown): string {
  const text = Array.isArray(value) ? value.join(' ') : value === null || value === undefined ? '' : String(value);
  // Why the leading quote: a cell starting with = + - @ is a formula in spreadsheets (CSV injection).
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function releasesCsv(items: readonly ReleaseRecord[]): string {
  return [CSV_COLUMNS.join(','), ...items.map((r) => CSV_COLUMNS.map((c) => csvCell(r[c])).join(','))].join('\n') + '\n';
}

function asDate(value: string | undefined, name: string): Date | undefined {
  if (value === undefined) return undefined;
  const d = new Date(value);
  if (Number.isNaN(d.getTime()) || d.getUTCFullYear() < 1 || d.getUTCFullYear() > 9999) throw new RequestError('ERR_REQUEST_INVALID', `${name} must be an RFC 3339 time.`);
  return d;
}

export class ReleaseReport {
  constructor(
    private readonly db: Db,
    private readonly vault: Vault,
  ) {}

  async list(ctx: RequestContext, keyId: string, q: { from?: string; to?: string; outcome?: 'released' | 'denied'; limit: number }): Promise<ReleaseRecord[]> {
    // Reading a key's metadata in its tenant is what this needs (and it names the tenant).
    await this.vault.get(ctx, keyId);
    const from = asDate(q.from, 'from');
    const to = asDate(q.to, 'to');
    const rows = await listKeyReleases(this.db, {
      keyId,
      limit: q.limit,
      ...(from ? { from } : {}),
      ...(to ? { to } : {}),
      ...(q.outcome ? { outcome: q.outcome === 'released' ? 'success' : 'denied' } : {}),
    });
    return rows
      .filter((r) => r.outcome !== 'failure')
      .map((r) => {
        const d = r.details as Record<string, unknown>;
        const w = (d['workload'] ?? {}) as Record<string, string | null>;
        const evidence = Array.isArray(d['evidence']) ? (d['evidence'] as { type?: unknown; digest?: unknown }[]).map((e) => `${String(e.type)}:${String(e.digest)}`) : [];
        const reasons = Array.isArray(d['reasons']) ? (d['reasons'] as { name?: unknown; message?: unknown }[]) : [];
        return {
          at: r.at.toISOString(),
          outcome: r.outcome === 'success' ? 'released' : 'denied',
          version: typeof d['version'] === 'number' ? d['version'] : null,
          tee: w['tee'] ?? null,
          chipId: w['chipId'] ?? null,
          platformId: w['platformId'] ?? null,
          measurement: w['measurement'] ?? null,
          evidenceDigests: evidence,
          attestationTokenId: typeof d['tokenId'] === 'string' ? d['tokenId'] : null,
          policyId: typeof d['policyId'] === 'string' ? d['policyId'] : null,
          policyVersion: typeof d['policyVersion'] === 'number' ? d['policyVersion'] : null,
          code: typeof d['code'] === 'string' ? d['code'] : null,
          failingRules: reasons.map((x) => String(x.name ?? x.message ?? '')),
          ...(reasons.length > 0 ? { reasons: reasons as Record<string, unknown>[] } : {}),
        };
      });
  }
}
