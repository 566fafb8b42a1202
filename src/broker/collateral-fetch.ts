// Decides what collateral evidence still needs from the vendors (AMD KDS, only with
// KEYWARD_COLLATERAL_FETCH=on; Intel PCS/PCCS, only with KEYWARD_PCCS_URL) given what is held
// and valid now, and names a fetch for each gap. Reads the evidence without verifying it: what it learns
// only chooses what to download; the verifier judges everything fetched.
import type { AmdKdsClient } from '../collateral/amd-kds.js';
import { fetchSnpCollateral } from '../collateral/amd-kds.js';
import type { IntelPcsClient } from '../collateral/intel-pcs.js';
import type { CollateralItem } from '../collateral/recognize.js';
import type { CollateralSelection } from '../collateral/selection.js';
import { toHex } from '../encoding.js';
import { EvidenceError } from '../errors.js';
import { commonNameOf, parseCertificate, parseCertificateRemembered, type Certificate } from '../evidence/pki.js';
import { dcapCollateralNeeds, type DcapCollateralNeeds } from '../evidence/dcap/needs.js';
import { amdExtensionsRemembered, decodeSnpCertificates } from '../evidence/snp/certs.js';
import { parseSnpReport, reportProduct, type SnpReport } from '../evidence/snp/report.js';
import { readAmdExtensions, vekHwIdMatches, vekTcbMatches, type AmdVekExtensions } from '../evidence/snp/vek.js';
import type { EvidenceItem, SnpProduct, VerificationMemo } from '../evidence/types.js';

export interface CollateralFetchers {
  /** AMD KDS (KEYWARD_COLLATERAL_FETCH=on). */
  readonly kds?: AmdKdsClient;
  /** Intel PCS or a PCCS (KEYWARD_PCCS_URL). */
  readonly pcs?: IntelPcsClient;
}

/** One gap in the held collateral and how to fill it. */
export interface CollateralNeed {
  /** Stable name of the gap (for single flight and back-off across requests). */
  readonly key: string;
  readonly source: 'kds' | 'pcs';
  fetch(): Promise<CollateralItem[]>;
}

/** What is held and valid now, indexed the way the gaps are looked up. */
interface HeldIndex {
  readonly veks: readonly AmdVekExtensions[];
  readonly certificateCns: ReadonlySet<string>;
  readonly crlIssuerCns: ReadonlySet<string>;
  /** `${id}:${fmspc}:${pceId}`, lowercase hex. */
  readonly tcbInfos: ReadonlySet<string>;
  readonly qeIdentities: ReadonlySet<string>;
}

const indexes = new WeakMap<CollateralSelection, HeldIndex>();

function amdExtensionsOf(cert: Certificate): AmdVekExtensions | undefined {
  try {
    return readAmdExtensions(cert);
  } catch {
    return undefined;
  }
}

function buildIndex(selection: CollateralSelection): HeldIndex {
  const veks: AmdVekExtensions[] = [];
  const certificateCns = new Set<string>();
  const crlIssuerCns = new Set<string>();
  const tcbInfos = new Set<string>();
  const qeIdentities = new Set<string>();
  for (const { held, fresh } of selection.selected) {
    if (!fresh) continue;
    const d = held.details;
    if (held.kind === 'certificate') {
      const cert = tryRead(() => parseCertificate(held.item.data as Uint8Array));
      if (!cert) continue;
      certificateCns.add(commonNameOf(cert.subject));
      const ext = amdExtensionsOf(cert);
      if (ext) veks.push(ext);
    } else if (held.kind === 'crl') crlIssuerCns.add(String(d['issuerCn']));
    else if (held.kind === 'tcb-info') tcbInfos.add(`${String(d['id'])}:${String(d['fmspc']).toLowerCase()}:${String(d['pceId'])}`);
    else if (held.kind === 'qe-identity') qeIdentities.add(String(d['id']));
  }
  return { veks, certificateCns, crlIssuerCns, tcbInfos, qeIdentities };
}

function heldIndex(selection: CollateralSelection): HeldIndex {
  let index = indexes.get(selection);
  if (!index) indexes.set(selection, (index = buildIndex(selection)));
  return index;
}

/** Runs a parse that may fail on hostile input; a failure means "nothing to fetch" (the verifier will refuse it). */
function tryRead<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (err) {
    if (err instanceof EvidenceError || err instanceof RangeError) return undefined;
    throw err;
  }
}

/** The AMD signing keys and certificate names sent with a report (parses remembered: this runs per request). */
function evidenceVeks(certs: readonly Uint8Array[], memo: VerificationMemo | undefined): { veks: AmdVekExtensions[]; cns: Set<string> } {
  const ders = tryRead(() => decodeSnpCertificates(certs)) ?? [];
  const veks: AmdVekExtensions[] = [];
  const cns = new Set<string>();
  for (const der of ders) {
    const cert = tryRead(() => parseCertificateRemembered(der, memo));
    if (!cert) continue;
    cns.add(commonNameOf(cert.subject));
    const ext = tryRead(() => amdExtensionsRemembered(cert, memo));
    if (ext) veks.push(ext);
  }
  return { veks, cns };
}

/** The product of a signing key held for this report, when one is. */
function signerProduct(report: SnpReport, veks: readonly AmdVekExtensions[]): SnpProduct | undefined {
  const match = veks.find(
    (ext) =>
      ext.kind === report.signingKey &&
      ext.product !== undefined &&
      (ext.kind === 'vlek' || vekHwIdMatches(ext, ext.product, report.chipId)) &&
      vekTcbMatches(ext, ext.product, report.reportedTcb),
  );
  return match?.product;
}

function snpNeeds(item: Extract<EvidenceItem, { type: 'snp' }>, held: HeldIndex, kds: AmdKdsClient, memo: VerificationMemo | undefined): CollateralNeed[] {
  const report = tryRead(() => parseSnpReport(item.report));
  if (!report || report.signingKey === 'none') return [];
  const sent = evidenceVeks(item.certs, memo);
  const signer = signerProduct(report, [...sent.veks, ...held.veks]);
  // KDS serves VCEKs but never VLEKs (those come from the host): for a VLEK only the chain and CRL can be fetched.
  const product = signer ?? (report.signingKey === 'vlek' ? reportProduct(report) : undefined);
  const cns = new Set([...sent.cns, ...held.certificateCns]);
  const intermediate = report.signingKey === 'vcek' ? `SEV-${product}` : `SEV-VLEK-${product}`;
  const complete =
    product !== undefined &&
    (signer !== undefined || report.signingKey === 'vlek') &&
    cns.has(intermediate) &&
    cns.has(`ARK-${product}`) &&
    held.crlIssuerCns.has(`ARK-${product}`);
  if (complete) return [];
  const key = `kds:${report.signingKey}:${product ?? '?'}:${toHex(report.chipId)}:${toHex(report.reportedTcb)}`;
  return [
    {
      key,
      source: 'kds',
      fetch: async () => {
        const got = await fetchSnpCollateral(kds, item.report);
        return [...got.certificates.map((data) => ({ kind: 'certificate' as const, data })), ...got.crls.map((data) => ({ kind: 'crl' as const, data }))];
      },
    },
  ];
}

function dcapNeeds(quote: Uint8Array, held: HeldIndex, pcs: IntelPcsClient, memo: VerificationMemo | undefined): CollateralNeed[] {
  const needs: DcapCollateralNeeds | undefined = tryRead(() => dcapCollateralNeeds(quote, memo));
  if (!needs) return [];
  const { tee, fmspc, pceId, pckCa } = needs;
  const out: CollateralNeed[] = [];
  const add = (key: string, fetch: () => Promise<CollateralItem[]>): void => {
    out.push({ key: `pcs:${key}`, source: 'pcs', fetch });
  };
  if (!held.tcbInfos.has(`${tee.toUpperCase()}:${fmspc.toLowerCase()}:${pceId}`)) add(`tcb-info:${tee}:${fmspc}`, () => pcs.getTcbInfo(tee, fmspc));
  if (!held.qeIdentities.has(tee === 'tdx' ? 'TD_QE' : 'QE')) add(`qe-identity:${tee}`, () => pcs.getQeIdentity(tee));
  const pckCaName = pckCa === 'processor' ? 'Intel SGX PCK Processor CA' : 'Intel SGX PCK Platform CA';
  if (!held.crlIssuerCns.has(pckCaName)) add(`pckcrl:${pckCa}`, () => pcs.getPckCrl(pckCa));
  if (!held.crlIssuerCns.has('Intel SGX Root CA')) add('rootcacrl', () => pcs.getRootCaCrl());
  return out;
}

/** The gaps the configured fetchers can fill for these evidence items, deduplicated by key. */
export function missingCollateral(
  items: readonly EvidenceItem[],
  selection: CollateralSelection,
  fetchers: CollateralFetchers,
  memo?: VerificationMemo,
): CollateralNeed[] {
  if (!fetchers.kds && !fetchers.pcs) return [];
  const held = heldIndex(selection);
  const needs = new Map<string, CollateralNeed>();
  for (const item of items) {
    let found: CollateralNeed[] = [];
    if (item.type === 'snp' && fetchers.kds) found = snpNeeds(item, held, fetchers.kds, memo);
    if ((item.type === 'tdx' || item.type === 'sgx') && fetchers.pcs) found = dcapNeeds(item.quote, held, fetchers.pcs, memo);
    for (const need of found) needs.set(need.key, need);
  }
  return [...needs.values()];
}
