// Applies the plain-SQL migrations in migrations/ (forward-only, numbered), safely from many processes.
import { readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import type { Database } from './database.js';
import { ServiceError } from '../errors.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

/** migrations/ next to src/ and dist/ (both are one level below the package root). */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

const LOCK_ID = 74_117_001;
const ALREADY_APPLIED = 'keyward-migration-already-applied';

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((file) => {
      const text = readFileSync(`${dir}/${file}`, 'utf8');
      return {
        version: Number(file.slice(0, 4)),
        name: file.replace(/\.sql$/, ''),
        sql: text,
        checksum: createHash('sha256').update(text).digest('hex'),
      };
    });
}

async function appliedMigrations(database: Database): Promise<Map<number, string>> {
  const result = await sql<{ version: number; checksum: string }>`select version, checksum from keyward_migrations`.execute(
    database.db,
  );
  return new Map(result.rows.map((r) => [Number(r.version), r.checksum]));
}

/** Applies every pending migration, each in its own transaction under an advisory lock. */
export async function migrate(database: Database, migrations = loadMigrations()): Promise<{ applied: string[] }> {
  await database.exec(`BEGIN;
SELECT pg_advisory_xact_lock(${LOCK_ID});
CREATE TABLE IF NOT EXISTS keyward_migrations (
  version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now()
);
COMMIT;`);
  const done = await appliedMigrations(database);
  const applied: string[] = [];
  for (const m of migrations) {
    const existing = done.get(m.version);
    if (existing !== undefined) {
      if (existing !== m.checksum) {
        throw new ServiceError('ERR_CONFIG_INVALID', `Migration ${m.name} was changed after it was applied; migrations are forward-only.`);
      }
      continue;
    }
    try {
      await database.exec(`BEGIN;
SELECT pg_advisory_xact_lock(${LOCK_ID});
DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM keyward_migrations WHERE version = ${m.version}) THEN
    RAISE EXCEPTION '${ALREADY_APPLIED}';
  END IF;
END $$;
${m.sql}
;
INSERT INTO keyward_migrations (version, name, checksum) VALUES (${m.version}, '${m.name}', '${m.checksum}');
COMMIT;`);
      applied.push(m.name);
    } catch (err) {
      // Another process applied it between our read and our lock: that is success.
      if (err instanceof Error && err.message.includes(ALREADY_APPLIED)) continue;
      throw err;
    }
  }
  return { applied };
}

/** Migrations present on disk but not applied (empty when the schema is current). */
export async function pendingMigrations(database: Database, migrations = loadMigrations()): Promise<string[]> {
  const exists = await sql<{ t: string | null }>`select to_regclass('keyward_migrations')::text as t`.execute(database.db);
  if (!exists.rows[0]?.t) return migrations.map((m) => m.name);
  const done = await appliedMigrations(database);
  return migrations.filter((m) => !done.has(m.version)).map((m) => m.name);
}
