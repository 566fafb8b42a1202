// The attestation steps both release flows share (docs/release.md): parse the request (nonce MAC, TEE key,
// evidence), verify the evidence bound to SHA-512(nonce ‖ thumbprint), consume the nonce in the caller's
// transaction, and sign keyward's attestation token.
import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import { EvidenceError, KeywardError, RequestError } from '../errors.js';
import { toBase64Url } from '../encoding.js';
import type { Db } from '../store/database.js';
import * as releaseRepo from '../store/release-repo.js';
import type { EvidenceItem, VerifiedEvidence } from '../evidence/types.js';
import type { CpuClaims } from '../evidence/claims.js';
import type { NvidiaGpuClaims } from '../evidence/nvidia/claims.js';
import { decodeEvidenceItem, evidenceBytes } from '../evidence/wire.js';
import { MAX_EVIDENCE_ITEMS } from '../evidence/verify.js';
import { expandNvidiaClaims, summarizeGpus } from '../evidence/nvidia/topology.js';
import { policyInputFromClaims } from '../policy/evaluate.js';
import { parseTeePublicKey, type TeeKey } from '../keys/jwe.js';
import type { AttestationTokens } from './attestation-tokens.js';
import type { OpenedNonce, StatelessNonces } from './nonces.js';
import type { VerificationSource } from './verification.js';
import { verifyEvidenceRequest } from './evidence-request.js';
import type { WorkloadClaims } from './release-keys.js';

export const WORKLOAD_ACTOR_PREFIX = 'workload:';
const CPU_TYPES: ReadonlySet<string> = new Set(['snp', 'tdx', 'sgx', 'nitro']);

export interface AttestRequest {
  readonly nonce: string;
  readonly teePublicKey: unknown;
  readonly evidence: readonly unknown[];
}

/** An attestation request whose form, nonce MAC and TEE key checked out; nothing verified yet. */
export interface ParsedAttestation {
  readonly nonce: OpenedNonce;
  readonly tee: TeeKey;
  readonly jkt: string;
  readonly items: readonly EvidenceItem[];
  readonly digests: readonly { readonly type: string; readonly digest: string }[];
  /** The CPU piece's type (snp, tdx, sgx, nitro), or null for GPU-only evidence. */
  readonly cpuType: string | null;
}

/** The verified claims as the attest answer and the token carry them. */
export interface AttestedClaims extends WorkloadClaims {
  readonly gpuTopology: unknown;
}

export interface AttestationDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly verification: VerificationSource;
  readonly nonces: StatelessNonces;
}

/** bind = SHA-512(nonce ‖ RFC 7638 thumbprint of the TEE key) (docs/design.md "Release protocol", step 2). */
export function bindingFor(nonce: Uint8Array, thumbprint: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha512').update(nonce).update(thumbprint).digest());
}

function digestOf(item: EvidenceItem): string {
  const h = createHash('sha256');
  for (const part of evidenceBytes(item)) h.update(part);
  return h.digest('hex');
}

function expiredNonce(): RequestError {
  return new RequestError('ERR_ATTEST_NONCE_EXPIRED', 'The nonce expired; request a new challenge.');
}

function replayedNonce(): RequestError {
  return new RequestError('ERR_ATTEST_NONCE_REPLAYED', 'The nonce was already used; each nonce works once.');
}

/**
 * Checks everything about the request that needs no database and no signature: the nonce's form, MAC and
 * expiry (by this replica's clock: a fast refusal; the database's clock decides at consumption), the TEE
 * key and the evidence's wire form. With `exactlyOneCpu`, the set must hold exactly one CPU piece.
 */
export function parseAttestation(deps: AttestationDeps, request: AttestRequest, opts: { exactlyOneCpu: boolean }): ParsedAttestation {
  const nonce = deps.nonces.open(request.nonce);
  const tee = parseTeePublicKey(request.teePublicKey);
  if (request.evidence.length === 0 || request.evidence.length > MAX_EVIDENCE_ITEMS) {
    throw new EvidenceError('ERR_EVIDENCE_SET_INVALID', `evidence must hold 1 to ${MAX_EVIDENCE_ITEMS} items.`);
  }
  const items = request.evidence.map((e, i) => decodeEvidenceItem(e, i));
  const cpus = items.filter((item) => CPU_TYPES.has(item.type));
  if (opts.exactlyOneCpu && cpus.length !== 1) {
    throw new EvidenceError('ERR_EVIDENCE_SET_INVALID', 'evidence must hold exactly one CPU TEE item (snp, tdx, sgx or nitro) per attestation.');
  }
  if (nonce.expiresAt <= deps.clock.now()) throw expiredNonce();
  const digests = items.map((item) => ({ type: item.type, digest: digestOf(item) }));
  return { nonce, tee, jkt: toBase64Url(tee.thumbprint), items, digests, cpuType: cpus[0]?.type ?? null };
}

/** A cheap look before the signature work: a nonce already consumed is refused at once. */
export async function assertNonceUnused(db: Db, nonce: OpenedNonce): Promise<void> {
  if (await releaseRepo.isNonceConsumed(db, nonce.hash)) throw replayedNonce();
}

/**
 * Consumes the nonce in the caller's transaction (`db` is one): the consumed set gains SHA-256 of its bytes
 * unless it holds it already or the database's clock says it expired. Refuses with the specific code.
 */
export async function consumeNonce(db: Db, nonce: OpenedNonce, client: string | null): Promise<{ epoch: string }> {
  const use = { nonceHash: nonce.hash, expiresAt: nonce.expiresAt, client };
  const consumed = await releaseRepo.consumeNonce(db, use);
  if (consumed) return consumed;
  const state = await releaseRepo.nonceState(db, use);
  throw state.consumed || !state.expired ? replayedNonce() : expiredNonce();
}

/** Verifies a parsed request's evidence; a verdict against it is returned (the nonce is burnt either way), other errors thrown. */
export async function verifyAttestation(
  deps: AttestationDeps,
  parsed: ParsedAttestation,
): Promise<{ verified: VerifiedEvidence[]; claims: AttestedClaims } | { failure: KeywardError }> {
  try {
    const verified = await verifyEvidenceRequest(deps.verification, parsed.items, { now: deps.clock.now() }, bindingFor(parsed.nonce.bytes, parsed.tee.thumbprint));
    return { verified, claims: claimsOf(verified) };
  } catch (err) {
    // Whatever the verdict, the attempt burns the nonce: one nonce, one attempt.
    if (err instanceof KeywardError) return { failure: err };
    throw err;
  }
}

export function claimsOf(verified: readonly VerifiedEvidence[]): AttestedClaims {
  const input = policyInputFromClaims(verified.map((v) => v.claims));
  const gpus = expandNvidiaClaims(input.gpus ?? []);
  return { cpu: input.cpu ?? null, gpus, gpuTopology: gpus.length > 0 ? summarizeGpus(gpus) : null };
}

/** Non-vendor anchors the evidence chained to (for the loud log line), as `tee:source:name`. */
export function extraAnchors(verified: readonly VerifiedEvidence[]): string[] {
  return verified.filter((v) => v.claims.anchor.source !== 'vendor').map((v) => `${v.claims.tee}:${v.claims.anchor.source}:${v.claims.anchor.name}`);
}

/** keyward's attestation token for verified evidence; its exp ends no later than the evidence's validity. */
export async function signAttestationToken(
  tokens: AttestationTokens,
  parsed: ParsedAttestation,
  verified: readonly VerifiedEvidence[],
  claims: AttestedClaims,
): Promise<{ token: string; expiresAt: Date }> {
  const notAfter = new Date(Math.min(...verified.map((v) => v.validUntil.getTime())));
  const signed = { sub: parsed.jkt, cnf: { jkt: parsed.jkt, jwk: parsed.tee.jwk }, ...claims, evidence: parsed.digests, simulated: verified.some((v) => v.claims.simulated) };
  return tokens.sign(signed, { notAfter });
}

function isClaimsObject(value: unknown): value is { readonly tee: string } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as { tee?: unknown }).tee === 'string';
}

/**
 * The claims an attestation token carries, typed. keyward signed them from verified evidence; the shape
 * check only guards against a token from an older keyward with another layout.
 */
export function claimsFromToken(payload: Readonly<Record<string, unknown>>): WorkloadClaims {
  const cpu = payload['cpu'] ?? null;
  const gpus = payload['gpus'] ?? [];
  if ((cpu !== null && !isClaimsObject(cpu)) || !Array.isArray(gpus) || !gpus.every(isClaimsObject)) {
    throw new RequestError('ERR_ATTEST_TOKEN_INVALID', 'The attestation token is not valid.');
  }
  return { cpu: cpu as CpuClaims | null, gpus: gpus as NvidiaGpuClaims[] };
}
