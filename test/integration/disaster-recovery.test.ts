// The disaster-recovery drill of docs/operations.md, performed: back up the database (a PGlite data-dir copy,
// or pg_dump of the schema) and the KEK file, wipe both, restore them, and check that every key version
// (old and current) opens under the restored KEKs, the audit chain verifies, and `keyward doctor` is clean.
import { describe, expect, it, afterAll } from 'vitest';
import { cpSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { POSTGRES_URL, createPostgresSchema } from '../helpers/db.js';
import { POSTGRES, titleNeeding } from '../helpers/requirements.js';
import { BOOTSTRAP_TOKEN } from '../helpers/keyward.js';
import { api, run, serve, type Served } from '../helpers/process.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/store/database.js';
import { openKek } from '../../src/keys/kek.js';
import { openMaterial } from '../../src/keys/envelope.js';
import { initKeks } from '../../src/broker/kek-admin.js';
import { kekConfigFor, kekOpenerFor } from '../../src/service.js';
import { systemClock } from '../../src/clock.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface Seeded {
  keys: { id: string; versions: number }[];
}

/** Opens every stored key version with the KEKs the restored configuration opens; returns how many opened. */
async function openEveryVersion(env: Record<string, string>): Promise<number> {
  const config = loadConfig(env);
  const database = await openDatabase(config.databaseUrl ? { kind: 'postgres', url: config.databaseUrl } : { kind: 'pglite', dataDir: join(config.dataDir, 'pgdata') });
  try {
    const ring = await initKeks(database.db, await openKek(kekConfigFor(config.kek, false)), kekOpenerFor(config), systemClock, { info: () => undefined, warn: () => undefined });
    let opened = 0;
    for (const v of await database.db.selectFrom('keyVersions').selectAll().execute()) {
      expect(v.sealed, `${v.keyId} v${v.version}`).not.toBeNull();
      expect(await openMaterial(await ring.resolve(v.kekId as string), v.keyId, v.version, v.sealed as Uint8Array)).toHaveLength(32);
      opened++;
    }
    await ring.close();
    return opened;
  } finally {
    await database.close();
  }
}

/** Keys with several versions, a destroyed key, and data keys to unwrap after the restore. */
async function seed(s: Served): Promise<Seeded> {
  const keys: Seeded['keys'] = [];
  for (let i = 0; i < 4; i++) {
    const id = (await api(s.url, BOOTSTRAP_TOKEN, 'POST', '/v1/keys', { name: `dr-${i}`, kind: 'model' })).json.id as string;
    for (let r = 0; r < i; r++) expect((await api(s.url, BOOTSTRAP_TOKEN, 'POST', `/v1/keys/${id}/rotate`)).status).toBe(200);
    keys.push({ id, versions: i + 1 });
  }
  // A KEK rotation before the backup: the restored database names the new KEK file.
  expect((await api(s.url, BOOTSTRAP_TOKEN, 'POST', '/v1/kek/rotate', {})).status).toBe(200);
  return { keys };
}

/** After the restore: every version of every key exists, the audit chain holds, every key rotates and makes data keys. */
async function expectRestored(s: Served, seeded: Seeded): Promise<void> {
  expect((await api(s.url, BOOTSTRAP_TOKEN, 'GET', '/v1/audit/verify')).json).toMatchObject({ ok: true, brokenAt: null });
  for (const k of seeded.keys) {
    const versions = (await api(s.url, BOOTSTRAP_TOKEN, 'GET', `/v1/keys/${k.id}/versions`)).json.items as { version: number; state: string }[];
    expect(versions.map((v) => v.version).sort()).toEqual(Array.from({ length: k.versions }, (_, i) => i + 1));
    expect((await api(s.url, BOOTSTRAP_TOKEN, 'POST', `/v1/keys/${k.id}/rotate`)).status).toBe(200);
    expect((await api(s.url, BOOTSTRAP_TOKEN, 'POST', `/v1/keys/${k.id}/datakey`)).status).toBe(200);
  }
}

/** With keyward stopped: every version opens, and `keyward doctor` finds nothing wrong. */
async function expectEveryVersionOpens(env: Record<string, string>, seeded: Seeded): Promise<void> {
  // Each key gained one version in expectRestored.
  expect(await openEveryVersion(env)).toBe(seeded.keys.reduce((n, k) => n + k.versions + 1, 0));
  const doctor = await run(['doctor', '--json'], env);
  expect(doctor.code, doctor.stdout).toBe(0);
}

describe('disaster-recovery drill on PGlite', () => {
  it('restores from a copy of the data dir (database and KEK files): every key opens', async () => {
    const dataDir = tempDir('keyward-dr-');
    const backup = tempDir('keyward-dr-backup-');
    const env = { KEYWARD_DATA_DIR: dataDir, KEYWARD_BOOTSTRAP_TOKEN: BOOTSTRAP_TOKEN };
    const before = await serve(env);
    const seeded = await seed(before);
    expect(await before.stop()).toBe(0);

    // Backup (keyward stopped: PGlite files are consistent only at rest), wipe, restore.
    cpSync(dataDir, join(backup, 'data'), { recursive: true });
    rmSync(dataDir, { recursive: true, force: true });
    expect(existsSync(dataDir)).toBe(false);
    cpSync(join(backup, 'data'), dataDir, { recursive: true });

    const after = await serve(env);
    try {
      await expectRestored(after, seeded);
    } catch (err) {
      // Keep what the restored server said: a refused connection means it exited, and its log says why.
      throw new Error(`${(err as Error).message}\nrestored server output:\n${after.output.join('').slice(-4000)}`, { cause: err });
    } finally {
      await after.stop();
    }
    await expectEveryVersionOpens(env, seeded);
  }, 180_000);
});

describe.skipIf(!POSTGRES.available)(titleNeeding(POSTGRES, 'disaster-recovery drill on Postgres'), () => {
  it('restores from pg_dump and a copy of the KEK files: every key opens', async () => {
    const schema = await createPostgresSchema();
    cleanups.push(schema.drop);
    const schemaName = new URL(schema.url).searchParams.get('options')?.split('=')[1] as string;
    const dataDir = tempDir('keyward-dr-pg-');
    const backup = tempDir('keyward-dr-pg-backup-');
    const env = { KEYWARD_DATA_DIR: dataDir, KEYWARD_BOOTSTRAP_TOKEN: BOOTSTRAP_TOKEN, KEYWARD_DATABASE_URL: schema.url };
    const before = await serve(env);
    const seeded = await seed(before);
    expect(await before.stop()).toBe(0);

    const dump = join(backup, 'keyward.sql');
    execFileSync('pg_dump', ['--dbname', POSTGRES_URL as string, '--schema', schemaName, '--no-owner', '--file', dump]);
    cpSync(dataDir, join(backup, 'data'), { recursive: true });
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    await admin.query(`DROP SCHEMA ${schemaName} CASCADE`);
    await admin.end();
    rmSync(dataDir, { recursive: true, force: true });

    execFileSync('psql', ['--dbname', POSTGRES_URL as string, '--quiet', '--set', 'ON_ERROR_STOP=1', '--file', dump]);
    cpSync(join(backup, 'data'), dataDir, { recursive: true });
    const after = await serve(env);
    try {
      await expectRestored(after, seeded);
    } finally {
      await after.stop();
    }
    await expectEveryVersionOpens(env, seeded);
  }, 180_000);
});
