// Root KEK lifecycle: register the first KEK, open every KEK still in use, and rotate without downtime
// (a new KEK becomes active for new records; every existing record is resealed under it; the old KEK
// keeps opening records until the rewrap completes, then it is retired).
import { dirname, join } from 'node:path';
import type { Clock } from '../clock.js';
import { KeywardError } from '../errors.js';
import type { Db } from '../store/database.js';
import * as keksRepo from '../store/keks-repo.js';
import * as keysRepo from '../store/keys-repo.js';
import * as importRepo from '../store/import-keys-repo.js';
import * as authRepo from '../store/auth-repo.js';
import * as releaseRepo from '../store/release-repo.js';
import * as checkpointRepo from '../store/audit-checkpoints-repo.js';
import { checkpointKeyAad } from './audit-checkpoints.js';
import { signingKeyAad } from './attestation-tokens.js';
import { KekRing, type Kek } from '../keys/kek.js';
import { materialAad, importKeyAad } from '../keys/envelope.js';
import { zeroize } from '../encoding.js';
import { appendAudit, type Actor } from './audit.js';

export interface KekLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** Opens a KEK from the secret-free URI stored in the keks table. */
export type KekOpener = (uri: string) => Promise<Kek>;

/**
 * Registers `configured` on a fresh database, then opens the active KEK and every KEK that still seals
 * records. The database's active KEK wins over KEYWARD_KEK after a rotation (logged).
 */
export async function initKeks(db: Db, configured: Kek, openByUri: KekOpener, clock: Clock, log: KekLog): Promise<KekRing> {
  await db.transaction().execute(async (trx) => {
    await trx.selectFrom('auditHead').select('seq').forUpdate().execute();
    const rows = await keksRepo.listKekRows(trx);
    if (rows.length === 0) {
      await keksRepo.insertKekRow(trx, { id: configured.id, uri: configured.uri, state: 'active', at: clock.now() });
    }
  });
  const rows = await keksRepo.listKekRows(db);
  const active = rows.find((r) => r.state === 'active');
  if (!active) throw new KeywardError('ERR_KEK_UNKNOWN', 'The database has no active KEK.');
  const open = new Map<string, Kek>([[configured.id, configured]]);
  for (const row of rows) {
    if (row.state === 'retired' || open.has(row.id)) continue;
    open.set(row.id, await openByUri(row.uri));
  }
  if (active.id !== configured.id) {
    log.warn({ configured: configured.id, active: active.id, activeUri: active.uri }, 'KEYWARD_KEK is not the active KEK (it was rotated); using the active KEK from the database');
  }
  const loader = async (id: string): Promise<Kek | undefined> => {
    const row = (await keksRepo.listKekRows(db)).find((r) => r.id === id);
    return row ? openByUri(row.uri) : undefined;
  };
  return new KekRing(active.id, [...open.values()], loader);
}

export interface RotationResult {
  readonly from: string | null;
  readonly to: string;
  readonly resealed: number;
  readonly resumed: boolean;
}

const BATCH = 200;

/**
 * Reseals every key version, attestation-token signing key, audit checkpoint key, import key and service
 * key not yet under `to`.
 * Idempotent; safe to run concurrently.
 */
/** Told the running count of key versions resealed, after each one (a rotation's progress). */
export type RewrapProgress = (keyVersionsResealed: number) => void;

export async function rewrapAll(db: Db, ring: KekRing, to: Kek, onProgress?: RewrapProgress): Promise<number> {
  let resealed = 0;
  for (;;) {
    const rows = await keysRepo.versionsNotUnderKek(db, to.id, BATCH);
    if (rows.length === 0) break;
    for (const v of rows) {
      if (!v.sealed || !v.kekId) continue;
      const from = await ring.resolve(v.kekId);
      const material = await from.open(v.sealed, materialAad(v.keyId, v.version));
      try {
        const sealed = await to.seal(material, materialAad(v.keyId, v.version));
        if (await keysRepo.resealKeyVersion(db, { keyId: v.keyId, version: v.version, fromKekId: v.kekId, toKekId: to.id, sealed })) {
          resealed++;
          onProgress?.(resealed);
        }
      } finally {
        zeroize(material);
      }
    }
  }
  for (const k of await releaseRepo.signingKeysNotUnderKek(db, to.id)) {
    const from = await ring.resolve(k.kekId);
    const pkcs8 = await from.open(k.sealedPrivate, signingKeyAad(k.kid));
    try {
      if (await releaseRepo.resealSigningKey(db, k.kid, k.kekId, to.id, await to.seal(pkcs8, signingKeyAad(k.kid)))) resealed++;
    } finally {
      zeroize(pkcs8);
    }
  }
  for (const k of await importRepo.importKeysNotUnderKek(db, to.id)) {
    const from = await ring.resolve(k.kekId);
    const pkcs8 = await from.open(k.sealedPrivate, importKeyAad(k.kid));
    try {
      if (await importRepo.resealImportKey(db, k.kid, k.kekId, to.id, await to.seal(pkcs8, importKeyAad(k.kid)))) resealed++;
    } finally {
      zeroize(pkcs8);
    }
  }
  for (const k of await checkpointRepo.checkpointKeysNotUnderKek(db, to.id)) {
    const from = await ring.resolve(k.kekId);
    const pkcs8 = await from.open(k.sealedPrivate, checkpointKeyAad(k.kid));
    try {
      if (await checkpointRepo.resealCheckpointKey(db, k.kid, k.kekId, to.id, await to.seal(pkcs8, checkpointKeyAad(k.kid)))) resealed++;
    } finally {
      zeroize(pkcs8);
    }
  }
  for (const k of await authRepo.serviceKeysNotUnderKek(db, to.id)) {
    const from = await ring.resolve(k.kekId);
    const secret = await from.open(k.sealed, serviceKeyAad(k.purpose));
    try {
      if (await authRepo.resealServiceKey(db, k.purpose, k.kekId, to.id, await to.seal(secret, serviceKeyAad(k.purpose)))) resealed++;
    } finally {
      zeroize(secret);
    }
  }
  return resealed;
}

/** The AAD that binds a sealed service key (the session signing key) to its purpose. */
export function serviceKeyAad(purpose: string): Uint8Array {
  return new TextEncoder().encode(`keyward:service-key:v1:${purpose}`);
}

/**
 * The active KEK's id when an earlier rotation was interrupted (records still under another KEK), else
 * null: such a rotation is finished, not started again.
 */
export async function interruptedRotation(db: Db): Promise<string | null> {
  const active = await keksRepo.activeKekRow(db);
  if (!active) return null;
  const counts = await keysRepo.countVersionsByKek(db);
  const pending =
    [...counts.keys()].some((id) => id !== active.id) ||
    (await releaseRepo.signingKeysNotUnderKek(db, active.id)).length > 0 ||
    (await importRepo.importKeysNotUnderKek(db, active.id)).length > 0 ||
    (await authRepo.serviceKeysNotUnderKek(db, active.id)).length > 0 ||
    (await checkpointRepo.checkpointKeysNotUnderKek(db, active.id)).length > 0;
  return pending ? active.id : null;
}

/** Finishes an interrupted rotation: reseals what is left under the active KEK and retires the others. */
export async function resumeRotation(db: Db, ring: KekRing, activeId: string, clock: Clock, actor: Actor, onProgress?: RewrapProgress): Promise<RotationResult> {
  const active = await ring.resolve(activeId);
  const resealed = await rewrapAll(db, ring, active, onProgress);
  await retireOthers(db, active.id, clock, actor);
  return { from: null, to: active.id, resealed, resumed: true };
}

/**
 * The database half of starting a rotation, inside the caller's transaction: `next` becomes the active KEK
 * and the previous one `retiring` (audit `kek.rotate.start`). Returns the previous active KEK's id.
 */
export async function startRotation(trx: Db, next: Kek, at: Date, actor: Actor, audit: { requestId: string | null; details?: Record<string, unknown> }): Promise<string | null> {
  const from = (await keksRepo.activeKekRow(trx))?.id ?? null;
  if (from === next.id) throw new KeywardError('ERR_KEK_TARGET_ACTIVE', 'The rotation target is the KEK already active.');
  // Waits for in-flight writers holding the active KEK row FOR SHARE; afterwards all new records use `next`.
  if (from) await keksRepo.setKekState(trx, from, 'retiring');
  await keksRepo.insertKekRow(trx, { id: next.id, uri: next.uri, state: 'active', at });
  await appendAudit(trx, { actor, action: 'kek.rotate.start', target: next.id, outcome: 'success', requestId: audit.requestId, details: { from, ...audit.details } }, at);
  return from;
}

/** After startRotation committed: seal with `next` from now on, reseal every record under it, retire the rest. */
export async function finishRotation(db: Db, ring: KekRing, next: Kek, from: string | null, clock: Clock, actor: Actor, onProgress?: RewrapProgress): Promise<RotationResult> {
  ring.add(next);
  ring.setActive(next.id);
  const resealed = await rewrapAll(db, ring, next, onProgress);
  await retireOthers(db, next.id, clock, actor);
  return { from, to: next.id, resealed, resumed: false };
}

/**
 * Rotates to `next`: it becomes the active KEK, every record is resealed under it, and the previous KEKs
 * are retired. When an earlier rotation was interrupted (records still under a non-active KEK), this
 * finishes that rotation instead and leaves `next` unused (`resumed: true`).
 */
export async function rotateKek(db: Db, ring: KekRing, next: Kek, clock: Clock, actor: Actor, onProgress?: RewrapProgress): Promise<RotationResult> {
  const interrupted = await interruptedRotation(db);
  if (interrupted) return resumeRotation(db, ring, interrupted, clock, actor, onProgress);
  ring.add(next);
  const from = await db.transaction().execute((trx) => startRotation(trx, next, clock.now(), actor, { requestId: null }));
  return finishRotation(db, ring, next, from, clock, actor, onProgress);
}

async function retireOthers(db: Db, activeId: string, clock: Clock, actor: Actor): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const at = clock.now();
    const retiring = (await keksRepo.listKekRows(trx)).filter((r) => r.state === 'retiring' && r.id !== activeId);
    for (const r of retiring) await keksRepo.setKekState(trx, r.id, 'retired', at);
    await appendAudit(trx, { actor, action: 'kek.rotate.complete', target: activeId, outcome: 'success', requestId: null, details: { retired: retiring.map((r) => r.id) } }, at);
  });
}

export interface KekStatus {
  readonly id: string;
  readonly uri: string;
  readonly state: string;
  readonly createdAt: string;
  readonly retiredAt: string | null;
  readonly versions: number;
}

export async function kekStatus(db: Db): Promise<KekStatus[]> {
  const counts = await keysRepo.countVersionsByKek(db);
  return (await keksRepo.listKekRows(db)).map((r) => ({
    id: r.id,
    uri: r.uri,
    state: r.state,
    createdAt: r.createdAt.toISOString(),
    retiredAt: r.retiredAt?.toISOString() ?? null,
    versions: counts.get(r.id) ?? 0,
  }));
}

function stamp(at: Date): string {
  return at.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
}

/**
 * The URI of the KEK to rotate to when none is given: a new file next to a file KEK, or a new HSM key
 * label (`<label>-<timestamp>`) on the same PKCS#11 token.
 */
export function nextKekUri(active: Kek, at: Date): string {
  if (active.provider === 'file') return `file:${join(dirname(active.uri.slice('file:'.length)), `kek-${stamp(at)}`)}`;
  return active.uri.replace(/label=([^&]+)/, (_m, label: string) => `label=${label.replace(/-\d{8}T\d{6}$/, '')}-${stamp(at)}`);
}
