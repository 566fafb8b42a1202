// `keyward doctor`: read-only checks with a fix for each problem and exit 1 when one fails — a data dir
// never migrated, a healthy one, a lost KEK file, an unreachable Postgres, replicas seen on Postgres.
import { describe, expect, it, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPostgresSchema } from '../helpers/db.js';
import { POSTGRES, titleNeeding } from '../helpers/requirements.js';
import { BOOTSTRAP_TOKEN } from '../helpers/keyward.js';
import { api, run, serve } from '../helpers/process.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

interface Check {
  name: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  fix?: string;
}

async function doctor(env: Record<string, string>): Promise<{ code: number | null; ok: boolean; checks: Map<string, Check> }> {
  const r = await run(['doctor', '--json'], env);
  const report = JSON.parse(r.stdout) as { ok: boolean; checks: Check[] };
  return { code: r.code, ok: report.ok, checks: new Map(report.checks.map((c) => [c.name, c])) };
}

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-doctor-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('keyward doctor on PGlite', () => {
  it('finds pending migrations, then nothing, then a lost KEK — each with its fix', async () => {
    const env = { KEYWARD_DATA_DIR: dataDir(), KEYWARD_BOOTSTRAP_TOKEN: BOOTSTRAP_TOKEN };
    const fresh = await doctor(env);
    expect(fresh.code).toBe(1);
    expect(fresh.checks.get('database')?.status).toBe('ok');
    expect(fresh.checks.get('migrations')).toMatchObject({ status: 'fail', fix: expect.stringContaining('keyward migrate') });

    const server = await serve(env);
    await api(server.url, BOOTSTRAP_TOKEN, 'POST', '/v1/keys', { name: 'k', kind: 'model' });
    expect(await server.stop()).toBe(0);
    const healthy = await doctor(env);
    expect(healthy.code).toBe(0);
    expect(healthy.ok).toBe(true);
    expect([...healthy.checks.keys()]).toEqual(['database', 'migrations', 'kek', 'collateral', 'anchors', 'clock', 'replicas']);
    expect([...healthy.checks.values()].every((c) => c.status === 'ok')).toBe(true);
    const human = await run(['doctor'], env);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('no problem found');

    rmSync(join(env.KEYWARD_DATA_DIR, 'kek'));
    const lost = await doctor(env);
    expect(lost.code).toBe(1);
    expect(lost.checks.get('kek')).toMatchObject({ status: 'fail', fix: expect.stringContaining('Restore the KEK file') });
  }, 120_000);

  it('warns about extra trust anchors without failing', async () => {
    const anchors = mkdtempSync(join(tmpdir(), 'keyward-doctor-anchors-'));
    cleanups.push(() => rmSync(anchors, { recursive: true, force: true }));
    const made = await run(['dev', 'ca', '--out', anchors, '--data-dir', join(anchors, 'ca')], {});
    expect(made.code, made.stderr).toBe(0);
    const env = { KEYWARD_DATA_DIR: dataDir(), KEYWARD_BOOTSTRAP_TOKEN: BOOTSTRAP_TOKEN, KEYWARD_EXTRA_ANCHORS: join(anchors, 'anchors') };
    expect((await run(['migrate'], env)).code).toBe(0);
    const r = await doctor(env);
    expect(r.checks.get('anchors')).toMatchObject({ status: 'warn', fix: expect.stringContaining('KEYWARD_EXTRA_ANCHORS') });
  }, 120_000);
});

describe.skipIf(!POSTGRES.available)(titleNeeding(POSTGRES, 'keyward doctor on Postgres'), () => {
  it('sees the running replicas and the clock; an unreachable database fails with its fix', async () => {
    const schema = await createPostgresSchema();
    cleanups.push(schema.drop);
    const env = { KEYWARD_DATA_DIR: dataDir(), KEYWARD_BOOTSTRAP_TOKEN: BOOTSTRAP_TOKEN, KEYWARD_DATABASE_URL: schema.url };
    const a = await serve(env);
    const b = await serve(env);
    try {
      await api(a.url, BOOTSTRAP_TOKEN, 'POST', '/v1/keys', { name: 'k', kind: 'model' });
      await api(b.url, BOOTSTRAP_TOKEN, 'GET', '/v1/keys');
      const r = await doctor(env);
      expect(r.code, JSON.stringify([...r.checks.values()])).toBe(0);
      expect(r.checks.get('replicas')?.detail).toMatch(/^2 keyward process/);
      expect(r.checks.get('replicas')?.detail).toContain(`/${a.child.pid} `);
      expect(r.checks.get('clock')?.status).toBe('ok');
    } finally {
      await a.stop();
      await b.stop();
    }
    const down = await doctor({ ...env, KEYWARD_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test' });
    expect(down.code).toBe(1);
    expect(down.checks.get('database')).toMatchObject({ status: 'fail', fix: expect.stringContaining('KEYWARD_DATABASE_URL') });
  }, 120_000);
});
