// Test databases: PGlite loaded from the migrated template, and real Postgres (KEYWARD_TEST_DATABASE_URL)
// in a fresh schema per database so parallel test files never see each other's rows.
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/store/database.js';
import { migrate } from '../../src/store/migrate.js';
import { PGLITE_TEMPLATE } from './global-setup.js';

export type DbKind = 'pglite' | 'postgres';

export const POSTGRES_URL = process.env['KEYWARD_TEST_DATABASE_URL'];

/** The database kinds to run storage suites on: PGlite always, Postgres when configured. */
export const DB_KINDS: DbKind[] = POSTGRES_URL ? ['pglite', 'postgres'] : ['pglite'];

export interface TestDatabase {
  readonly database: Database;
  /** For Postgres: a URL that lands in this database's schema (child processes use it). */
  readonly url: string | undefined;
  drop(): Promise<void>;
}

/** A Postgres URL whose connections use `schema` as search_path. */
export function schemaUrl(base: string, schema: string): string {
  const u = new URL(base);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

export async function createPostgresSchema(): Promise<{ url: string; drop(): Promise<void> }> {
  if (!POSTGRES_URL) throw new Error('KEYWARD_TEST_DATABASE_URL is not set');
  const schema = `kwt_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  return {
    url: schemaUrl(POSTGRES_URL, schema),
    async drop() {
      const c = new pg.Client({ connectionString: POSTGRES_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await c.end();
    },
  };
}

/** A migrated, empty database of the given kind. */
export async function createTestDatabase(kind: DbKind, opts: { migrated?: boolean } = {}): Promise<TestDatabase> {
  if (kind === 'pglite') {
    const database = await openDatabase({
      kind: 'pglite',
      dataDir: undefined,
      ...(opts.migrated === false ? {} : { loadFrom: new Blob([readFileSync(PGLITE_TEMPLATE)]) }),
    });
    return { database, url: undefined, drop: () => database.close() };
  }
  const { url, drop } = await createPostgresSchema();
  const database = await openDatabase({ kind: 'postgres', url, poolSize: 5 });
  if (opts.migrated !== false) await migrate(database);
  return {
    database,
    url,
    async drop() {
      await database.close();
      await drop();
    },
  };
}
