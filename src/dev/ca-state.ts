// state.json of the development CA (docs/simulator.md): the values its certificates and simulated
// evidence are built from (AMD chip ID and TCB, Intel PCK values, NVIDIA firmware), read back strictly.
import type { SnpTcb } from '../evidence/snp/claims.js';
import type { PckValues } from './dcap.js';
import type { DevGpuFirmware } from './nvidia-evidence.js';

const FORMAT = 'keyward-dev-ca/1';

export interface DevCaState {
  readonly createdAt: Date;
  /** Validity of every certificate of the CA. */
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly amd: { readonly product: 'Milan'; readonly chipId: Uint8Array; readonly tcb: SnpTcb };
  readonly intel: { readonly pck: PckValues };
  readonly nvidia: { readonly chip: 'GH100'; readonly firmware: DevGpuFirmware };
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

export function encodeDevCaState(state: DevCaState): string {
  const { pck } = state.intel;
  const fw = state.nvidia.firmware;
  const doc = {
    format: FORMAT,
    createdAt: state.createdAt.toISOString(),
    notBefore: state.notBefore.toISOString(),
    notAfter: state.notAfter.toISOString(),
    amd: { product: state.amd.product, chipId: hex(state.amd.chipId), tcb: state.amd.tcb },
    intel: { pck: { ...pck, ppid: hex(pck.ppid), cpuSvn: hex(pck.cpuSvn) } },
    nvidia: { chip: state.nvidia.chip, firmware: { ...fw, measurements: fw.measurements.map(hex) } },
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

type Obj = Record<string, unknown>;

function fail(path: string): never {
  throw new Error(`state.json: ${path} is missing or invalid`);
}

function obj(value: unknown, path: string): Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Obj) : fail(path);
}

function str(o: Obj, key: string, path: string): string {
  const v = o[key];
  return typeof v === 'string' ? v : fail(`${path}.${key}`);
}

function int(o: Obj, key: string, path: string, max = 0xffff): number {
  const v = o[key];
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max ? v : fail(`${path}.${key}`);
}

function ints(o: Obj, key: string, path: string, max: number): number[] {
  const v = o[key];
  if (!Array.isArray(v) || !v.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= max)) fail(`${path}.${key}`);
  return v as number[];
}

function bytes(text: string, length: number | undefined, path: string): Uint8Array {
  if (!/^([0-9a-f]{2})*$/.test(text) || (length !== undefined && text.length !== 2 * length)) fail(path);
  return new Uint8Array(Buffer.from(text, 'hex'));
}

function date(o: Obj, key: string, path: string): Date {
  const d = new Date(str(o, key, path));
  return Number.isNaN(d.getTime()) ? fail(`${path}.${key}`) : d;
}

function parseTcb(value: unknown, path: string): SnpTcb {
  const t = obj(value, path);
  const tcb = { bootloader: int(t, 'bootloader', path, 255), tee: int(t, 'tee', path, 255), snp: int(t, 'snp', path, 255), microcode: int(t, 'microcode', path, 255) };
  return t['fmc'] === undefined ? tcb : { ...tcb, fmc: int(t, 'fmc', path, 255) };
}

function parsePck(value: unknown): PckValues {
  const p = obj(value, 'intel.pck');
  const components = ints(p, 'sgxTcbComponents', 'intel.pck', 255);
  if (components.length !== 16) fail('intel.pck.sgxTcbComponents');
  return {
    ppid: bytes(str(p, 'ppid', 'intel.pck'), 16, 'intel.pck.ppid'),
    sgxTcbComponents: components,
    pceSvn: int(p, 'pceSvn', 'intel.pck'),
    cpuSvn: bytes(str(p, 'cpuSvn', 'intel.pck'), 16, 'intel.pck.cpuSvn'),
    pceId: str(p, 'pceId', 'intel.pck'),
    fmspc: str(p, 'fmspc', 'intel.pck'),
    sgxType: int(p, 'sgxType', 'intel.pck', 255),
  };
}

function parseFirmware(value: unknown): DevGpuFirmware {
  const path = 'nvidia.firmware';
  const f = obj(value, path);
  const measurements = f['measurements'];
  if (!Array.isArray(measurements) || measurements.length !== 64) fail(`${path}.measurements`);
  return {
    driverVersion: str(f, 'driverVersion', path),
    vbiosVersion: str(f, 'vbiosVersion', path),
    project: str(f, 'project', path),
    projectSku: str(f, 'projectSku', path),
    chipSku: str(f, 'chipSku', path),
    measurements: measurements.map((m, i) => bytes(typeof m === 'string' ? m : '', 48, `${path}.measurements[${i}]`)),
    driverActive: ints(f, 'driverActive', path, 63),
    vbiosActive: ints(f, 'vbiosActive', path, 63),
  };
}

/** Parses state.json; anything unexpected throws (the caller reports the CA as unusable). */
export function parseDevCaState(text: string): DevCaState {
  const doc = obj(JSON.parse(text), 'the document');
  if (doc['format'] !== FORMAT) fail('format');
  const amd = obj(doc['amd'], 'amd');
  const nvidia = obj(doc['nvidia'], 'nvidia');
  if (amd['product'] !== 'Milan') fail('amd.product');
  if (nvidia['chip'] !== 'GH100') fail('nvidia.chip');
  return {
    createdAt: date(doc, 'createdAt', 'state'),
    notBefore: date(doc, 'notBefore', 'state'),
    notAfter: date(doc, 'notAfter', 'state'),
    amd: { product: 'Milan', chipId: bytes(str(amd, 'chipId', 'amd'), 64, 'amd.chipId'), tcb: parseTcb(amd['tcb'], 'amd.tcb') },
    intel: { pck: parsePck(obj(doc['intel'], 'intel')['pck']) },
    nvidia: { chip: 'GH100', firmware: parseFirmware(nvidia['firmware']) },
  };
}
