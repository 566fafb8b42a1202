// `keyward dev ca --out DIR [--data-dir DIR]` (docs/simulator.md): writes the development CA's roots to
// DIR/anchors (for KEYWARD_EXTRA_ANCHORS) and its collateral to DIR/collateral (for KEYWARD_COLLATERAL_DIR).
import { resolve } from 'node:path';
import { loadConfig } from '../config.js';
import { systemClock } from '../clock.js';
import { openDevCa } from '../dev/ca.js';
import { COLLATERAL_RENEW_DAYS, writeDevCaBundle } from '../dev/ca-collateral.js';
import { parseOptions, UsageError, type CliIo } from './main.js';

async function devCaCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseOptions(args, { out: { type: 'string' }, 'data-dir': { type: 'string' } });
  if (typeof values.out !== 'string' || values.out === '') throw new UsageError('dev ca needs --out DIR');
  const dataDir = typeof values['data-dir'] === 'string' ? resolve(values['data-dir']) : loadConfig().dataDir;
  const now = systemClock.now();
  const ca = await openDevCa({ dataDir, now });
  const bundle = await writeDevCaBundle(ca, resolve(values.out), now);
  const renewBy = new Date(bundle.collateral.nextUpdate.getTime() - COLLATERAL_RENEW_DAYS * 24 * 3600 * 1000);
  io.out(
    [
      `development CA: ${ca.dir} (every certificate says "SIMULATED"; never trust it in production)`,
      ...bundle.written.map((path) => `wrote ${path}`),
      `collateral valid until ${bundle.collateral.nextUpdate.toISOString()}; run this command again after ${renewBy.toISOString()} to renew it`,
      '',
      'start the server with:',
      `KEYWARD_EXTRA_ANCHORS=${bundle.anchorsDir}`,
      `KEYWARD_COLLATERAL_DIR=${bundle.collateralDir}`,
      '',
    ].join('\n'),
  );
  return 0;
}

export async function devCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'ca') throw new UsageError('dev needs a subcommand: ca');
  return devCaCommand(rest, io);
}
