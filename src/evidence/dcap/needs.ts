// What collateral a DCAP quote needs before it can be verified (for the PCS/PCCS client): the TEE, the
// platform's FMSPC and which PCK CA issued its PCK certificate. Reads the quote without verifying it.
import { EvidenceError } from '../../errors.js';
import { toHex } from '../../encoding.js';
import { commonNameOf } from '../pki.js';
import type { VerificationMemo } from '../types.js';
import { pckCertificatesOf } from './pck.js';
import { parseQuote, type DcapTee } from './quote.js';

export interface DcapCollateralNeeds {
  readonly tee: DcapTee;
  /** Uppercase hex, 6 bytes. */
  readonly fmspc: string;
  /** Lowercase hex, 2 bytes. */
  readonly pceId: string;
  /** `ca=` of the PCS pckcrl request. */
  readonly pckCa: 'platform' | 'processor';
}

/** Unverified: use it only to decide what to fetch, never as a claim. */
export function dcapCollateralNeeds(quote: Uint8Array, memo?: VerificationMemo): DcapCollateralNeeds {
  const parsed = parseQuote(quote);
  const pck = pckCertificatesOf(parsed.pckChain, memo);
  const issuer = commonNameOf(pck.leaf.issuer);
  const pckCa = issuer.includes('Processor') ? 'processor' : issuer.includes('Platform') ? 'platform' : undefined;
  if (!pckCa) throw new EvidenceError('ERR_DCAP_PCK_CERT_INVALID', 'The PCK certificate is issued by neither a PCK Platform CA nor a PCK Processor CA.');
  return { tee: parsed.tee, fmspc: toHex(pck.extensions.fmspc).toUpperCase(), pceId: toHex(pck.extensions.pceId), pckCa };
}
