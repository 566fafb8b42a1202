// `keyward dev ca --out DIR [--data-dir DIR]` (docs/simulator.md): writes the development CA's roots to
// DIR/anchors (for KEYWARD_EXTRA_ANCHORS) and its collateral to DIR/collateral (for KEYWARD_COLLATERAL_DIR).
// `keyward dev evidence --simulate snp|tdx [--gpus N] [--measurement HEX] [--data-dir DIR] BIND_HEX`: prints
// the simulated evidence array `POST /v1/attest` takes, bound to BIND_HEX (an evidence command for SDKs).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { systemClock } from '../clock.js';
import { fromHex } from '../encoding.js';
import { DEV_CA_DIR, openDevCa } from '../dev/ca.js';
import { COLLATERAL_RENEW_DAYS, writeDevCaBundle } from '../dev/ca-collateral.js';
import { BIND_LENGTH } from '../agent/evidence/provider.js';
import { parseOptions, UsageError, type CliIo } from './main.js';
import { evidenceProviderFrom } from './workload.js';

/** A path as one shell word: bare when it is plain, else single-quoted. */
function shellQuote(path: string): string {
  return /^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replaceAll("'", "'\\''")}'`;
}

async function devCaCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseOptions(args, { out: { type: 'string' }, 'data-dir': { type: 'string' } });
  if (typeof values.out !== 'string' || values.out === '') throw new UsageError('dev ca needs --out DIR');
  const dataDir = typeof values['data-dir'] === 'string' ? resolve(values['data-dir']) : loadConfig().dataDir;
  const now = systemClock.now();
  // Progress goes to stderr; stdout is only what a shell can paste or `eval` (comments and exports).
  const fresh = !existsSync(join(dataDir, DEV_CA_DIR, 'state.json'));
  io.err(fresh ? `creating the development CA in ${join(dataDir, DEV_CA_DIR)} (RSA-4096 keys, as AMD's: up to half a minute, once)...\n` : `using the development CA in ${join(dataDir, DEV_CA_DIR)}\n`);
  const ca = await openDevCa({ dataDir, now });
  io.err(`writing its roots and collateral to ${resolve(values.out)}...\n`);
  const bundle = await writeDevCaBundle(ca, resolve(values.out), now);
  const renewBy = new Date(bundle.collateral.nextUpdate.getTime() - COLLATERAL_RENEW_DAYS * 24 * 3600 * 1000);
  io.out(
    [
      `# development CA: ${ca.dir} (every certificate says "SIMULATED"; never trust it in production)`,
      ...bundle.written.map((path) => `# wrote ${path}`),
      `# collateral valid until ${bundle.collateral.nextUpdate.toISOString()}; run this command again after ${renewBy.toISOString()} to renew it`,
      '# start the server with both settings (SNP needs the anchors; TDX and GPUs also need the collateral):',
      `export KEYWARD_EXTRA_ANCHORS=${shellQuote(bundle.anchorsDir)}`,
      `export KEYWARD_COLLATERAL_DIR=${shellQuote(bundle.collateralDir)}`,
      '',
    ].join('\n'),
  );
  return 0;
}

/** The options `dev evidence` takes: the simulator's, and exactly one positional, the binding. */
const EVIDENCE_COMMAND_OPTIONS = {
  simulate: { type: 'string' },
  gpus: { type: 'string' },
  measurement: { type: 'string' },
  'data-dir': { type: 'string' },
} as const;

async function devEvidenceCommand(args: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: EVIDENCE_COMMAND_OPTIONS, strict: true, allowPositionals: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.simulate === undefined) throw new UsageError('dev evidence needs --simulate snp|tdx (it only simulates; real evidence comes from the TEE)');
  if (positionals.length !== 1) throw new UsageError('dev evidence needs exactly one argument: the binding, 128 hex digits');
  const bind = fromHex(positionals[0] as string);
  if (!bind || bind.length !== BIND_LENGTH) throw new UsageError(`the binding must be ${BIND_LENGTH * 2} hex digits (SHA-512(nonce ‖ thumbprint))`);
  const dataDir = resolve(values['data-dir'] ?? loadConfig().dataDir);
  const provider = await evidenceProviderFrom(values, dataDir);
  const evidence = await provider.collect(bind);
  io.err(`keyward: SIMULATED ${values.simulate.toUpperCase()} evidence from the development CA in ${dataDir}/dev-ca (not a TEE)\n`);
  io.out(`${JSON.stringify(evidence)}\n`);
  return 0;
}

export async function devCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'ca') return devCaCommand(rest, io);
  if (sub === 'evidence') return devEvidenceCommand(rest, io);
  throw new UsageError('dev needs a subcommand: ca or evidence');
}
