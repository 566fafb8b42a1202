// Audit events: written in the same transaction as the change they record, hash-chained
// (hash = SHA-256(prevHash ‖ seq ‖ canonical JSON of the event), computed in the database so an append is
// one statement), never holding key material. Each event also links into the chain of its tenant (or the
// platform's): chainHash = SHA-256(chainPrevHash ‖ chainSeq ‖ hash) (docs/governance.md "Audit checkpoints").
import { createHash, randomUUID } from 'node:crypto';
import type { Db } from '../store/database.js';
import { appendAuditRowIf, type AuditRow } from '../store/audit-repo.js';
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

/** The all-zero hash every chain starts from. */
export const GENESIS_HASH = '00'.repeat(32);

function seqBytes(seq: number): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(BigInt(seq));
  return bytes;
}

/** hash = SHA-256(prevHash ‖ seq as 8-byte big-endian ‖ canonical JSON of the event without seq). */
function hashEvent(prevHash: Uint8Array, seq: number, body: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(prevHash).update(seqBytes(seq)).update(body, 'utf8').digest());
}

/** What the global hash covers: the event's own fields, never its links. */
export function eventBody(event: Pick<AuditEntry, 'id' | 'at' | 'actor' | 'action' | 'target' | 'outcome' | 'requestId' | 'details'>): string {
  const { id, at, actor, action, target, outcome, requestId, details } = event;
  return canonicalJson({ id, at, actor, action, target, outcome, requestId, details });
}

/** The hex hash an event with these fields and link must carry. */
export function expectedEventHash(prevHash: string, seq: number, event: Parameters<typeof eventBody>[0]): string {
  return toHex(hashEvent(Buffer.from(prevHash, 'hex'), seq, eventBody(event)));
}

/** chainHash = SHA-256(chainPrevHash ‖ chainSeq as 8-byte big-endian ‖ hash), all hex. */
export function expectedChainHash(chainPrevHash: string, chainSeq: number, hash: string): string {
  return createHash('sha256').update(Buffer.from(chainPrevHash, 'hex')).update(seqBytes(chainSeq)).update(Buffer.from(hash, 'hex')).digest('hex');
}

/** The chain of its own an event links into: its tenant's (`tenant:<name>`), or the platform's. */
export function chainOf(details: Record<string, unknown>): string {
  const tenant = details['tenant'];
  return typeof tenant === 'string' ? `tenant:${tenant}` : 'platform';
}

/**
 * Appends one event (in the caller's transaction when `db` is one; on its own, the single statement is
 * atomic).
 */
export async function appendAudit(db: Db, event: AuditEvent, at: Date): Promise<void> {
  if (!(await appendAuditIf(db, event, at, undefined))) throw new Error('the audit head row is missing');
}

/**
 * Appends the event only if the release-cache epoch is still `epoch` (undefined: unconditionally); false
 * when it moved and nothing was written.
 */
export async function appendAuditIf(db: Db, event: AuditEvent, at: Date, epoch: string | undefined): Promise<boolean> {
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
  return (await appendAuditRowIf(db, { ...entry, at, body: eventBody(entry), chain: chainOf(entry.details) }, epoch)) !== undefined;
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
    if (expectedEventHash(e.prevHash, e.seq, e) !== e.hash) return e.seq;
    prev = e.hash;
  }
  return undefined;
}
