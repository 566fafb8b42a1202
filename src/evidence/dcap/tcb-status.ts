// TCB status of a verified quote by Intel's QVL rules (QuoteVerifier.cpp 4.1.2.4.11 and 4.1.2.4.17;
// TcbLevelCheck.cpp, TdxModuleCheck.cpp, TDRelaunchCheck.cpp): TCB level matching on the PCK's SGX
// components and PCESVN (and TEE_TCB_SVN for TDX), the TDX module identity, the QE identity status, and
// the convergence of those statuses. "No matching level" and module mismatches are errors, not statuses.
import { EvidenceError } from '../../errors.js';
import type { TcbStatus } from './claims.js';
import type { PckExtensions } from './pck.js';
import type { QeIdentityResult } from './qe-identity.js';
import type { TdReportFields } from './reports.js';
import type { ModuleTcbStatus, TcbInfo, TcbLevel, TdxModuleIdentity, TdxModuleTcbLevel } from './tcb-info.js';

export interface TcbEvaluation {
  readonly status: TcbStatus;
  /** Union of the advisories on the matched TCB level, TDX module level and QE identity level, sorted. */
  readonly advisoryIds: readonly string[];
  /** tcbDate of the TCB level that decided the platform status. */
  readonly tcbDate: string;
  /** The QE identity's verdict on the Quoting Enclave (NotSupported only alongside a Revoked TDX TCB). */
  readonly qeStatus: QeIdentityResult['status'];
  /** TDX with module version > 0: the module identity (e.g. `TDX_01`) and its level's status. */
  readonly tdxModule?: { readonly id: string; readonly status: ModuleTcbStatus };
  readonly tcbEvaluationDataNumber: number;
}

type Status = TcbStatus | 'NotSupported';

function notSupported(message: string): never {
  throw new EvidenceError('ERR_DCAP_TCB_NOT_SUPPORTED', message);
}

function moduleMismatch(message: string): never {
  throw new EvidenceError('ERR_DCAP_TDX_MODULE_MISMATCH', message);
}

const CONFIG_NEEDED: ReadonlySet<Status> = new Set([
  'ConfigurationNeeded',
  'OutOfDateConfigurationNeeded',
  'ConfigurationAndSWHardeningNeeded',
  'TDRelaunchAdvisedConfigurationNeeded',
]);

/** QVL convergeTcbStatusWith{TdxModule,Qe}Status: an OutOfDate or Revoked other status pulls the platform down. */
function converge(platform: Status, other: 'UpToDate' | 'OutOfDate' | 'Revoked' | 'NotSupported'): Status {
  if (other === 'OutOfDate') {
    if (platform === 'UpToDate' || platform === 'SWHardeningNeeded') return 'OutOfDate';
    if (platform === 'ConfigurationNeeded' || platform === 'ConfigurationAndSWHardeningNeeded') return 'OutOfDateConfigurationNeeded';
  }
  if (other === 'Revoked') return 'Revoked';
  if (other === 'NotSupported') return 'NotSupported';
  return platform;
}

function sgxMatches(level: TcbLevel, pck: PckExtensions): boolean {
  for (let i = 0; i < 16; i++) {
    if ((pck.sgxTcbComponents[i] as number) < (level.sgxComponents[i] as number)) return false;
  }
  return pck.pceSvn >= level.pceSvn;
}

/** TEE_TCB_SVN against a level's TDX components; bytes 0 and 1 are skipped when byte 1 (module version) > 0. */
function tdxMatches(level: TcbLevel, teeTcbSvn: Uint8Array): boolean {
  const components = level.tdxComponents as readonly number[];
  for (let k = (teeTcbSvn[1] as number) > 0 ? 2 : 0; k < 16; k++) {
    if ((teeTcbSvn[k] as number) < (components[k] as number)) return false;
  }
  return true;
}

function moduleIdentityFor(info: TcbInfo, version: number): TdxModuleIdentity | undefined {
  const id = `TDX_${version.toString(16).toUpperCase().padStart(2, '0')}`;
  return info.tdxModuleIdentities?.find((m) => m.id.toUpperCase() === id);
}

/**
 * QVL 4.1.2.4.11: MRSIGNERSEAM must equal the module's mrsigner, and SEAM attributes must be zero and equal
 * the module's attributes. The module is `tdxModule`, or for module version > 0 the `TDX_<version>` identity.
 */
export function checkTdxModule(info: TcbInfo, td: TdReportFields): TdxModuleIdentity | undefined {
  const version = td.teeTcbSvn[1] as number;
  let identity: TdxModuleIdentity | undefined;
  let expected = info.tdxModule;
  if (version > 0) {
    if (!info.tdxModuleIdentities) moduleMismatch(`The TCB Info has no TDX module identities, but the TD runs module version ${version}.`);
    identity = moduleIdentityFor(info, version);
    if (!identity) moduleMismatch(`The TCB Info has no identity for TDX module version ${version}.`);
    expected = identity;
  }
  if (!expected) moduleMismatch('The TCB Info describes no TDX module.');
  if (!Buffer.from(expected.mrSigner).equals(Buffer.from(td.mrSignerSeam))) moduleMismatch('MRSIGNERSEAM does not match the TDX module identity.');
  for (let i = 0; i < td.seamAttributes.length; i++) {
    if (td.seamAttributes[i] !== 0 || td.seamAttributes[i] !== expected.attributes[i]) {
      moduleMismatch('SEAM attributes are not zero or do not match the TDX module identity.');
    }
  }
  return identity;
}

function uniqueSorted(...lists: (readonly string[] | undefined)[]): string[] {
  return [...new Set(lists.flatMap((l) => l ?? []))].sort();
}

function finalStatus(status: Status): TcbStatus {
  if (status === 'NotSupported') notSupported('The Quoting Enclave\'s ISVSVN is below every QE Identity TCB level.');
  return status;
}

/** SGX: the first level (QVL order) whose SGX components and PCESVN the PCK meets, converged with the QE. */
export function evaluateSgxTcb(info: TcbInfo, pck: PckExtensions, qe: QeIdentityResult): TcbEvaluation {
  const level = info.tcbLevels.find((l) => sgxMatches(l, pck));
  if (!level) notSupported('No TCB level in the TCB Info matches the platform\'s SGX components and PCESVN.');
  return {
    status: finalStatus(converge(level.status, qe.status)),
    advisoryIds: uniqueSorted(level.advisoryIds, qe.level?.advisoryIds),
    tcbDate: level.tcbDate,
    qeStatus: qe.status,
    tcbEvaluationDataNumber: info.tcbEvaluationDataNumber,
  };
}

interface ModuleVerdict {
  readonly status: 'UpToDate' | 'OutOfDate' | 'Revoked';
  readonly identity?: TdxModuleIdentity;
  readonly level?: TdxModuleTcbLevel;
}

/** QVL checkTdxModuleTcbStatus: TDX 1.0 modules (version byte 0) have no status of their own. */
function moduleStatus(info: TcbInfo, teeTcbSvn: Uint8Array): ModuleVerdict {
  const version = teeTcbSvn[1] as number;
  if (version === 0) return { status: 'UpToDate' };
  const identity = moduleIdentityFor(info, version);
  if (!identity) moduleMismatch(`The TCB Info has no identity for TDX module version ${version}.`);
  const level = identity.tcbLevels.find((l) => (teeTcbSvn[0] as number) >= l.isvSvn);
  if (!level) notSupported(`No TCB level of ${identity.id} covers TDX module SVN ${teeTcbSvn[0]}.`);
  return { status: level.status, identity, level };
}

/** QVL checkForRelaunch (TD report 1.5 only): a TD on an updated module may only need a relaunch. */
function relaunchStatus(info: TcbInfo, td: TdReportFields, sgx: Status, tdx: Status, module: ModuleVerdict, qe: QeIdentityResult): Status {
  const svn2 = td.teeTcbSvn2 as Uint8Array;
  const qeFine = qe.status === 'UpToDate';
  const sgxFine = sgx === 'UpToDate' || sgx === 'SWHardeningNeeded' || sgx === 'ConfigurationNeeded' || sgx === 'ConfigurationAndSWHardeningNeeded';
  const tdxOld = tdx === 'OutOfDate' || tdx === 'OutOfDateConfigurationNeeded';
  if (!qeFine || !sgxFine || !tdxOld || module.status !== 'OutOfDate') return tdx;
  const latest = info.tcbLevels[0] as TcbLevel;
  const latestTdx = latest.tdxComponents as readonly number[];
  let moduleOk: boolean;
  if (svn2[1] === 0) {
    moduleOk = (svn2[0] as number) >= (latestTdx[0] as number);
  } else {
    const identity2 = moduleIdentityFor(info, svn2[1] as number);
    if (!identity2) moduleMismatch(`The TCB Info has no identity for TDX module version ${svn2[1]} (TEE_TCB_SVN2).`);
    moduleOk = (svn2[0] as number) >= (identity2.tcbLevels[0] as TdxModuleTcbLevel).isvSvn;
  }
  if (!moduleOk || (svn2[2] as number) < (latestTdx[2] as number)) return tdx;
  return CONFIG_NEEDED.has(sgx) || CONFIG_NEEDED.has(tdx) ? 'TDRelaunchAdvisedConfigurationNeeded' : 'TDRelaunchAdvised';
}

/**
 * TDX: the first level (QVL order) whose SGX part and TEE_TCB_SVN the platform meets, converged with the
 * TDX module status, then (TD 1.5) the relaunch rule, then the QE status. A revoked TDX TCB stays Revoked.
 */
export function evaluateTdxTcb(info: TcbInfo, pck: PckExtensions, td: TdReportFields, qe: QeIdentityResult): TcbEvaluation {
  let sgxLevel: TcbLevel | undefined;
  let tdxLevel: TcbLevel | undefined;
  for (const level of info.tcbLevels) {
    if (!sgxMatches(level, pck)) continue;
    sgxLevel ??= level;
    if (tdxMatches(level, td.teeTcbSvn)) {
      tdxLevel = level;
      break;
    }
  }
  if (!sgxLevel) notSupported('No TCB level in the TCB Info matches the platform\'s SGX components and PCESVN.');
  if (!tdxLevel) notSupported('No TCB level in the TCB Info matches the TD\'s TEE_TCB_SVN.');
  const module = moduleStatus(info, td.teeTcbSvn);
  let status: Status = converge(tdxLevel.status, module.status);
  if (status !== 'Revoked') {
    if (td.teeTcbSvn2) status = relaunchStatus(info, td, sgxLevel.status, status, module, qe);
    status = converge(status, qe.status);
  }
  return {
    status: finalStatus(status),
    advisoryIds: uniqueSorted(tdxLevel.advisoryIds, module.level?.advisoryIds, qe.level?.advisoryIds),
    tcbDate: tdxLevel.tcbDate,
    qeStatus: qe.status,
    ...(module.identity ? { tdxModule: { id: module.identity.id, status: module.status } } : {}),
    tcbEvaluationDataNumber: info.tcbEvaluationDataNumber,
  };
}
