// Normalized claims (docs/design.md "Evidence and claims" and "Claims reference"): the names are an API that
// policies are written against. Byte strings are lowercase hex. Each TEE's claims live next to its verifier;
// this file joins them.
import type { SnpClaims } from './snp/claims.js';
import type { TdxClaims, SgxClaims } from './dcap/claims.js';
import type { NvidiaGpuClaims } from './nvidia/claims.js';
import type { NitroClaims } from './nitro/claims.js';

/**
 * Which root (or trusted signer) the evidence chained to: policies can demand `anchor.source == "vendor"`
 * or name accepted non-vendor anchors by `spki` (docs/trust.md).
 */
export interface AnchorClaim {
  readonly source: 'vendor' | 'extra' | 'uploaded';
  /** SHA-256 of the anchor's DER SubjectPublicKeyInfo, lowercase hex. */
  readonly spki: string;
  readonly name: string;
}

export interface CommonClaims {
  readonly tee: 'snp' | 'tdx' | 'sgx' | 'nvidia-gpu' | 'nitro';
  /** True when the TEE's own configuration allows a debugger or host introspection. */
  readonly debug: boolean;
  /** The weakest anchor the verdict rests on (uploaded < extra < vendor). */
  readonly anchor: AnchorClaim;
  /** True when the evidence rests on keyward's development CA (the TEE simulator): never real hardware. */
  readonly simulated: boolean;
  /**
   * True when every certificate of the chains that has a revocation source had a current answer (CRL,
   * OCSP, or NRAS's statement). False only under KEYWARD_REVOCATION=optional; a policy may refuse it.
   */
  readonly revocationChecked: boolean;
}

export type Claims = SnpClaims | TdxClaims | SgxClaims | NvidiaGpuClaims | NitroClaims;
export type CpuClaims = SnpClaims | TdxClaims | SgxClaims | NitroClaims;
