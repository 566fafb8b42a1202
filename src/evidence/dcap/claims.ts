// Normalized claims of verified Intel DCAP quotes (docs/design.md "Claims reference", tdx and sgx).
// Byte strings are lowercase hex in quote byte order. Fields beyond the core set are marked "added".
import type { CommonClaims } from '../claims.js';

/** Intel's TCB status words, as the Quote Verification Library reports them (TDRelaunch*: TD 1.5 only). */
export type TcbStatus =
  | 'UpToDate'
  | 'SWHardeningNeeded'
  | 'ConfigurationNeeded'
  | 'ConfigurationAndSWHardeningNeeded'
  | 'OutOfDate'
  | 'OutOfDateConfigurationNeeded'
  | 'Revoked'
  | 'TDRelaunchAdvised'
  | 'TDRelaunchAdvisedConfigurationNeeded';

/**
 * The Quoting Enclave's standing per Intel's QE Identity (added). `NotSupported` (no identity level covers
 * the QE's ISVSVN) is only ever reported next to a `Revoked` TDX TCB, which Intel lets win.
 */
export type QeTcbStatus = 'UpToDate' | 'OutOfDate' | 'Revoked' | 'NotSupported';

/** Claims both DCAP TEEs carry about the platform (added, all from the PCK certificate and collateral). */
export interface DcapPlatformClaims {
  /** FMSPC from the PCK certificate, lowercase hex like every byte string in claims. */
  readonly fmspc: string;
  readonly tcbStatus: TcbStatus;
  /** Intel security advisories (INTEL-SA-xxxxx) of the matched TCB, TDX module and QE levels, sorted. */
  readonly advisoryIds: readonly string[];
  /** Added: PCE ID (hex) and PCE SVN from the PCK certificate. */
  readonly pceId: string;
  readonly pceSvn: number;
  /** Added: the platform CPUSVN certified in the PCK certificate (what TCB evaluation graded). */
  readonly cpuSvn: string;
  /** Added: tcbDate of the TCB Info level that decided the status (RFC 3339). */
  readonly tcbDate: string;
  /** Added: tcbEvaluationDataNumber of the TCB Info used (policies can demand a minimum). */
  readonly tcbEvaluationDataNumber: number;
  /** Added: the QE Identity verdict on the Quoting Enclave, and the QE's ISVSVN. */
  readonly qeTcbStatus: QeTcbStatus;
  readonly qeSvn: number;
}

export interface TdAttributes {
  /** Bit 0. */
  readonly debug: boolean;
  /** Bit 28. */
  readonly septVeDisable: boolean;
  /** Added: bit 30 (PKS), bit 31 (KL), bit 63 (PERFMON). */
  readonly pks: boolean;
  readonly kl: boolean;
  readonly perfmon: boolean;
}

export interface TdxClaims extends CommonClaims, DcapPlatformClaims {
  readonly tee: 'tdx';
  readonly reportData: string;
  readonly quoteVersion: number;
  readonly mrTd: string;
  readonly rtmr: readonly string[];
  readonly mrSeam: string;
  readonly mrSignerSeam: string;
  readonly mrConfigId: string;
  readonly mrOwner: string;
  readonly mrOwnerConfig: string;
  readonly tdAttributes: TdAttributes;
  readonly xfam: string;
  readonly teeTcbSvn: string;
  /** Added: SEAM attributes of the TDX module (zero for Intel's module). */
  readonly seamAttributes: string;
  /** Added: TD report 1.5 only (v5 body type 3), else absent. */
  readonly teeTcbSvn2?: string;
  readonly mrServiceTd?: string;
  /** Added: for TDX modules of version > 0, the module identity used (`TDX_01`, ...) and its level's status; else absent. */
  readonly tdxModuleId?: string;
  readonly tdxModuleTcbStatus?: 'UpToDate' | 'OutOfDate' | 'Revoked';
}

export interface SgxAttributes {
  /** ATTRIBUTES.FLAGS bit 1. */
  readonly debug: boolean;
  /** Added: FLAGS bit 2 (MODE64BIT), bit 4 (PROVISIONKEY), bit 5 (EINITTOKEN_KEY), bit 7 (KSS). */
  readonly mode64Bit: boolean;
  readonly provisionKey: boolean;
  readonly einitTokenKey: boolean;
  readonly kss: boolean;
  /** Added: the XFRM half of ATTRIBUTES (8 bytes, hex). */
  readonly xfrm: string;
}

export interface SgxClaims extends CommonClaims, DcapPlatformClaims {
  readonly tee: 'sgx';
  readonly reportData: string;
  readonly quoteVersion: number;
  readonly mrEnclave: string;
  readonly mrSigner: string;
  readonly isvProdId: number;
  readonly isvSvn: number;
  readonly attributes: SgxAttributes;
  /** Added: MISCSELECT (u32), CONFIGID, CONFIGSVN, ISVEXTPRODID, ISVFAMILYID of the enclave report. */
  readonly miscSelect: number;
  readonly configId: string;
  readonly configSvn: number;
  readonly isvExtProdId: string;
  readonly isvFamilyId: string;
  /** Added: the CPUSVN the enclave report states (the PCK certificate's is `cpuSvn`). */
  readonly reportCpuSvn: string;
}
