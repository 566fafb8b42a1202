// Picks the evidence providers for the workload commands' flags (docs/simulator.md): `--simulate snp|tdx`
// with `--gpus N` (the development CA in the data dir), otherwise configfs-tsm; `--gpu-evidence-cmd CMD` adds GPUs.
import { fromHex } from '../encoding.js';
import { openDevCa } from '../dev/ca.js';
import { createConfigfsTsmProvider, type TsmFileSystem } from '../agent/evidence/configfs-tsm.js';
import { createGpuCommandProvider } from '../agent/evidence/gpu-command.js';
import { composeProviders, EvidenceProviderError, type EvidenceProvider } from '../agent/evidence/provider.js';
import { createSimulatorProvider } from '../dev/simulator-provider.js';

export interface EvidenceSourceOptions {
  /** `--simulate`: produce simulated evidence instead of asking the hardware. */
  readonly simulate?: 'snp' | 'tdx';
  /** `--gpus N`: simulated GPUs (only with `simulate`). */
  readonly gpus?: number;
  /** `--measurement HEX`: the simulated SNP MEASUREMENT or TDX MRTD (48 bytes). */
  readonly measurement?: string;
  /** `--gpu-evidence-cmd CMD`: real GPU evidence from a command. */
  readonly gpuEvidenceCmd?: string;
  readonly gpuCommandTimeoutMs?: number;
  /** The environment the GPU command runs in (pass the agent's own; when absent it gets only KEYWARD_GPU_NONCE). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** keyward's data directory (the development CA lives in `<dataDir>/dev-ca`). */
  readonly dataDir: string;
  /** Now, for creating the development CA on first use. */
  readonly now: Date;
  /** configfs-tsm report directory and file system (tests). */
  readonly tsmRoot?: string;
  readonly tsmFs?: TsmFileSystem;
}

function usage(message: string): EvidenceProviderError {
  return new EvidenceProviderError('ERR_AGENT_OPTIONS_INVALID', message);
}

function measurementBytes(hex: string | undefined): Uint8Array | undefined {
  if (hex === undefined) return undefined;
  const bytes = fromHex(hex);
  if (!bytes || bytes.length !== 48) throw usage('--measurement must be 96 hex digits (48 bytes).');
  return bytes;
}

/** The provider the flags ask for; simulated evidence opens (or creates) the development CA. */
export async function createEvidenceProvider(opts: EvidenceSourceOptions): Promise<EvidenceProvider> {
  if (!opts.simulate && opts.gpus !== undefined && opts.gpus > 0) throw usage('--gpus simulates GPUs and needs --simulate; real GPUs report through --gpu-evidence-cmd.');
  if (!opts.simulate && opts.measurement !== undefined) throw usage('--measurement sets simulated evidence and needs --simulate.');
  if (opts.simulate && opts.gpus && opts.gpuEvidenceCmd) throw usage('--gpus and --gpu-evidence-cmd both supply GPU evidence; pick one.');
  const providers: EvidenceProvider[] = [];
  if (opts.simulate) {
    const measurement = measurementBytes(opts.measurement);
    const ca = await openDevCa({ dataDir: opts.dataDir, now: opts.now });
    providers.push(
      createSimulatorProvider({
        tee: opts.simulate,
        ca,
        gpus: opts.gpus ?? 0,
        ...(measurement ? { snp: { measurement }, tdx: { mrTd: measurement } } : {}),
      }),
    );
  } else {
    providers.push(createConfigfsTsmProvider({ ...(opts.tsmRoot ? { root: opts.tsmRoot } : {}), ...(opts.tsmFs ? { fs: opts.tsmFs } : {}) }));
  }
  if (opts.gpuEvidenceCmd !== undefined) {
    providers.push(
      createGpuCommandProvider({
        command: opts.gpuEvidenceCmd,
        env: opts.env ?? {},
        ...(opts.gpuCommandTimeoutMs ? { timeoutMs: opts.gpuCommandTimeoutMs } : {}),
      }),
    );
  }
  return composeProviders(providers);
}
