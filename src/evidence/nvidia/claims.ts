// Normalized claims of a verified NVIDIA GPU attestation (DESIGN.md "Evidence and claims", nvidia-gpu).
import type { CommonClaims } from '../claims.js';

export interface NvidiaGpuClaims extends CommonClaims {
  readonly tee: 'nvidia-gpu';
  readonly arch: 'hopper' | 'blackwell';
  readonly nonce: string;
  readonly driverVersion: string;
  readonly vbiosVersion: string;
  readonly measurements: {
    readonly matched: number;
    readonly total: number;
    readonly mismatchedIndices: readonly number[];
  };
  readonly rim: { readonly driver: string; readonly vbios: string };
  /** Whether certificate revocation (OCSP) was checked, and its outcome. */
  readonly revocation: 'checked' | 'not-checked';
}
