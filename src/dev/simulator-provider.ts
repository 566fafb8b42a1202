// The TEE simulator (`--simulate snp|tdx`, `--gpus N`; docs/simulator.md): evidence of the real formats —
// SEV-SNP report v3 signed by a VCEK, TDX v4 quote with a PCK chain, NVIDIA SPDM reports — bound to `bind`
// and signed by the development CA (src/dev/ca.ts), whose certificates say SIMULATED in their subjects.
import { createHash, randomBytes } from 'node:crypto';
import { toBase64 } from '../encoding.js';
import type { DevCa } from './ca.js';
import { MAX_DEV_GPUS } from './ca.js';
import { buildSnpReport, signSnpReport } from './snp.js';
import { pckChainPem } from './dcap.js';
import { createQuotingEnclave, mintTdxQuote, type QuotingEnclave } from './dcap-quote.js';
import { mintGpuReport } from './nvidia-evidence.js';
import { devPrivateKeyObject } from './pki.js';
import { checkBind, composeProviders, EvidenceProviderError, gpuNonceOf, type EvidenceProvider } from '../agent/evidence/provider.js';

const sha384 = (label: string): Uint8Array => new Uint8Array(createHash('sha384').update(label).digest());

/**
 * Default measurements: SHA-384 of fixed labels, so they look like real ones and stay the same from run to
 * run (a policy can pin them). Override them through the options.
 */
export const SIMULATED_DEFAULTS = {
  snpMeasurement: sha384('keyward simulated SEV-SNP guest'),
  tdxMrTd: sha384('keyward simulated TDX guest'),
  tdxRtmr: [0, 1, 2, 3].map((i) => sha384(`keyward simulated TDX RTMR${i}`)),
} as const;

/** SEV-SNP guest policy: SMT allowed (bit 16), the reserved must-be-one bit 17; DEBUG (bit 19) only on request. */
const SNP_POLICY = 0x30000n;
const SNP_POLICY_DEBUG = 1n << 19n;

export interface SimulatedSnpOptions {
  /** MEASUREMENT, 48 bytes. */
  readonly measurement?: Uint8Array;
  readonly hostData?: Uint8Array;
  readonly familyId?: Uint8Array;
  readonly imageId?: Uint8Array;
  readonly guestSvn?: number;
  readonly vmpl?: number;
  /** Sets the guest policy's DEBUG bit (off by default). */
  readonly debug?: boolean;
}

export interface SimulatedTdxOptions {
  /** MRTD, 48 bytes. */
  readonly mrTd?: Uint8Array;
  /** RTMR0..3, 48 bytes each. */
  readonly rtmr?: readonly Uint8Array[];
  readonly mrConfigId?: Uint8Array;
  readonly mrOwner?: Uint8Array;
  readonly mrOwnerConfig?: Uint8Array;
  /** Sets TD_ATTRIBUTES.DEBUG (off by default). */
  readonly debug?: boolean;
}

export interface SimulatorOptions {
  readonly tee: 'snp' | 'tdx';
  /** Simulated GPUs (0..32), each an NVIDIA H100 look-alike. */
  readonly gpus?: number;
  readonly ca: DevCa;
  readonly snp?: SimulatedSnpOptions;
  readonly tdx?: SimulatedTdxOptions;
}

function options(message: string): EvidenceProviderError {
  return new EvidenceProviderError('ERR_AGENT_OPTIONS_INVALID', message);
}

function checkLength(value: Uint8Array | undefined, length: number, name: string): void {
  if (value !== undefined && value.length !== length) throw options(`The simulated ${name} must be ${length} bytes.`);
}

export function createSimulatedSnpProvider(ca: DevCa, opts: SimulatedSnpOptions = {}): EvidenceProvider {
  checkLength(opts.measurement, 48, 'MEASUREMENT');
  checkLength(opts.hostData, 32, 'HOST_DATA');
  checkLength(opts.familyId, 16, 'FAMILY_ID');
  checkLength(opts.imageId, 16, 'IMAGE_ID');
  if (opts.vmpl !== undefined && !(Number.isInteger(opts.vmpl) && opts.vmpl >= 0 && opts.vmpl <= 3)) throw options('The simulated VMPL must be 0..3.');
  const { vcek, chipId, tcb, pki } = ca.amd;
  const signingKey = devPrivateKeyObject(vcek.keys);
  // One guest per provider: REPORT_ID stays the same across its reports, as on a real VM.
  const reportId = new Uint8Array(randomBytes(32));
  const certs = [vcek.der, pki.ask.der, pki.ark.der].map(toBase64);
  return {
    name: 'simulator:snp',
    async collect(bind) {
      checkBind(bind);
      const report = buildSnpReport({
        product: pki.product,
        version: 3,
        policy: SNP_POLICY | (opts.debug ? SNP_POLICY_DEBUG : 0n),
        reportedTcb: tcb,
        chipId,
        reportId,
        reportData: bind,
        measurement: opts.measurement ?? SIMULATED_DEFAULTS.snpMeasurement,
        ...(opts.hostData ? { hostData: opts.hostData } : {}),
        ...(opts.familyId ? { familyId: opts.familyId } : {}),
        ...(opts.imageId ? { imageId: opts.imageId } : {}),
        ...(opts.guestSvn !== undefined ? { guestSvn: opts.guestSvn } : {}),
        ...(opts.vmpl !== undefined ? { vmpl: opts.vmpl } : {}),
      });
      return [{ type: 'snp', report: toBase64(signSnpReport(report, signingKey)), certs }];
    },
  };
}

/** TD_ATTRIBUTES: SEPT_VE_DISABLE (bit 28) as a production TD sets it; DEBUG (bit 0) only on request. */
function tdAttributes(debug: boolean): Uint8Array {
  return Uint8Array.from([debug ? 1 : 0, 0, 0, 0x10, 0, 0, 0, 0]);
}

export function createSimulatedTdxProvider(ca: DevCa, opts: SimulatedTdxOptions = {}): EvidenceProvider {
  checkLength(opts.mrTd, 48, 'MRTD');
  checkLength(opts.mrConfigId, 48, 'MRCONFIGID');
  checkLength(opts.mrOwner, 48, 'MROWNER');
  checkLength(opts.mrOwnerConfig, 48, 'MROWNERCONFIG');
  if (opts.rtmr !== undefined && (opts.rtmr.length !== 4 || opts.rtmr.some((r) => r.length !== 48))) throw options('The simulated RTMRs must be four of 48 bytes.');
  let qe: QuotingEnclave | undefined;
  return {
    name: 'simulator:tdx',
    async collect(bind) {
      checkBind(bind);
      qe ??= createQuotingEnclave({ tee: 'tdx', pckKey: devPrivateKeyObject(ca.intel.pck.keys), pckChainPem: pckChainPem(ca.intel, ca.intel.pck) });
      const quote = mintTdxQuote(
        qe,
        {
          reportData: bind,
          tdAttributes: tdAttributes(opts.debug ?? false),
          mrTd: opts.mrTd ?? SIMULATED_DEFAULTS.tdxMrTd,
          rtmr: opts.rtmr ?? SIMULATED_DEFAULTS.tdxRtmr,
          ...(opts.mrConfigId ? { mrConfigId: opts.mrConfigId } : {}),
          ...(opts.mrOwner ? { mrOwner: opts.mrOwner } : {}),
          ...(opts.mrOwnerConfig ? { mrOwnerConfig: opts.mrOwnerConfig } : {}),
        },
        { version: 4 },
      );
      return [{ type: 'tdx', quote: toBase64(quote) }];
    },
  };
}

/** N simulated GPUs (stable identities from the CA), each signing an SPDM report over bind[0..32). */
export function createSimulatedGpuProvider(ca: DevCa, count: number): EvidenceProvider {
  if (!Number.isInteger(count) || count < 1 || count > MAX_DEV_GPUS) throw options(`The number of simulated GPUs must be 1..${MAX_DEV_GPUS}.`);
  const { firmware, pki } = ca.nvidia;
  return {
    name: `simulator:${count}gpu`,
    async collect(bind) {
      checkBind(bind);
      const nonce = gpuNonceOf(bind);
      const gpus = await ca.gpus(count);
      return gpus.map((gpu) => ({
        type: 'nvidia-gpu' as const,
        report: toBase64(mintGpuReport(gpu, firmware, nonce, { chip: pki.chip })),
        certChain: gpu.certChain,
      }));
    },
  };
}

/** The simulated CPU TEE and, with `gpus`, that many simulated GPUs: one evidence set. */
export function createSimulatorProvider(opts: SimulatorOptions): EvidenceProvider {
  if (opts.tee !== 'snp' && opts.tee !== 'tdx') throw options('--simulate takes snp or tdx.');
  const gpus = opts.gpus ?? 0;
  if (!Number.isInteger(gpus) || gpus < 0 || gpus > MAX_DEV_GPUS) throw options(`--gpus must be 0..${MAX_DEV_GPUS}.`);
  const cpu = opts.tee === 'snp' ? createSimulatedSnpProvider(opts.ca, opts.snp) : createSimulatedTdxProvider(opts.ca, opts.tdx);
  return gpus === 0 ? cpu : composeProviders([cpu, createSimulatedGpuProvider(opts.ca, gpus)]);
}
