// The claims schema policies are type-checked against (docs/design.md "Claims reference" and "Policies").
//
// One table per TEE, each checked by the compiler against the claim interfaces in src/evidence/*/claims.ts:
// a field added there and not here (or the other way round, or with another kind) fails `tsc`. Adding a
// claim is one line in its TEE's table (and in an object type's table for a nested field).
//
// `cpu` is typed as ONE object type, CpuClaims, holding the union of the SNP, TDX, SGX and Nitro fields;
// each TEE leaves the others' fields absent. Reading an absent field is an evaluation error, so a rule
// about SNP fields fails (with its reason recorded) on TDX claims; it can never pass by accident.
import type { AnchorClaim } from '../evidence/claims.js';
import type { SnpClaims, SnpCpuidClaim, SnpGuestPolicy, SnpPlatformInfo, SnpTcb } from '../evidence/snp/claims.js';
import type { SgxAttributes, SgxClaims, TdAttributes, TdxClaims } from '../evidence/dcap/claims.js';
import type { NvidiaGpuClaims } from '../evidence/nvidia/claims.js';
import { MODULE_TCB_STATUSES, PLATFORM_TCB_STATUSES } from '../evidence/dcap/tcb-info.js';
import type { NitroClaims } from '../evidence/nitro/claims.js';

export interface BoolType {
  readonly kind: 'bool';
}
export interface IntType {
  readonly kind: 'int';
}
export interface StringType {
  readonly kind: 'string';
  /** A closed vocabulary (e.g. Intel's TCB status words): string literals compared with it are checked. */
  readonly values?: readonly string[];
}
export interface ListType {
  readonly kind: 'list';
  readonly of: ClaimType;
  /** A generous bound, used only to estimate the cost of comprehensions over the list. */
  readonly maxItems: number;
}
export interface MapType {
  readonly kind: 'map';
  readonly of: ClaimType;
  readonly maxItems: number;
}
export interface ObjectType {
  readonly kind: 'object';
  readonly type: ObjectTypeName;
}
export type ClaimType = BoolType | IntType | StringType | ListType | MapType | ObjectType;

export type ObjectTypeName =
  | 'Anchor'
  | 'SnpTcb'
  | 'SnpGuestPolicy'
  | 'SnpPlatformInfo'
  | 'SnpCpuid'
  | 'TdAttributes'
  | 'SgxAttributes'
  | 'GpuMeasurements'
  | 'GpuRim'
  | 'GpuRevocationCoverage'
  | 'CpuClaims'
  | 'GpuClaims';

/** The schema kind a TypeScript claim type must be declared with. */
type ClaimTypeFor<V> = [V] extends [boolean]
  ? BoolType
  : [V] extends [number]
    ? IntType
    : [V] extends [string]
      ? StringType
      : [V] extends [readonly unknown[]]
        ? ListType
        : string extends keyof V
          ? MapType
          : ObjectType;

/** Exactly the fields of T (optional ones included), each with the kind its TypeScript type implies. */
type FieldsOf<T> = { readonly [K in keyof T]-?: ClaimTypeFor<NonNullable<T[K]>> };

export type Fields = Readonly<Record<string, ClaimType>>;

const bool: BoolType = { kind: 'bool' };
const int: IntType = { kind: 'int' };
const str: StringType = { kind: 'string' };
/** Lowercase hex of bytes (docs/design.md "Claims reference": byte strings are lowercase hex). */
const hex: StringType = str;
const words = (values: readonly string[]): StringType => ({ kind: 'string', values });
const listOf = (of: ClaimType, maxItems: number): ListType => ({ kind: 'list', of, maxItems });
const mapOf = (of: ClaimType, maxItems: number): MapType => ({ kind: 'map', of, maxItems });
const obj = (type: ObjectTypeName): ObjectType => ({ kind: 'object', type });

/** Intel's TCB status words (DCAP QVL), including the TD relaunch statuses of TCB Info v3. */
export const TCB_STATUS_WORDS = [...PLATFORM_TCB_STATUSES, 'TDRelaunchAdvised', 'TDRelaunchAdvisedConfigurationNeeded'] as const;

const anchor = {
  source: words(['vendor', 'extra', 'uploaded']),
  spki: hex,
  name: str,
} satisfies FieldsOf<AnchorClaim>;

const snpTcb = { bootloader: int, tee: int, snp: int, microcode: int, fmc: int } satisfies FieldsOf<SnpTcb>;

const snpGuestPolicy = {
  debug: bool,
  smt: bool,
  migrateMa: bool,
  singleSocket: bool,
  abiMajor: int,
  abiMinor: int,
  cxlAllow: bool,
  memAes256Xts: bool,
  raplDis: bool,
  ciphertextHiding: bool,
  pageSwapDisable: bool,
} satisfies FieldsOf<SnpGuestPolicy>;

const snpPlatformInfo = {
  smtEn: bool,
  tsmeEn: bool,
  eccEn: bool,
  raplDis: bool,
  ciphertextHidingEn: bool,
  aliasCheckComplete: bool,
  tioEn: bool,
  raw: hex,
} satisfies FieldsOf<SnpPlatformInfo>;

const snpCpuid = { family: int, model: int, stepping: int } satisfies FieldsOf<SnpCpuidClaim>;

const tdAttributes = { debug: bool, septVeDisable: bool, pks: bool, kl: bool, perfmon: bool } satisfies FieldsOf<TdAttributes>;
const sgxAttributes = {
  debug: bool,
  mode64Bit: bool,
  provisionKey: bool,
  einitTokenKey: bool,
  kss: bool,
  xfrm: hex,
} satisfies FieldsOf<SgxAttributes>;

/** Platform fields both DCAP TEEs carry (from the PCK certificate and the TCB evaluation). */
const dcapPlatform = {
  fmspc: hex,
  tcbStatus: words(TCB_STATUS_WORDS),
  advisoryIds: listOf(str, 128),
  pceId: hex,
  pceSvn: int,
  cpuSvn: hex,
  tcbDate: str,
  tcbEvaluationDataNumber: int,
  qeTcbStatus: words(['UpToDate', 'OutOfDate', 'Revoked', 'NotSupported']),
  qeSvn: int,
} as const;
const gpuMeasurements = {
  matched: int,
  total: int,
  mismatchedIndices: listOf(int, 256),
} satisfies FieldsOf<NvidiaGpuClaims['measurements']>;
const gpuRim = { driver: str, vbios: str } satisfies FieldsOf<NvidiaGpuClaims['rim']>;
const gpuRevocationCoverage = { checked: int, required: int } satisfies FieldsOf<NvidiaGpuClaims['revocationCoverage']>;

const snp = {
  tee: words(['snp']),
  debug: bool,
  anchor: obj('Anchor'),
  simulated: bool,
  revocationChecked: bool,
  reportData: hex,
  product: words(['Milan', 'Genoa', 'Turin']),
  reportVersion: int,
  signer: words(['vcek', 'vlek']),
  measurement: hex,
  hostData: hex,
  familyId: hex,
  imageId: hex,
  idKeyDigest: hex,
  authorKeyDigest: hex,
  chipId: hex,
  vmpl: int,
  guestSvn: int,
  policy: obj('SnpGuestPolicy'),
  reportedTcb: obj('SnpTcb'),
  committedTcb: obj('SnpTcb'),
  currentTcb: obj('SnpTcb'),
  launchTcb: obj('SnpTcb'),
  platformInfo: obj('SnpPlatformInfo'),
  cpuid: obj('SnpCpuid'),
  reportId: hex,
  reportIdMa: hex,
  authorKeyEn: bool,
  currentVersion: str,
  committedVersion: str,
  launchMitVector: hex,
  currentMitVector: hex,
  cspId: str,
  certProductName: str,
} satisfies FieldsOf<SnpClaims>;

const tdx = {
  tee: words(['tdx']),
  debug: bool,
  anchor: obj('Anchor'),
  simulated: bool,
  revocationChecked: bool,
  reportData: hex,
  quoteVersion: int,
  mrTd: hex,
  rtmr: listOf(hex, 4),
  mrSeam: hex,
  mrSignerSeam: hex,
  mrConfigId: hex,
  mrOwner: hex,
  mrOwnerConfig: hex,
  tdAttributes: obj('TdAttributes'),
  xfam: hex,
  teeTcbSvn: hex,
  seamAttributes: hex,
  teeTcbSvn2: hex,
  mrServiceTd: hex,
  tdxModuleId: str,
  tdxModuleTcbStatus: words(MODULE_TCB_STATUSES),
  ...dcapPlatform,
} satisfies FieldsOf<TdxClaims>;

const sgx = {
  tee: words(['sgx']),
  debug: bool,
  anchor: obj('Anchor'),
  simulated: bool,
  revocationChecked: bool,
  reportData: hex,
  quoteVersion: int,
  mrEnclave: hex,
  mrSigner: hex,
  isvProdId: int,
  isvSvn: int,
  attributes: obj('SgxAttributes'),
  miscSelect: int,
  configId: hex,
  configSvn: int,
  isvExtProdId: hex,
  isvFamilyId: hex,
  reportCpuSvn: hex,
  ...dcapPlatform,
} satisfies FieldsOf<SgxClaims>;

const nitro = {
  tee: words(['nitro']),
  debug: bool,
  anchor: obj('Anchor'),
  simulated: bool,
  revocationChecked: bool,
  moduleId: str,
  digest: str,
  pcrs: mapOf(hex, 32),
  nonce: hex,
  userData: hex,
  publicKey: hex,
  timestamp: str,
} satisfies FieldsOf<NitroClaims>;

const nvidiaGpu = {
  tee: words(['nvidia-gpu']),
  debug: bool,
  anchor: obj('Anchor'),
  simulated: bool,
  revocationChecked: bool,
  arch: words(['hopper', 'blackwell']),
  nonce: hex,
  driverVersion: str,
  vbiosVersion: str,
  measurements: obj('GpuMeasurements'),
  rim: obj('GpuRim'),
  revocation: words(['checked', 'not-checked']),
  source: words(['local', 'nras']),
  deviceType: words(['gpu', 'nvswitch']),
  chip: str,
  ccMode: bool,
  featureFlag: words(['spt', 'mpt', 'ppcie', 'unreported', 'unknown']),
  ueid: str,
  deviceId: hex,
  hwmodel: str,
  revocationCoverage: obj('GpuRevocationCoverage'),
  rimAnchor: obj('Anchor'),
  // `devices` (NRAS results) is not a policy field: the broker expands an NRAS result into one GPU each.
} satisfies FieldsOf<Omit<NvidiaGpuClaims, 'devices'>>;

/** The fields each TEE's claims carry, by `tee`. */
export const TEE_CLAIM_FIELDS = {
  snp,
  tdx,
  sgx,
  nitro,
  'nvidia-gpu': nvidiaGpu,
} as const satisfies Readonly<Record<string, Fields>>;

export type TeeName = keyof typeof TEE_CLAIM_FIELDS;
export const CPU_TEES = ['snp', 'tdx', 'sgx', 'nitro'] as const satisfies readonly TeeName[];

/** Named object types, nested types first (the order CEL registers them in). */
export const CLAIM_OBJECT_TYPES: Readonly<Record<ObjectTypeName, Fields>> = {
  Anchor: anchor,
  SnpTcb: snpTcb,
  SnpGuestPolicy: snpGuestPolicy,
  SnpPlatformInfo: snpPlatformInfo,
  SnpCpuid: snpCpuid,
  TdAttributes: tdAttributes,
  SgxAttributes: sgxAttributes,
  GpuMeasurements: gpuMeasurements,
  GpuRim: gpuRim,
  GpuRevocationCoverage: gpuRevocationCoverage,
  CpuClaims: mergeFields(CPU_TEES.map((tee) => TEE_CLAIM_FIELDS[tee])),
  GpuClaims: nvidiaGpu,
};

/**
 * The CEL variables holding claims and their types. `gpuCount` is the number of distinct GPUs
 * (NVSwitches not counted), each device counted once by its deviceId.
 */
export const CLAIM_VARIABLES = {
  cpu: obj('CpuClaims'),
  gpus: listOf(obj('GpuClaims'), 64),
  gpuCount: int,
} as const satisfies Readonly<Record<string, ClaimType>>;

/** Union of field tables; a field two TEEs declare differently is a bug in this file (thrown at load). */
function mergeFields(tables: readonly Fields[]): Fields {
  const out: Record<string, ClaimType> = {};
  for (const table of tables) {
    for (const [name, type] of Object.entries(table)) {
      const prior = out[name];
      out[name] = prior === undefined ? type : mergeType(prior, type, name);
    }
  }
  return out;
}

function mergeType(a: ClaimType, b: ClaimType, name: string): ClaimType {
  if (a.kind === 'string' && b.kind === 'string') {
    if (a.values === undefined || b.values === undefined) return str;
    return words([...new Set([...a.values, ...b.values])]);
  }
  if ((a.kind === 'list' && b.kind === 'list') || (a.kind === 'map' && b.kind === 'map')) {
    const of = mergeType(a.of, b.of, name);
    return { kind: a.kind, of, maxItems: Math.max(a.maxItems, b.maxItems) } as ClaimType;
  }
  if (a.kind === 'object' && b.kind === 'object' && a.type === b.type) return a;
  if (a.kind === b.kind && (a.kind === 'int' || a.kind === 'bool')) return a;
  throw new Error(`claims schema: field "${name}" is declared as ${a.kind} and as ${b.kind}`);
}

/**
 * The declared type at a claim path (`['cpu', 'reportedTcb', 'snp']`, `['gpus', '*', 'arch']`), or
 * undefined when the path leaves the schema. `*` and numeric segments index lists; any key indexes maps.
 */
export function claimTypeAt(segments: readonly string[]): ClaimType | undefined {
  const [root, ...rest] = segments;
  let type: ClaimType | undefined =
    root !== undefined && Object.hasOwn(CLAIM_VARIABLES, root) ? CLAIM_VARIABLES[root as keyof typeof CLAIM_VARIABLES] : undefined;
  for (const segment of rest) {
    if (type === undefined) return undefined;
    if (type.kind === 'list' || type.kind === 'map') type = type.of;
    else if (type.kind === 'object') {
      const fields: Fields = CLAIM_OBJECT_TYPES[type.type];
      type = Object.hasOwn(fields, segment) ? fields[segment] : undefined;
    } else return undefined;
  }
  return type;
}
