// Verifies Intel TDX quotes (v4, and v5 with TD report 1.0 or 1.5) into TdxClaims
// (docs/design.md "Claims reference", tdx), on the shared DCAP core (../dcap/verify-quote.ts).
import { EvidenceError } from '../../errors.js';
import { toHex } from '../../encoding.js';
import type { TdxClaims } from '../dcap/claims.js';
import { platformClaims, quoteTrustFields } from '../dcap/platform-claims.js';
import { tdAttributeBits, type TdReportFields } from '../dcap/reports.js';
import { verifyDcapQuote, type VerifiedQuote } from '../dcap/verify-quote.js';
import type { EvidenceItem, VerifiedEvidence, VerifyContext } from '../types.js';

function tdxClaims(v: VerifiedQuote, td: TdReportFields): TdxClaims {
  const attributes = tdAttributeBits(td.tdAttributes);
  return {
    tee: 'tdx',
    // Any TUD bit (TD under debug, bits 0..7) makes the TD untrustworthy, not just DEBUG itself.
    debug: attributes.underDebug,
    ...quoteTrustFields(v),
    reportData: toHex(td.reportData),
    quoteVersion: v.quote.header.version,
    mrTd: toHex(td.mrTd),
    rtmr: td.rtmr.map(toHex),
    mrSeam: toHex(td.mrSeam),
    mrSignerSeam: toHex(td.mrSignerSeam),
    mrConfigId: toHex(td.mrConfigId),
    mrOwner: toHex(td.mrOwner),
    mrOwnerConfig: toHex(td.mrOwnerConfig),
    tdAttributes: {
      debug: attributes.debug,
      septVeDisable: attributes.septVeDisable,
      pks: attributes.pks,
      kl: attributes.kl,
      perfmon: attributes.perfmon,
    },
    xfam: toHex(td.xfam),
    teeTcbSvn: toHex(td.teeTcbSvn),
    seamAttributes: toHex(td.seamAttributes),
    // Absent (not null) when not applicable, so a policy rule reading them fails rather than comparing null.
    ...(td.teeTcbSvn2 ? { teeTcbSvn2: toHex(td.teeTcbSvn2) } : {}),
    ...(td.mrServiceTd ? { mrServiceTd: toHex(td.mrServiceTd) } : {}),
    ...(v.tcb.tdxModule ? { tdxModuleId: v.tcb.tdxModule.id, tdxModuleTcbStatus: v.tcb.tdxModule.status } : {}),
    ...platformClaims(v),
  };
}

/** The Verifier for `{"type": "tdx", "quote": ...}` evidence. */
export async function verifyTdxEvidence(
  item: Extract<EvidenceItem, { quote: Uint8Array }>,
  ctx: VerifyContext,
): Promise<VerifiedEvidence<TdxClaims>> {
  const v = verifyDcapQuote(item.quote, 'tdx', ctx);
  if (v.report.kind !== 'td') throw new EvidenceError('ERR_DCAP_TEE_TYPE_MISMATCH', 'The quote body does not match its TEE type.');
  return { claims: tdxClaims(v, v.report.fields), digest: v.digest, validFrom: v.validFrom, validUntil: v.validUntil, collateralVersions: v.collateralVersions };
}
