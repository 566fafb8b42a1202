// Picks and verifies the DCAP collateral a quote needs from the Collateral bag (QVL PckCertVerifier,
// TCBInfoVerifier, EnclaveIdentityVerifier): the PCK chain with the PCK CRL and Root CA CRL, the TCB
// Signing chain, and the TCB Info / QE Identity signed by it, all valid at `now`.
import { verify as cryptoVerify, createHash } from 'node:crypto';
import { EvidenceError } from '../../errors.js';
import { applyCrls, commonNameOf, parseCertificate, verifyChain, type Certificate, type VerifiedChain, type VerifiedCrl } from '../pki.js';
import { checkCrlFreshness, crlIssuedBy, crlVersion, verifyCrlSignature } from '../crl.js';
import type { Collateral, CollateralVersion, TrustAnchor, VerificationMemo, VerifyContext } from '../types.js';
import { checkFloor, FLOOR_SERIES } from '../floors.js';
import { revocationUnavailable } from '../revocation.js';
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
  /** The Root CA CRL; absent only under KEYWARD_REVOCATION=optional when none was supplied. */
  readonly rootCrl: VerifiedCrl | undefined;
  /** Both the PCK CRL and the Root CA CRL were applied. */
  readonly revocationChecked: boolean;
  /** The numbers of the CRLs relied on, for the rollback floors. */
  readonly collateralVersions: readonly CollateralVersion[];
}

export interface TcbCollateral extends Window {
  readonly tcbInfo: TcbInfo;
  readonly qeIdentity: QeIdentity;
  /** The TCB evaluation data numbers relied on, for the rollback floors. */
  readonly collateralVersions: readonly CollateralVersion[];
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
// Parsing collateral is pure; the results are kept per array of the bag so that a service that passes the
// same bag to every verification parses it once. An index is reused only while its array still holds the
// same items (a bag changed in place is indexed afresh). Time-dependent checks are never cached.

interface IndexedCrl {
  readonly der: Uint8Array;
  readonly sha256: string;
}

interface IndexedCertificates {
  /** Every readable certificate once (bags repeat the root in every chain file). */
  readonly all: readonly Certificate[];
  readonly tcbSigning: readonly Certificate[];
}

interface Index<T, E> {
  readonly source: readonly T[];
  readonly entries: E;
  /** Results that are pure functions of this array's items and the key (need not name the items). */
  readonly results: Map<string, unknown>;
}

const certIndex = new WeakMap<readonly Uint8Array[], Index<Uint8Array, IndexedCertificates>>();
const crlIndex = new WeakMap<readonly Uint8Array[], Index<Uint8Array, IndexedCrl[]>>();
const tcbInfoIndex = new WeakMap<readonly string[], Index<string, (SignedTcbInfo | EvidenceError)[]>>();
const qeIdentityIndex = new WeakMap<readonly string[], Index<string, (SignedQeIdentity | EvidenceError)[]>>();
const MAX_RESULTS = 4096;

function indexOf<T, E>(cache: WeakMap<readonly T[], Index<T, E>>, items: readonly T[], build: (items: readonly T[]) => E): Index<T, E> {
  const hit = cache.get(items);
  if (hit && hit.source.length === items.length && hit.source.every((item, i) => item === items[i])) return hit;
  const index = { source: [...items], entries: build(items), results: new Map<string, unknown>() };
  cache.set(items, index);
  return index;
}

/** Remembers a pure result about an index's items in its own map (cheaper per hit than an LRU). */
function rememberIn<T>(index: Index<unknown, unknown>, key: string, compute: () => T): T {
  if (index.results.has(key)) return index.results.get(key) as T;
  const value = compute();
  if (index.results.size >= MAX_RESULTS) index.results.clear();
  index.results.set(key, value);
  return value;
}

function collateralCertificates(collateral: Collateral): IndexedCertificates {
  return indexOf(certIndex, collateral.certificates, (ders) => {
    const bySha = new Map<string, Certificate>();
    for (const der of ders) {
      const cert = capture(() => parseCertificate(der));
      // An unreadable certificate cannot help build a path; it is left out rather than trusted.
      if (!(cert instanceof EvidenceError)) bySha.set(cert.sha256, cert);
    }
    const all = [...bySha.values()];
    return { all, tcbSigning: all.filter((c) => commonNameOf(c.subject).includes('SGX TCB Signing')) };
  }).entries;
}

function crlIndexOf(collateral: Collateral): Index<Uint8Array, IndexedCrl[]> {
  return indexOf(crlIndex, collateral.crls, (ders) => ders.map((der) => ({ der, sha256: createHash('sha256').update(der).digest('hex') })));
}

// --- CRLs -----------------------------------------------------------------------------------------------

/**
 * The CRL `issuer` published that is valid at `now` (the newest when several are). A CRL by that issuer
 * with a bad signature counts only if no good one exists; none at all is ERR_COLLATERAL_MISSING.
 */
export function selectCrl(collateral: Collateral, issuer: Certificate, ctx: VerifyContext): VerifiedCrl {
  // Kept with the bag's CRL index only: the key does not name the CRLs, so this must never reach ctx.memo.
  const index = crlIndexOf(collateral);
  const verified = rememberIn(index, `crls-by:${issuer.sha256}`, () => crlsIssuedBy(index.entries, issuer, ctx.memo));
  if (verified instanceof EvidenceError) throw verified;
  if (verified.length === 0) missing(`No CRL issued by "${commonNameOf(issuer.subject)}" was supplied.`);
  const failures = verified.map((crl) => capture(() => checkCrlFreshness(crl, ctx.now)));
  const fresh = failures.findIndex((failure) => failure === undefined);
  if (fresh >= 0) return verified[fresh] as VerifiedCrl;
  // None is valid now: report the newest one's reason (ERR_CRL_STALE or ERR_CRL_NOT_YET_VALID).
  throw failures[0] as EvidenceError;
}

/** The bag's CRLs by `issuer` whose signatures verify, newest first; a bad one only counts if no good one exists. */
function crlsIssuedBy(crls: readonly IndexedCrl[], issuer: Certificate, memo: VerificationMemo | undefined): VerifiedCrl[] | EvidenceError {
  const verified: VerifiedCrl[] = [];
  let firstError: EvidenceError | undefined;
  for (const crl of crls) {
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
  const rootCrl = selectCrlIfHeld(ctx.collateral, root, ctx);
  const pckCrl = selectCrlIfHeld(ctx.collateral, ca, ctx);
  const crls = [pckCrl, rootCrl].filter((crl): crl is VerifiedCrl => crl !== undefined);
  applyCrls(chain.path, crls);
  const collateralVersions = crls.map(crlVersion).filter((v): v is CollateralVersion => v !== undefined);
  for (const version of collateralVersions) checkFloor(ctx, version, 'CRL');
  return {
    path: chain.path,
    anchor: chain.anchor,
    rootCrl,
    revocationChecked: crls.length === 2,
    collateralVersions,
    ...intersect(chain, ...crls.map(crlWindow)),
  };
}

/** selectCrl, except that a missing CRL under KEYWARD_REVOCATION=optional is undefined (revocation unchecked). */
function selectCrlIfHeld(collateral: Collateral, issuer: Certificate, ctx: VerifyContext): VerifiedCrl | undefined {
  try {
    return selectCrl(collateral, issuer, ctx);
  } catch (err) {
    if (!(err instanceof EvidenceError && err.code === 'ERR_COLLATERAL_MISSING')) throw err;
    return revocationUnavailable(ctx, err.message, { mayComeLater: true }) || undefined;
  }
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
      verifyChain(cert, pool, { anchors: ctx.anchors, role: 'intel-sgx-root', now: ctx.now, memo: ctx.memo, crls: pck.rootCrl ? [pck.rootCrl] : [] }),
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

function signedBy(doc: SignedDocument, chains: readonly VerifiedChain[], ctx: VerifyContext, index: Index<string, unknown>): VerifiedChain | undefined {
  return chains.find((chain) => {
    const signer = chain.path[0] as Certificate;
    const key = `dcap-json-sig:${doc.sha256}:${signer.sha256}`;
    const check = (): boolean => {
      try {
        return cryptoVerify('sha256', doc.signedBytes, { key: signer.x509.publicKey, dsaEncoding: 'ieee-p1363' }, doc.signature);
      } catch {
        return false;
      }
    };
    return rememberIn(index, key, () => remember(ctx.memo, key, check));
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
  index: Index<string, unknown>,
  names: { what: string; signatureCode: 'ERR_DCAP_TCB_INFO_SIGNATURE_INVALID' | 'ERR_DCAP_QE_IDENTITY_SIGNATURE_INVALID' },
): Pick<D> {
  const now = ctx.now.getTime();
  let best: Pick<D> | undefined;
  let anySigned = false;
  let anyStale = false;
  for (const doc of docs) {
    const signer = signedBy(doc, chains, ctx, index);
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
  const index = indexOf(tcbInfoIndex, ctx.collateral.tcbInfos, (texts) => texts.map((t) => capture(() => parseTcbInfo(t))));
  const entries = index.entries;
  const wantedId = tee === 'tdx' ? 'TDX' : 'SGX';
  const matching = entries.filter(
    (e): e is SignedTcbInfo => !(e instanceof EvidenceError) && e.info.fmspc === fmspc && e.info.pceId === pceId && e.info.id === wantedId,
  );
  if (matching.length === 0) {
    const parseError = firstParseError(entries);
    if (parseError) throw parseError;
    missing(`No ${wantedId} TCB Info for FMSPC ${fmspc.toUpperCase()} and PCE ID ${pceId} was supplied.`);
  }
  return pickSigned(matching, (e) => e.info, chains, ctx, index, { what: 'TCB Info', signatureCode: 'ERR_DCAP_TCB_INFO_SIGNATURE_INVALID' });
}

function selectQeIdentity(tee: DcapTee, chains: readonly VerifiedChain[], ctx: VerifyContext): Pick<SignedQeIdentity> {
  const index = indexOf(qeIdentityIndex, ctx.collateral.qeIdentities, (texts) => texts.map((t) => capture(() => parseQeIdentity(t))));
  const entries = index.entries;
  const wantedId = tee === 'tdx' ? 'TD_QE' : 'QE';
  const matching = entries.filter((e): e is SignedQeIdentity => !(e instanceof EvidenceError) && e.identity.id === wantedId);
  if (matching.length === 0) {
    const parseError = firstParseError(entries);
    if (parseError) throw parseError;
    missing(`No ${wantedId} identity was supplied.`);
  }
  return pickSigned(matching, (e) => e.identity, chains, ctx, index, { what: 'QE Identity', signatureCode: 'ERR_DCAP_QE_IDENTITY_SIGNATURE_INVALID' });
}

/**
 * The TCB Info for the platform (by TEE, FMSPC and PCE ID) and the QE Identity, each signed by an Intel
 * SGX TCB Signing certificate under the PCK chain's root and inside [issueDate, nextUpdate] at `now`.
 */
export function selectTcbCollateral(tee: DcapTee, fmspc: string, pceId: string, pck: VerifiedPckChain, ctx: VerifyContext): TcbCollateral {
  const chains = tcbSigningChains(ctx, pck);
  const tcb = selectTcbInfo(tee, fmspc, pceId, chains, ctx);
  const qe = selectQeIdentity(tee, chains, ctx);
  // The newest valid document was picked; below the floor it is an older one left after a deletion.
  const collateralVersions = [
    { series: FLOOR_SERIES.tcbInfo(tcb.doc.info.id, fmspc), number: tcb.doc.info.tcbEvaluationDataNumber },
    { series: FLOOR_SERIES.qeIdentity(qe.doc.identity.id), number: qe.doc.identity.tcbEvaluationDataNumber },
  ];
  checkFloor(ctx, collateralVersions[0] as CollateralVersion, `TCB Info for FMSPC ${fmspc.toUpperCase()}`);
  checkFloor(ctx, collateralVersions[1] as CollateralVersion, `${qe.doc.identity.id} identity`);
  const window = intersect(
    tcb.signer,
    qe.signer,
    { validFrom: tcb.doc.info.issueDate, validUntil: tcb.doc.info.nextUpdate },
    { validFrom: qe.doc.identity.issueDate, validUntil: qe.doc.identity.nextUpdate },
  );
  return { tcbInfo: tcb.doc.info, qeIdentity: qe.doc.identity, collateralVersions, ...window };
}
