// The one-shot release (docs/release.md "One-shot release"): POST /v1/release verifies the evidence and
// judges every key asked for by its own policy; all keys are released or none. One database transaction
// consumes the nonce and writes the audit rows — a denial commits both and releases nothing.
import { randomUUID } from 'node:crypto';
import { KeywardError, RequestError } from '../errors.js';
import type { KeyForRelease } from '../store/keys-repo.js';
import { appendAudit, type Actor, type AuditEvent } from './audit.js';
import { releaseBudgets } from './rate-limit.js';
import {
  assertNonceUnused,
  consumeNonce,
  extraAnchors,
  parseAttestation,
  signAttestationToken,
  verifyAttestation,
  WORKLOAD_ACTOR_PREFIX,
  type AttestRequest,
  type ParsedAttestation,
} from './release-attestation.js';
import { alertAfter, auditBase, claimsDigest, findTarget, judgeKey, sealForTee, type KeyAsk, type Refusal, type Verdict, type Workload } from './release-keys.js';
import type { ReleaseDeps, ReleaseResult, RequestOrigin } from './release.js';
import { releaseReads, type ReleaseReads } from './release-cache.js';

/** Keys one request may ask for (also the schema's maxItems in openapi.yaml). */
export const MAX_ONE_SHOT_KEYS = 16;

export interface OneShotRequest extends AttestRequest {
  readonly keys: readonly KeyAsk[];
  /** Also answer with keyward's attestation token (as POST /v1/attest would). */
  readonly token?: boolean;
}

export interface OneShotResult {
  readonly releases: readonly ReleaseResult[];
  readonly token?: string;
}

/** One key of the request after judging: the key as found (absent when it was not), and the verdict. */
interface Judged {
  readonly ask: KeyAsk;
  readonly found: KeyForRelease | undefined;
  readonly verdict: Verdict;
}

/** A key whose policy allowed it, sealed to the TEE key (not sent unless every key of the request is). */
interface Sealed {
  readonly judged: Judged;
  readonly jwe: string;
  readonly version: number;
}

export async function releaseOneShot(deps: ReleaseDeps, request: OneShotRequest, origin: RequestOrigin): Promise<OneShotResult> {
  const asks = checkAsks(request.keys);
  const parsed = parseAttestation(deps, request, { exactlyOneCpu: true });
  await assertNonceUnused(deps.db, parsed.nonce);
  const outcome = await verifyAttestation(deps, parsed);
  if ('failure' in outcome) {
    await commitAttempt(deps, parsed, origin, [attestFailure(parsed, origin, outcome.failure)]);
    throw outcome.failure;
  }
  const workload: Workload = { claims: outcome.claims, tee: parsed.tee, jkt: parsed.jkt, evidence: parsed.digests };
  const { sealed, refused, delivered } = await judgeAndCommit(deps, parsed, origin, workload, asks);
  if (refused) {
    await alertDenials(deps, workload, origin, sealed);
    throw refusalForWorkload(refused);
  }
  for (const d of delivered) {
    await alertAfter(deps.alerts, deps.db, workload, { keyId: d.judged.ask.keyId, tenant: d.judged.found?.key.tenant ?? 'default', requestId: origin.requestId, releaseId: d.releaseId });
  }
  const extra = extraAnchors(outcome.verified);
  if (extra.length > 0) deps.onExtraAnchor?.(extra);
  await deps.verification.accepted(outcome.verified);
  const releases = delivered.map((d) => ({ keyId: d.judged.ask.keyId, version: d.version, jwe: d.jwe, releaseId: d.releaseId }));
  if (request.token !== true) return { releases };
  const { token } = await signAttestationToken(deps.tokens, parsed, outcome.verified, outcome.claims);
  return { releases, token };
}

function checkAsks(keys: readonly KeyAsk[]): readonly KeyAsk[] {
  if (!Array.isArray(keys) || keys.length === 0 || keys.length > MAX_ONE_SHOT_KEYS) {
    throw new RequestError('ERR_REQUEST_INVALID', `keys must hold 1 to ${MAX_ONE_SHOT_KEYS} keys.`);
  }
  return keys;
}

/** What one pass decided and committed: every key's verdict, the first refusal, or the keys delivered. */
interface Committed {
  readonly sealed: readonly (Sealed | Judged)[];
  readonly refused: (Judged & { verdict: Refusal }) | undefined;
  readonly delivered: readonly (Sealed & { releaseId: string })[];
}

/**
 * Judges and seals every key, then commits the attempt. Why twice at most: a pass judged on cached key rows
 * commits only if they are still current (the epoch the nonce insert reads); otherwise its transaction is
 * rolled back — nothing released, the nonce not consumed — and the request is judged once more on rows read
 * from the database, whatever the first verdict was (a denial judged on stale rows is judged again too).
 */
async function judgeAndCommit(deps: ReleaseDeps, parsed: ParsedAttestation, origin: RequestOrigin, workload: Workload, asks: readonly KeyAsk[]): Promise<Committed> {
  const first = await judgePass(deps, workload, origin, asks, releaseReads(deps.cache, deps.db), true);
  if (await commitAttempt(deps, parsed, origin, first.events, first.reads)) return first;
  deps.cache?.staleAt();
  // The budgets were spent by the first pass: one attempt spends them once.
  const again = await judgePass(deps, workload, origin, asks, releaseReads(deps.cache, deps.db, true), false);
  if (!(await commitAttempt(deps, parsed, origin, again.events, again.reads))) throw new KeywardError('ERR_INTERNAL', 'A release judged on rows read from the database was found stale.');
  return again;
}

async function judgePass(deps: ReleaseDeps, workload: Workload, origin: RequestOrigin, asks: readonly KeyAsk[], reads: ReleaseReads, spendBudgets: boolean): Promise<Committed & { events: AuditEvent[]; reads: ReleaseReads }> {
  const judged = await judgeAll(deps, reads, workload, asks, spendBudgets);
  const sealed = judged.every((j) => j.verdict.allowed) ? await sealAll(deps, workload, judged) : judged;
  const refused = firstRefusal(sealed);
  if (refused) return { sealed, refused, delivered: [], events: denialEvents(workload, origin, sealed, refused), reads };
  const delivered = sealed.filter(isSealed).map((s) => ({ ...s, releaseId: randomUUID() }));
  return { sealed, refused, delivered, events: delivered.map((d) => releaseEvent(workload, origin, d.judged, 'success', successDetails(workload, d))), reads };
}

/** Thrown inside the attempt's transaction to roll it back: the cached rows it was judged on are stale. */
class StaleReads extends Error {}

/**
 * The explicit consumption of the nonce and the audit rows of the attempt, in ONE transaction. With the
 * reads of a judging pass: false (rolled back, nothing written) when the rows it took from the cache are
 * not current at the epoch the nonce insert read.
 */
async function commitAttempt(deps: ReleaseDeps, parsed: ParsedAttestation, origin: RequestOrigin, events: readonly AuditEvent[], reads?: ReleaseReads): Promise<boolean> {
  try {
    await deps.db.transaction().execute(async (trx) => {
      const { epoch } = await consumeNonce(trx, parsed.nonce, origin.client);
      if (reads && !reads.currentAt(epoch)) throw new StaleReads();
      const at = deps.clock.now();
      for (const event of events) await appendAudit(trx, event, at);
    });
    return true;
  } catch (err) {
    if (err instanceof StaleReads) return false;
    throw err;
  }
}

/**
 * Judges every key by its own policy (each one, so the audit shows every key's verdict). A key that
 * exists spends its budgets first: a 429 here consumes nothing and the same nonce may be sent again.
 */
async function judgeAll(deps: ReleaseDeps, reads: ReleaseReads, workload: Workload, asks: readonly KeyAsk[], spendBudgets: boolean): Promise<Judged[]> {
  const judged: Judged[] = [];
  for (const ask of asks) {
    let found: KeyForRelease;
    try {
      found = await findTarget(reads, ask);
    } catch (err) {
      if (!(err instanceof KeywardError)) throw err;
      judged.push({ ask, found: undefined, verdict: { allowed: false, error: err, outcome: 'denied', details: {} } });
      continue;
    }
    const rl = deps.rateLimits;
    if (rl && spendBudgets) await rl.limits.take(releaseBudgets(ask.keyId, found.key.rateLimitPerMinute, { cpu: workload.claims.cpu, gpus: workload.claims.gpus }, rl.defaults, found.key.tenant));
    judged.push({ ask, found, verdict: await judgeKey(deps, deps.db, found, workload.claims) });
  }
  return judged;
}

/** Seals every allowed key to the TEE key; a key whose secret cannot be opened becomes a refusal ('failure'). */
async function sealAll(deps: ReleaseDeps, workload: Workload, judged: readonly Judged[]): Promise<(Sealed | Judged)[]> {
  const out: (Sealed | Judged)[] = [];
  for (const j of judged) {
    if (!j.found || !j.verdict.allowed) {
      out.push(j);
      continue;
    }
    try {
      out.push({ judged: j, ...(await sealForTee(deps, deps.db, j.found, j.ask, workload.tee)) });
    } catch (err) {
      if (!(err instanceof KeywardError)) throw err;
      out.push({ ...j, verdict: { allowed: false, error: err, outcome: 'failure', details: { ...j.verdict.policyRef } } });
    }
  }
  return out;
}

function isSealed(item: Sealed | Judged): item is Sealed {
  return 'jwe' in item;
}

function firstRefusal(items: readonly (Sealed | Judged)[]): (Judged & { verdict: Refusal }) | undefined {
  for (const item of items) {
    if (!isSealed(item) && !item.verdict.allowed) return { ...item, verdict: item.verdict };
  }
  return undefined;
}

/** What the workload learns: the refused key's code, with which key it was. */
function refusalForWorkload(refused: Judged & { verdict: Refusal }): KeywardError {
  const err = refused.verdict.error;
  return new KeywardError(err.code, err.message, { cause: err, extra: { ...(err.extra ?? {}), keyId: refused.ask.keyId } });
}

/**
 * A row per key: the refused keys with their own code and reasons, the keys their policy allowed with
 * ERR_RELEASE_ALL_OR_NONE (not released because another key of the request was refused).
 */
function denialEvents(workload: Workload, origin: RequestOrigin, items: readonly (Sealed | Judged)[], refused: Judged & { verdict: Refusal }): AuditEvent[] {
  return items.map((item) => {
    const judged = isSealed(item) ? item.judged : item;
    const verdict = judged.verdict;
    if (isSealed(item) || verdict.allowed) {
      const policyRef = verdict.allowed ? verdict.policyRef : {};
      return releaseEvent(workload, origin, judged, 'denied', { code: 'ERR_RELEASE_ALL_OR_NONE', refusedKeyId: refused.ask.keyId, ...policyRef });
    }
    return releaseEvent(workload, origin, judged, verdict.outcome, { code: verdict.error.code, ...verdict.details });
  });
}

/** Each key refused by its own policy or state (not the keys refused only because another one was) counts as a denial. */
async function alertDenials(deps: ReleaseDeps, workload: Workload, origin: RequestOrigin, items: readonly (Sealed | Judged)[]): Promise<void> {
  for (const item of items) {
    if (isSealed(item) || item.verdict.allowed || item.verdict.outcome !== 'denied' || !item.found) continue;
    await alertAfter(deps.alerts, deps.db, workload, { keyId: item.ask.keyId, tenant: item.found.key.tenant, requestId: origin.requestId, code: item.verdict.error.code });
  }
}

function successDetails(workload: Workload, d: Sealed & { releaseId: string }): Record<string, unknown> {
  const policyRef = d.judged.verdict.allowed ? d.judged.verdict.policyRef : {};
  const what = d.judged.ask.wrappedDataKey !== undefined ? 'datakey' : 'key';
  return { ...policyRef, releaseId: d.releaseId, version: d.version, what, claimsDigest: claimsDigest(workload.claims) };
}

function releaseEvent(workload: Workload, origin: RequestOrigin, judged: Judged, outcome: AuditEvent['outcome'], details: Record<string, unknown>): AuditEvent {
  const actor: Actor = { id: `${WORKLOAD_ACTOR_PREFIX}${workload.jkt}`, name: 'attested workload' };
  const base = auditBase(workload, judged.found?.key.tenant ?? null);
  return { actor, action: 'key.release', target: judged.ask.keyId, outcome, requestId: origin.requestId, details: { ...base, flow: 'one-shot', ...details } };
}

function attestFailure(parsed: ParsedAttestation, origin: RequestOrigin, failure: KeywardError): AuditEvent {
  const actor: Actor = { id: `${WORKLOAD_ACTOR_PREFIX}${parsed.jkt}`, name: 'attesting workload' };
  return { actor, action: 'attest', target: parsed.jkt, outcome: 'failure', requestId: origin.requestId, details: { evidence: parsed.digests, code: failure.code, flow: 'one-shot' } };
}
