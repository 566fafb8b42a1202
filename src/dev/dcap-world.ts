// A whole look-alike Intel DCAP world in one call, for the TEE simulator (`--simulate tdx|sgx`) and tests:
// the test PKI, CRLs, TCB Info and QE Identity for SGX and TDX that grade the default platform UpToDate,
// Quoting Enclaves, and the Collateral bags a verifier needs. Trust it only via its root as an extra anchor.
import type { Collateral } from '../evidence/types.js';
import {
  createDcapCrls,
  createDcapTestPki,
  dcapCollateral,
  pckChainPem,
  signQeIdentity,
  signTcbInfo,
  type DcapPkiNames,
  type DcapTestPki,
  type PckValues,
} from './dcap.js';
import { qeIdentityBody, tcbInfoBody, type DevIsvLevel, type DevModuleIdentity, type DevTcbLevel } from './dcap-collateral.js';
import { createQuotingEnclave, mintSgxQuote, mintTdxQuote, type QuotingEnclave, type SgxReportInput, type TdReportInput } from './dcap-quote.js';
import { devPrivateKeyObject } from './pki.js';

export interface DcapWorldOptions {
  /** Validity of the PKI. */
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Window of the CRLs, TCB Info and QE Identity. */
  readonly issueDate: Date;
  readonly nextUpdate: Date;
  readonly names?: Partial<DcapPkiNames>;
  readonly caKind?: 'platform' | 'processor';
  readonly pck?: Partial<PckValues>;
  /** TCB levels; by default one UpToDate level at the platform's SVNs (TDX: TEE_TCB_SVN 06 01 03 …). */
  readonly tdxLevels?: readonly DevTcbLevel[];
  readonly sgxLevels?: readonly DevTcbLevel[];
  /** TDX module identities; by default TDX_01 UpToDate from SVN 6. */
  readonly moduleIdentities?: readonly DevModuleIdentity[];
  readonly tdQeLevels?: readonly DevIsvLevel[];
  readonly qeLevels?: readonly DevIsvLevel[];
}

export interface DcapWorld {
  readonly pki: DcapTestPki;
  /** DER of the look-alike root: pass it to createTrustAnchors / KEYWARD_EXTRA_ANCHORS. */
  readonly rootDer: Uint8Array;
  readonly rootCrl: Uint8Array;
  readonly pckCrl: Uint8Array;
  readonly tdxTcbInfo: string;
  readonly sgxTcbInfo: string;
  readonly tdQeIdentity: string;
  readonly qeIdentity: string;
  readonly tdxQe: QuotingEnclave;
  readonly sgxQe: QuotingEnclave;
  readonly tdxCollateral: Collateral;
  readonly sgxCollateral: Collateral;
  mintTdx(fields?: TdReportInput, opts?: { version?: 4 | 5; td15?: boolean }): Uint8Array;
  mintSgx(fields?: SgxReportInput, opts?: { version?: 3 | 4 | 5 }): Uint8Array;
}

const DEFAULT_TEE_TCB_SVN = [6, 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

export async function createDcapWorld(opts: DcapWorldOptions): Promise<DcapWorld> {
  const pki = await createDcapTestPki({
    notBefore: opts.notBefore,
    notAfter: opts.notAfter,
    ...(opts.names ? { names: opts.names } : {}),
    ...(opts.caKind ? { caKind: opts.caKind } : {}),
    ...(opts.pck ? { pck: opts.pck } : {}),
  });
  const dates = { issueDate: opts.issueDate, nextUpdate: opts.nextUpdate };
  const { rootCrl, pckCrl } = await createDcapCrls(pki, { thisUpdate: opts.issueDate, nextUpdate: opts.nextUpdate });
  const { fmspc, pceId, pceSvn, sgxTcbComponents } = pki.pckValues;
  const platform = { sgx: sgxTcbComponents, pceSvn, status: 'UpToDate' };
  const tdxTcbInfo = signTcbInfo(
    pki,
    tcbInfoBody({
      tee: 'tdx',
      fmspc,
      pceId,
      ...dates,
      levels: opts.tdxLevels ?? [{ ...platform, tdx: DEFAULT_TEE_TCB_SVN }],
      moduleIdentities: opts.moduleIdentities ?? [{ id: 'TDX_01', levels: [{ isvSvn: 6, status: 'UpToDate' }] }],
    }),
  );
  const sgxTcbInfo = signTcbInfo(pki, tcbInfoBody({ tee: 'sgx', fmspc, pceId, ...dates, levels: opts.sgxLevels ?? [platform] }));
  const tdQeIdentity = signQeIdentity(pki, qeIdentityBody({ id: 'TD_QE', ...dates, ...(opts.tdQeLevels ? { levels: opts.tdQeLevels } : {}) }));
  const qeIdentity = signQeIdentity(pki, qeIdentityBody({ id: 'QE', ...dates, ...(opts.qeLevels ? { levels: opts.qeLevels } : {}) }));
  const pckKey = devPrivateKeyObject(pki.pck.keys);
  const chain = pckChainPem(pki, pki.pck);
  const tdxQe = createQuotingEnclave({ tee: 'tdx', pckKey, pckChainPem: chain });
  const sgxQe = createQuotingEnclave({ tee: 'sgx', pckKey, pckChainPem: chain });
  return {
    pki,
    rootDer: pki.root.der,
    rootCrl,
    pckCrl,
    tdxTcbInfo,
    sgxTcbInfo,
    tdQeIdentity,
    qeIdentity,
    tdxQe,
    sgxQe,
    tdxCollateral: dcapCollateral(pki, { tcbInfo: tdxTcbInfo, qeIdentity: tdQeIdentity, rootCrl, pckCrl }),
    sgxCollateral: dcapCollateral(pki, { tcbInfo: sgxTcbInfo, qeIdentity, rootCrl, pckCrl }),
    mintTdx: (fields = {}, mint = {}) => mintTdxQuote(tdxQe, fields, mint),
    mintSgx: (fields = {}, mint = {}) => mintSgxQuote(sgxQe, fields, mint),
  };
}
