// Judging one key for a verified workload (docs/release.md): the steps both release flows share — find
// the key, check it is usable and bound, evaluate its policy over the workload's claims, open the secret
// and encrypt it to the TEE key. Nothing here writes audit; the flows decide when and in which transaction.
import { createHash } from 'node:crypto';
import { KeywardError, RequestError } from '../errors.js';
import { isUuid, MAX_INT4, zeroize } from '../encoding.js';
import type { Db } from '../store/database.js';
import * as keysRepo from '../store/keys-repo.js';
import type { CpuClaims } from '../evidence/claims.js';
import type { NvidiaGpuClaims } from '../evidence/nvidia/claims.js';
import type { PolicyDecision } from '../policy/evaluate.js';
import { encryptForTee, type TeeKey } from '../keys/jwe.js';
import { canonicalJson } from './audit.js';
import type { Policies } from './policies.js';
import { assertUsable, type Vault } from './vault.js';
import { assertNotHeld, type Alerts } from './alerts.js';
import { missingTrustInputs, trustInputRefusal, type TrustInputProblem } from './trust-inputs.js';
import type { ReleaseReads } from './release-cache.js';

/** The claims a release is judged on (the policy's `cpu` and `gpus`). */
export interface WorkloadClaims {
  readonly cpu: CpuClaims | null;
  readonly gpus: readonly NvidiaGpuClaims[];
}

/** A workload whose evidence verified: its claims, the TEE key they bind, and what the audit rows name. */
export interface Workload {
  readonly claims: WorkloadClaims;
  readonly tee: TeeKey;
  /** base64url RFC 7638 thumbprint of the TEE key. */
  readonly jkt: string;
  /** The evidence digests ({type, digest}) the claims came from. */
  readonly evidence: unknown;
  /** The attestation token's id (three-call flow), or undefined (one-shot). */
  readonly tokenId?: unknown;
}

/** One key asked for: the key itself, a version of it, or a data key wrapped under it. */
export interface KeyAsk {
  readonly keyId: string;
  readonly version?: number;
  readonly wrappedDataKey?: string;
}

export interface PolicyRef {
  readonly policyId: string;
  readonly policyVersion: number;
}

/** Why a key is not released: the code the workload learns, and what only the audit row holds. */
export interface Refusal {
  readonly error: KeywardError;
  readonly outcome: 'denied' | 'failure';
  readonly details: Record<string, unknown>;
}

export type Verdict = { readonly allowed: true; readonly policyRef: PolicyRef } | ({ readonly allowed: false } & Refusal);

export interface KeyJudgeDeps {
  readonly policies: Policies;
  readonly vault: Vault;
}

/**
 * What "who received my key" shows of a workload: its TEE, the chip or platform it ran on and its
 * measurement, read from the verified CPU claims.
 */
export function workloadSummary(cpu: unknown): { tee: string | null; chipId: string | null; platformId: string | null; measurement: string | null } {
  const c = (cpu ?? {}) as Record<string, unknown>;
  const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  const pcrs = (c['pcrs'] ?? {}) as Record<string, unknown>;
  return {
    tee: text(c['tee']),
    chipId: text(c['chipId']),
    platformId: text(c['fmspc']) ?? text(c['moduleId']),
    measurement: text(c['measurement']) ?? text(c['mrTd']) ?? text(c['mrEnclave']) ?? text(pcrs['0']),
  };
}

/**
 * KEYWARD_REVOCATION=optional is audited with every decision it affects: the TEEs whose claims say
 * revocation was not checked, or nothing when every claim was checked.
 */
export function revocationNote(claims: WorkloadClaims): { revocationUnchecked?: string[] } {
  const all: readonly ({ tee: string; revocationChecked?: boolean } | null)[] = [claims.cpu, ...claims.gpus];
  const unchecked = all.filter((c) => c !== null && c.revocationChecked === false).map((c) => String(c?.tee));
  return unchecked.length > 0 ? { revocationUnchecked: unchecked } : {};
}

/** The audit details every release row of this workload carries. */
export function auditBase(workload: Workload, tenant: string | null): Record<string, unknown> {
  return {
    tenant,
    evidence: workload.evidence,
    ...(workload.tokenId !== undefined ? { tokenId: workload.tokenId } : {}),
    jkt: workload.jkt,
    workload: workloadSummary(workload.claims.cpu),
    ...revocationNote(workload.claims),
  };
}

export function claimsDigest(claims: WorkloadClaims): string {
  return createHash('sha256').update(canonicalJson({ cpu: claims.cpu, gpus: claims.gpus })).digest('hex');
}

/**
 * The key as asked for (from the release cache, or one round trip), or ERR_KEY_NOT_FOUND /
 * ERR_KEY_VERSION_NOT_FOUND.
 */
export async function findTarget(reads: ReleaseReads, ask: KeyAsk): Promise<keysRepo.KeyForRelease> {
  if (ask.version !== undefined && !(Number.isSafeInteger(ask.version) && ask.version >= 1 && ask.version <= MAX_INT4)) {
    throw new RequestError('ERR_KEY_VERSION_NOT_FOUND', `Key version ${ask.version} does not exist.`);
  }
  const found = isUuid(ask.keyId) ? await reads.find(ask.keyId, ask.wrappedDataKey === undefined ? ask.version : undefined) : undefined;
  if (!found) throw new RequestError('ERR_KEY_NOT_FOUND', 'No key with this id exists.');
  return found;
}

function refusal(error: KeywardError, details: Record<string, unknown> = {}, outcome: 'denied' | 'failure' = 'denied'): Verdict {
  return { allowed: false, error, outcome, details };
}

/** The key must be usable and bound, and its policy must allow the workload's claims. */
export async function judgeKey(deps: KeyJudgeDeps, db: Db, found: keysRepo.KeyForRelease, claims: WorkloadClaims): Promise<Verdict> {
  const key = found.key;
  try {
    assertUsable(key);
    assertNotHeld(key);
  } catch (err) {
    if (err instanceof KeywardError) return refusal(err);
    throw err;
  }
  if (!deps.policies.rowMac.keyBindingIntact(key)) {
    // A binding whose row MAC fails was not written by keyward: the key counts as unbound (and alerts).
    await deps.policies.rowMac.alarm(db, 'keys', key.id);
    return refusal(new RequestError('ERR_POLICY_NOT_BOUND', 'The key has no release policy; it is never released.'), { rowMac: 'mismatch' });
  }
  if (!key.policyId || found.policyVersion === undefined) {
    return refusal(new RequestError('ERR_POLICY_NOT_BOUND', 'The key has no release policy; it is never released.'));
  }
  const policyRef = { policyId: key.policyId, policyVersion: found.policyVersion };
  let decision: PolicyDecision | undefined;
  let missing: TrustInputProblem[] = [];
  try {
    const policy = await deps.policies.loadVersion(db, key.policyId, found.policyVersion);
    missing = missingTrustInputs(key.tenant, policy.compiled.refs, [claims.cpu, ...claims.gpus]);
    if (missing.length === 0) decision = await deps.policies.decide(policy, claims);
  } catch (err) {
    // A stored policy over today's cost limit, or an evaluation past its time or memory limit: fail closed.
    // The workload learns the code; the owner finds the details in the audit log.
    if (!(err instanceof KeywardError) || !err.code.startsWith('ERR_POLICY_')) throw err;
    const error = new RequestError(err.code, 'The release policy could not be evaluated within its limits; it does not allow the release.', { cause: err });
    return refusal(error, { ...policyRef, reasons: err.extra?.['problems'] ?? [{ message: err.message }] });
  }
  // Outside tenant `default`, non-vendor anchors and unchecked revocation are the owners' choice, in the policy.
  if (missing.length > 0) return refusal(trustInputRefusal(missing), { ...policyRef, reasons: missing });
  if (!decision) throw new KeywardError('ERR_INTERNAL', 'The release policy was not evaluated.');
  if (!decision.allowed) {
    // The workload learns only the code; the reasons go to the audit log for the owner.
    return refusal(new RequestError('ERR_POLICY_DENIED', 'The release policy does not allow this workload.'), {
      ...policyRef,
      reasons: decision.rules.filter((r) => r.outcome !== 'pass'),
    });
  }
  return { allowed: true, policyRef };
}

/** The material a release hands over: the key version asked for, or the data key it wraps. The caller zeroes it. */
export async function openSecret(deps: KeyJudgeDeps, db: Db, found: keysRepo.KeyForRelease, ask: KeyAsk): Promise<{ secret: Uint8Array; version: number }> {
  if (ask.wrappedDataKey === undefined) {
    const version = ask.version ?? found.key.currentVersion;
    return { secret: await deps.vault.openVersionRow(found.key.id, version, found.version), version };
  }
  const opened = await deps.vault.openDataKey(db, found.key, ask.wrappedDataKey);
  if (ask.version !== undefined && ask.version !== opened.version) {
    zeroize(opened.dataKey);
    throw new RequestError('ERR_DATAKEY_INVALID', 'The wrapped data key is not valid for this key.');
  }
  return { secret: opened.dataKey, version: opened.version };
}

/** Opens the secret and encrypts it to the TEE key (compact JWE); the plaintext is zeroed before returning. */
export async function sealForTee(deps: KeyJudgeDeps, db: Db, found: keysRepo.KeyForRelease, ask: KeyAsk, tee: TeeKey): Promise<{ jwe: string; version: number }> {
  const { secret, version } = await openSecret(deps, db, found, ask);
  try {
    return { jwe: encryptForTee(secret, tee), version };
  } finally {
    zeroize(secret);
  }
}

/** A release or denial whose audit rows have committed, as anomaly alerts (alerts.ts) see it. */
export type AlertedOutcome = { readonly keyId: string; readonly tenant: string; readonly requestId: string | null } & ({ readonly releaseId: string } | { readonly code: string });

/**
 * Tells anomaly alerts of a release or a denial after its rows committed. The alert rows commit in their
 * own transaction and are published at once; a failed check is counted and logged, never fails the release.
 */
export async function alertAfter(alerts: Alerts | undefined, db: Db, workload: Workload, o: AlertedOutcome): Promise<void> {
  if (!alerts) return;
  const seen = { keyId: o.keyId, tenant: o.tenant, requestId: o.requestId, payload: { cpu: workload.claims.cpu, gpus: workload.claims.gpus }, jkt: workload.jkt };
  const raised = 'releaseId' in o ? await alerts.afterRelease(db, { ...seen, releaseId: o.releaseId }) : await alerts.afterDenial(db, { ...seen, code: o.code });
  raised.publish();
}
