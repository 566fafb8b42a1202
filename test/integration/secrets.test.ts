// Key material never appears in plaintext: not in any table, not in the PGlite data directory on disk,
// not in logs, error bodies or audit rows. A known key is imported (BYOK), used, and then searched for.
import { describe, expect, it, afterAll, beforeAll } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { CompactEncrypt, importJWK, type JWK } from 'jose';
import type { LightMyRequestResponse } from 'fastify';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { createKeyward, type Keyward } from '../../src/service.js';
import { captureStream, BOOTSTRAP_TOKEN } from '../helpers/keyward.js';
import { DB_KINDS, createPostgresSchema } from '../helpers/db.js';

/** Every encoding a secret could leak in: raw bytes, hex (both cases), base64, base64url. */
function encodings(secret: Uint8Array): Buffer[] {
  const b = Buffer.from(secret);
  return [b, Buffer.from(b.toString('hex')), Buffer.from(b.toString('hex').toUpperCase()), Buffer.from(b.toString('base64').replace(/=+$/, '')), Buffer.from(b.toString('base64url'))];
}

function leaks(haystack: Buffer, secret: Uint8Array): boolean {
  return encodings(secret).some((needle) => haystack.includes(needle));
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

describe.each(DB_KINDS)('secrets on %s', (kind) => {
  const planted = new Uint8Array(randomBytes(32));
  const dataDir = mkdtempSync(join(tmpdir(), 'keyward-secrets-'));
  const logs: string[] = [];
  const bodies: string[] = [];
  let keyward: Keyward;
  let dropSchema: (() => Promise<void>) | undefined;
  let dataKeyPlain: Uint8Array;

  async function call(method: string, url: string, body?: unknown): Promise<LightMyRequestResponse> {
    const res = await keyward.app.inject({
      method: method as 'GET',
      url,
      headers: { authorization: `Bearer ${BOOTSTRAP_TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
    });
    bodies.push(res.body);
    return res;
  }

  beforeAll(async () => {
    const env: Record<string, string> = { KEYWARD_DATA_DIR: dataDir, KEYWARD_BOOTSTRAP_TOKEN: BOOTSTRAP_TOKEN, KEYWARD_LOG_LEVEL: 'trace' };
    if (kind === 'postgres') {
      const schema = await createPostgresSchema();
      env['KEYWARD_DATABASE_URL'] = schema.url;
      dropSchema = schema.drop;
    }
    keyward = await createKeyward({ config: loadConfig(env), logger: createLogger('trace', captureStream(logs)) });

    const jwk = (await call('GET', '/v1/import-key')).json() as JWK;
    const jwe = await new CompactEncrypt(planted)
      .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: jwk.kid as string })
      .encrypt(await importJWK(jwk, 'RSA-OAEP-256'));
    const key = (await call('POST', '/v1/keys/import', { name: 'planted', kind: 'model', jwe })).json();
    expect(key.origin).toBe('imported');
    const dk = (await call('POST', `/v1/keys/${key.id}/datakey`)).json();
    dataKeyPlain = new Uint8Array(Buffer.from(dk.plaintext, 'base64'));
    // Provoke failures that carry material-adjacent input through the error paths.
    await call('POST', '/v1/keys/import', { name: 'planted', kind: 'model', jwe });
    await call('POST', '/v1/keys/import', { name: 'planted-2', kind: 'model', jwe: `${jwe.slice(0, -4)}AAAA` });
    await call('POST', '/v1/keys', { name: 'x', kind: 'model', material: Buffer.from(planted).toString('hex').slice(0, 10) });
    await call('POST', `/v1/keys/${key.id}/rotate`);
    await call('POST', `/v1/keys/${key.id}/datakey`);
  }, 60_000);

  afterAll(async () => {
    await keyward?.close();
    await dropSchema?.();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('stores no table row holding the material or a data key', async () => {
    const tables = ['keys', 'key_versions', 'keks', 'api_tokens', 'import_keys', 'audit_events', 'audit_head', 'keyward_migrations'];
    let rows = 0;
    for (const table of tables) {
      const result = await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(keyward.database.db);
      for (const row of result.rows) {
        rows++;
        const flat = Buffer.concat(
          Object.values(row).map((v) => (v instanceof Uint8Array ? Buffer.from(v) : Buffer.from(JSON.stringify(v) ?? ''))),
        );
        expect(leaks(flat, planted), `${table} leaks the imported material`).toBe(false);
        expect(leaks(flat, dataKeyPlain), `${table} leaks a data key`).toBe(false);
      }
    }
    expect(rows).toBeGreaterThan(10);
  });

  it('writes neither to the logs, the error bodies nor the audit details', async () => {
    expect(logs.length).toBeGreaterThan(10);
    const allLogs = Buffer.from(logs.join('\n'));
    expect(leaks(allLogs, planted)).toBe(false);
    expect(leaks(allLogs, dataKeyPlain)).toBe(false);
    expect(allLogs.includes(Buffer.from(BOOTSTRAP_TOKEN))).toBe(false);
    const errorBodies = Buffer.from(bodies.filter((b) => b.includes('"code":"ERR_')).join('\n'));
    expect(errorBodies.length).toBeGreaterThan(0);
    expect(leaks(errorBodies, planted)).toBe(false);
    const audit = (await call('GET', '/v1/audit?limit=1000')).body;
    expect(leaks(Buffer.from(audit), planted)).toBe(false);
    expect(leaks(Buffer.from(audit), dataKeyPlain)).toBe(false);
  });

  // Only the embedded database keeps its files in our data directory.
  if (kind === 'pglite') it('leaves no plaintext in the PGlite data directory on disk', async () => {
    await keyward.close();
    const files = filesUnder(dataDir);
    expect(files.some((f) => f.includes('pgdata'))).toBe(true);
    for (const file of files) {
      const bytes = readFileSync(file);
      expect(leaks(bytes, planted), `${file} leaks the imported material`).toBe(false);
      expect(leaks(bytes, dataKeyPlain), `${file} leaks a data key`).toBe(false);
    }
  });
});
