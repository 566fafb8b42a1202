// Exports the audit log for offline verification (`GET /v1/audit/export`, `keyward audit verify FILE`):
// one tenant's chain (its members), or the global chain (platform principals, with the rows of tenants they
// may not read reduced to their links), plus the checkpoints and public keys that sign them.
import type { JsonWebKey } from 'node:crypto';
import { RequestError } from '../errors.js';
import type { Clock } from '../clock.js';
import type { Db } from '../store/database.js';
import { listChainRows, listGlobalRows, type AuditRow } from '../store/audit-repo.js';
import * as repo from '../store/audit-checkpoints-repo.js';
import { toBase64Url, toHex } from '../encoding.js';
import { isPrincipal, resolveTenant } from './api-tokens.js';
import { toAuditEntry, type Actor } from './audit.js';
import { EXPORT_FORMAT, type AuditExport, type ChainLeaf, type ExportCheckpoint, type ExportRow } from './audit-verify.js';
import { publicCheckpointJwk } from './audit-checkpoints.js';

export interface ExportQuery {
  readonly tenant?: string;
  /** First sequence number: the global seq (global export) or the tenant chain's seq. */
  readonly from: number;
  readonly limit: number;
}

interface ExportScope {
  /** 'global' or 'tenant:<name>'. */
  readonly chain: string;
  /** In a global export, the chains whose rows are shown in full (undefined: all). */
  readonly visible?: ReadonlySet<string>;
}

/**
 * Who exports what. A tenant's chain: its members only (a platform admin without a role in it is refused,
 * as everywhere inside a tenant). The global chain: platform principals, seeing in full the platform's
 * events and those of tenants they are members of — the same rows `GET /v1/audit` shows them.
 */
export function exportScope(actor: Actor, tenant: string | undefined): ExportScope {
  if (!isPrincipal(actor)) return { chain: tenant === undefined ? 'global' : `tenant:${tenant}` };
  if (tenant !== undefined) {
    if (!actor.tenantRoles.has(tenant)) throw new RequestError('ERR_TENANT_FORBIDDEN', `This principal has no role in tenant "${tenant}"; it cannot export its audit log.`);
    return { chain: `tenant:${tenant}` };
  }
  if (actor.platformRole !== null) return { chain: 'global', visible: new Set(['platform', ...[...actor.tenantRoles.keys()].map((t) => `tenant:${t}`)]) };
  return { chain: `tenant:${resolveTenant(actor, undefined)}` };
}

function exportRow(row: AuditRow, visible: ReadonlySet<string> | undefined): ExportRow {
  const link = { chain: row.chain, chainSeq: Number(row.chainSeq), chainPrevHash: toHex(row.chainPrevHash), chainHash: toHex(row.chainHash) };
  if (visible && !visible.has(row.chain)) return { redacted: true, seq: Number(row.seq), prevHash: toHex(row.prevHash), hash: toHex(row.hash), ...link };
  return { ...toAuditEntry(row), ...link };
}

function exportCheckpoint(row: repo.CheckpointRow, leaves: ChainLeaf[]): ExportCheckpoint {
  return { seq: Number(row.seq), kid: row.kid, statement: row.statement, signature: toBase64Url(row.signature), leaves };
}

export class AuditExporter {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  async export(actor: Actor, query: ExportQuery): Promise<AuditExport> {
    const scope = exportScope(actor, query.tenant);
    const global = scope.chain === 'global';
    const fetched = global ? await listGlobalRows(this.db, query.from, query.limit + 1) : await listChainRows(this.db, scope.chain, query.from, query.limit + 1);
    const page = fetched.slice(0, query.limit);
    const rows = page.map((r) => exportRow(r, scope.visible));
    const checkpoints = await this.checkpointsFor(scope.chain, rows);
    const kids = [...new Set(checkpoints.map((c) => c.kid))];
    const keys: JsonWebKey[] = (await repo.listCheckpointKeys(this.db, kids)).map(publicCheckpointJwk);
    const last = rows[rows.length - 1];
    const nextFrom = fetched.length > query.limit && last ? (global ? last.seq : last.chainSeq) + 1 : null;
    return { format: EXPORT_FORMAT, chain: scope.chain, from: query.from, exportedAt: this.clock.now().toISOString(), rows, checkpoints, keys, nextFrom };
  }

  /** The checkpoints that cover the rows' range: all chain heads for a global export, the tenant's own head otherwise. */
  private async checkpointsFor(chain: string, rows: readonly ExportRow[]): Promise<ExportCheckpoint[]> {
    const first = rows[0];
    const last = rows[rows.length - 1];
    if (!first || !last) return [];
    if (chain === 'global') {
      const found = await repo.listCheckpointsBetween(this.db, first.seq, last.seq);
      return found.map((c) => exportCheckpoint(c, Object.entries(c.chains).map(([name, h]) => ({ chain: name, seq: Number(h.seq), head: h.head }))));
    }
    const found = await repo.listChainCheckpoints(this.db, chain, first.chainSeq, last.chainSeq);
    return found.map((c) => {
      const own = c.chains[chain] as { seq: number; head: string };
      return exportCheckpoint(c, [{ chain, seq: Number(own.seq), head: own.head }]);
    });
  }
}
