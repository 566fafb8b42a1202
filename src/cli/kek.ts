// `keyward kek status` and `keyward kek rotate [--target NAME]`: rotate the root KEK without downtime, to
// one of the KEKs configured in KEYWARD_KEK_TARGETS (or the default next KEK). With --remote, the same
// over a running server's admin API (admin-kek.ts).
import { join } from 'node:path';
import { loadConfig } from '../config.js';
import { systemClock } from '../clock.js';
import { openDatabase } from '../store/database.js';
import { migrate } from '../store/migrate.js';
import { openKek } from '../keys/kek.js';
import { initKeks, kekStatus, rotateKek } from '../broker/kek-admin.js';
import { kekConfigFor, kekOpenerFor, rotationTarget } from '../service.js';
import { createLogger, stderrDestination } from '../log.js';
import { parseOptions, UsageError, type CliIo } from './main.js';

export async function kekCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'rotate' && sub !== 'status') throw new UsageError('kek needs a subcommand: status or rotate');
  if (rest.includes('--remote')) return (await import('./admin-kek.js')).remoteKekCommand(sub, rest.filter((a) => a !== '--remote'), io);
  const { values } = parseOptions(rest, sub === 'rotate' ? { target: { type: 'string' }, json: { type: 'boolean' } } : { json: { type: 'boolean' } });
  const config = loadConfig();
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, stderrDestination());
  const database = await openDatabase(
    config.databaseUrl ? { kind: 'postgres', url: config.databaseUrl } : { kind: 'pglite', dataDir: join(config.dataDir, 'pgdata') },
  );
  try {
    await migrate(database);
    const configured = await openKek(kekConfigFor(config.kek, true));
    const ring = await initKeks(database.db, configured, kekOpenerFor(config), systemClock, logger);
    try {
      if (sub === 'status') {
        const status = await kekStatus(database.db);
        io.out(values.json ? `${JSON.stringify(status)}\n` : status.map((k) => `${k.id}\t${k.state}\t${k.versions} versions\t${k.uri}\n`).join(''));
        return 0;
      }
      const target = typeof values.target === 'string' ? values.target : undefined;
      const setting = rotationTarget(config, ring.active, target, systemClock.now());
      const next = await openKek(kekConfigFor(setting, true));
      // Progress on standard error (stdout keeps only the result): the first record, then at most a line a second.
      let shownAt = 0;
      const progress = (n: number): void => {
        const now = systemClock.now().getTime();
        if (n !== 1 && now - shownAt < 1000) return;
        shownAt = now;
        io.err(`kek rotate: ${n} key version${n === 1 ? '' : 's'} resealed so far\n`);
      };
      const result = await rotateKek(database.db, ring, next, systemClock, { id: 'cli:kek-rotate', name: 'keyward kek rotate' }, progress);
      io.out(
        values.json
          ? `${JSON.stringify(result)}\n`
          : result.resumed
            ? `resumed an interrupted rotation: ${result.resealed} records resealed under ${result.to}\n`
            : `rotated ${result.from ?? '(none)'} → ${result.to} (${next.uri}): ${result.resealed} records resealed\n`,
      );
      return 0;
    } finally {
      await ring.close();
    }
  } finally {
    await database.close();
  }
}
