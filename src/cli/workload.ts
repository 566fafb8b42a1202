// Shared plumbing of the workload commands (`agent release`, `seal`, `unseal`; docs/agent.md "Commands"): the
// client and evidence flags, Ctrl-C → AbortSignal, preflight of output paths, raw bytes to stdout.
import { access, readdir, stat } from 'node:fs/promises';
import { constants } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import type { ParseArgsConfig } from 'node:util';
import { commandEnvironment } from '../config.js';
import { systemClock } from '../clock.js';
import { KeywardError } from '../errors.js';
import { KeywardClient } from '../agent/client.js';
import { TEE_KEY_TYPES, type TeeKeyType } from '../agent/tee-key.js';
import { EvidenceProviderError, type EvidenceProvider } from '../agent/evidence/provider.js';
import { createEvidenceProvider } from './evidence-select.js';
import { UsageError, type CliIo } from './main.js';

type Options = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

export const CLIENT_OPTIONS: Options = {
  server: { type: 'string' },
  timeout: { type: 'string' },
  quiet: { type: 'boolean' },
  force: { type: 'boolean' },
};

export const EVIDENCE_OPTIONS: Options = {
  simulate: { type: 'string' },
  gpus: { type: 'string' },
  measurement: { type: 'string' },
  'gpu-evidence-cmd': { type: 'string' },
  'tee-key': { type: 'string' },
  'data-dir': { type: 'string' },
  'tsm-root': { type: 'string' },
};

/** A string flag's value; `required` turns its absence into a usage error. */
export function flag(values: Values, name: string, required: true): string;
export function flag(values: Values, name: string, required?: false): string | undefined;
export function flag(values: Values, name: string, required = false): string | undefined {
  const v = values[name];
  if (typeof v === 'string' && v !== '') return v;
  if (v === '') throw new UsageError(`--${name} must not be empty`);
  if (required) throw new UsageError(`--${name} is required`);
  return undefined;
}

/** A non-negative integer flag. */
export function intFlag(values: Values, name: string, max: number): number | undefined {
  const v = flag(values, name);
  if (v === undefined) return undefined;
  if (!/^\d{1,9}$/.test(v) || Number(v) > max) throw new UsageError(`--${name} must be an integer from 0 to ${max}`);
  return Number(v);
}

/** `--server URL` and `--timeout S` (seconds per HTTP attempt, default 30) as a client. */
export function clientFrom(values: Values, token?: string): KeywardClient {
  const server = flag(values, 'server', true);
  const timeout = flag(values, 'timeout');
  if (timeout !== undefined && !(/^\d+(\.\d+)?$/.test(timeout) && Number(timeout) > 0 && Number(timeout) <= 3600)) {
    throw new UsageError('--timeout must be a number of seconds (0 < S ≤ 3600)');
  }
  try {
    return new KeywardClient({ baseUrl: server, ...(token !== undefined ? { token } : {}), ...(timeout !== undefined ? { timeoutMs: Math.round(Number(timeout) * 1000) } : {}) });
  } catch (err) {
    if (err instanceof KeywardError && err.code === 'ERR_CLIENT_OPTIONS_INVALID') throw new UsageError(`--server: ${err.message}`);
    throw err;
  }
}

export function teeKeyFrom(values: Values): TeeKeyType {
  const v = flag(values, 'tee-key') ?? 'x25519';
  if (!(TEE_KEY_TYPES as readonly string[]).includes(v)) throw new UsageError(`--tee-key must be one of ${TEE_KEY_TYPES.join(', ')}`);
  return v as TeeKeyType;
}

/** The evidence provider the flags ask for; bad combinations are usage errors. */
export async function evidenceProviderFrom(values: Values, dataDir: string): Promise<EvidenceProvider> {
  const simulate = flag(values, 'simulate');
  if (simulate !== undefined && simulate !== 'snp' && simulate !== 'tdx') throw new UsageError('--simulate takes snp or tdx');
  const gpus = intFlag(values, 'gpus', 1000);
  const measurement = flag(values, 'measurement');
  const gpuEvidenceCmd = flag(values, 'gpu-evidence-cmd');
  const tsmRoot = flag(values, 'tsm-root');
  if (simulate !== undefined && tsmRoot !== undefined) throw new UsageError('--tsm-root reads real evidence; it does not go with --simulate');
  try {
    return await createEvidenceProvider({
      ...(simulate !== undefined ? { simulate } : {}),
      ...(gpus !== undefined ? { gpus } : {}),
      ...(measurement !== undefined ? { measurement } : {}),
      ...(gpuEvidenceCmd !== undefined ? { gpuEvidenceCmd, env: commandEnvironment() } : {}),
      ...(tsmRoot !== undefined ? { tsmRoot: resolve(tsmRoot) } : {}),
      dataDir,
      now: systemClock.now(),
    });
  } catch (err) {
    if (err instanceof EvidenceProviderError && err.code === 'ERR_AGENT_OPTIONS_INVALID') throw new UsageError(err.message);
    throw err;
  }
}

/** Tells the user, on stderr, that the evidence will be simulated (it is never mistaken for real). */
export function warnIfSimulated(values: Values, dataDir: string, io: CliIo): void {
  const simulate = flag(values, 'simulate');
  if (simulate === undefined) return;
  io.err(`keyward: SIMULATED ${simulate.toUpperCase()} evidence from the development CA in ${dataDir}/dev-ca (not a TEE; a server accepts it only with KEYWARD_EXTRA_ANCHORS)\n`);
}

/**
 * Runs `work` with an AbortSignal that SIGINT / SIGTERM fire. Interrupted work cleans up (the sealed-file
 * helpers remove their temp output) and the command exits 130 (SIGINT) or 143 (SIGTERM). A second signal
 * gets the default behaviour (immediate exit).
 */
export async function runInterruptible(io: CliIo, work: (signal: AbortSignal) => Promise<number>): Promise<number> {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    received = sig;
    controller.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await work(controller.signal);
  } catch (err) {
    if (received === undefined) throw err;
    io.err(`keyward: interrupted by ${received}; stopped cleanly (no partial output file was kept)\n`);
    return received === 'SIGINT' ? 130 : 143;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function unwritable(message: string, cause?: unknown): KeywardError {
  return new KeywardError('ERR_CLI_OUTPUT_UNWRITABLE', message, cause === undefined ? {} : { cause });
}

/**
 * Checks before any secret is requested that `path` can be written: its directory exists and is
 * writable, and it is not a directory itself (or, with `directory`, it is absent or an empty directory).
 */
export async function preflightOutput(path: string, kind: 'file' | 'directory', force = false): Promise<void> {
  const parent = dirname(resolve(path));
  try {
    await access(parent, constants.W_OK);
  } catch (err) {
    throw unwritable(`cannot write into ${parent} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, err);
  }
  const info = await stat(path).catch(() => undefined);
  if (info === undefined) return;
  if (kind === 'file' && info.isDirectory()) throw unwritable(`--out ${path} is a directory; give a file path`);
  // Why refuse: an unsealed model or a released key silently replacing a file is data loss the user did not ask for.
  if (kind === 'file' && !force) throw new KeywardError('ERR_CLI_OUTPUT_EXISTS', `--out ${path} exists; pass --force to replace it`);
  if (kind === 'directory') {
    const empty = info.isDirectory() && (await readdir(path)).length === 0;
    if (!empty) throw unwritable(`--out ${path} exists and is not an empty directory`);
  }
}

/** Writes raw bytes to standard output and waits until they are handed to the OS. */
export async function writeStdout(io: CliIo, bytes: Uint8Array): Promise<void> {
  const out: Writable | undefined = io.stdout;
  if (!out) throw unwritable('standard output is not available for bytes');
  await new Promise<void>((resolvePromise, reject) => {
    const onError = (err: Error) => reject(unwritable(`cannot write to standard output (${(err as NodeJS.ErrnoException).code ?? 'error'})`, err));
    out.once('error', onError);
    out.write(bytes, (err) => {
      out.off('error', onError);
      if (err) onError(err);
      else resolvePromise();
    });
  });
}
