// Normalized claims of a verified AMD SEV-SNP attestation report (docs/design.md "Claims reference", snp).
//
// Fields added to the basic set (measurement, ids, digests, TCBs and guest policy):
// - policy: cxlAllow, memAes256Xts, raplDis, ciphertextHiding, pageSwapDisable (POLICY bits 21-25);
// - platformInfo: the decoded PLATFORM_INFO bits plus `raw` (hex of the whole field);
// - cpuid: CPUID family/model/stepping (report v3+ only);
// - reportId, reportIdMa: REPORT_ID and REPORT_ID_MA (hex);
// - authorKeyEn: AUTHOR_KEY_EN (authorKeyDigest is meaningful only when true);
// - currentVersion, committedVersion: firmware "major.minor.build";
// - launchMitVector, currentMitVector: LAUNCH/CURRENT_MIT_VECTOR as 16 hex digits (report v5+ only);
// - cspId: the VLEK's cloud-provider id (1.3.6.1.4.1.3704.1.5), for VLEK-signed reports only;
// - certProductName: the signing certificate's productName extension (e.g. "Milan-B0").
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
  readonly cxlAllow: boolean;
  readonly memAes256Xts: boolean;
  readonly raplDis: boolean;
  readonly ciphertextHiding: boolean;
  readonly pageSwapDisable: boolean;
}

export interface SnpPlatformInfo {
  readonly smtEn: boolean;
  readonly tsmeEn: boolean;
  readonly eccEn: boolean;
  readonly raplDis: boolean;
  readonly ciphertextHidingEn: boolean;
  readonly aliasCheckComplete: boolean;
  readonly tioEn: boolean;
  readonly raw: string;
}

export interface SnpCpuidClaim {
  readonly family: number;
  readonly model: number;
  readonly stepping: number;
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
  readonly platformInfo: SnpPlatformInfo;
  readonly cpuid?: SnpCpuidClaim;
  readonly reportId: string;
  readonly reportIdMa: string;
  readonly authorKeyEn: boolean;
  readonly currentVersion: string;
  readonly committedVersion: string;
  readonly launchMitVector?: string;
  readonly currentMitVector?: string;
  readonly cspId?: string;
  readonly certProductName: string;
}
