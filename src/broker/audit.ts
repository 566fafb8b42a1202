// Audit events: written in the same transaction as the change they record, hash-chained
// (hash = SHA-256(prevHash ‖ canonical JSON of the event)), never holding key material.
import { createHash, randomUUID } from 'node:crypto';
import type { Db } from '../store/database.js';
import { advanceAuditHead, appendAuditRow, type AuditRow } from '../store/audit-repo.js';
import { toHex } from '../encoding.js';

export interface Actor {
  /** `token:<id>` for API tokens, `workload` for attested workloads, `system` for keyward itself. */
  readonly id: string;
  readonly name: string;
}

export interface AuditEvent {
  readonly actor: Actor;
  readonly action: string;
  readonly target: string | null;
  readonly outcome: 'success' | 'failure' | 'denied';
  readonly requestId: string | null;
  readonly details?: Record<string, unknown>;
}

export interface AuditEntry {
  readonly seq: number;
  readonly id: string;
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly target: string | null;
  readonly outcome: AuditRow['outcome'];
  readonly requestId: string | null;
  readonly details: Record<string, unknown>;
  readonly prevHash: string;
  readonly hash: string;
}

/** JSON with object keys sorted at every level: the byte form the chain hashes. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

function hashEvent(prevHash: Uint8Array, body: Omit<AuditEntry, 'prevHash' | 'hash'>): Uint8Array {
  return new Uint8Array(createHash('sha256').update(prevHash).update(canonicalJson(body)).digest());
}

/** Appends one event inside `trx` (call it last in the transaction: it holds the chain head lock). */
export async function appendAudit(trx: Db, event: AuditEvent, at: Date): Promise<number> {
  const head = await advanceAuditHead(trx);
  const body = {
    seq: head.seq,
    id: randomUUID(),
    at: at.toISOString(),
    actor: event.actor.id,
    action: event.action,
    target: event.target,
    outcome: event.outcome,
    requestId: event.requestId,
    details: { actorName: event.actor.name, ...(event.details ?? {}) },
  };
  const hash = hashEvent(head.prevHash, body);
  await appendAuditRow(trx, { ...body, at, prevHash: head.prevHash, hash });
  return body.seq;
}

export function toAuditEntry(row: AuditRow): AuditEntry {
  return {
    seq: Number(row.seq),
    id: row.id,
    at: row.at.toISOString(),
    actor: row.actor,
    action: row.action,
    target: row.target,
    outcome: row.outcome,
    requestId: row.requestId,
    details: row.details,
    prevHash: toHex(row.prevHash),
    hash: toHex(row.hash),
  };
}

/** Recomputes the chain over consecutive entries; returns the seq of the first broken link, or undefined. */
export function findBrokenLink(entries: readonly AuditEntry[], startPrevHash?: string): number | undefined {
  let prev = startPrevHash ?? entries[0]?.prevHash;
  for (const e of entries) {
    if (e.prevHash !== prev) return e.seq;
    const { prevHash, hash, ...body } = e;
    if (toHex(hashEvent(Buffer.from(prevHash, 'hex'), body)) !== hash) return e.seq;
    prev = hash;
  }
  return undefined;
}
