// A complete look-alike Intel DCAP world for tests: test PKI, CRLs, TCB Info / QE Identity for SGX and TDX,
// Quoting Enclaves, and contexts that trust the test root as an extra anchor. Build once per test file.
import { createTrustAnchors } from '../../src/evidence/anchors.js';
import type { Collateral, TrustAnchors, VerifyContext } from '../../src/evidence/types.js';
import { LruMemo } from '../../src/evidence/memo.js';
import { dcapCollateral } from '../../src/dev/dcap.js';
import type { DevModuleIdentity, DevTcbLevel } from '../../src/dev/dcap-collateral.js';
import { createDcapWorld, type DcapWorld, type DcapWorldOptions } from '../../src/dev/dcap-world.js';

export const NOT_BEFORE = new Date('2024-01-01T00:00:00Z');
export const NOT_AFTER = new Date('2034-01-01T00:00:00Z');
export const ISSUE = new Date('2025-06-01T00:00:00Z');
export const NEXT = new Date('2025-07-01T00:00:00Z');
export const NOW = new Date('2025-06-15T12:00:00Z');

/** PCK SVNs of the default platform and the TEE_TCB_SVN of the default TD. */
export const PCK_COMPONENTS = [3, 3, 2, 2, 4, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0];
export const OLD_COMPONENTS = [2, 2, 2, 2, 3, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0];
export const FMSPC = '90C06F000000';

export function svn16(...head: number[]): number[] {
  return [...head, ...new Array(16 - head.length).fill(0)];
}

export const DEFAULT_TDX_LEVELS: DevTcbLevel[] = [
  { sgx: PCK_COMPONENTS, pceSvn: 13, tdx: svn16(6, 1, 3), status: 'UpToDate', tcbDate: '2024-11-13T00:00:00Z' },
  {
    sgx: OLD_COMPONENTS,
    pceSvn: 11,
    tdx: svn16(4, 1, 2),
    status: 'OutOfDate',
    tcbDate: '2023-08-09T00:00:00Z',
    advisoryIds: ['INTEL-SA-00960', 'INTEL-SA-00837'],
  },
];

export const DEFAULT_MODULES: DevModuleIdentity[] = [
  { id: 'TDX_03', levels: [{ isvSvn: 3, status: 'UpToDate' }] },
  {
    id: 'TDX_01',
    levels: [
      { isvSvn: 6, status: 'UpToDate' },
      { isvSvn: 2, status: 'OutOfDate', advisoryIds: ['INTEL-SA-01036'] },
    ],
  },
];

export const DEFAULT_SGX_LEVELS: DevTcbLevel[] = [
  { sgx: PCK_COMPONENTS, pceSvn: 13, status: 'SWHardeningNeeded', advisoryIds: ['INTEL-SA-00615'] },
  { sgx: PCK_COMPONENTS, pceSvn: 12, status: 'OutOfDate', tcbDate: '2023-02-15T00:00:00Z', advisoryIds: ['INTEL-SA-00828'] },
];

export interface DcapFixture
  extends Pick<DcapWorld, 'pki' | 'rootCrl' | 'pckCrl' | 'tdxTcbInfo' | 'sgxTcbInfo' | 'tdQeIdentity' | 'qeIdentity' | 'tdxQe' | 'sgxQe'> {
  readonly anchors: TrustAnchors;
  /** A context for a TDX or SGX quote of the default platform, with the test root as an extra anchor. */
  ctx(tee: 'tdx' | 'sgx', overrides?: Partial<VerifyContext>): VerifyContext;
  collateral(tee: 'tdx' | 'sgx', parts?: Partial<{ tcbInfo: string; qeIdentity: string; rootCrl: Uint8Array; pckCrl: Uint8Array }>): Collateral;
}

export async function createDcapFixture(opts: Partial<DcapWorldOptions> = {}): Promise<DcapFixture> {
  const world = await createDcapWorld({
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
    issueDate: ISSUE,
    nextUpdate: NEXT,
    pck: { sgxTcbComponents: PCK_COMPONENTS, fmspc: FMSPC },
    tdxLevels: DEFAULT_TDX_LEVELS,
    sgxLevels: DEFAULT_SGX_LEVELS,
    moduleIdentities: DEFAULT_MODULES,
    ...opts,
  });
  const { pki, rootCrl, pckCrl, tdxTcbInfo, sgxTcbInfo, tdQeIdentity, qeIdentity } = world;
  const anchors = createTrustAnchors([world.rootDer]);
  const collateral: DcapFixture['collateral'] = (tee, parts = {}) =>
    dcapCollateral(pki, {
      tcbInfo: parts.tcbInfo ?? (tee === 'tdx' ? tdxTcbInfo : sgxTcbInfo),
      qeIdentity: parts.qeIdentity ?? (tee === 'tdx' ? tdQeIdentity : qeIdentity),
      rootCrl: parts.rootCrl ?? rootCrl,
      pckCrl: parts.pckCrl ?? pckCrl,
    });
  const bags = { tdx: world.tdxCollateral, sgx: world.sgxCollateral };
  return {
    pki,
    anchors,
    rootCrl,
    pckCrl,
    tdxTcbInfo,
    sgxTcbInfo,
    tdQeIdentity,
    qeIdentity,
    tdxQe: world.tdxQe,
    sgxQe: world.sgxQe,
    collateral,
    ctx: (tee, overrides = {}) => ({ collateral: bags[tee], anchors, now: NOW, memo: new LruMemo(), ...overrides }),
  };
}
