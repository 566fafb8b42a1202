// Normalized claims of a verified AMD SEV-SNP attestation report (DESIGN.md "Evidence and claims", snp).
import type { CommonClaims } from '../claims.js';
import type { SnpProduct } from '../types.js';

export interface SnpTcb {
  readonly bootloader: number;
  readonly tee: number;
  readonly snp: number;
  readonly microcode: number;
  /** Turin and later only. */
  readonly fmc?: number;
}

export interface SnpGuestPolicy {
  readonly debug: boolean;
  readonly smt: boolean;
  readonly migrateMa: boolean;
  readonly singleSocket: boolean;
  readonly abiMajor: number;
  readonly abiMinor: number;
}

export interface SnpClaims extends CommonClaims {
  readonly tee: 'snp';
  readonly reportData: string;
  readonly product: SnpProduct;
  readonly reportVersion: number;
  readonly signer: 'vcek' | 'vlek';
  readonly measurement: string;
  readonly hostData: string;
  readonly familyId: string;
  readonly imageId: string;
  readonly idKeyDigest: string;
  readonly authorKeyDigest: string;
  readonly chipId: string;
  readonly vmpl: number;
  readonly guestSvn: number;
  readonly policy: SnpGuestPolicy;
  readonly reportedTcb: SnpTcb;
  readonly committedTcb: SnpTcb;
  readonly currentTcb: SnpTcb;
  readonly launchTcb: SnpTcb;
}
