// Normalized claims (docs/design.md "Evidence and claims" and "Claims reference"): the names are an API that
// policies are written against. Byte strings are lowercase hex. Each TEE's claims live next to its verifier;
// this file joins them.
import type { SnpClaims } from './snp/claims.js';
import type { TdxClaims, SgxClaims } from './dcap/claims.js';
import type { NvidiaGpuClaims } from './nvidia/claims.js';
import type { NitroClaims } from './nitro/claims.js';

/** Which root the evidence chained to: policies can demand `anchor.source == "vendor"`. */
export interface AnchorClaim {
  readonly source: 'vendor' | 'extra';
  readonly name: string;
  readonly spkiSha256: string;
}

export interface CommonClaims {
  readonly tee: 'snp' | 'tdx' | 'sgx' | 'nvidia-gpu' | 'nitro';
  /** True when the TEE's own configuration allows a debugger or host introspection. */
  readonly debug: boolean;
  readonly anchor: AnchorClaim;
}

export type Claims = SnpClaims | TdxClaims | SgxClaims | NvidiaGpuClaims | NitroClaims;
export type CpuClaims = SnpClaims | TdxClaims | SgxClaims | NitroClaims;
