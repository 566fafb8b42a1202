// A revoked API token stops working on every replica within a second: two keyward processes on one
// Postgres, the token warm in the second one's cache, revoked through the first.
import { describe, expect, it, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPostgresSchema } from '../helpers/db.js';
import { POSTGRES, titleNeeding } from '../helpers/requirements.js';
import { BOOTSTRAP_TOKEN } from '../helpers/keyward.js';
import { api, serve } from '../helpers/process.js';
import { TOKEN_CACHE_MS } from '../../src/broker/api-tokens.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe.skipIf(!POSTGRES.available)(titleNeeding(POSTGRES, 'token revocation across two keyward processes on one Postgres'), () => {
  it('refuses a token revoked on one replica at the other within a second', async () => {
    expect(TOKEN_CACHE_MS).toBeLessThan(1000);
    const dataDir = mkdtempSync(join(tmpdir(), 'keyward-revoke-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const schema = await createPostgresSchema();
    cleanups.push(schema.drop);
    const env = { KEYWARD_DATA_DIR: dataDir, KEYWARD_BOOTSTRAP_TOKEN: BOOTSTRAP_TOKEN, KEYWARD_DATABASE_URL: schema.url };
    const a = await serve(env);
    cleanups.push(async () => void (await a.stop()));
    const b = await serve(env);
    cleanups.push(async () => void (await b.stop()));

    const minted = (await api(a.url, BOOTSTRAP_TOKEN, 'POST', '/v1/tokens', { name: 'short-lived', role: 'auditor' })).json;
    // Warm the second replica's cache with the token, right up to the revocation.
    for (let i = 0; i < 5; i++) expect((await api(b.url, minted.token, 'GET', '/v1/keys')).status).toBe(200);
    const revoked = await api(a.url, BOOTSTRAP_TOKEN, 'DELETE', `/v1/tokens/${minted.id}`);
    expect(revoked.status).toBe(200);
    const revokedAt = performance.now();
    expect((await api(a.url, minted.token, 'GET', '/v1/keys')).json.code).toBe('ERR_AUTH_INVALID');

    let refusedAfter: number | undefined;
    while (performance.now() - revokedAt < 3000) {
      const res = await api(b.url, minted.token, 'GET', '/v1/keys');
      if (res.status === 401) {
        expect(res.json.code).toBe('ERR_AUTH_INVALID');
        refusedAfter = performance.now() - revokedAt;
        break;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(refusedAfter, 'the other replica still accepted the revoked token after 3 s').toBeDefined();
    expect(refusedAfter!).toBeLessThan(1000);
  }, 120_000);
});
