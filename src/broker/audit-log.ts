// Reading the audit log for admins: pages of events and a check of the hash chain.
import type { Db } from '../store/database.js';
import { listAuditRows, readAuditHead, type AuditFilter } from '../store/audit-repo.js';
import { GENESIS_HASH, expectedChainHash, findBrokenLink, toAuditEntry, type AuditEntry } from './audit.js';
import type { AuditRow } from '../store/audit-repo.js';
import { toHex } from '../encoding.js';
import { isPrincipal } from './api-tokens.js';
import type { Actor } from './audit.js';

/**
 * What part of the log an actor reads: a tenant's members its tenant's events; a platform principal the
 * platform's own events (no tenant) and those of tenants it is a member of, never another tenant's.
 */
export function auditVisibility(actor: Actor): AuditFilter['visible'] {
  if (!isPrincipal(actor)) return undefined;
  return { tenants: [...actor.tenantRoles.keys()], platform: actor.platformRole !== null };
}

/** The seq of the first row whose own chain link does not hold (`chains`: each chain's head so far, updated). */
function findBrokenChainLink(rows: readonly AuditRow[], chains: Map<string, { seq: number; hash: string }>): number | undefined {
  for (const row of rows) {
    const last = chains.get(row.chain) ?? { seq: 0, hash: GENESIS_HASH };
    const hash = toHex(row.chainHash);
    const linked = Number(row.chainSeq) === last.seq + 1 && toHex(row.chainPrevHash) === last.hash;
    if (!linked || expectedChainHash(last.hash, last.seq + 1, toHex(row.hash)) !== hash) return Number(row.seq);
    chains.set(row.chain, { seq: last.seq + 1, hash });
  }
  return undefined;
}

export class AuditLog {
  constructor(private readonly db: Db) {}

  async list(actor: Actor, filter: Omit<AuditFilter, 'visible'>): Promise<{ items: AuditEntry[]; nextAfter: number | null }> {
    const visible = auditVisibility(actor);
    const rows = await listAuditRows(this.db, { ...filter, limit: filter.limit + 1, ...(visible ? { visible } : {}) });
    const items = rows.slice(0, filter.limit).map(toAuditEntry);
    const last = items[items.length - 1];
    return { items, nextAfter: rows.length > filter.limit && last ? last.seq : null };
  }

  /**
   * Walks the whole chain from the start; reports the first event whose link or hash does not hold, in the
   * global chain or in its own (tenant or platform) chain.
   */
  async verifyChain(): Promise<{ ok: boolean; events: number; headSeq: number; headHash: string; brokenAt: number | null }> {
    const head = await readAuditHead(this.db);
    let after = 0;
    let prev = GENESIS_HASH;
    let count = 0;
    const chains = new Map<string, { seq: number; hash: string }>();
    for (;;) {
      const rows = await listAuditRows(this.db, { afterSeq: after, limit: 1000 });
      if (rows.length === 0) break;
      const entries = rows.map(toAuditEntry);
      const broken = findBrokenLink(entries, prev) ?? findBrokenChainLink(rows, chains);
      if (broken !== undefined) return { ok: false, events: count, headSeq: head.seq, headHash: toHex(head.hash), brokenAt: broken };
      count += entries.length;
      const last = entries[entries.length - 1] as AuditEntry;
      prev = last.hash;
      after = last.seq;
    }
    const ok = prev === toHex(head.hash) && after === head.seq;
    return { ok, events: count, headSeq: head.seq, headHash: toHex(head.hash), brokenAt: ok ? null : after + 1 };
  }
}
