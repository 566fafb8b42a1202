// The AMD chain of an SEV-SNP signing key (VCEK spec #57230): ARK → ASK → VCEK or ARK → ASVK → VLEK,
// the product it belongs to, and the ARK-issued CRLs that list revoked ASKs/ASVKs.
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AuthorityKeyIdentifier,
  Certificate as AsnCertificate,
  SubjectKeyIdentifier,
  id_ce_authorityKeyIdentifier,
  id_ce_subjectKeyIdentifier,
} from '@peculiar/asn1-x509';
import { EvidenceError } from '../../errors.js';
import { applyCrls, commonNameOf, verifyChain, type Certificate, type VerifiedChain, type VerifiedCrl } from '../pki.js';
import { checkCrlFreshness, crlIssuedBy, crlVersion, parseCrl, verifyCrlSignature } from '../crl.js';
import type { CollateralVersion, SnpProduct, VerificationMemo, VerifyContext } from '../types.js';
import { checkFloor } from '../floors.js';
import { revocationUnavailable } from '../revocation.js';
import type { SigningCandidate } from './signer.js';
import { SNP_PRODUCTS, tcbStructVersion } from './tcb.js';

export interface SnpChainResult {
  readonly chain: VerifiedChain;
  readonly product: SnpProduct;
  /** Intersection of every certificate's validity and every applied CRL's [thisUpdate, nextUpdate]. */
  readonly validFrom: Date;
  readonly validUntil: Date;
  /** A current CRL of the ARK was applied (false only under KEYWARD_REVOCATION=optional). */
  readonly revocationChecked: boolean;
  /** The ARK CRL's number relied on (the highest applied), for the rollback floor. */
  readonly collateralVersions: readonly CollateralVersion[];
}

function productIn(name: string, prefix: string): SnpProduct | undefined {
  return SNP_PRODUCTS.find((p) => name === `${prefix}${p}`);
}

/**
 * The product a verified chain belongs to. A pinned ARK names its product; for an extra anchor the names
 * decide. Either way the ARK must be "ARK-<P>" and the intermediate "SEV-<P>" (VCEK) or "SEV-VLEK-<P>" (VLEK).
 */
function chainProduct(chain: VerifiedChain, kind: 'vcek' | 'vlek'): SnpProduct {
  if (chain.path.length !== 3) {
    throw new EvidenceError('ERR_CHAIN_CONSTRAINT_VIOLATION', 'An SEV-SNP chain is exactly signing key, ASK or ASVK, and ARK.');
  }
  const intermediate = commonNameOf((chain.path[1] as Certificate).subject);
  const arkProduct = productIn(commonNameOf((chain.path[2] as Certificate).subject), 'ARK-');
  const askProduct = productIn(intermediate, 'SEV-');
  const asvkProduct = productIn(intermediate, 'SEV-VLEK-');
  if ((kind === 'vcek' && asvkProduct) || (kind === 'vlek' && askProduct)) {
    throw new EvidenceError('ERR_SNP_SIGNER_MISMATCH', `A ${kind.toUpperCase()} must not be issued by "${intermediate}".`);
  }
  const intermediateProduct = kind === 'vcek' ? askProduct : asvkProduct;
  const product = chain.anchor.source === 'vendor' ? chain.anchor.product : arkProduct;
  if (!product || arkProduct !== product || intermediateProduct !== product) {
    throw new EvidenceError('ERR_SNP_PRODUCT_MISMATCH', 'The certificate chain does not name one SEV-SNP product consistently.');
  }
  return product;
}

type CrlCheck = VerifiedCrl | null;

/** Verified CRLs per collateral buffer and ARK: collateral is long-lived, so its CRLs are checked once. */
const crlChecks = new WeakMap<Uint8Array, Map<string, CrlCheck>>();

function hexOf(buffer: ArrayBuffer): string {
  return Buffer.from(buffer).toString('hex');
}

/** The CRL's authorityKeyIdentifier keyIdentifier, hex (AMD's CRLs carry the ARK's subjectKeyIdentifier). */
function crlAuthorityKeyId(der: Uint8Array): string | undefined {
  const ext = parseCrl(der).list.tbsCertList.crlExtensions?.find((e) => e.extnID === id_ce_authorityKeyIdentifier);
  const keyId = ext ? AsnConvert.parse(ext.extnValue.buffer, AuthorityKeyIdentifier).keyIdentifier : undefined;
  return keyId ? hexOf(keyId.buffer) : undefined;
}

function subjectKeyId(cert: Certificate): string | undefined {
  const ext = AsnConvert.parse(cert.der, AsnCertificate).tbsCertificate.extensions?.find((e) => e.extnID === id_ce_subjectKeyIdentifier);
  return ext ? hexOf(AsnConvert.parse(ext.extnValue.buffer, SubjectKeyIdentifier).buffer) : undefined;
}

/**
 * Whether a CRL is this ARK's: its issuer name must be the ARK's subject, and when both carry key
 * identifiers they must agree (a look-alike root may share AMD's names, e.g. a simulator next to real CRLs).
 */
function crlBelongsTo(der: Uint8Array, ark: Certificate): boolean {
  if (!crlIssuedBy(der, ark)) return false;
  const aki = crlAuthorityKeyId(der);
  const ski = aki === undefined ? undefined : subjectKeyId(ark);
  return aki === undefined || ski === undefined || aki === ski;
}

function inspectCrl(der: Uint8Array, ark: Certificate, memo: VerificationMemo | undefined): CrlCheck {
  let byArk = crlChecks.get(der);
  const known = byArk?.get(ark.sha256);
  if (known !== undefined) return known;
  // null: issued by someone else (another product's ARK), so not for this chain.
  const check = crlBelongsTo(der, ark) ? verifyCrlSignature(der, ark, memo) : null;
  if (!byArk) crlChecks.set(der, (byArk = new Map()));
  byArk.set(ark.sha256, check);
  return check;
}

/** Verifies the CRLs issued by this ARK (others are for other products and are ignored) and applies them. */
function applyArkCrls(chain: VerifiedChain, crls: readonly Uint8Array[], now: Date, memo: VerificationMemo | undefined): VerifiedCrl[] {
  const ark = chain.path[chain.path.length - 1] as Certificate;
  const applied: VerifiedCrl[] = [];
  for (const der of crls) {
    const crl = inspectCrl(der, ark, memo);
    if (!crl) continue;
    checkCrlFreshness(crl, now);
    applied.push(crl);
  }
  applyCrls(chain.path, applied);
  return applied;
}

/** The highest-numbered of the applied CRLs (one ARK issued them all), as the version relied on. */
function newestCrlVersion(crls: readonly VerifiedCrl[]): CollateralVersion[] {
  const versions = crls.map(crlVersion).filter((v): v is CollateralVersion => v !== undefined);
  return versions.length === 0 ? [] : [versions.reduce((a, b) => (b.number > a.number ? b : a))];
}

/**
 * Verifies the chain of a signing candidate at ctx.now against ctx.anchors (role amd-ark), derives the
 * product, checks the certificate's productName and structVersion against it, and applies the ARK's CRLs.
 */
export function verifySnpChain(candidate: SigningCandidate, pool: readonly Certificate[], ctx: VerifyContext): SnpChainResult {
  const chain = verifyChain(candidate.cert, pool, {
    anchors: ctx.anchors,
    role: 'amd-ark',
    now: ctx.now,
    ...(ctx.memo ? { memo: ctx.memo } : {}),
  });
  const product = chainProduct(chain, candidate.ext.kind);
  if (candidate.ext.product !== product) {
    throw new EvidenceError('ERR_SNP_PRODUCT_MISMATCH', `The signing certificate names product "${candidate.ext.productName}", but its chain is ${product}'s.`);
  }
  if (candidate.ext.structVersion !== tcbStructVersion(product)) {
    throw new EvidenceError('ERR_SNP_PRODUCT_MISMATCH', `The signing certificate's structVersion ${candidate.ext.structVersion} does not fit ${product}.`);
  }
  const crls = applyArkCrls(chain, ctx.collateral.crls, ctx.now, ctx.memo);
  // The ARK's CRL is the only revocation AMD publishes for this chain (it lists ASKs and ASVKs).
  const ark = commonNameOf((chain.path[chain.path.length - 1] as Certificate).subject);
  const revocationChecked = crls.length > 0 || revocationUnavailable(ctx, `No CRL issued by "${ark}" was supplied.`, { mayComeLater: true });
  const collateralVersions = newestCrlVersion(crls);
  for (const version of collateralVersions) checkFloor(ctx, version, `CRL of "${ark}"`);
  let from = chain.validFrom.getTime();
  let until = chain.validUntil.getTime();
  for (const crl of crls) {
    from = Math.max(from, crl.thisUpdate.getTime());
    until = Math.min(until, crl.nextUpdate.getTime());
  }
  return { chain, product, validFrom: new Date(from), validUntil: new Date(until), revocationChecked, collateralVersions };
}
