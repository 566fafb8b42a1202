// Verifies Intel SGX quotes (v3, v4, and v5 with an SGX body) into SgxClaims
// (docs/design.md "Claims reference", sgx), on the shared DCAP core (../dcap/verify-quote.ts).
import { EvidenceError } from '../../errors.js';
import { toHex } from '../../encoding.js';
import type { SgxClaims } from '../dcap/claims.js';
import { platformClaims, quoteTrustFields } from '../dcap/platform-claims.js';
import { sgxAttributeFlags, type SgxReportFields } from '../dcap/reports.js';
import { verifyDcapQuote, type VerifiedQuote } from '../dcap/verify-quote.js';
import type { EvidenceItem, VerifiedEvidence, VerifyContext } from '../types.js';

function sgxClaims(v: VerifiedQuote, report: SgxReportFields): SgxClaims {
  const flags = sgxAttributeFlags(report.attributes);
  return {
    tee: 'sgx',
    debug: flags.debug,
    ...quoteTrustFields(v),
    reportData: toHex(report.reportData),
    quoteVersion: v.quote.header.version,
    mrEnclave: toHex(report.mrEnclave),
    mrSigner: toHex(report.mrSigner),
    isvProdId: report.isvProdId,
    isvSvn: report.isvSvn,
    attributes: {
      debug: flags.debug,
      mode64Bit: flags.mode64Bit,
      provisionKey: flags.provisionKey,
      einitTokenKey: flags.einitTokenKey,
      kss: flags.kss,
      xfrm: toHex(report.attributes.subarray(8, 16)),
    },
    miscSelect: report.miscSelect,
    configId: toHex(report.configId),
    configSvn: report.configSvn,
    isvExtProdId: toHex(report.isvExtProdId),
    isvFamilyId: toHex(report.isvFamilyId),
    reportCpuSvn: toHex(report.cpuSvn),
    ...platformClaims(v),
  };
}

/** The Verifier for `{"type": "sgx", "quote": ...}` evidence. */
export async function verifySgxEvidence(
  item: Extract<EvidenceItem, { quote: Uint8Array }>,
  ctx: VerifyContext,
): Promise<VerifiedEvidence<SgxClaims>> {
  const v = verifyDcapQuote(item.quote, 'sgx', ctx);
  if (v.report.kind !== 'sgx') throw new EvidenceError('ERR_DCAP_TEE_TYPE_MISMATCH', 'The quote body does not match its TEE type.');
  return { claims: sgxClaims(v, v.report.fields), digest: v.digest, validFrom: v.validFrom, validUntil: v.validUntil, collateralVersions: v.collateralVersions };
}
