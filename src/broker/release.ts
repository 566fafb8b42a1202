// The release protocol (docs/release.md): stateless challenge → attest (verify evidence bound to the nonce
// and TEE key, consume the nonce, issue a token) → release (policy over the token's claims, JWE to the TEE
// key); and the one-shot release (release-one-shot.ts). Every attestation, release and denial is audited in
// the transaction that decides it.
import { createHash, randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { EvidenceError, KeywardError, RequestError } from '../errors.js';
import { toBase64Url } from '../encoding.js';
import type { Db } from '../store/database.js';
import * as releaseRepo from '../store/release-repo.js';
import type { KeyForRelease } from '../store/keys-repo.js';
import { decodeEvidenceItem } from '../evidence/wire.js';
import { MAX_EVIDENCE_ITEMS } from '../evidence/verify.js';
import { parseTeePublicKey, type TeeKey } from '../keys/jwe.js';
import { appendAudit, appendAuditIf, canonicalJson, type Actor } from './audit.js';
import type { Alerts } from './alerts.js';
import type { AttestationTokens } from './attestation-tokens.js';
import type { Policies } from './policies.js';
import type { Vault } from './vault.js';
import type { VerificationSource } from './verification.js';
import type { StatelessNonces } from './nonces.js';
import { releaseBudgets, type RateLimits, type ReleaseBudgetDefaults } from './rate-limit.js';
import {
  assertNonceUnused,
  claimsFromToken,
  claimsOf,
  consumeNonce,
  extraAnchors,
  parseAttestation,
  signAttestationToken,
  verifyAttestation,
  WORKLOAD_ACTOR_PREFIX,
  type AttestedClaims,
  type AttestRequest,
  type ParsedAttestation,
} from './release-attestation.js';
import { alertAfter, auditBase, claimsDigest, findTarget, judgeKey, revocationNote, sealForTee, type KeyAsk, type Workload, type WorkloadClaims } from './release-keys.js';
import { releaseOneShot, type OneShotRequest, type OneShotResult } from './release-one-shot.js';
import { verifyEvidenceRequest } from './evidence-request.js';
import { releaseReads, type ReleaseCache, type ReleaseReads } from './release-cache.js';

/** A release pass judged on cached rows that were no longer current: nothing was written. */
const STALE = Symbol('stale');

export { bindingFor, WORKLOAD_ACTOR_PREFIX, type AttestRequest } from './release-attestation.js';
export { workloadSummary } from './release-keys.js';
export type { OneShotRequest, OneShotResult } from './release-one-shot.js';

export interface ReleaseDeps {
  readonly db: Db;
  readonly clock: Clock;
  /** Collateral, anchors and memo for each verification. */
  readonly verification: VerificationSource;
  readonly tokens: AttestationTokens;
  readonly policies: Policies;
  readonly vault: Vault;
  /** Issues and opens stateless (HMAC-protected) nonces. */
  readonly nonces: StatelessNonces;
  /** How long a consumed nonce is kept past its expiry (the clock skew allowed between replicas), seconds. */
  readonly nonceSkewSeconds: number;
  /** Release budgets shared by the replicas (per key, tenant, TEE identity); absent: no release budgets. */
  readonly rateLimits?: { readonly limits: RateLimits; readonly defaults: ReleaseBudgetDefaults };
  /** Anomaly alerts, told of every release and denial once its rows committed; absent: none. */
  readonly alerts?: Alerts;
  /** The per-replica cache of key rows (release-cache.ts); absent: every release reads the database. */
  readonly cache?: ReleaseCache;
  /** Told when evidence chained to a non-vendor (extra or uploaded) anchor was accepted. */
  readonly onExtraAnchor?: (anchors: string[]) => void;
}

export interface AttestResult {
  readonly token: string;
  readonly expiresAt: string;
  readonly claims: AttestedClaims;
}

/** A workload whose attestation token verified: the token's claims and the TEE key it binds. */
export interface AttestedCaller {
  readonly payload: Record<string, unknown>;
  readonly claims: WorkloadClaims;
  readonly tee: TeeKey;
  readonly jkt: string;
}

export interface ReleaseBody {
  readonly version?: number;
  readonly wrappedDataKey?: string;
}

export interface ReleaseResult {
  readonly keyId: string;
  readonly version: number;
  readonly jwe: string;
  readonly releaseId: string;
}

/** Who a request came from, for the audit rows and the consumed-nonce row. */
export interface RequestOrigin {
  readonly client: string | null;
  readonly requestId: string | null;
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

export class ReleaseService {
  constructor(private readonly deps: ReleaseDeps) {}

  /** A stateless challenge: nothing is written; single use is enforced when the nonce is consumed. */
  async challenge(): Promise<{ nonce: string; expiresAt: string }> {
    return this.deps.nonces.issue();
  }

  async attest(request: AttestRequest, origin: RequestOrigin): Promise<AttestResult> {
    const parsed = parseAttestation(this.deps, request, { exactlyOneCpu: false });
    // Fail fast (before any signature work) when the nonce was used already.
    await assertNonceUnused(this.deps.db, parsed.nonce);
    const outcome = await verifyAttestation(this.deps, parsed);
    // One transaction burns the nonce (whatever the verdict: one nonce, one attempt) and audits the outcome.
    await this.deps.db.transaction().execute(async (trx) => {
      await consumeNonce(trx, parsed.nonce, origin.client);
      await appendAudit(trx, this.attestEvent(parsed, origin, outcome), this.deps.clock.now());
    });
    if ('failure' in outcome) throw outcome.failure;
    const extra = extraAnchors(outcome.verified);
    if (extra.length > 0) this.deps.onExtraAnchor?.(extra);
    await this.deps.verification.accepted(outcome.verified);
    const { token, expiresAt } = await signAttestationToken(this.deps.tokens, parsed, outcome.verified, outcome.claims);
    return { token, expiresAt: expiresAt.toISOString(), claims: outcome.claims };
  }

  private attestEvent(parsed: ParsedAttestation, origin: RequestOrigin, outcome: { claims: AttestedClaims } | { failure: KeywardError }) {
    const actor: Actor = { id: `${WORKLOAD_ACTOR_PREFIX}${parsed.jkt}`, name: 'attesting workload' };
    const verdict =
      'failure' in outcome
        ? { code: outcome.failure.code }
        : { claimsDigest: createHash('sha256').update(canonicalJson(outcome.claims)).digest('hex'), ...revocationNote(outcome.claims) };
    return { actor, action: 'attest', target: parsed.jkt, outcome: 'failure' in outcome ? ('failure' as const) : ('success' as const), requestId: origin.requestId, details: { evidence: parsed.digests, ...verdict } };
  }

  /** `POST /v1/release`: evidence and every key in one call, all released or none (release-one-shot.ts). */
  async releaseOneShot(request: OneShotRequest, origin: RequestOrigin): Promise<OneShotResult> {
    return releaseOneShot(this.deps, request, origin);
  }

  /**
   * Verifies an attestation token and the TEE key it binds (`cnf`). Every failure is an
   * ERR_ATTEST_TOKEN_* code, so callers can charge failed attempts to their source.
   */
  async verifyCaller(token: string): Promise<AttestedCaller> {
    const payload = await this.deps.tokens.verify(token);
    const { tee, jkt } = teeKeyOf(payload);
    return { payload, claims: claimsFromToken(payload), tee, jkt };
  }

  /**
   * Releases a key (or a data key of it) to the verified caller's TEE key, if the key's policy allows. Why
   * twice at most: a verdict judged on cached key rows is audited (the one write of this flow) only if they
   * are still current; otherwise nothing is written and it is judged once more on rows read from the database.
   */
  async release(caller: AttestedCaller, keyId: string, body: ReleaseBody, requestId: string | null): Promise<ReleaseResult> {
    const cache = this.deps.cache;
    const first = await this.releaseOnce(caller, keyId, body, requestId, releaseReads(cache, this.deps.db), true);
    if (first !== STALE) return first;
    cache?.staleAt();
    // The budgets were spent by the first pass: one attempt spends them once.
    const again = await this.releaseOnce(caller, keyId, body, requestId, releaseReads(cache, this.deps.db, true), false);
    if (again === STALE) throw new KeywardError('ERR_INTERNAL', 'A release judged on rows read from the database was found stale.');
    return again;
  }

  /** One judging pass: the result, a thrown refusal (audited), or STALE (nothing written). */
  private async releaseOnce(caller: AttestedCaller, keyId: string, body: ReleaseBody, requestId: string | null, reads: ReleaseReads, spendBudgets: boolean): Promise<ReleaseResult | typeof STALE> {
    const ask: KeyAsk = { keyId, ...body };
    const found = await findTarget(reads, ask);
    const workload: Workload = { claims: caller.claims, tee: caller.tee, jkt: caller.jkt, evidence: caller.payload['evidence'], tokenId: caller.payload['jti'] };
    const audit = this.releaseAuditor(workload, found, keyId, requestId, reads.requiredEpoch());
    if (spendBudgets) await this.spendBudgets(keyId, found, caller.claims);
    const verdict = await judgeKey(this.deps, this.deps.db, found, caller.claims);
    if (!verdict.allowed) {
      if (!(await audit(verdict.outcome, { code: verdict.error.code, ...verdict.details }))) return STALE;
      if (verdict.outcome === 'denied') await alertAfter(this.deps.alerts, this.deps.db, workload, { keyId, tenant: found.key.tenant, requestId, code: verdict.error.code });
      throw verdict.error;
    }
    let sealed: { jwe: string; version: number };
    try {
      sealed = await sealForTee(this.deps, this.deps.db, found, ask, caller.tee);
    } catch (err) {
      if (err instanceof KeywardError && !(await audit('failure', { code: err.code, ...verdict.policyRef }))) return STALE;
      throw err;
    }
    const releaseId = randomUUID();
    const what = ask.wrappedDataKey !== undefined ? 'datakey' : 'key';
    if (!(await audit('success', { ...verdict.policyRef, releaseId, version: sealed.version, what, claimsDigest: claimsDigest(caller.claims) }))) return STALE;
    await alertAfter(this.deps.alerts, this.deps.db, workload, { keyId, tenant: found.key.tenant, requestId, releaseId });
    return { keyId, version: sealed.version, jwe: sealed.jwe, releaseId };
  }

  /** Appends the release's audit row, only if the release-cache epoch is still `epoch` (undefined: always); false when it moved. */
  private releaseAuditor(workload: Workload, found: KeyForRelease, keyId: string, requestId: string | null, epoch: string | undefined) {
    const actor: Actor = { id: `${WORKLOAD_ACTOR_PREFIX}${workload.jkt}`, name: 'attested workload' };
    const base = auditBase(workload, found.key.tenant);
    return (outcome: 'success' | 'denied' | 'failure', details: Record<string, unknown>) =>
      appendAuditIf(this.deps.db, { actor, action: 'key.release', target: keyId, outcome, requestId, details: { ...base, ...details } }, this.deps.clock.now(), epoch);
  }

  /**
   * Counts the attempt against the key's, the tenant's and each TEE's budget. Why here: only callers whose
   * attestation verified, asking for a key that exists, spend a key's budget.
   */
  private async spendBudgets(keyId: string, found: KeyForRelease, claims: WorkloadClaims): Promise<void> {
    const rl = this.deps.rateLimits;
    if (!rl) return;
    await rl.limits.take(releaseBudgets(keyId, found.key.rateLimitPerMinute, { cpu: claims.cpu, gpus: claims.gpus }, rl.defaults, found.key.tenant));
  }

  /** Verifies evidence without a nonce binding (admin dry run) and returns the policy input it yields. */
  async claimsForDryRun(evidence: readonly unknown[], at?: Date): Promise<WorkloadClaims> {
    if (evidence.length === 0 || evidence.length > MAX_EVIDENCE_ITEMS) {
      throw new EvidenceError('ERR_EVIDENCE_SET_INVALID', `evidence must hold 1 to ${MAX_EVIDENCE_ITEMS} items.`);
    }
    const items = evidence.map((e, i) => decodeEvidenceItem(e, i));
    const verified = await verifyEvidenceRequest(this.deps.verification, items, { now: at ?? this.deps.clock.now(), historical: at !== undefined });
    const { cpu, gpus } = claimsOf(verified);
    return { cpu, gpus };
  }

  /** Deletes consumed nonces whose expiry plus the allowed skew has passed (by the database's clock); returns how many. */
  async sweepNonces(): Promise<number> {
    return releaseRepo.deleteExpiredNonces(this.deps.db, this.deps.nonceSkewSeconds);
  }
}
