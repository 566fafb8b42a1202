// `keyward agent release` (docs/design.md "Release protocol", README.md "Walkthrough"): the whole protocol
// from inside the TEE — ephemeral key in memory, evidence, attest, release, decrypt — writing the released
// key (or data key) only where --out says: a 0600 file written atomically, or stdout with `--out -`.
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { loadAgentSettings } from '../config.js';
import { KeywardError } from '../errors.js';
import { toBase64, toHex, zeroize } from '../encoding.js';
import type { ReleasedKey } from '../agent/client.js';
import { parseOptions, UsageError, type CliIo } from './main.js';
import {
  CLIENT_OPTIONS,
  EVIDENCE_OPTIONS,
  clientFrom,
  evidenceProviderFrom,
  flag,
  intFlag,
  preflightOutput,
  runInterruptible,
  teeKeyFrom,
  warnIfSimulated,
  writeStdout,
} from './workload.js';

type Format = 'raw' | 'hex' | 'base64';

const RELEASE_OPTIONS = {
  ...CLIENT_OPTIONS,
  ...EVIDENCE_OPTIONS,
  key: { type: 'string' },
  out: { type: 'string' },
  format: { type: 'string' },
  'wrapped-data-key': { type: 'string' },
  'key-version': { type: 'string' },
} as const;

/** The secret as written: raw bytes, or hex / base64 text ending with a newline. */
function encodeSecret(secret: Uint8Array, format: Format): Uint8Array {
  if (format === 'raw') return secret;
  return new TextEncoder().encode(`${format === 'hex' ? toHex(secret) : toBase64(secret)}\n`);
}

/**
 * Writes `bytes` to `path` with mode 0600: into a fresh temp file beside it (O_EXCL), flushed to disk,
 * then renamed over `path`. On any failure the temp file is removed: never a partial key under any name.
 */
export async function writeSecretFile(path: string, bytes: Uint8Array): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(8).toString('hex')}.keyward-tmp`);
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(temp, 'wx', 0o600);
    await handle.writeFile(bytes);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, path);
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await rm(temp, { force: true }).catch(() => undefined);
    throw new KeywardError('ERR_CLI_OUTPUT_UNWRITABLE', `cannot write ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
  }
}

function confirmation(released: ReleasedKey, what: string): string {
  const simulated = (released.claims.cpu as { anchor?: { source?: string } } | null)?.anchor?.source === 'extra';
  const subject = what === 'key' ? `key ${released.keyId} version ${released.version}` : `a data key of key ${released.keyId} version ${released.version}`;
  return `released ${subject} (${released.plaintext.length} bytes; release ${released.releaseId}${simulated ? '; evidence chained to an EXTRA anchor, e.g. SIMULATED' : ''})`;
}

async function releaseCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseOptions(args, RELEASE_OPTIONS);
  const keyId = flag(values, 'key', true);
  const out = flag(values, 'out');
  const formatFlag = flag(values, 'format');
  if (formatFlag !== undefined && !['raw', 'hex', 'base64'].includes(formatFlag)) throw new UsageError('--format must be raw, hex or base64');
  if (formatFlag !== undefined && out === undefined) throw new UsageError('--format needs --out FILE or --out -');
  const format = (formatFlag ?? 'raw') as Format;
  const wrappedDataKey = flag(values, 'wrapped-data-key');
  const version = intFlag(values, 'key-version', 2 ** 31);
  if (version === 0) throw new UsageError('--key-version must be at least 1');
  const teeKey = teeKeyFrom(values);
  const quiet = values['quiet'] === true;
  const client = clientFrom(values);
  const dataDir = resolve(flag(values, 'data-dir') ?? loadAgentSettings().dataDir);
  // Fail before the secret leaves the server when it could not be written anyway.
  if (out !== undefined && out !== '-') await preflightOutput(out, 'file', values['force'] === true);
  const provider = await evidenceProviderFrom(values, dataDir);
  if (!quiet) warnIfSimulated(values, dataDir, io);
  const what = wrappedDataKey !== undefined ? 'data key' : 'key';
  return runInterruptible(io, async (signal) => {
    const released = await client.releaseKey(keyId, provider, {
      teeKey,
      signal,
      ...(wrappedDataKey !== undefined ? { wrappedDataKey } : {}),
      ...(version !== undefined ? { version } : {}),
    });
    const encoded = encodeSecret(released.plaintext, format);
    try {
      if (out === '-') {
        await writeStdout(io, encoded);
        if (!quiet) io.err(`${confirmation(released, what)}; written to standard output\n`);
      } else if (out !== undefined) {
        await writeSecretFile(out, encoded);
        if (!quiet) io.out(`${confirmation(released, what)}; written to ${out} (mode 0600)\n`);
      } else {
        io.out(`${confirmation(released, what)}; not shown: use --out FILE or --out - to write it\n`);
      }
    } finally {
      zeroize(released.plaintext, encoded);
    }
    return 0;
  });
}

export async function agentCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'release') throw new UsageError('agent needs a subcommand: release');
  return releaseCommand(rest, io);
}
