// `keyward seal` and `keyward unseal` (docs/sealed-format.md, README.md "Walkthrough"): seal a model file or
// a directory of shards under a fresh data key from POST /v1/keys/{id}/datakey; unseal it inside a TEE by
// attesting for that data key (release with wrappedDataKey). Data keys are zeroed after use; on any error
// no partial plaintext file is left behind; Ctrl-C aborts cleanly.
import { resolve, sep } from 'node:path';
import { loadAgentSettings } from '../config.js';
import { zeroize } from '../encoding.js';
import { MAX_CHUNK_SIZE, MIN_CHUNK_SIZE } from '../agent/sealed/format.js';
import { isDirectory, openInputFile, sealFile, unsealFile } from '../agent/sealed/files.js';
import { headerDigest, readSealedHeader, sealDirectory, unsealDirectory } from '../agent/sealed/directory.js';
import { unsealStream } from '../agent/sealed/stream.js';
import { SealedFileError } from '../agent/sealed/sealed-error.js';
import { parseOptions, UsageError, type CliIo } from './main.js';
import { createProgressLine } from './progress.js';
import {
  CLIENT_OPTIONS,
  EVIDENCE_OPTIONS,
  clientFrom,
  evidenceProviderFrom,
  flag,
  preflightOutput,
  runInterruptible,
  teeKeyFrom,
  warnIfSimulated,
} from './workload.js';

const UNITS: Readonly<Record<string, number>> = { '': 1, k: 1024, kib: 1024, m: 1024 * 1024, mib: 1024 * 1024 };

/** `--chunk-size N` in bytes, or with a K/KiB/M/MiB suffix; checked against the format's limits. */
export function parseChunkSize(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d{1,9})([a-z]*)$/i.exec(text);
  const unit = m ? UNITS[(m[2] ?? '').toLowerCase()] : undefined;
  const size = m && unit !== undefined ? Number(m[1]) * unit : NaN;
  if (!(size >= MIN_CHUNK_SIZE && size <= MAX_CHUNK_SIZE)) {
    throw new UsageError(`--chunk-size must be ${MIN_CHUNK_SIZE} bytes to 16 MiB (e.g. 1048576, 64K, 4M)`);
  }
  return size;
}

function report(io: CliIo, quiet: boolean, toStderr: boolean, line: string): void {
  if (quiet) return;
  if (toStderr) io.err(`${line}\n`);
  else io.out(`${line}\n`);
}

export async function sealCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseOptions(args, { ...CLIENT_OPTIONS, token: { type: 'string' }, key: { type: 'string' }, in: { type: 'string' }, out: { type: 'string' }, 'chunk-size': { type: 'string' } });
  const keyId = flag(values, 'key', true);
  const input = flag(values, 'in', true);
  const output = flag(values, 'out', true);
  if (output === '-') throw new UsageError('seal writes a file or a directory; --out - is for unseal');
  const chunkSize = parseChunkSize(flag(values, 'chunk-size'));
  const token = flag(values, 'token') ?? loadAgentSettings().token;
  if (token === undefined) throw new UsageError('seal needs an API token with scope keys:datakey: --token T, or KEYWARD_TOKEN in the environment');
  const quiet = values['quiet'] === true;
  const client = clientFrom(values, token);
  // Refuse what cannot be sealed before asking for a data key.
  const directory = await isDirectory(input);
  if (resolve(input) === resolve(output)) throw new UsageError('--in and --out must differ');
  if (directory && resolve(output).startsWith(`${resolve(input)}${sep}`)) throw new UsageError('--out must not be inside the --in directory');
  await preflightOutput(output, directory ? 'directory' : 'file', values['force'] === true);
  return runInterruptible(io, async (signal) => {
    const dataKey = await client.dataKey(keyId, { signal });
    const progress = createProgressLine(io, 'sealing', quiet);
    try {
      const options = { dataKey: dataKey.plaintext, keyId: dataKey.keyId, keyVersion: dataKey.version, wrappedDataKey: dataKey.wrapped, signal, onProgress: progress.update, ...(chunkSize !== undefined ? { chunkSize } : {}) };
      if (directory) {
        const result = await sealDirectory(input, output, options);
        progress.finish();
        report(io, quiet, false, `sealed ${result.files.length} files (${result.plaintextBytes} bytes) from ${input} into ${output} under key ${dataKey.keyId} version ${dataKey.version}; manifest header sha256 ${headerDigest(result.manifest)}`);
      } else {
        const result = await sealFile(input, output, options);
        progress.finish();
        report(io, quiet, false, `sealed ${input} (${result.plaintextBytes} bytes) into ${output} under key ${dataKey.keyId} version ${dataKey.version}; header sha256 ${headerDigest(result.header)}`);
      }
      return 0;
    } catch (err) {
      progress.finish();
      throw err;
    } finally {
      zeroize(dataKey.plaintext);
    }
  });
}

async function unsealTo(io: CliIo, input: string, output: string, directory: boolean, options: Parameters<typeof unsealFile>[2]): Promise<number> {
  if (directory) return (await unsealDirectory(input, output, options)).plaintextBytes;
  if (output !== '-') return (await unsealFile(input, output, options)).plaintextBytes;
  const { stream, size } = await openInputFile(input);
  if (!io.stdout) throw new UsageError('--out - needs a standard output');
  // Chunks reach stdout only once authenticated; a damaged later chunk still ends the command with exit 1.
  return (await unsealStream(stream, io.stdout, { ...options, totalBytes: size, end: false })).plaintextBytes;
}

export async function unsealCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseOptions(args, { ...CLIENT_OPTIONS, ...EVIDENCE_OPTIONS, key: { type: 'string' }, in: { type: 'string' }, out: { type: 'string' } });
  const input = flag(values, 'in', true);
  const output = flag(values, 'out', true);
  const expectedKey = flag(values, 'key');
  const teeKey = teeKeyFrom(values);
  const quiet = values['quiet'] === true;
  const client = clientFrom(values);
  // The header (unauthenticated until unsealing) names the key and carries the wrapped data key to release.
  const header = await readSealedHeader(input);
  const directory = await isDirectory(input);
  if (directory && output === '-') throw new UsageError('a sealed directory unseals into a directory, not to standard output');
  if (expectedKey !== undefined && expectedKey !== header.keyId) {
    throw new SealedFileError('ERR_SEALED_KEY_ID_MISMATCH', `${input} was sealed under key ${header.keyId}, not ${expectedKey}`);
  }
  if (output !== '-') await preflightOutput(output, directory ? 'directory' : 'file', values['force'] === true);
  const dataDir = resolve(flag(values, 'data-dir') ?? loadAgentSettings().dataDir);
  const provider = await evidenceProviderFrom(values, dataDir);
  if (!quiet) warnIfSimulated(values, dataDir, io);
  return runInterruptible(io, async (signal) => {
    const released = await client.releaseKey(header.keyId, provider, { wrappedDataKey: header.wrappedDataKey, teeKey, signal });
    const progress = createProgressLine(io, 'unsealing', quiet);
    try {
      const bytes = await unsealTo(io, input, output, directory, {
        dataKey: released.plaintext,
        signal,
        onProgress: progress.update,
        ...(expectedKey !== undefined ? { expect: { keyId: expectedKey } } : {}),
      });
      progress.finish();
      report(io, quiet, output === '-', `unsealed ${input} into ${output === '-' ? 'standard output' : output}: ${bytes} bytes (key ${header.keyId} version ${header.keyVersion}; release ${released.releaseId})`);
      return 0;
    } catch (err) {
      progress.finish();
      throw err;
    } finally {
      zeroize(released.plaintext);
    }
  });
}

