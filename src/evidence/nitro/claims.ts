// Normalized claims of a verified AWS Nitro Enclaves attestation document (docs/design.md "Claims reference",
// nitro).
import type { CommonClaims } from '../claims.js';
import { anchorFields } from '../anchors.js';
import type { TrustAnchor } from '../types.js';
import { toHex } from '../../encoding.js';
import type { NitroDocument } from './document.js';
import { IMAGE_PCRS } from './document.js';

/**
 * Byte strings are lowercase hex. The optional document fields (`nonce`, `userData`, `publicKey`) are the
 * empty string when the document leaves them out, encodes them as null, or carries an empty byte string:
 * the three are indistinguishable to a policy, and none of them binds anything.
 */
export interface NitroClaims extends CommonClaims {
  readonly tee: 'nitro';
  /** `module_id`, e.g. "i-0697c9729fa547b20-enc0183422ede9a5dc8". */
  readonly moduleId: string;
  /** `digest`: the PCR hash function, always "SHA384". */
  readonly digest: 'SHA384';
  /** PCR index (decimal string, "0".."31") → lowercase hex value. */
  readonly pcrs: Readonly<Record<string, string>>;
  readonly nonce: string;
  readonly userData: string;
  readonly publicKey: string;
  /**
   * True when PCR0, PCR1 or PCR2 is all zeros. AWS zeroes all three for an enclave started in debug
   * mode; any one of them zero already means the image is not measured, so one suffices.
   */
  readonly debug: boolean;
  /** Added by keyward: the document's `timestamp` (signed), ISO 8601 UTC with milliseconds. */
  readonly timestamp: string;
}

function isAllZero(bytes: Uint8Array): boolean {
  return bytes.every((b) => b === 0);
}

/** True when the document's image measurements are zeroed (a debug-mode enclave). */
export function isDebugEnclave(pcrs: ReadonlyMap<number, Uint8Array>): boolean {
  return IMAGE_PCRS.some((index) => {
    const pcr = pcrs.get(index);
    return pcr === undefined || isAllZero(pcr);
  });
}

function hexOrEmpty(bytes: Uint8Array | undefined): string {
  return bytes === undefined ? '' : toHex(bytes);
}

export function nitroClaimsFrom(doc: NitroDocument, anchor: TrustAnchor): NitroClaims {
  const pcrs: Record<string, string> = {};
  for (const [index, value] of doc.pcrs) pcrs[String(index)] = toHex(value);
  return {
    tee: 'nitro',
    debug: isDebugEnclave(doc.pcrs),
    ...anchorFields([anchor]),
    // AWS publishes no revocation for the Nitro PKI (its leaves live hours): nothing was left unchecked.
    revocationChecked: true,
    moduleId: doc.moduleId,
    digest: doc.digest,
    pcrs,
    nonce: hexOrEmpty(doc.nonce),
    userData: hexOrEmpty(doc.userData),
    publicKey: hexOrEmpty(doc.publicKey),
    timestamp: new Date(doc.timestamp).toISOString(),
  };
}
