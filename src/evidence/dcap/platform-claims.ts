// The platform half of TDX and SGX claims (claims.ts DcapPlatformClaims): what the PCK certificate and the
// TCB evaluation established about the machine, shared by both verifiers.
import { toHex } from '../../encoding.js';
import type { AnchorClaim } from '../claims.js';
import { anchorFields } from '../anchors.js';
import type { DcapPlatformClaims } from './claims.js';
import type { VerifiedQuote } from './verify-quote.js';

export function platformClaims(v: VerifiedQuote): DcapPlatformClaims {
  return {
    fmspc: toHex(v.pck.fmspc),
    tcbStatus: v.tcb.status,
    advisoryIds: v.tcb.advisoryIds,
    pceId: toHex(v.pck.pceId),
    pceSvn: v.pck.pceSvn,
    cpuSvn: toHex(v.pck.cpuSvn),
    tcbDate: v.tcb.tcbDate,
    tcbEvaluationDataNumber: v.tcb.tcbEvaluationDataNumber,
    qeTcbStatus: v.tcb.qeStatus,
    qeSvn: v.qeReport.isvSvn,
  };
}

/**
 * `anchor` and `simulated` (the PCK chain's root decides: TCB Info and QE Identity must chain to it too),
 * and `revocationChecked` (the PCK CRL and the Root CA CRL were both applied).
 */
export function quoteTrustFields(v: VerifiedQuote): { anchor: AnchorClaim; simulated: boolean; revocationChecked: boolean } {
  return { ...anchorFields([v.chain.anchor]), revocationChecked: v.chain.revocationChecked };
}
