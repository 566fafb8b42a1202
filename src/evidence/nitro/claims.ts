// Normalized claims of a verified AWS Nitro Enclaves attestation document.
import type { CommonClaims } from '../claims.js';

export interface NitroClaims extends CommonClaims {
  readonly tee: 'nitro';
  readonly moduleId: string;
  readonly digest: string;
  /** PCR index → lowercase hex value. */
  readonly pcrs: Readonly<Record<string, string>>;
  readonly nonce: string;
  readonly userData: string;
  readonly publicKey: string;
}
