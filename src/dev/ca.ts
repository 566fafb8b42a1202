// The development CA behind the TEE simulator (docs/simulator.md): look-alike AMD (ARK/ASK/ASVK and a
// VCEK), Intel (SGX Root CA, PCK CA, PCK, TCB Signing) and NVIDIA (device identity and CoRIM) PKIs whose
// names say SIMULATED, created on first use in <dataDir>/dev-ca and reused after. Nothing here is trusted
// unless its roots are configured through KEYWARD_EXTRA_ANCHORS.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SnpTcb } from '../evidence/snp/claims.js';
import { DEV_CA_ORGANIZATION as SIMULATED_ORGANIZATION } from '../evidence/anchors.js';
import { createAmdLookalikePki, DEFAULT_TCB, issueVcek, type AmdLookalikePki } from './snp.js';
import { createDcapTestPki, defaultPkiNames, type DcapTestPki } from './dcap.js';
import { createNvidiaDevPki, mintDevGpu, type DevGpu, type NvidiaDevPki } from './nvidia.js';
import { createNvidiaDevRimPki, type NvidiaDevRimPki } from './nvidia-rim.js';
import { devGpuFirmware, type DevGpuFirmware } from './nvidia-evidence.js';
import { devPrivateKeyObject, type DevCertificate } from './pki.js';
import {
  DIR_MODE,
  devCaInvalid,
  loadDevCertificate,
  pathExists,
  publishDirectory,
  saveDevCertificate,
  stagingDirectory,
} from './ca-store.js';
import { encodeDevCaState, parseDevCaState, type DevCaState } from './ca-state.js';

export const DEV_CA_DIR = 'dev-ca';
/** The O= of every simulated certificate (and the label of the NVIDIA names): it says SIMULATED. */
export const DEV_CA_ORGANIZATION = SIMULATED_ORGANIZATION;
/** At most this many simulated GPUs (an evidence set holds one CPU item and up to 32 more). */
export const MAX_DEV_GPUS = 32;

const CERT_LIFETIME_MS = 10 * 365 * 24 * 3600 * 1000;
/** Certificates start a day early so a server whose clock lags the agent's still accepts them. */
const BACKDATE_MS = 24 * 3600 * 1000;

export interface DevCaOptions {
  /** keyward's data directory; the CA lives in `<dataDir>/dev-ca`. */
  readonly dataDir: string;
  /** The time used when the CA is created (certificate validity starts a day before it). */
  readonly now: Date;
  /** AMD's keys are RSA-4096 (the default); tests may ask for 2048, which is much faster to create. */
  readonly amdKeyAlgorithm?: 'rsa-pss-4096' | 'rsa-pss-2048';
}

export interface DevCaRoot {
  /** File name under `anchors/` in a `keyward dev ca --out` bundle. */
  readonly file: string;
  readonly cert: DevCertificate;
}

export interface DevCa {
  readonly dir: string;
  readonly createdAt: Date;
  readonly amd: { readonly pki: AmdLookalikePki; readonly vcek: DevCertificate; readonly chipId: Uint8Array; readonly tcb: SnpTcb };
  readonly intel: DcapTestPki;
  readonly nvidia: { readonly pki: NvidiaDevPki; readonly rimPki: NvidiaDevRimPki; readonly firmware: DevGpuFirmware };
  /** The self-signed roots: what a server must trust (KEYWARD_EXTRA_ANCHORS) to accept simulated evidence. */
  readonly roots: readonly DevCaRoot[];
  /** The first `count` simulated GPUs, created on first use and kept in the CA (stable identities). */
  gpus(count: number): Promise<readonly DevGpu[]>;
}

const AMD_FILES = ['ark', 'ask', 'asvk', 'vcek'] as const;
const INTEL_FILES = ['root', 'pck-ca', 'pck', 'tcb-signing'] as const;
const NVIDIA_FILES = ['device-root', 'identity', 'provisioner', 'rim-root', 'rim-ca', 'rim-l3', 'rim-signer'] as const;

async function saveAll(dir: string, certs: Readonly<Record<string, DevCertificate>>): Promise<void> {
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
  for (const [name, cert] of Object.entries(certs)) await saveDevCertificate(dir, name, cert);
}

async function loadAll<N extends string>(dir: string, names: readonly N[]): Promise<Record<N, DevCertificate>> {
  const out = {} as Record<N, DevCertificate>;
  for (const name of names) out[name] = await loadDevCertificate(dir, name);
  return out;
}

/** Mints every PKI of a new CA into `staging`. */
async function mintInto(staging: string, opts: DevCaOptions): Promise<void> {
  const validity = { notBefore: new Date(opts.now.getTime() - BACKDATE_MS), notAfter: new Date(opts.now.getTime() + CERT_LIFETIME_MS) };
  const chipId = new Uint8Array(randomBytes(64));
  const tcb = DEFAULT_TCB.Milan;
  const amd = await createAmdLookalikePki({
    product: 'Milan',
    algorithm: opts.amdKeyAlgorithm ?? 'rsa-pss-4096',
    organization: DEV_CA_ORGANIZATION,
    ...validity,
  });
  const vcek = await issueVcek(amd, { chipId, tcb, ...validity });
  const intel = await createDcapTestPki({ ...validity, names: { ...defaultPkiNames('platform'), organization: DEV_CA_ORGANIZATION } });
  const nvidia = await createNvidiaDevPki({ label: DEV_CA_ORGANIZATION, chip: 'GH100', ...validity });
  const rim = await createNvidiaDevRimPki({ label: DEV_CA_ORGANIZATION, ...validity });
  await saveAll(join(staging, 'amd'), { ark: amd.ark, ask: amd.ask, asvk: amd.asvk, vcek });
  await saveAll(join(staging, 'intel'), { root: intel.root, 'pck-ca': intel.pckCa, pck: intel.pck, 'tcb-signing': intel.tcbSigning });
  await saveAll(join(staging, 'nvidia'), {
    'device-root': nvidia.deviceRoot,
    identity: nvidia.identity,
    provisioner: nvidia.provisioner,
    'rim-root': rim.root,
    'rim-ca': rim.ca,
    'rim-l3': rim.l3,
    'rim-signer': rim.signer,
  });
  const state: DevCaState = {
    createdAt: opts.now,
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
    amd: { product: 'Milan', chipId, tcb },
    intel: { pck: intel.pckValues },
    nvidia: { chip: 'GH100', firmware: devGpuFirmware() },
  };
  await writeFile(join(staging, 'state.json'), encodeDevCaState(state), { mode: 0o644 });
}

async function loadGpu(dir: string, pki: NvidiaDevPki, index: number): Promise<DevGpu> {
  const gpuDir = join(dir, 'nvidia', 'gpus', String(index));
  if (!(await pathExists(join(gpuDir, 'fwid.hex')))) {
    const staging = await stagingDirectory(gpuDir);
    const gpu = await mintDevGpu(pki);
    await saveAll(staging, { brom: gpu.brom, leaf: gpu.leaf });
    await writeFile(join(staging, 'fwid.hex'), `${Buffer.from(gpu.fwid).toString('hex')}\n`);
    // Another agent may have created this GPU meanwhile: then its identity is the one kept.
    if (await publishDirectory(staging, gpuDir)) return gpu;
  }
  const { brom, leaf } = await loadAll(gpuDir, ['brom', 'leaf'] as const);
  const fwid = new Uint8Array(Buffer.from((await readFile(join(gpuDir, 'fwid.hex'), 'latin1')).trim(), 'hex'));
  const certChain = [leaf, brom, pki.provisioner, pki.identity, pki.deviceRoot].map((c) => c.pem).join('\n');
  return { brom, leaf, certChain, attestationKey: devPrivateKeyObject(leaf.keys), fwid };
}

async function loadCertificates(dir: string) {
  try {
    return {
      amd: await loadAll(join(dir, 'amd'), AMD_FILES),
      intel: await loadAll(join(dir, 'intel'), INTEL_FILES),
      nvidia: await loadAll(join(dir, 'nvidia'), NVIDIA_FILES),
    };
  } catch (cause) {
    throw devCaInvalid(dir, 'a certificate or key is missing or unreadable', cause);
  }
}

async function loadDevCa(dir: string): Promise<DevCa> {
  let state: DevCaState;
  try {
    state = parseDevCaState(await readFile(join(dir, 'state.json'), 'utf8'));
  } catch (cause) {
    throw devCaInvalid(dir, 'state.json is missing or malformed', cause);
  }
  const { amd, intel, nvidia } = await loadCertificates(dir);
  const validity = { notBefore: state.notBefore, notAfter: state.notAfter };
  const amdPki: AmdLookalikePki = {
    product: state.amd.product,
    names: { organization: DEV_CA_ORGANIZATION, organizationalUnit: 'Engineering' },
    ark: amd.ark,
    ask: amd.ask,
    asvk: amd.asvk,
  };
  const intelPki: DcapTestPki = {
    root: intel.root,
    pckCa: intel['pck-ca'],
    pck: intel.pck,
    tcbSigning: intel['tcb-signing'],
    pckValues: state.intel.pck,
    names: { ...defaultPkiNames('platform'), organization: DEV_CA_ORGANIZATION },
    ...validity,
  };
  const nvidiaPki: NvidiaDevPki = {
    label: DEV_CA_ORGANIZATION,
    chip: state.nvidia.chip,
    deviceRoot: nvidia['device-root'],
    identity: nvidia.identity,
    provisioner: nvidia.provisioner,
    ...validity,
  };
  const rimPki: NvidiaDevRimPki = { root: nvidia['rim-root'], ca: nvidia['rim-ca'], l3: nvidia['rim-l3'], signer: nvidia['rim-signer'] };
  const loaded = new Map<number, Promise<DevGpu>>();
  return {
    dir,
    createdAt: state.createdAt,
    amd: { pki: amdPki, vcek: amd.vcek, chipId: state.amd.chipId, tcb: state.amd.tcb },
    intel: intelPki,
    nvidia: { pki: nvidiaPki, rimPki, firmware: state.nvidia.firmware },
    roots: [
      { file: `amd-ark-${state.amd.product.toLowerCase()}.pem`, cert: amd.ark },
      { file: 'intel-sgx-root-ca.pem', cert: intel.root },
      { file: 'nvidia-device-identity-ca.pem', cert: nvidia['device-root'] },
      { file: 'nvidia-corim-signing-root-ca.pem', cert: nvidia['rim-root'] },
    ],
    async gpus(count) {
      if (!Number.isInteger(count) || count < 0 || count > MAX_DEV_GPUS) throw new RangeError(`gpus must be 0..${MAX_DEV_GPUS}`);
      const out: DevGpu[] = [];
      for (let i = 0; i < count; i++) {
        let gpu = loaded.get(i);
        if (!gpu) loaded.set(i, (gpu = loadGpu(dir, nvidiaPki, i)));
        out.push(await gpu);
      }
      return out;
    },
  };
}

/**
 * Opens the development CA in `<dataDir>/dev-ca`, creating it on first use (keys PKCS#8 PEM, 0600). Two
 * processes opening a missing CA at once both mint one, but only the first to publish it is kept.
 */
export async function openDevCa(opts: DevCaOptions): Promise<DevCa> {
  const dir = join(opts.dataDir, DEV_CA_DIR);
  if (!(await pathExists(join(dir, 'state.json')))) {
    const staging = await stagingDirectory(dir);
    try {
      await mintInto(staging, opts);
    } catch (err) {
      await rm(staging, { recursive: true, force: true });
      throw err;
    }
    await publishDirectory(staging, dir);
  }
  return loadDevCa(dir);
}
