// Builds a whole keyward service for tests (no listening socket: requests go through app.inject), on
// PGlite or Postgres, with every log line captured so tests can prove secrets never reach the logs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { LightMyRequestResponse } from 'fastify';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { createKeyward, type Keyward } from '../../src/service.js';
import type { Clock } from '../../src/clock.js';
import { createTestDatabase, type DbKind, type TestDatabase } from './db.js';
import { assertMatchesContract } from './contract.js';

export const BOOTSTRAP_TOKEN = 'test-bootstrap-admin-token-0123456789';

export interface TestKeyward {
  readonly keyward: Keyward;
  readonly config: Config;
  readonly dataDir: string;
  readonly db: TestDatabase;
  /** Every log line written so far (JSON text). */
  readonly logs: string[];
  request(method: string, url: string, opts?: { body?: unknown; token?: string | null; headers?: Record<string, string>; rawBody?: string }): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export function captureStream(lines: string[]): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(line);
      cb();
    },
  });
}

export async function startTestKeyward(
  kind: DbKind,
  opts: { env?: Record<string, string>; clock?: Clock; db?: TestDatabase } = {},
): Promise<TestKeyward> {
  const dataDir = mkdtempSync(join(tmpdir(), 'keyward-test-'));
  const config = loadConfig({
    KEYWARD_DATA_DIR: dataDir,
    KEYWARD_BOOTSTRAP_TOKEN: BOOTSTRAP_TOKEN,
    KEYWARD_LOG_LEVEL: 'debug',
    // Tests send far more requests from one address than a workload would; rate-limit tests turn it on.
    KEYWARD_RATE_LIMIT: '0',
    KEYWARD_FAILED_ATTEMPT_LIMIT: '0',
    ...opts.env,
  });
  const db = opts.db ?? (await createTestDatabase(kind));
  const logs: string[] = [];
  const logger = createLogger('debug', captureStream(logs));
  const keyward = await createKeyward({ config, logger, database: db.database, ...(opts.clock ? { clock: opts.clock } : {}) });
  return {
    keyward,
    config,
    dataDir,
    db,
    logs,
    request(method, url, o = {}) {
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      const token = o.token === undefined ? BOOTSTRAP_TOKEN : o.token;
      if (token !== null) headers['authorization'] = `Bearer ${token}`;
      const payload = o.rawBody ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
      if (payload !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
      return keyward.app
        .inject({ method: method as 'GET', url, headers, ...(payload !== undefined ? { payload } : {}) })
        .then((res) => {
          // Every response a test sees must be what openapi.yaml documents.
          assertMatchesContract(method, url, res.statusCode, res.headers['content-type'] as string | undefined, res.body);
          return res;
        });
    },
    async close() {
      await keyward.close();
      if (!opts.db) await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
