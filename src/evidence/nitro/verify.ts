// Verifies an AWS Nitro Enclaves attestation document (AWS attestation_process §3.2): the chain carried in
// the document to the pinned AWS Nitro Enclaves Root-G1, the ES384 COSE_Sign1 signature by the chain's
// leaf (RFC 9052 §4.4), and the nonce. Appraisal (PCR allow-lists, debug, freshness) is in appraise.ts.
import { createHash, verify as cryptoVerify } from 'node:crypto';
import { KeyUsageFlags } from '@peculiar/asn1-x509';
import { EvidenceError } from '../../errors.js';
import { constantTimeEqual } from '../../encoding.js';
import { checkPathConstraints, commonNameOf, parseCertificateRemembered, readConstraints, verifyChain, type Certificate, type VerifiedChain } from '../pki.js';
import type { EvidenceItem, VerifiedEvidence, VerifyContext } from '../types.js';
import { nitroClaimsFrom, type NitroClaims } from './claims.js';
import { sigStructure } from './cose.js';
import { MAX_CABUNDLE, parseNitroDocument, type NitroDocument } from './document.js';

export type NitroEvidenceItem = Extract<EvidenceItem, { readonly type: 'nitro' }>;

/** NIST P-384 as node names it: the only curve ES384 is defined on (RFC 9053 §2.1). */
const P384 = 'secp384r1';

/**
 * The chain [certificate, cabundle[N-1], …, cabundle[0]] to a root pinned for 'aws-nitro-root' (or an
 * extra anchor), every certificate valid at `ctx.now`, issuers within their basicConstraints and keyUsage.
 * cabundle is used as an unordered pool: AWS sends it root first, but order carries no trust.
 */
function verifyNitroChain(doc: NitroDocument, ctx: VerifyContext): VerifiedChain {
  const leaf = parseCertificateRemembered(doc.certificate, ctx.memo);
  const pool = doc.cabundle.map((der) => parseCertificateRemembered(der, ctx.memo));
  const chain = verifyChain(leaf, pool, {
    anchors: ctx.anchors,
    role: 'aws-nitro-root',
    now: ctx.now,
    memo: ctx.memo,
    maxLength: MAX_CABUNDLE + 1,
  });
  checkPathConstraints(chain.path, ctx.memo);
  checkLeaf(leaf, ctx);
  return chain;
}

/** §3.2.3.3: the signing certificate is an end entity with the digitalSignature key usage. */
function checkLeaf(leaf: Certificate, ctx: VerifyContext): void {
  const c = readConstraints(leaf, ctx.memo);
  if (c.ca || c.pathLen !== undefined) {
    throw new EvidenceError('ERR_CHAIN_CONSTRAINT_VIOLATION', `The document's signing certificate "${commonNameOf(leaf.subject)}" is a CA.`);
  }
  if (c.keyUsage === undefined || (c.keyUsage & KeyUsageFlags.digitalSignature) === 0) {
    throw new EvidenceError(
      'ERR_CHAIN_CONSTRAINT_VIOLATION',
      `The document's signing certificate "${commonNameOf(leaf.subject)}" lacks the digitalSignature key usage.`,
    );
  }
}

/** ES384 over Sig_structure with the leaf's P-384 key; raw r‖s only (dsaEncoding ieee-p1363). */
function verifyCoseSignature(doc: NitroDocument, leaf: Certificate, ctx: VerifyContext, documentSha256: string): void {
  const key = leaf.x509.publicKey;
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== P384) {
    throw new EvidenceError('ERR_NITRO_ALGORITHM_UNSUPPORTED', 'The document\'s signing certificate does not hold a P-384 key, as ES384 requires.');
  }
  const compute = (): boolean => {
    try {
      return cryptoVerify('sha384', sigStructure(doc.cose), { key, dsaEncoding: 'ieee-p1363' }, doc.cose.signature);
    } catch {
      return false;
    }
  };
  // The document bytes fix the signed data, the signature and the key (the leaf is inside the payload).
  const ok = ctx.memo ? ctx.memo.remember(`nitro-cose-sig:${documentSha256}`, compute) : compute();
  if (!ok) throw new EvidenceError('ERR_NITRO_SIGNATURE_INVALID', 'The attestation document\'s COSE signature does not verify.');
}

/** The document's `nonce` must equal the expected one; a missing nonce never matches. */
function checkNonce(doc: NitroDocument, expected: Uint8Array | undefined): void {
  if (expected === undefined) return;
  if (doc.nonce === undefined || !constantTimeEqual(doc.nonce, expected)) {
    throw new EvidenceError('ERR_EVIDENCE_NONCE_MISMATCH', 'The attestation document\'s nonce does not match the expected nonce.');
  }
}

/**
 * Verifies a Nitro attestation document at `ctx.now` and returns its claims. The verdict's window is the
 * intersection of the chain's validity periods (the leaf lives about 3 hours).
 */
export async function verifyNitroEvidence(item: NitroEvidenceItem, ctx: VerifyContext): Promise<VerifiedEvidence<NitroClaims>> {
  const digest = createHash('sha256').update(item.document).digest('hex');
  const doc = parseNitroDocument(item.document);
  const chain = verifyNitroChain(doc, ctx);
  verifyCoseSignature(doc, chain.path[0] as Certificate, ctx, digest);
  checkNonce(doc, ctx.expectedNonce);
  return {
    claims: nitroClaimsFrom(doc, chain.anchor),
    digest,
    validFrom: chain.validFrom,
    validUntil: chain.validUntil,
  };
}
