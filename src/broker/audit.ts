// Audit events: written in the same transaction as the change they record, hash-chained
// (hash = SHA-256(prevHash ‖ seq ‖ canonical JSON of the event), computed in the database so an append is
// one statement), never holding key material.
import { createHash, randomUUID } from 'node:crypto';
import type { Db } from '../store/database.js';
import { appendAuditRow, type AuditRow } from '../store/audit-repo.js';
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

/** hash = SHA-256(prevHash ‖ seq as 8-byte big-endian ‖ canonical JSON of the event without seq). */
function hashEvent(prevHash: Uint8Array, seq: number, body: string): Uint8Array {
  const seqBytes = Buffer.alloc(8);
  seqBytes.writeBigUInt64BE(BigInt(seq));
  return new Uint8Array(createHash('sha256').update(prevHash).update(seqBytes).update(body, 'utf8').digest());
}

function eventBody(event: Omit<AuditEntry, 'seq' | 'prevHash' | 'hash'>): string {
  return canonicalJson(event);
}

/**
 * Appends one event (in the caller's transaction when `db` is one; on its own, the single statement is
 * atomic).
 */
export async function appendAudit(db: Db, event: AuditEvent, at: Date): Promise<void> {
  const entry = {
    id: randomUUID(),
    at: at.toISOString(),
    actor: event.actor.id,
    action: event.action,
    target: event.target,
    outcome: event.outcome,
    requestId: event.requestId,
    details: { actorName: event.actor.name, ...(event.details ?? {}) },
  };
  await appendAuditRow(db, { ...entry, at, body: eventBody(entry) });
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
    const { prevHash, hash, seq, ...body } = e;
    if (toHex(hashEvent(Buffer.from(prevHash, 'hex'), seq, eventBody(body))) !== hash) return e.seq;
    prev = hash;
  }
  return undefined;
}
