// The release protocol across processes: a challenge from one keyward is consumed at another on the same
// Postgres; and a keyward SIGKILLed during a burst of releases has an audit row for every release a
// client received, none duplicated.
import { describe, expect, it, afterAll, beforeAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DB_KINDS, createPostgresSchema } from '../helpers/db.js';
import { POSTGRES, titleNeeding } from '../helpers/requirements.js';
import { BOOTSTRAP_TOKEN } from '../helpers/keyward.js';
import { api, serve, type Served } from '../helpers/process.js';
import { binding, createTestSnpPlatform, openJwe, snpPolicy, teeKeyPair, type TestSnpPlatform } from '../helpers/tee.js';
import { openDatabase } from '../../src/store/database.js';
import { loadConfig } from '../../src/config.js';

let snp: TestSnpPlatform;
const cleanups: (() => Promise<void> | void)[] = [];
beforeAll(async () => {
  snp = await createTestSnpPlatform();
}, 60_000);
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function environment(kind: 'pglite' | 'postgres'): Promise<Record<string, string>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'keyward-rel-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const env: Record<string, string> = { KEYWARD_DATA_DIR: dataDir, KEYWARD_BOOTSTRAP_TOKEN: BOOTSTRAP_TOKEN, ...snp.env, KEYWARD_RATE_LIMIT: '0' };
  if (kind === 'postgres') {
    const schema = await createPostgresSchema();
    cleanups.push(schema.drop);
    env['KEYWARD_DATABASE_URL'] = schema.url;
  }
  return env;
}

async function setupKey(server: Served): Promise<string> {
  const key = (await api(server.url, BOOTSTRAP_TOKEN, 'POST', '/v1/keys', { name: 'model', kind: 'model' })).json;
  const policy = (await api(server.url, BOOTSTRAP_TOKEN, 'POST', '/v1/policies', snpPolicy('prod'))).json;
  await api(server.url, BOOTSTRAP_TOKEN, 'PUT', `/v1/keys/${key.id}/policy`, { policyId: policy.id });
  return key.id;
}

async function attestAt(url: string, nonce: string) {
  const tee = teeKeyPair();
  const res = await api(url, '', 'POST', '/v1/attest', { nonce, teePublicKey: tee.publicJwk, evidence: [await snp.evidence(binding(nonce, tee))] });
  return { tee, res };
}

describe.skipIf(!POSTGRES.available)(titleNeeding(POSTGRES, 'two keyward processes on one Postgres'), () => {
  it('consume a challenge from one at the other, and release there', async () => {
    const env = await environment('postgres');
    const a = await serve(env);
    const b = await serve(env);
    try {
      const keyId = await setupKey(a);
      const { nonce } = (await api(a.url, '', 'POST', '/v1/challenge')).json;
      const { tee, res } = await attestAt(b.url, nonce);
      expect(res.status, JSON.stringify(res.json)).toBe(200);
      const released = await api(a.url, res.json.token, 'POST', `/v1/keys/${keyId}/release`);
      expect(released.status, JSON.stringify(released.json)).toBe(200);
      expect(await openJwe(released.json.jwe, tee)).toHaveLength(32);
      const replay = await attestAt(a.url, nonce);
      expect(replay.res.json.code).toBe('ERR_ATTEST_NONCE_REPLAYED');
      const viaB = await api(b.url, res.json.token, 'POST', `/v1/keys/${keyId}/release`);
      expect(viaB.status).toBe(200);
    } finally {
      await a.stop();
      await b.stop();
    }
  }, 120_000);
});

describe.each(DB_KINDS)('SIGKILL during a release burst on %s', (kind) => {
  it('leaves exactly one audit row for every release a client received', async () => {
    const env = await environment(kind);
    const server = await serve(env);
    const keyId = await setupKey(server);
    const tokens: string[] = [];
    for (let i = 0; i < 6; i++) {
      const { nonce } = (await api(server.url, '', 'POST', '/v1/challenge')).json;
      const { res } = await attestAt(server.url, nonce);
      expect(res.status).toBe(200);
      tokens.push(res.json.token);
    }
    const received: string[] = [];
    const burst = Array.from({ length: 150 }, (_, i) => tokens[i % tokens.length] as string).map(async (token) => {
      try {
        const res = await api(server.url, token, 'POST', `/v1/keys/${keyId}/release`);
        if (res.status === 200) received.push(res.json.releaseId);
      } catch {
        // the server died mid-request
      }
    });
    await new Promise((r) => setTimeout(r, 300));
    await server.stop('SIGKILL');
    await Promise.all(burst);
    expect(received.length).toBeGreaterThan(0);
    const database = await openDatabase(
      kind === 'postgres' ? { kind: 'postgres', url: env['KEYWARD_DATABASE_URL'] as string } : { kind: 'pglite', dataDir: join(loadConfig(env).dataDir, 'pgdata') },
    );
    try {
      const rows = await database.db.selectFrom('auditEvents').select(['details', 'outcome']).where('action', '=', 'key.release').execute();
      const ids = rows.map((r) => (r.details as { releaseId?: string }).releaseId).filter((id): id is string => id !== undefined);
      expect(new Set(ids).size).toBe(ids.length);
      for (const id of received) expect(ids).toContain(id);
    } finally {
      await database.close();
    }
    // After a restart the audit chain holds and the key still opens and releases.
    const restarted = await serve(env);
    try {
      expect((await api(restarted.url, BOOTSTRAP_TOKEN, 'GET', '/v1/audit/verify')).json).toMatchObject({ ok: true, brokenAt: null });
      expect((await api(restarted.url, tokens[0] as string, 'POST', `/v1/keys/${keyId}/release`)).status).toBe(200);
    } finally {
      await restarted.stop();
    }
  }, 120_000);
});
