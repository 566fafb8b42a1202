// Whole synthetic NVIDIA evidence sets for tests and the simulator (`--gpus N`): N GPUs with one
// firmware, each signing the same nonce, plus the driver and VBIOS RIMs that vouch for that firmware.
import { randomBytes } from 'node:crypto';
import type { EvidenceItem } from '../evidence/types.js';
import { buildSpdmReportBody, createNvidiaDevPki, gpuOpaqueFields, mintDevGpu, signSpdmReport, type DevGpu, type NvidiaDevPki } from './nvidia.js';
import { createNvidiaDevRimPki, mintRim, rimEntries, type NvidiaDevRimPki } from './nvidia-rim.js';

export interface DevGpuFirmware {
  readonly driverVersion: string;
  readonly vbiosVersion: string;
  readonly project: string;
  readonly projectSku: string;
  readonly chipSku: string;
  /** 64 measurement values (48 bytes); inactive ones are zero. */
  readonly measurements: readonly Uint8Array[];
  /** 0-based indices the driver RIM vouches for. */
  readonly driverActive: readonly number[];
  /** 0-based indices the VBIOS RIM vouches for. */
  readonly vbiosActive: readonly number[];
}

/** NVIDIA's split seen on H100 550.90.07: driver {7, 21..40}, VBIOS {0..6, 8..12}. */
const DRIVER_ACTIVE = [7, ...Array.from({ length: 20 }, (_, i) => 21 + i)];
const VBIOS_ACTIVE = [0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12];

export function devGpuFirmware(overrides: Partial<DevGpuFirmware> = {}): DevGpuFirmware {
  const driverActive = overrides.driverActive ?? DRIVER_ACTIVE;
  const vbiosActive = overrides.vbiosActive ?? VBIOS_ACTIVE;
  const active = new Set([...driverActive, ...vbiosActive]);
  return {
    driverVersion: '550.90.07',
    vbiosVersion: '96.00.9f.00.01',
    project: '1010',
    projectSku: '0200',
    chipSku: '882',
    measurements: Array.from({ length: 64 }, (_, i) => (active.has(i) ? new Uint8Array(randomBytes(48)) : new Uint8Array(48))),
    driverActive,
    vbiosActive,
    ...overrides,
  };
}

export interface MintReportOptions {
  readonly chip?: 'GH100' | 'GB100';
  readonly featureFlag?: number;
  /** Replace measurement values (0-based index → value), e.g. to mint a mismatch. */
  readonly overrides?: ReadonlyMap<number, Uint8Array>;
}

/** A signed attestation report from `gpu` running `fw`, over `nonce`. */
export function mintGpuReport(gpu: DevGpu, fw: DevGpuFirmware, nonce: Uint8Array, opts: MintReportOptions = {}): Uint8Array {
  const chip = opts.chip ?? 'GH100';
  const measurements = fw.measurements.map((m, i) => opts.overrides?.get(i) ?? m);
  const opaque = gpuOpaqueFields({
    driverVersion: fw.driverVersion,
    vbiosVersion: fw.vbiosVersion,
    project: fw.project,
    projectSku: fw.projectSku,
    chipSku: fw.chipSku,
    fwid: gpu.fwid,
    ...(chip === 'GB100' ? { chipInfo: 'GB100' } : {}),
    ...(opts.featureFlag !== undefined ? { featureFlag: opts.featureFlag } : {}),
  });
  return signSpdmReport(buildSpdmReportBody({ nonce, measurements, opaque }), gpu.attestationKey);
}

/** The driver and VBIOS RIMs for `fw`, signed by the dev RIM PKI's L4 signer. */
export function mintFirmwareRims(rimPki: NvidiaDevRimPki, fw: DevGpuFirmware, product: string): { driver: string; vbios: string } {
  const chain = [rimPki.l3, rimPki.ca, rimPki.root];
  const entriesFor = (indices: readonly number[]): ReturnType<typeof rimEntries> =>
    rimEntries(new Map(indices.map((i) => [i, [fw.measurements[i] as Uint8Array]])));
  return {
    driver: mintRim({ product, version: fw.driverVersion, entries: entriesFor(fw.driverActive), signer: rimPki.signer, chain }),
    vbios: mintRim({ product, version: fw.vbiosVersion.toUpperCase(), entries: entriesFor(fw.vbiosActive), signer: rimPki.signer, chain }),
  };
}

export interface DevNvidiaEvidenceOptions {
  readonly gpus: number;
  readonly nonce: Uint8Array;
  /** Start of every certificate's validity; they last ten years from it. */
  readonly now: Date;
  readonly label?: string;
  readonly chip?: 'GH100' | 'GB100';
  readonly firmware?: DevGpuFirmware;
  readonly pki?: NvidiaDevPki;
  readonly rimPki?: NvidiaDevRimPki;
}

export interface DevNvidiaEvidence {
  readonly items: Extract<EvidenceItem, { type: 'nvidia-gpu' }>[];
  /** Driver RIM, VBIOS RIM. */
  readonly rims: string[];
  readonly gpus: readonly DevGpu[];
  readonly firmware: DevGpuFirmware;
  readonly pki: NvidiaDevPki;
  readonly rimPki: NvidiaDevRimPki;
  /** DER of the device root and the RIM root: configure them as extra anchors to trust this evidence. */
  readonly anchorsDer: Uint8Array[];
}

const TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000;

/** Mints N GPUs (one firmware, one nonce) with matching RIMs. */
export async function mintNvidiaGpuEvidence(opts: DevNvidiaEvidenceOptions): Promise<DevNvidiaEvidence> {
  const chip = opts.chip ?? opts.pki?.chip ?? 'GH100';
  const validity = { notBefore: opts.now, notAfter: new Date(opts.now.getTime() + TEN_YEARS_MS) };
  const label = opts.label ?? 'SIMULATED';
  const pki = opts.pki ?? (await createNvidiaDevPki({ label, chip, ...validity }));
  const rimPki = opts.rimPki ?? (await createNvidiaDevRimPki({ label, ...validity }));
  const firmware = opts.firmware ?? devGpuFirmware();
  const gpus: DevGpu[] = [];
  for (let i = 0; i < opts.gpus; i++) gpus.push(await mintDevGpu(pki));
  const items = gpus.map((gpu) => ({
    type: 'nvidia-gpu' as const,
    report: mintGpuReport(gpu, firmware, opts.nonce, { chip, ...(chip === 'GB100' ? { featureFlag: opts.gpus > 1 ? 1 : 0 } : {}) }),
    certChain: gpu.certChain,
  }));
  const rims = mintFirmwareRims(rimPki, firmware, chip);
  return { items, rims: [rims.driver, rims.vbios], gpus, firmware, pki, rimPki, anchorsDer: [pki.deviceRoot.der, rimPki.root.der] };
}
