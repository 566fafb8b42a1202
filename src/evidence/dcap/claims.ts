// Normalized claims of verified Intel DCAP quotes (DESIGN.md "Evidence and claims", tdx and sgx).
import type { CommonClaims } from '../claims.js';

/** Intel's TCB status words, as the Quote Verification Library reports them. */
export type TcbStatus =
  | 'UpToDate'
  | 'SWHardeningNeeded'
  | 'ConfigurationNeeded'
  | 'ConfigurationAndSWHardeningNeeded'
  | 'OutOfDate'
  | 'OutOfDateConfigurationNeeded'
  | 'Revoked';

export interface TdAttributes {
  readonly debug: boolean;
  readonly septVeDisable: boolean;
}

export interface TdxClaims extends CommonClaims {
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
  readonly fmspc: string;
  readonly tcbStatus: TcbStatus;
  readonly advisoryIds: readonly string[];
}

export interface SgxAttributes {
  readonly debug: boolean;
}

export interface SgxClaims extends CommonClaims {
  readonly tee: 'sgx';
  readonly reportData: string;
  readonly quoteVersion: number;
  readonly mrEnclave: string;
  readonly mrSigner: string;
  readonly isvProdId: number;
  readonly isvSvn: number;
  readonly attributes: SgxAttributes;
  readonly fmspc: string;
  readonly tcbStatus: TcbStatus;
  readonly advisoryIds: readonly string[];
}
