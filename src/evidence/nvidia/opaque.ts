// Reads NVIDIA's opaque-data fields of the SPDM MEASUREMENTS response (type IDs as in nvtrust and the
// NVIDIA attestation SDK): driver and VBIOS versions, board identity, FWID, NVDEC0 state, feature flag.
import { EvidenceError } from '../../errors.js';

/** Opaque data type IDs. Unknown types are kept by the parser and ignored here. */
export const OpaqueType = {
  CERT_ISSUER_NAME: 1,
  CERT_AUTHORITY_KEY_IDENTIFIER: 2,
  DRIVER_VERSION: 3,
  GPU_INFO: 4,
  SKU: 5,
  VBIOS_VERSION: 6,
  MANUFACTURER_ID: 7,
  TAMPER_DETECTION: 8,
  SMC: 9,
  VPR: 10,
  NVDEC0_STATUS: 11,
  MSRSCNT: 12,
  CPRINFO: 13,
  BOARD_ID: 14,
  CHIP_SKU: 15,
  CHIP_SKU_MOD: 16,
  PROJECT: 17,
  PROJECT_SKU: 18,
  PROJECT_SKU_MOD: 19,
  FWID: 20,
  PROTECTED_PCIE_STATUS: 21,
  SWITCH_PDI: 22,
  FLOORSWEPT_PORTS: 23,
  POSITION_ID: 24,
  LOCK_SWITCH_STATUS: 25,
  GPU_LINK_CONN: 32,
  SYS_ENABLE_STATUS: 33,
  OPAQUE_DATA_VERSION: 34,
  CHIP_INFO: 35,
  FEATURE_FLAG: 36,
} as const;

/** FEATURE_FLAG: how the GPU is passed to the confidential VM (Blackwell+). */
export type FeatureFlag = 'spt' | 'mpt' | 'ppcie' | 'unreported' | 'unknown';

/** NVDEC0_STATUS values. */
const NVDEC0_ENABLED = 0xaa;
const NVDEC0_DISABLED = 0x55;

export interface OpaqueInfo {
  /** DRIVER_VERSION without its NUL terminator; undefined on NVSwitches. */
  readonly driverVersion?: string;
  /** Formatted as in the RIM's colloquialVersion, lowercase: GPU `b3.b2.b1.b0.b4` hex; NVSwitch ASCII. */
  readonly vbiosVersion: string;
  /** The VBIOS version's digits as NVIDIA's RIM ids spell them (upper-case, no dots). */
  readonly vbiosRimDigits: string;
  readonly project?: string;
  readonly projectSku?: string;
  readonly chipSku?: string;
  /** CHIP_INFO, e.g. "GB100" (Blackwell, opaque data version 1+). */
  readonly chipInfo?: string;
  /** FWID (48 bytes) when the report carries it (driver 550+). */
  readonly fwid?: Uint8Array;
  readonly nvdec0?: 'enabled' | 'disabled' | 'unknown';
  readonly featureFlag: FeatureFlag;
  readonly opaqueDataVersion?: number;
}

function malformed(message: string): never {
  throw new EvidenceError('ERR_NVIDIA_REPORT_MALFORMED', message);
}

/** NUL-terminated or NUL-padded printable ASCII; anything else in the text part is malformed. */
export function readAscii(value: Uint8Array, what: string): string {
  const nul = value.indexOf(0);
  const text = value.subarray(0, nul === -1 ? value.length : nul);
  for (const byte of text) {
    if (byte < 0x20 || byte > 0x7e) malformed(`Opaque field ${what} is not printable ASCII.`);
  }
  return Buffer.from(text).toString('latin1');
}

export function readLittleEndian(value: Uint8Array, what: string): number {
  if (value.length === 0 || value.length > 4) malformed(`Opaque field ${what} has length ${value.length}.`);
  let n = 0;
  for (let i = value.length - 1; i >= 0; i--) n = n * 256 + (value[i] as number);
  return n;
}

const hex2 = (b: number | undefined): string => (b ?? 0).toString(16).padStart(2, '0');

/** GPU VBIOS_VERSION: 8 bytes b0..b7 shown as b3.b2.b1.b0.b4 (hex). */
export function formatGpuVbios(value: Uint8Array): string {
  if (value.length !== 8) malformed(`The GPU VBIOS version has ${value.length} bytes, not 8.`);
  return [value[3], value[2], value[1], value[0], value[4]].map(hex2).join('.');
}

const VERSION_RE = /^[0-9A-Za-z][0-9A-Za-z._-]{0,31}$/;

function featureFlagOf(fields: ReadonlyMap<number, Uint8Array>): FeatureFlag {
  const raw = fields.get(OpaqueType.FEATURE_FLAG);
  if (!raw) return 'unreported';
  const value = readLittleEndian(raw, 'FEATURE_FLAG');
  return value === 0 ? 'spt' : value === 1 ? 'mpt' : value === 2 ? 'ppcie' : 'unknown';
}

function optionalAscii(fields: ReadonlyMap<number, Uint8Array>, type: number, what: string): string | undefined {
  const raw = fields.get(type);
  return raw ? readAscii(raw, what) : undefined;
}

function vbiosOf(fields: ReadonlyMap<number, Uint8Array>, isSwitch: boolean): { text: string; digits: string } {
  const raw = fields.get(OpaqueType.VBIOS_VERSION);
  if (!raw) malformed('The report has no VBIOS_VERSION field.');
  const text = isSwitch ? readAscii(raw, 'VBIOS_VERSION').toLowerCase() : formatGpuVbios(raw);
  if (!/^[0-9a-f]{2}(\.[0-9a-f]{2}){4}$/.test(text)) malformed('The VBIOS version is not five dotted hex pairs.');
  return { text, digits: text.replace(/\./g, '').toUpperCase() };
}

/** Interprets the opaque fields of a GPU (`isSwitch` false) or an NVSwitch report. */
export function readOpaqueInfo(fields: ReadonlyMap<number, Uint8Array>, isSwitch: boolean): OpaqueInfo {
  const driver = optionalAscii(fields, OpaqueType.DRIVER_VERSION, 'DRIVER_VERSION');
  if (!isSwitch && driver === undefined) malformed('The GPU report has no DRIVER_VERSION field.');
  if (driver !== undefined && !VERSION_RE.test(driver)) malformed('The driver version is not a version string.');
  const vbios = vbiosOf(fields, isSwitch);
  const fwid = fields.get(OpaqueType.FWID);
  if (fwid && fwid.length !== 48) malformed(`The FWID field has ${fwid.length} bytes, not 48.`);
  const versionRaw = fields.get(OpaqueType.OPAQUE_DATA_VERSION);
  const info: { -readonly [K in keyof OpaqueInfo]: OpaqueInfo[K] } = {
    vbiosVersion: vbios.text,
    vbiosRimDigits: vbios.digits,
    featureFlag: featureFlagOf(fields),
  };
  if (driver !== undefined) info.driverVersion = driver;
  const project = optionalAscii(fields, OpaqueType.PROJECT, 'PROJECT');
  const projectSku = optionalAscii(fields, OpaqueType.PROJECT_SKU, 'PROJECT_SKU');
  const chipSku = optionalAscii(fields, OpaqueType.CHIP_SKU, 'CHIP_SKU');
  const chipInfo = optionalAscii(fields, OpaqueType.CHIP_INFO, 'CHIP_INFO');
  if (project) info.project = project;
  if (projectSku) info.projectSku = projectSku;
  if (chipSku) info.chipSku = chipSku;
  if (chipInfo) info.chipInfo = chipInfo;
  if (fwid) info.fwid = fwid;
  const nvdec = nvdec0Of(fields.get(OpaqueType.NVDEC0_STATUS));
  if (nvdec) info.nvdec0 = nvdec;
  if (versionRaw) info.opaqueDataVersion = readLittleEndian(versionRaw, 'OPAQUE_DATA_VERSION');
  return info;
}

function nvdec0Of(raw: Uint8Array | undefined): OpaqueInfo['nvdec0'] {
  if (!raw) return undefined;
  const byte = raw.length === 1 ? raw[0] : undefined;
  return byte === NVDEC0_ENABLED ? 'enabled' : byte === NVDEC0_DISABLED ? 'disabled' : 'unknown';
}
