// `keyward doctor [--json]`: read-only checks of this keyward's configuration and surroundings
// (docs/operations.md "keyward doctor"); exit 1 when a check fails.
import { join } from 'node:path';
import { loadConfig } from '../config.js';
import { systemClock } from '../clock.js';
import { openDatabase } from '../store/database.js';
import { openKek } from '../keys/kek.js';
import { runDoctor, type CheckStatus } from '../broker/doctor.js';
import { kekConfigFor, kekOpenerFor, loadExtraAnchors } from '../service.js';
import { parseOptions, type CliIo } from './main.js';

const MARK: Record<CheckStatus, string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' };

export async function doctorCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseOptions(args, { json: { type: 'boolean' } });
  const config = loadConfig();
  const opener = kekOpenerFor(config);
  const report = await runDoctor({
    config,
    clock: systemClock,
    openDatabase: () =>
      openDatabase(
        config.databaseUrl
          ? { kind: 'postgres', url: config.databaseUrl, poolSize: 2 }
          : { kind: 'pglite', dataDir: join(config.dataDir, 'pgdata') },
      ),
    openKek: (uri) => (uri === undefined ? openKek(kekConfigFor(config.kek, false)) : opener(uri)),
    loadAnchors: () => loadExtraAnchors(config.extraAnchorsDir),
  });
  if (values.json) {
    io.out(`${JSON.stringify(report)}\n`);
  } else {
    for (const c of report.checks) {
      io.out(`${MARK[c.status]}  ${c.name.padEnd(10)} ${c.detail}\n`);
      if (c.fix) io.out(`      ${' '.repeat(10)} fix: ${c.fix}\n`);
    }
    io.out(report.ok ? 'keyward doctor: no problem found\n' : 'keyward doctor: problems found (see FAIL above)\n');
  }
  return report.ok ? 0 : 1;
}
