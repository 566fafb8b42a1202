// Intel TCB Info (PCS API v4 appendix A): versions 2 (SGX) and 3 (SGX and TDX, with the TDX module and
// module identities). Parsed strictly as Intel's QVL does (TcbInfo.cpp, TcbLevel.cpp): tcbType 0 only,
// 16 components per level, known statuses only, no duplicate levels; levels ordered as QVL orders them.
import { createHash } from 'node:crypto';
import { EvidenceError } from '../../errors.js';
import { JsonFields } from './json-fields.js';
import { SignedJsonError, splitSignedJson } from './signed-json.js';

export const PLATFORM_TCB_STATUSES = [
  'UpToDate',
  'SWHardeningNeeded',
  'ConfigurationNeeded',
  'ConfigurationAndSWHardeningNeeded',
  'OutOfDate',
  'OutOfDateConfigurationNeeded',
  'Revoked',
] as const;
export type PlatformTcbStatus = (typeof PLATFORM_TCB_STATUSES)[number];

export const MODULE_TCB_STATUSES = ['UpToDate', 'OutOfDate', 'Revoked'] as const;
export type ModuleTcbStatus = (typeof MODULE_TCB_STATUSES)[number];

export interface TcbLevel {
  readonly sgxComponents: readonly number[];
  readonly pceSvn: number;
  /** TDX TCB Info only. */
  readonly tdxComponents?: readonly number[];
  readonly tcbDate: string;
  readonly status: PlatformTcbStatus;
  readonly advisoryIds: readonly string[];
}

export interface TdxModule {
  readonly mrSigner: Uint8Array;
  readonly attributes: Uint8Array;
  readonly attributesMask: Uint8Array;
}

export interface TdxModuleTcbLevel {
  readonly isvSvn: number;
  readonly tcbDate: string;
  readonly status: ModuleTcbStatus;
  readonly advisoryIds: readonly string[];
}

export interface TdxModuleIdentity extends TdxModule {
  readonly id: string;
  /** Ordered by isvsvn, highest first. */
  readonly tcbLevels: readonly TdxModuleTcbLevel[];
}

export interface TcbInfo {
  readonly id: 'SGX' | 'TDX';
  readonly version: 2 | 3;
  readonly issueDate: Date;
  readonly nextUpdate: Date;
  /** Lowercase hex. */
  readonly fmspc: string;
  readonly pceId: string;
  readonly tcbEvaluationDataNumber: number;
  /** Ordered as Intel's QVL orders them (highest TCB first). */
  readonly tcbLevels: readonly TcbLevel[];
  readonly tdxModule?: TdxModule;
  readonly tdxModuleIdentities?: readonly TdxModuleIdentity[];
}

export interface SignedTcbInfo {
  readonly info: TcbInfo;
  /** UTF-8 bytes of the signed inner object, as served. */
  readonly signedBytes: Uint8Array;
  readonly signature: Uint8Array;
  /** SHA-256 of the whole document text (lowercase hex), for memo keys. */
  readonly sha256: string;
}

const CODE = 'ERR_DCAP_TCB_INFO_INVALID';
const COMPONENTS = 16;

function components(f: JsonFields, name: string): number[] {
  const list = f.array(name);
  if (list.length !== COMPONENTS) f.fail(`"${name}" must have ${COMPONENTS} entries.`);
  return list.map((c, i) => JsonFields.of(c, CODE, `${name}[${i}]`).uint('svn', 255));
}

function parseLevel(value: unknown, version: 2 | 3, id: 'SGX' | 'TDX', index: number): TcbLevel {
  const f = JsonFields.of(value, CODE, `tcbLevels[${index}]`);
  const tcb = f.object('tcb');
  const common = {
    tcbDate: f.dateText('tcbDate'),
    status: f.oneOf('tcbStatus', PLATFORM_TCB_STATUSES),
    advisoryIds: f.stringsOptional('advisoryIDs'),
    pceSvn: tcb.uint('pcesvn', 0xffff),
  };
  if (version === 2) {
    const sgx = Array.from({ length: COMPONENTS }, (_, i) => tcb.uint(`sgxtcbcomp${String(i + 1).padStart(2, '0')}svn`, 255));
    return { ...common, sgxComponents: sgx };
  }
  const sgx = components(tcb, 'sgxtcbcomponents');
  if (id === 'SGX') return { ...common, sgxComponents: sgx };
  return { ...common, sgxComponents: sgx, tdxComponents: components(tcb, 'tdxtcbcomponents') };
}

function compareVectors(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return 0;
}

/** QVL TcbLevel::operator>: SGX components, then PCESVN, then (TDX, equal PCESVN) TDX components. */
function compareLevels(a: TcbLevel, b: TcbLevel): number {
  const sgx = compareVectors(a.sgxComponents, b.sgxComponents);
  if (sgx !== 0) return sgx;
  if (a.tdxComponents && b.tdxComponents && a.pceSvn === b.pceSvn) return compareVectors(a.tdxComponents, b.tdxComponents);
  return a.pceSvn - b.pceSvn;
}

function parseModule(f: JsonFields): TdxModule {
  return { mrSigner: f.hex('mrsigner', 48), attributes: f.hex('attributes', 8), attributesMask: f.hex('attributesMask', 8) };
}

function parseModuleIdentity(value: unknown, index: number): TdxModuleIdentity {
  const f = JsonFields.of(value, CODE, `tdxModuleIdentities[${index}]`);
  const levels = f.array('tcbLevels', { nonEmpty: true }).map((level, i) => {
    const l = JsonFields.of(level, CODE, `tdxModuleIdentities[${index}].tcbLevels[${i}]`);
    return {
      isvSvn: l.object('tcb').uint('isvsvn', 255),
      tcbDate: l.dateText('tcbDate'),
      status: l.oneOf('tcbStatus', MODULE_TCB_STATUSES),
      advisoryIds: l.stringsOptional('advisoryIDs'),
    };
  });
  levels.sort((a, b) => b.isvSvn - a.isvSvn);
  if (levels.some((l, i) => i > 0 && (levels[i - 1] as TdxModuleTcbLevel).isvSvn === l.isvSvn)) {
    f.fail('duplicate TCB levels.');
  }
  return { id: f.string('id'), ...parseModule(f), tcbLevels: levels };
}

function parseTdxParts(f: JsonFields): Pick<TcbInfo, 'tdxModule' | 'tdxModuleIdentities'> {
  if (!f.has('tdxModule')) f.fail('a TDX TCB Info must have "tdxModule".');
  const tdxModule = parseModule(f.object('tdxModule'));
  if (!f.has('tdxModuleIdentities')) return { tdxModule };
  const identities = f.array('tdxModuleIdentities', { nonEmpty: true }).map(parseModuleIdentity);
  return { tdxModule, tdxModuleIdentities: identities };
}

/** Validates the inner tcbInfo object. */
export function parseTcbInfoBody(body: Record<string, unknown>): TcbInfo {
  const f: JsonFields = JsonFields.of(body, CODE, 'tcbInfo');
  const version = f.uint('version');
  if (version !== 2 && version !== 3) f.fail(`version ${version} is not supported (2 and 3 are).`);
  const id = version === 3 ? f.oneOf('id', ['SGX', 'TDX'] as const) : 'SGX';
  if (f.uint('tcbType') !== 0) f.fail('only tcbType 0 is supported.');
  const tdxParts = id === 'TDX' ? parseTdxParts(f) : {};
  if (id === 'SGX' && (f.has('tdxModule') || f.has('tdxModuleIdentities'))) f.fail('an SGX TCB Info must not describe a TDX module.');
  const levels = f.array('tcbLevels', { nonEmpty: true }).map((l, i) => parseLevel(l, version, id, i));
  levels.sort((a, b) => compareLevels(b, a));
  if (levels.some((l, i) => i > 0 && compareLevels(levels[i - 1] as TcbLevel, l) === 0)) f.fail('duplicate TCB levels.');
  return {
    id,
    version,
    issueDate: f.date('issueDate'),
    nextUpdate: f.date('nextUpdate'),
    fmspc: Buffer.from(f.hex('fmspc', 6)).toString('hex'),
    pceId: Buffer.from(f.hex('pceId', 2)).toString('hex'),
    tcbEvaluationDataNumber: f.uint('tcbEvaluationDataNumber'),
    tcbLevels: levels,
    ...tdxParts,
  };
}

/** Parses a TCB Info document as PCS serves it. Any malformation is ERR_DCAP_TCB_INFO_INVALID. */
export function parseTcbInfo(text: string): SignedTcbInfo {
  let split;
  try {
    split = splitSignedJson(text, ['tcbInfo']);
  } catch (err) {
    if (err instanceof SignedJsonError) throw new EvidenceError(CODE, `TCB Info: ${err.message}.`);
    throw err;
  }
  return {
    info: parseTcbInfoBody(split.body),
    signedBytes: new Uint8Array(Buffer.from(split.bodyText, 'utf8')),
    signature: split.signature,
    sha256: createHash('sha256').update(text, 'utf8').digest('hex'),
  };
}
