// GPU evidence from an external command (`--gpu-evidence-cmd`, docs/simulator.md §"GPU evidence command"):
// run without a shell, given the 32-byte SPDM nonce = bind[0..32) as hex (last argument and KEYWARD_GPU_NONCE),
// it prints `[{"report": b64, "certChain": pem}, ...]` on stdout: one entry per GPU, as NVIDIA's tools give them.
import { spawn } from 'node:child_process';
import { fromAnyBase64, toBase64, toHex } from '../../encoding.js';
import { checkBind, EvidenceProviderError, gpuNonceOf, type EvidenceProvider, type WireEvidence } from './provider.js';

export const DEFAULT_GPU_COMMAND_TIMEOUT_MS = 60_000;
export const MAX_GPU_COMMAND_OUTPUT = 16 * 1024 * 1024;
/** At most this many GPUs (an evidence set holds one CPU item and 32 more). */
export const MAX_GPU_REPORTS = 32;
/** The SPDM request nonce sits at report[0x04..0x24) (GET_MEASUREMENTS: version, code, param1, param2, nonce). */
const NONCE_OFFSET = 0x04;

export interface GpuCommandOptions {
  /** The command: argv as an array, or one string split at whitespace (no quoting, no shell). */
  readonly command: string | readonly string[];
  /** The environment the command runs in (e.g. the agent's own); KEYWARD_GPU_NONCE is added to it. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly timeoutMs?: number;
}

function invalidOutput(message: string): EvidenceProviderError {
  return new EvidenceProviderError('ERR_AGENT_GPU_CMD_OUTPUT_INVALID', `The GPU evidence command's output: ${message}`);
}

/**
 * Splits a command line at ASCII whitespace. Nothing else is interpreted: no quotes, escapes, variables or
 * globs (there is no shell). An argument containing a space needs the array form or a wrapper script.
 */
export function splitCommandLine(line: string): string[] {
  const argv = line.split(/[ \t\r\n]+/).filter((part) => part.length > 0);
  if (argv.length === 0) throw new EvidenceProviderError('ERR_AGENT_OPTIONS_INVALID', 'The GPU evidence command is empty.');
  return argv;
}

function entryToWire(entry: unknown, index: number, nonce: Uint8Array): WireEvidence {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw invalidOutput(`entry ${index} is not an object.`);
  const { report, certChain } = entry as { report?: unknown; certChain?: unknown };
  const bytes = typeof report === 'string' ? fromAnyBase64(report) : undefined;
  if (!bytes || bytes.length === 0) throw invalidOutput(`entry ${index} has no base64 "report".`);
  if (typeof certChain !== 'string' || !certChain.includes('-----BEGIN CERTIFICATE-----')) {
    throw invalidOutput(`entry ${index} has no PEM "certChain".`);
  }
  // Fail here, with a clear message, rather than as a nonce mismatch at the server.
  const reported = bytes.subarray(NONCE_OFFSET, NONCE_OFFSET + nonce.length);
  if (reported.length !== nonce.length || !Buffer.from(reported).equals(Buffer.from(nonce))) {
    throw invalidOutput(`entry ${index}'s report does not carry the nonce it was given.`);
  }
  return { type: 'nvidia-gpu', report: toBase64(bytes), certChain };
}

/** Parses the command's stdout: a non-empty JSON array of {report, certChain}; other fields are ignored. */
export function parseGpuCommandOutput(stdout: string, nonce: Uint8Array): WireEvidence[] {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    throw invalidOutput('not JSON.');
  }
  if (!Array.isArray(doc)) throw invalidOutput('not a JSON array.');
  if (doc.length === 0) throw invalidOutput('an empty array (no GPU reported).');
  if (doc.length > MAX_GPU_REPORTS) throw invalidOutput(`more than ${MAX_GPU_REPORTS} GPUs.`);
  return doc.map((entry, i) => entryToWire(entry, i, nonce));
}

function tail(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '') return '';
  return `: ${trimmed.length > 300 ? `…${trimmed.slice(-300)}` : trimmed}`;
}

interface Finished {
  readonly stdout: string;
}

/** Runs argv (no shell) and resolves with its stdout when it exits 0 within the timeout. */
function runCommand(argv: readonly string[], env: Record<string, string>, timeoutMs: number): Promise<Finished> {
  const [file, ...args] = argv as [string, ...string[]];
  return new Promise((resolve, reject) => {
    // Its own process group, so a timeout ends whatever the command started too.
    const child = spawn(file, args, { env, shell: false, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let outBytes = 0;
    let stderr = '';
    let settled = false;
    const finish = (err: EvidenceProviderError | undefined, result?: Finished): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        try {
          if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
        reject(err);
      } else resolve(result as Finished);
    };
    const timer = setTimeout(
      () => finish(new EvidenceProviderError('ERR_AGENT_GPU_CMD_TIMEOUT', `The GPU evidence command did not finish within ${timeoutMs} ms.`)),
      timeoutMs,
    );
    child.stdout.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > MAX_GPU_COMMAND_OUTPUT) finish(invalidOutput(`more than ${MAX_GPU_COMMAND_OUTPUT} bytes.`));
      else out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4096);
    });
    child.on('error', (cause) =>
      finish(new EvidenceProviderError('ERR_AGENT_GPU_CMD_FAILED', `The GPU evidence command "${file}" could not be started (${(cause as NodeJS.ErrnoException).code ?? cause.message}).`, { cause })),
    );
    child.on('close', (code, signal) => {
      if (code === 0) return finish(undefined, { stdout: Buffer.concat(out).toString('utf8') });
      const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
      finish(new EvidenceProviderError('ERR_AGENT_GPU_CMD_FAILED', `The GPU evidence command ${how}${tail(stderr)}`));
    });
  });
}

/** The gpu-cmd provider: whatever GPUs the command reports, bound to bind[0..32). */
export function createGpuCommandProvider(opts: GpuCommandOptions): EvidenceProvider {
  const argv = typeof opts.command === 'string' ? splitCommandLine(opts.command) : [...opts.command];
  if (argv.length === 0 || argv[0] === '') throw new EvidenceProviderError('ERR_AGENT_OPTIONS_INVALID', 'The GPU evidence command is empty.');
  const timeoutMs = opts.timeoutMs ?? DEFAULT_GPU_COMMAND_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new EvidenceProviderError('ERR_AGENT_OPTIONS_INVALID', 'The GPU command timeout must be a positive integer.');
  const base: Record<string, string> = {};
  for (const [key, value] of Object.entries(opts.env)) if (value !== undefined) base[key] = value;
  return {
    name: 'gpu-cmd',
    async collect(bind) {
      checkBind(bind);
      const nonce = gpuNonceOf(bind);
      const hex = toHex(nonce);
      const { stdout } = await runCommand([...argv, hex], { ...base, KEYWARD_GPU_NONCE: hex }, timeoutMs);
      return parseGpuCommandOutput(stdout, nonce);
    },
  };
}
