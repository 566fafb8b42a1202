// Chain building for NVIDIA evidence: the certificates that came with the evidence first; collateral
// certificates (e.g. an intermediate a client left out) only when those alone cannot complete the path.
import { createHash } from 'node:crypto';
import { EvidenceError } from '../../errors.js';
import { parseCertificate, verifyChain, type Certificate, type ChainOptions, type VerifiedChain } from '../pki.js';
import type { VerifyContext } from '../types.js';

function collateralCertificates(ctx: VerifyContext): Certificate[] {
  return ctx.collateral.certificates.map((der) => {
    const parse = (): Certificate => parseCertificate(der);
    return ctx.memo ? ctx.memo.remember(`x509-parse:${createHash('sha256').update(der).digest('hex')}`, parse) : parse();
  });
}

/** verifyChain over `own`; when that path is incomplete and collateral holds certificates, once more with them. */
export function verifyChainWithCollateral(leaf: Certificate, own: readonly Certificate[], opts: ChainOptions, ctx: VerifyContext): VerifiedChain {
  try {
    return verifyChain(leaf, own, opts);
  } catch (err) {
    const incomplete = err instanceof EvidenceError && err.code === 'ERR_CHAIN_INCOMPLETE';
    if (!incomplete || ctx.collateral.certificates.length === 0) throw err;
    return verifyChain(leaf, [...own, ...collateralCertificates(ctx)], opts);
  }
}
