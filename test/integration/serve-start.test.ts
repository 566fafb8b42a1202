// `keyward serve` start-up: a start that cannot bind mints no bootstrap token (so the one that does is
// printed), and misconfigured trust anchors stop the start with a message naming the fix.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { afterAll, describe, expect, it } from 'vitest';
import { api, run, serve } from '../helpers/process.js';

const ROOT_PEM = readFileSync(join(process.cwd(), 'test', 'vectors', 'intel', 'intel_sgx_root_ca.pem'), 'utf8');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'keyward-start-'));
  dirs.push(d);
  return d;
}

describe('keyward serve start-up', () => {
  it('a first start that fails to bind creates no bootstrap token; the next start prints one that works', async () => {
    const dataDir = tempDir();
    const blocker: Server = createServer().listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const port = (blocker.address() as { port: number }).port;
    try {
      const failed = await run(['serve'], { KEYWARD_DATA_DIR: dataDir, KEYWARD_PORT: String(port), KEYWARD_LOG_LEVEL: 'info' });
      expect(failed.code).toBe(1);
      expect(failed.stderr).toContain('EADDRINUSE');
      expect(failed.stdout).not.toContain('bootstrapAdminToken');
    } finally {
      blocker.close();
    }
    const server = await serve({ KEYWARD_DATA_DIR: dataDir });
    try {
      const line = server.output.join('').split('\n').find((l) => l.includes('bootstrapAdminToken'));
      expect(line).toBeDefined();
      const token = JSON.parse(line ?? '{}').bootstrapAdminToken as string;
      expect(token).toMatch(/^kw_/);
      expect((await api(server.url, token, 'GET', '/v1/keys')).status).toBe(200);
    } finally {
      await server.stop();
    }
  }, 90_000);

  it('refuses to start when KEYWARD_EXTRA_ANCHORS holds no root, naming the subfolder that does', async () => {
    const dataDir = tempDir();
    const out = join(dataDir, 'dev');
    mkdirSync(join(out, 'anchors'), { recursive: true });
    writeFileSync(join(out, 'anchors', 'root.pem'), ROOT_PEM);
    const res = await run(['serve'], { KEYWARD_DATA_DIR: dataDir, KEYWARD_PORT: '0', KEYWARD_EXTRA_ANCHORS: out });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('ERR_CONFIG_INVALID');
    expect(res.stderr).toContain(`KEYWARD_EXTRA_ANCHORS=${out} holds no certificate; ${join(out, 'anchors')} does: set KEYWARD_EXTRA_ANCHORS=${join(out, 'anchors')}.`);
    const empty = join(dataDir, 'empty');
    mkdirSync(empty);
    const none = await run(['serve'], { KEYWARD_DATA_DIR: dataDir, KEYWARD_PORT: '0', KEYWARD_EXTRA_ANCHORS: empty });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('holds no certificate; put the PEM roots to trust directly in it.');
  }, 60_000);
});
