// Picks and verifies the DCAP collateral a quote needs from the Collateral bag (QVL PckCertVerifier,
// TCBInfoVerifier, EnclaveIdentityVerifier): the PCK chain with the PCK CRL and Root CA CRL, the TCB
// Signing chain, and the TCB Info / QE Identity signed by it, all valid at `now`.
import { verify as cryptoVerify, createHash } from 'node:crypto';
import { EvidenceError } from '../../errors.js';
import {
  applyCrls,
  checkCrlFreshness,
  commonNameOf,
  crlIssuedBy,
  parseCertificate,
  verifyChain,
  verifyCrlSignature,
  type Certificate,
  type VerifiedChain,
  type VerifiedCrl,
} from '../pki.js';
import type { Collateral, TrustAnchor, VerificationMemo, VerifyContext } from '../types.js';
import type { PckCertificates } from './pck.js';
import { parseQeIdentity, type QeIdentity, type SignedQeIdentity } from './qe-identity.js';
import type { DcapTee } from './quote.js';
import { parseTcbInfo, type SignedTcbInfo, type TcbInfo } from './tcb-info.js';

export interface Window {
  readonly validFrom: Date;
  readonly validUntil: Date;
}

export interface VerifiedPckChain extends Window {
  /** PCK leaf, PCK Platform/Processor CA, root. */
  readonly path: readonly Certificate[];
  readonly anchor: TrustAnchor;
  readonly rootCrl: VerifiedCrl;
}

export interface TcbCollateral extends Window {
  readonly tcbInfo: TcbInfo;
  readonly qeIdentity: QeIdentity;
}

function remember<T>(memo: VerificationMemo | undefined, key: string, compute: () => T): T {
  return memo ? memo.remember(key, compute) : compute();
}

/** Runs `fn`, turning an EvidenceError into a value so that failures can be remembered too. */
function capture<T>(fn: () => T): T | EvidenceError {
  try {
    return fn();
  } catch (err) {
    if (err instanceof EvidenceError) return err;
    throw err;
  }
}

function missing(message: string): never {
  throw new EvidenceError('ERR_COLLATERAL_MISSING', message);
}

// --- per-bag indexes ----------------------------------------------------------------------------------
// Parsing collateral is pure; the results are kept per (immutable) array so that a service that passes the
// same bag to every verification parses it once. Time-dependent checks are never cached.

interface IndexedCrl {
  readonly der: Uint8Array;
  readonly sha256: string;
}

interface IndexedCertificates {
  /** Every readable certificate once (bags repeat the root in every chain file). */
  readonly all: readonly Certificate[];
  readonly tcbSigning: readonly Certificate[];
}

const certIndex = new WeakMap<readonly Uint8Array[], IndexedCertificates>();
const crlIndex = new WeakMap<readonly Uint8Array[], IndexedCrl[]>();
const tcbInfoIndex = new WeakMap<readonly string[], (SignedTcbInfo | EvidenceError)[]>();
const qeIdentityIndex = new WeakMap<readonly string[], (SignedQeIdentity | EvidenceError)[]>();
const bagResults = new WeakMap<Collateral, Map<string, unknown>>();
const MAX_BAG_RESULTS = 4096;

function indexed<K extends object, V>(cache: WeakMap<K, V>, key: K, build: () => V): V {
  let value = cache.get(key);
  if (value === undefined) {
    value = build();
    cache.set(key, value);
  }
  return value;
}

/**
 * Remembers a pure result about this bag's content (keys name the content by hash): first in a plain
 * per-bag map, which costs less per hit than an LRU, then in `ctx.memo` so other bags can share it.
 */
function rememberForBag<T>(ctx: VerifyContext, key: string, compute: () => T): T {
  const results = indexed(bagResults, ctx.collateral, () => new Map<string, unknown>());
  if (results.has(key)) return results.get(key) as T;
  const value = remember(ctx.memo, key, compute);
  if (results.size >= MAX_BAG_RESULTS) results.clear();
  results.set(key, value);
  return value;
}

function collateralCertificates(collateral: Collateral): IndexedCertificates {
  return indexed(certIndex, collateral.certificates, () => {
    const bySha = new Map<string, Certificate>();
    for (const der of collateral.certificates) {
      const cert = capture(() => parseCertificate(der));
      // An unreadable certificate cannot help build a path; it is left out rather than trusted.
      if (!(cert instanceof EvidenceError)) bySha.set(cert.sha256, cert);
    }
    const all = [...bySha.values()];
    return { all, tcbSigning: all.filter((c) => commonNameOf(c.subject).includes('SGX TCB Signing')) };
  });
}

function collateralCrls(collateral: Collateral): IndexedCrl[] {
  return indexed(crlIndex, collateral.crls, () =>
    collateral.crls.map((der) => ({ der, sha256: createHash('sha256').update(der).digest('hex') })),
  );
}

// --- CRLs -----------------------------------------------------------------------------------------------

/**
 * The CRL `issuer` published that is valid at `now` (the newest when several are). A CRL by that issuer
 * with a bad signature counts only if no good one exists; none at all is ERR_COLLATERAL_MISSING.
 */
export function selectCrl(collateral: Collateral, issuer: Certificate, ctx: VerifyContext): VerifiedCrl {
  const verified = rememberForBag(ctx, `dcap-crls-by:${issuer.sha256}`, () => crlsIssuedBy(collateral, issuer, ctx.memo));
  if (verified instanceof EvidenceError) throw verified;
  if (verified.length === 0) missing(`No CRL issued by "${commonNameOf(issuer.subject)}" was supplied.`);
  const failures = verified.map((crl) => capture(() => checkCrlFreshness(crl, ctx.now)));
  const fresh = failures.findIndex((failure) => failure === undefined);
  if (fresh >= 0) return verified[fresh] as VerifiedCrl;
  // None is valid now: report the newest one's reason (ERR_CRL_STALE or ERR_CRL_NOT_YET_VALID).
  throw failures[0] as EvidenceError;
}

/** The bag's CRLs by `issuer` whose signatures verify, newest first; a bad one only counts if no good one exists. */
function crlsIssuedBy(collateral: Collateral, issuer: Certificate, memo: VerificationMemo | undefined): VerifiedCrl[] | EvidenceError {
  const verified: VerifiedCrl[] = [];
  let firstError: EvidenceError | undefined;
  for (const crl of collateralCrls(collateral)) {
    if (!remember(memo, `dcap-crl-issuer:${crl.sha256}:${issuer.sha256}`, () => crlIssuedBy(crl.der, issuer))) continue;
    const result = remember(memo, `dcap-crl:${crl.sha256}:${issuer.sha256}`, () => capture(() => verifyCrlSignature(crl.der, issuer)));
    if (result instanceof EvidenceError) firstError ??= result;
    else verified.push(result);
  }
  if (verified.length === 0 && firstError) return firstError;
  return verified.sort((a, b) => b.thisUpdate.getTime() - a.thisUpdate.getTime());
}

// --- the PCK chain --------------------------------------------------------------------------------------

function checkPckPath(chain: VerifiedChain): void {
  // QVL PckCertVerifier: exactly PCK leaf → PCK Platform/Processor CA → SGX Root CA.
  const [, ca, root] = chain.path;
  if (chain.path.length !== 3 || !ca || !root) {
    throw new EvidenceError('ERR_DCAP_PCK_CERT_INVALID', `The PCK chain must be leaf → PCK CA → root, not ${chain.path.length} certificates.`);
  }
  if (!commonNameOf(ca.subject).includes('CA') || !commonNameOf(root.subject).includes('SGX Root CA')) {
    throw new EvidenceError('ERR_DCAP_PCK_CERT_INVALID', 'The PCK chain does not run through an SGX PCK CA to the SGX Root CA.');
  }
}

/**
 * The PCK chain (quote certificates plus collateral certificates as the pool) to a root pinned for
 * `intel-sgx-root`, valid at `now`, with the PCK CRL (issued by the PCK CA) and the Root CA CRL applied.
 */
export function verifyPckChain(pck: PckCertificates, ctx: VerifyContext): VerifiedPckChain {
  const pool = [...pck.certificates, ...collateralCertificates(ctx.collateral).all];
  const chain = verifyChain(pck.leaf, pool, { anchors: ctx.anchors, role: 'intel-sgx-root', now: ctx.now, memo: ctx.memo });
  checkPckPath(chain);
  const [, ca, root] = chain.path as [Certificate, Certificate, Certificate];
  const rootCrl = selectCrl(ctx.collateral, root, ctx);
  const pckCrl = selectCrl(ctx.collateral, ca, ctx);
  applyCrls(chain.path, [pckCrl, rootCrl]);
  return {
    path: chain.path,
    anchor: chain.anchor,
    rootCrl,
    ...intersect(chain, crlWindow(rootCrl), crlWindow(pckCrl)),
  };
}

function crlWindow(crl: VerifiedCrl): Window {
  return { validFrom: crl.thisUpdate, validUntil: crl.nextUpdate };
}

export function intersect(...windows: Window[]): Window {
  let from = -Infinity;
  let until = Infinity;
  for (const w of windows) {
    from = Math.max(from, w.validFrom.getTime());
    until = Math.min(until, w.validUntil.getTime());
  }
  return { validFrom: new Date(from), validUntil: new Date(until) };
}

// --- the TCB Signing chain and the signed JSON it covers ---------------------------------------------

/** TCB Signing certificates valid at `now` that chain (with the Root CA CRL) to the PCK chain's anchor. */
function tcbSigningChains(ctx: VerifyContext, pck: VerifiedPckChain): VerifiedChain[] {
  const certificates = collateralCertificates(ctx.collateral);
  const pool = [...certificates.all, ...pck.path];
  const candidates = certificates.tcbSigning;
  if (candidates.length === 0) missing('No Intel SGX TCB Signing certificate was supplied.');
  const chains: VerifiedChain[] = [];
  let firstError: EvidenceError | undefined;
  for (const cert of candidates) {
    const chain = capture(() =>
      verifyChain(cert, pool, { anchors: ctx.anchors, role: 'intel-sgx-root', now: ctx.now, memo: ctx.memo, crls: [pck.rootCrl] }),
    );
    if (chain instanceof EvidenceError) {
      firstError ??= chain;
    } else if (chain.anchor.spkiSha256 !== pck.anchor.spkiSha256) {
      // Collateral must be signed under the same root as the quote's PCK chain, not any trusted root.
      firstError ??= new EvidenceError('ERR_CHAIN_UNTRUSTED_ROOT', 'The TCB Signing certificate chains to another root than the PCK certificate.');
    } else {
      chains.push(chain);
    }
  }
  if (chains.length === 0) throw firstError as EvidenceError;
  return chains;
}

interface SignedDocument {
  readonly signedBytes: Uint8Array;
  readonly signature: Uint8Array;
  readonly sha256: string;
}

function signedBy(doc: SignedDocument, chains: readonly VerifiedChain[], ctx: VerifyContext): VerifiedChain | undefined {
  return chains.find((chain) => {
    const signer = chain.path[0] as Certificate;
    return rememberForBag(ctx, `dcap-json-sig:${doc.sha256}:${signer.sha256}`, () => {
      try {
        return cryptoVerify('sha256', doc.signedBytes, { key: signer.x509.publicKey, dsaEncoding: 'ieee-p1363' }, doc.signature);
      } catch {
        return false;
      }
    });
  });
}

interface Dated {
  readonly issueDate: Date;
  readonly nextUpdate: Date;
  readonly tcbEvaluationDataNumber: number;
}

interface Pick<D> {
  readonly doc: D;
  readonly signer: VerifiedChain;
}

/**
 * Among documents that match, keeps those signed by a TCB Signing chain, then those valid at `now`, and
 * returns the newest (highest tcbEvaluationDataNumber, then latest issueDate).
 */
function pickSigned<D extends SignedDocument>(
  docs: readonly D[],
  dated: (d: D) => Dated,
  chains: readonly VerifiedChain[],
  ctx: VerifyContext,
  names: { what: string; signatureCode: 'ERR_DCAP_TCB_INFO_SIGNATURE_INVALID' | 'ERR_DCAP_QE_IDENTITY_SIGNATURE_INVALID' },
): Pick<D> {
  const now = ctx.now.getTime();
  let best: Pick<D> | undefined;
  let anySigned = false;
  let anyStale = false;
  for (const doc of docs) {
    const signer = signedBy(doc, chains, ctx);
    if (!signer) continue;
    anySigned = true;
    const d = dated(doc);
    if (d.nextUpdate.getTime() < now) anyStale = true;
    if (d.issueDate.getTime() > now || d.nextUpdate.getTime() < now) continue;
    const b = best && dated(best.doc);
    const newer = !b || d.tcbEvaluationDataNumber > b.tcbEvaluationDataNumber ||
      (d.tcbEvaluationDataNumber === b.tcbEvaluationDataNumber && d.issueDate.getTime() > b.issueDate.getTime());
    if (newer) best = { doc, signer };
  }
  if (best) return best;
  if (!anySigned) throw new EvidenceError(names.signatureCode, `The ${names.what}'s signature does not verify with the TCB Signing certificate.`);
  if (anyStale) throw new EvidenceError('ERR_COLLATERAL_STALE', `The ${names.what} is past its nextUpdate; fetch a current one.`);
  missing(`No ${names.what} valid at ${ctx.now.toISOString()} was supplied.`);
}

function firstParseError<T>(entries: readonly (T | EvidenceError)[]): EvidenceError | undefined {
  return entries.find((e): e is EvidenceError => e instanceof EvidenceError);
}

function selectTcbInfo(tee: DcapTee, fmspc: string, pceId: string, chains: readonly VerifiedChain[], ctx: VerifyContext): Pick<SignedTcbInfo> {
  const entries = indexed(tcbInfoIndex, ctx.collateral.tcbInfos, () => ctx.collateral.tcbInfos.map((t) => capture(() => parseTcbInfo(t))));
  const wantedId = tee === 'tdx' ? 'TDX' : 'SGX';
  const matching = entries.filter(
    (e): e is SignedTcbInfo => !(e instanceof EvidenceError) && e.info.fmspc === fmspc && e.info.pceId === pceId && e.info.id === wantedId,
  );
  if (matching.length === 0) {
    const parseError = firstParseError(entries);
    if (parseError) throw parseError;
    missing(`No ${wantedId} TCB Info for FMSPC ${fmspc.toUpperCase()} and PCE ID ${pceId} was supplied.`);
  }
  return pickSigned(matching, (e) => e.info, chains, ctx, { what: 'TCB Info', signatureCode: 'ERR_DCAP_TCB_INFO_SIGNATURE_INVALID' });
}

function selectQeIdentity(tee: DcapTee, chains: readonly VerifiedChain[], ctx: VerifyContext): Pick<SignedQeIdentity> {
  const entries = indexed(qeIdentityIndex, ctx.collateral.qeIdentities, () =>
    ctx.collateral.qeIdentities.map((t) => capture(() => parseQeIdentity(t))),
  );
  const wantedId = tee === 'tdx' ? 'TD_QE' : 'QE';
  const matching = entries.filter((e): e is SignedQeIdentity => !(e instanceof EvidenceError) && e.identity.id === wantedId);
  if (matching.length === 0) {
    const parseError = firstParseError(entries);
    if (parseError) throw parseError;
    missing(`No ${wantedId} identity was supplied.`);
  }
  return pickSigned(matching, (e) => e.identity, chains, ctx, { what: 'QE Identity', signatureCode: 'ERR_DCAP_QE_IDENTITY_SIGNATURE_INVALID' });
}

/**
 * The TCB Info for the platform (by TEE, FMSPC and PCE ID) and the QE Identity, each signed by an Intel
 * SGX TCB Signing certificate under the PCK chain's root and inside [issueDate, nextUpdate] at `now`.
 */
export function selectTcbCollateral(tee: DcapTee, fmspc: string, pceId: string, pck: VerifiedPckChain, ctx: VerifyContext): TcbCollateral {
  const chains = tcbSigningChains(ctx, pck);
  const tcb = selectTcbInfo(tee, fmspc, pceId, chains, ctx);
  const qe = selectQeIdentity(tee, chains, ctx);
  const window = intersect(
    tcb.signer,
    qe.signer,
    { validFrom: tcb.doc.info.issueDate, validUntil: tcb.doc.info.nextUpdate },
    { validFrom: qe.doc.identity.issueDate, validUntil: qe.doc.identity.nextUpdate },
  );
  return { tcbInfo: tcb.doc.info, qeIdentity: qe.doc.identity, ...window };
}
