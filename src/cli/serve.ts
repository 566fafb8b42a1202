// `keyward serve` and `keyward migrate`.
import { join } from 'node:path';
import { loadConfig } from '../config.js';
import { createLogger } from '../log.js';
import { createKeyward } from '../service.js';
import { openDatabase } from '../store/database.js';
import { migrate } from '../store/migrate.js';
import { parseOptions, type CliIo } from './main.js';

export async function serveCommand(args: string[]): Promise<number> {
  parseOptions(args, {});
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const keyward = await createKeyward({ config, logger });
  try {
    await keyward.listen();
  } catch (err) {
    // Why close: the database, the policy sandbox's workers and the timers would keep the process alive.
    await keyward.close().catch(() => undefined);
    throw err;
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await keyward.close();
  logger.flush();
  return 0;
}

export async function migrateCommand(args: string[], io: CliIo): Promise<number> {
  parseOptions(args, {});
  const config = loadConfig();
  const database = await openDatabase(
    config.databaseUrl ? { kind: 'postgres', url: config.databaseUrl } : { kind: 'pglite', dataDir: join(config.dataDir, 'pgdata') },
  );
  try {
    const { applied } = await migrate(database);
    io.out(applied.length === 0 ? `${database.description}: schema is current\n` : `${database.description}: applied ${applied.join(', ')}\n`);
    return 0;
  } finally {
    await database.close();
  }
}
