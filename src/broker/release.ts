// The release protocol (docs/design.md "Release protocol"): challenge → attest (verify evidence bound to the
// nonce and TEE key, consume the nonce, issue a token) → release (policy over the token's claims, JWE
// to the TEE key). Every attestation, release and denial is audited in the transaction that decides it.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { EvidenceError, KeywardError, RequestError } from '../errors.js';
import { fromBase64Url, isUuid, MAX_INT4, toBase64Url, zeroize } from '../encoding.js';
import type { Db } from '../store/database.js';
import * as releaseRepo from '../store/release-repo.js';
import * as keysRepo from '../store/keys-repo.js';
import type { EvidenceItem, VerifiedEvidence } from '../evidence/types.js';
import type { CpuClaims } from '../evidence/claims.js';
import { decodeEvidenceItem, evidenceBytes } from '../evidence/wire.js';
import { verifyEvidenceSet, MAX_EVIDENCE_ITEMS } from '../evidence/verify.js';
import { expandNvidiaClaims, summarizeGpus } from '../evidence/nvidia/topology.js';
import type { NvidiaGpuClaims } from '../evidence/nvidia/claims.js';
import { policyInputFromClaims, type PolicyDecision } from '../policy/evaluate.js';
import { missingTrustInputs, trustInputRefusal, type TrustInputProblem } from './trust-inputs.js';
import { encryptForTee, parseTeePublicKey, type TeeKey } from '../keys/jwe.js';
import { appendAudit, canonicalJson, type Actor } from './audit.js';
import type { AttestationTokens } from './attestation-tokens.js';
import type { Policies } from './policies.js';
import { assertUsable, type Vault } from './vault.js';
import type { VerificationSource } from './verification.js';
import { releaseBudgets, type RateLimits, type ReleaseBudgetDefaults } from './rate-limit.js';
import { assertNotHeld, type Alerts } from './alerts.js';

/** A key found for release with its bound policy version and the version row asked for. */
type ReleaseTarget = NonNullable<Awaited<ReturnType<typeof keysRepo.findKeyForRelease>>>;

/**
 * What "who received my key" shows of a workload: its TEE, the chip or platform it ran on and its
 * measurement, read from the verified CPU claims the attestation token carries.
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

export interface ReleaseDeps {
  readonly db: Db;
  readonly clock: Clock;
  /** Collateral, anchors and memo for each verification. */
  readonly verification: VerificationSource;
  readonly tokens: AttestationTokens;
  readonly policies: Policies;
  readonly vault: Vault;
  readonly nonceTtlSeconds: number;
  /** Release budgets shared by the replicas (per key, tenant, TEE identity); absent: no release budgets. */
  readonly rateLimits?: { readonly limits: RateLimits; readonly defaults: ReleaseBudgetDefaults };
  /** Told when evidence chained to a non-vendor (extra or uploaded) anchor was accepted. */
  readonly onExtraAnchor?: (anchors: string[]) => void;
  /** Anomaly alerts, told of every release and denial once it is audited; absent: none. */
  readonly alerts?: Pick<Alerts, 'afterRelease' | 'afterDenial'>;
}

export interface AttestRequest {
  readonly nonce: string;
  readonly teePublicKey: unknown;
  readonly evidence: readonly unknown[];
}

export interface AttestResult {
  readonly token: string;
  readonly expiresAt: string;
  readonly claims: { readonly cpu: CpuClaims | null; readonly gpus: readonly NvidiaGpuClaims[]; readonly gpuTopology: unknown };
}

/** A workload whose attestation token verified: the token's claims and the TEE key it binds. */
export interface AttestedCaller {
  readonly payload: Record<string, unknown>;
  readonly tee: TeeKey;
  readonly jkt: string;
}

export interface ReleaseBody {
  readonly version?: number;
  readonly wrappedDataKey?: string;
}

interface PolicyRef {
  readonly policyId: string;
  readonly policyVersion: number;
}

/** One release request in progress: the key as found, and how each way it can end is audited. */
interface ReleaseAttempt {
  readonly caller: AttestedCaller;
  readonly keyId: string;
  readonly body: ReleaseBody;
  readonly found: keysRepo.KeyForRelease;
  readonly requestId: string | null;
  audit(outcome: 'success' | 'denied' | 'failure', details: Record<string, unknown>): Promise<unknown>;
  refuse(err: KeywardError, outcome: 'denied' | 'failure', details?: Record<string, unknown>): Promise<KeywardError>;
}

export interface ReleaseResult {
  readonly keyId: string;
  readonly version: number;
  readonly jwe: string;
  readonly releaseId: string;
}

const NONCE_BYTES = 32;
export const WORKLOAD_ACTOR_PREFIX = 'workload:';

function hashNonce(nonce: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(nonce).digest());
}

/** bind = SHA-512(nonce ‖ RFC 7638 thumbprint of the TEE key) (docs/design.md "Release protocol", step 2). */
export function bindingFor(nonce: Uint8Array, thumbprint: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha512').update(nonce).update(thumbprint).digest());
}

/**
 * KEYWARD_REVOCATION=optional is audited with every decision it affects: the TEEs whose claims say
 * revocation was not checked, or nothing when every claim was checked.
 */
function revocationNote(cpu: unknown, gpus: unknown): { revocationUnchecked?: string[] } {
  const all = [cpu, ...(Array.isArray(gpus) ? gpus : [])] as ({ tee?: unknown; revocationChecked?: unknown } | null | undefined)[];
  const unchecked = all.filter((c) => c && c.revocationChecked === false).map((c) => String(c?.tee));
  return unchecked.length > 0 ? { revocationUnchecked: unchecked } : {};
}

/** The TEE key an attestation token is bound to (`cnf.jwk`, whose thumbprint must be `cnf.jkt`). */
function teeKeyOf(payload: Record<string, unknown>): { tee: TeeKey; jkt: string } {
  const cnf = payload['cnf'] as { jkt?: string; jwk?: unknown } | undefined;
  let tee: TeeKey;
  try {
    tee = parseTeePublicKey(cnf?.jwk);
  } catch {
    throw new RequestError('ERR_ATTEST_TOKEN_INVALID', 'The attestation token is not valid.');
  }
  const jkt = toBase64Url(tee.thumbprint);
  if (cnf?.jkt !== jkt) throw new RequestError('ERR_ATTEST_TOKEN_INVALID', 'The attestation token is not valid.');
  return { tee, jkt };
}

function digestOf(item: EvidenceItem): string {
  const h = createHash('sha256');
  for (const part of evidenceBytes(item)) h.update(part);
  return h.digest('hex');
}

export class ReleaseService {
  constructor(private readonly deps: ReleaseDeps) {}

  async challenge(client: string | null): Promise<{ nonce: string; expiresAt: string }> {
    const nonce = new Uint8Array(randomBytes(NONCE_BYTES));
    const now = this.deps.clock.now();
    const expiresAt = new Date(now.getTime() + this.deps.nonceTtlSeconds * 1000);
    await releaseRepo.insertNonce(this.deps.db, { nonceHash: hashNonce(nonce), createdAt: now, expiresAt, client });
    return { nonce: toBase64Url(nonce), expiresAt: expiresAt.toISOString() };
  }

  private async nonceProblem(nonceHash: Uint8Array, now: Date): Promise<RequestError> {
    const row = await releaseRepo.findNonce(this.deps.db, nonceHash);
    if (!row) return new RequestError('ERR_ATTEST_NONCE_UNKNOWN', 'The nonce was not issued by this keyward (POST /v1/challenge first).');
    if (row.consumedAt) return new RequestError('ERR_ATTEST_NONCE_REPLAYED', 'The nonce was already used; each nonce works once.');
    if (row.expiresAt <= now) return new RequestError('ERR_ATTEST_NONCE_EXPIRED', 'The nonce expired; request a new challenge.');
    return new RequestError('ERR_ATTEST_NONCE_REPLAYED', 'The nonce was already used; each nonce works once.');
  }

  async attest(request: AttestRequest, requestId: string | null): Promise<AttestResult> {
    const nonce = fromBase64Url(request.nonce);
    if (!nonce || nonce.length !== NONCE_BYTES) throw new RequestError('ERR_ATTEST_NONCE_MALFORMED', 'nonce must be the base64url string POST /v1/challenge returned.');
    const tee = parseTeePublicKey(request.teePublicKey);
    if (request.evidence.length === 0 || request.evidence.length > MAX_EVIDENCE_ITEMS) {
      throw new EvidenceError('ERR_EVIDENCE_SET_INVALID', `evidence must hold 1 to ${MAX_EVIDENCE_ITEMS} items.`);
    }
    const items = request.evidence.map((e, i) => decodeEvidenceItem(e, i));
    const nonceHash = hashNonce(nonce);
    const now = this.deps.clock.now();
    // Fail fast (before any signature work) when the nonce cannot be consumed.
    const row = await releaseRepo.findNonce(this.deps.db, nonceHash);
    if (!row || row.consumedAt || row.expiresAt <= now) throw await this.nonceProblem(nonceHash, now);

    const binding = bindingFor(nonce, tee.thumbprint);
    const jkt = toBase64Url(tee.thumbprint);
    const digests = items.map((item) => ({ type: item.type, digest: digestOf(item) }));
    let verified: VerifiedEvidence[] | undefined;
    let failure: KeywardError | undefined;
    try {
      verified = await verifyEvidenceSet(items, await this.deps.verification.contextFor(items, now), binding);
    } catch (err) {
      if (!(err instanceof KeywardError)) throw err;
      // Evidence whose nonce field is not this binding was made for another nonce or another TEE key.
      failure =
        err.code === 'ERR_EVIDENCE_NONCE_MISMATCH'
          ? new EvidenceError('ERR_EVIDENCE_BINDING_MISMATCH', 'The evidence is not bound to this nonce and teePublicKey.', { cause: err })
          : err;
    }
    const actor: Actor = { id: `${WORKLOAD_ACTOR_PREFIX}${jkt}`, name: 'attesting workload' };
    const claims = verified ? this.claimsOf(verified) : undefined;
    // One statement burns the nonce (whatever the verdict: one nonce, one attempt) and audits the outcome.
    const consumed = await appendAudit(
      this.deps.db,
      {
        actor,
        action: 'attest',
        target: jkt,
        outcome: failure ? 'failure' : 'success',
        requestId,
        details: {
          evidence: digests,
          ...(failure ? { code: failure.code } : { claimsDigest: createHash('sha256').update(canonicalJson(claims)).digest('hex') }),
          ...(claims ? revocationNote(claims.cpu, claims.gpus) : {}),
        },
      },
      now,
      { nonceHash, now },
    );
    if (!consumed) throw await this.nonceProblem(nonceHash, now);
    if (failure || !verified || !claims) throw failure ?? new KeywardError('ERR_INTERNAL', 'attestation failed');
    const extra = verified.filter((v) => v.claims.anchor.source !== 'vendor').map((v) => `${v.claims.tee}:${v.claims.anchor.source}:${v.claims.anchor.name}`);
    if (extra.length > 0) this.deps.onExtraAnchor?.(extra);
    await this.deps.verification.accepted(verified);
    // The token's own exp, not only the answer's expiresAt, ends where the evidence's validity ends.
    const notAfter = new Date(Math.min(...verified.map((v) => v.validUntil.getTime())));
    const signed = { sub: jkt, cnf: { jkt, jwk: tee.jwk }, ...claims, evidence: digests, simulated: verified.some((v) => v.claims.simulated) };
    const { token, expiresAt } = await this.deps.tokens.sign(signed, { notAfter });
    return { token, expiresAt: expiresAt.toISOString(), claims };
  }

  private claimsOf(verified: readonly VerifiedEvidence[]) {
    const input = policyInputFromClaims(verified.map((v) => v.claims));
    const gpus = expandNvidiaClaims(input.gpus ?? []);
    return { cpu: input.cpu ?? null, gpus, gpuTopology: gpus.length > 0 ? summarizeGpus(gpus) : null };
  }

  /**
   * Verifies an attestation token and the TEE key it binds (`cnf`). Every failure is an
   * ERR_ATTEST_TOKEN_* code, so callers can charge failed attempts to their source.
   */
  async verifyCaller(token: string): Promise<AttestedCaller> {
    const payload = await this.deps.tokens.verify(token);
    const { tee, jkt } = teeKeyOf(payload);
    return { payload, tee, jkt };
  }

  /** Releases a key (or a data key of it) to the verified caller's TEE key, if the key's policy allows. */
  async release(caller: AttestedCaller, keyId: string, body: ReleaseBody, requestId: string | null): Promise<ReleaseResult> {
    const attempt = await this.beginRelease(caller, keyId, body, requestId);
    await this.spendBudgets(attempt);
    const policyRef = await this.judge(attempt);
    const { secret, version } = await this.openSecret(attempt, policyRef);
    try {
      return await this.deliver(attempt, policyRef, secret, version);
    } finally {
      zeroize(secret);
    }
  }

  /** Finds the key (one round trip) and sets up the audit of every way this attempt can end. */
  private async beginRelease(caller: AttestedCaller, keyId: string, body: ReleaseBody, requestId: string | null): Promise<ReleaseAttempt> {
    if (body.version !== undefined && !(Number.isSafeInteger(body.version) && body.version >= 1 && body.version <= MAX_INT4)) {
      throw new RequestError('ERR_KEY_VERSION_NOT_FOUND', `Key version ${body.version} does not exist.`);
    }
    const found = isUuid(keyId)
      ? await keysRepo.findKeyForRelease(this.deps.db, keyId, body.wrappedDataKey === undefined ? body.version : undefined)
      : undefined;
    if (!found) throw new RequestError('ERR_KEY_NOT_FOUND', 'No key with this id exists.');
    const actor: Actor = { id: `${WORKLOAD_ACTOR_PREFIX}${caller.jkt}`, name: 'attested workload' };
    const base = { tenant: found.key.tenant, evidence: caller.payload['evidence'], tokenId: caller.payload['jti'], jkt: caller.jkt, workload: workloadSummary(caller.payload['cpu']), ...revocationNote(caller.payload['cpu'], caller.payload['gpus']) };
    const audit = (outcome: 'success' | 'denied' | 'failure', details: Record<string, unknown>) =>
      appendAudit(this.deps.db, { actor, action: 'key.release', target: keyId, outcome, requestId, details: { ...base, ...details } }, this.deps.clock.now());
    const refuse = async (err: KeywardError, outcome: 'denied' | 'failure', details: Record<string, unknown> = {}) => {
      await audit(outcome, { code: err.code, ...details });
      if (outcome === 'denied') await this.alertDenial(caller, found.key.tenant, keyId, err.code, requestId);
      return err;
    };
    return { caller, keyId, body, found, requestId, audit, refuse };
  }

  /**
   * Counts the attempt against the key's, the tenant's and each TEE's budget. Why here: only callers whose
   * attestation token verified, asking for a key that exists, spend a key's budget.
   */
  private async spendBudgets({ caller, keyId, found }: ReleaseAttempt): Promise<void> {
    const rl = this.deps.rateLimits;
    if (!rl) return;
    await rl.limits.take(releaseBudgets(keyId, found.key.rateLimitPerMinute, caller.payload, rl.defaults, found.key.tenant));
  }

  /** The key must be usable and bound, and its policy must allow the caller's claims. */
  private async judge({ caller, found, refuse }: ReleaseAttempt): Promise<PolicyRef> {
    const key = found.key;
    try {
      assertUsable(key);
      assertNotHeld(key);
    } catch (err) {
      throw await refuse(err as KeywardError, 'denied');
    }
    if (!key.policyId || found.policyVersion === undefined) {
      throw await refuse(new RequestError('ERR_POLICY_NOT_BOUND', 'The key has no release policy; it is never released.'), 'denied');
    }
    const policyRef = { policyId: key.policyId, policyVersion: found.policyVersion };
    let decision: PolicyDecision | undefined;
    let missing: TrustInputProblem[] = [];
    try {
      const policy = await this.deps.policies.loadVersion(this.deps.db, key.policyId, found.policyVersion);
      missing = missingTrustInputs(key.tenant, policy.compiled.refs, [caller.payload['cpu'], ...((caller.payload['gpus'] ?? []) as unknown[])]);
      if (missing.length === 0) decision = await this.deps.policies.decide(policy, { cpu: caller.payload['cpu'] as never, gpus: (caller.payload['gpus'] ?? []) as never });
    } catch (err) {
      // A stored policy over today's cost limit, or an evaluation past its time or memory limit: fail closed.
      // The workload learns the code; the owner finds the details in the audit log.
      if (!(err instanceof KeywardError) || !err.code.startsWith('ERR_POLICY_')) throw err;
      const refusal = new RequestError(err.code, 'The release policy could not be evaluated within its limits; it does not allow the release.', { cause: err });
      throw await refuse(refusal, 'denied', { ...policyRef, reasons: err.extra?.['problems'] ?? [{ message: err.message }] });
    }
    // Outside tenant `default`, non-vendor anchors and unchecked revocation are the owners' choice, in the policy.
    if (missing.length > 0) throw await refuse(trustInputRefusal(missing), 'denied', { ...policyRef, reasons: missing });
    if (!decision) throw new KeywardError('ERR_INTERNAL', 'The release policy was not evaluated.');
    if (!decision.allowed) {
      // The workload learns only the code; the reasons go to the audit log for the owner.
      throw await refuse(new RequestError('ERR_POLICY_DENIED', 'The release policy does not allow this workload.'), 'denied', {
        ...policyRef,
        reasons: decision.rules.filter((r) => r.outcome !== 'pass'),
      });
    }
    return policyRef;
  }

  /** The key version's material, or the data key the request wraps. The caller zeroes it. */
  private async openSecret({ body, found, refuse }: ReleaseAttempt, policyRef: PolicyRef): Promise<{ secret: Uint8Array; version: number }> {
    try {
      return await this.materialFor(found, body);
    } catch (err) {
      if (err instanceof KeywardError) throw await refuse(err, 'failure', { ...policyRef });
      throw err;
    }
  }

  /** Encrypts the secret to the TEE key and audits the release. */
  private async deliver({ caller, keyId, body, audit, found, requestId }: ReleaseAttempt, policyRef: PolicyRef, secret: Uint8Array, version: number): Promise<ReleaseResult> {
    const releaseId = randomUUID();
    const jwe = encryptForTee(secret, caller.tee);
    const claimsDigest = createHash('sha256').update(canonicalJson({ cpu: caller.payload['cpu'], gpus: caller.payload['gpus'] })).digest('hex');
    const what = body.wrappedDataKey !== undefined ? 'datakey' : 'key';
    await audit('success', { ...policyRef, releaseId, version, what, claimsDigest });
    await this.alertRelease(caller, found.key.tenant, keyId, releaseId, requestId);
    return { keyId, version, jwe, releaseId };
  }

  /**
   * The hooks into anomaly alerts (src/broker/alerts.ts). The audit rows above are single statements, so
   * the alert rows commit in their own transaction and are published at once; alerts never fail a release.
   */
  private async alertRelease(caller: AttestedCaller, tenant: string, keyId: string, releaseId: string, requestId: string | null): Promise<void> {
    const raised = await this.deps.alerts?.afterRelease(this.deps.db, { keyId, tenant, payload: caller.payload, jkt: caller.jkt, releaseId, requestId });
    raised?.publish();
  }

  private async alertDenial(caller: AttestedCaller, tenant: string, keyId: string, code: string, requestId: string | null): Promise<void> {
    const raised = await this.deps.alerts?.afterDenial(this.deps.db, { keyId, tenant, payload: caller.payload, jkt: caller.jkt, code, requestId });
    raised?.publish();
  }

  /** The material a release hands over: the key version asked for, or the data key it wraps. */
  private async materialFor(found: ReleaseTarget, body: { version?: number; wrappedDataKey?: string }): Promise<{ secret: Uint8Array; version: number }> {
    if (body.wrappedDataKey === undefined) {
      const version = body.version ?? found.key.currentVersion;
      return { secret: await this.deps.vault.openVersionRow(found.key.id, version, found.version), version };
    }
    const opened = await this.deps.vault.openDataKey(this.deps.db, found.key, body.wrappedDataKey);
    if (body.version !== undefined && body.version !== opened.version) {
      zeroize(opened.dataKey);
      throw new RequestError('ERR_DATAKEY_INVALID', 'The wrapped data key is not valid for this key.');
    }
    return { secret: opened.dataKey, version: opened.version };
  }

  /** Verifies evidence without a nonce binding (admin dry run) and returns the policy input it yields. */
  async claimsForDryRun(evidence: readonly unknown[], at?: Date): Promise<{ cpu: CpuClaims | null; gpus: readonly NvidiaGpuClaims[] }> {
    if (evidence.length === 0 || evidence.length > MAX_EVIDENCE_ITEMS) {
      throw new EvidenceError('ERR_EVIDENCE_SET_INVALID', `evidence must hold 1 to ${MAX_EVIDENCE_ITEMS} items.`);
    }
    const items = evidence.map((e, i) => decodeEvidenceItem(e, i));
    const now = at ?? this.deps.clock.now();
    const verified = await verifyEvidenceSet(items, await this.deps.verification.contextFor(items, now, { historical: at !== undefined }));
    const { cpu, gpus } = this.claimsOf(verified);
    return { cpu, gpus };
  }

  /** Deletes long-expired nonces; returns how many. */
  async sweepNonces(): Promise<number> {
    return releaseRepo.deleteExpiredNonces(this.deps.db, new Date(this.deps.clock.now().getTime() - 3600_000));
  }
}
