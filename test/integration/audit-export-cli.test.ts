// `keyward audit export` and `keyward audit verify FILE` through the built CLI (run `npm run build` first)
// against a live `keyward serve` whose own timer writes the checkpoints (KEYWARD_AUDIT_CHECKPOINT_INTERVAL=1).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, run, serve, type Served } from '../helpers/process.js';

const BOOTSTRAP = 'audit-export-cli-bootstrap-token-0123456789';
let server: Served;
let root: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'keyward-audit-cli-'));
  server = await serve({
    KEYWARD_DATA_DIR: join(root, 'data'),
    KEYWARD_BOOTSTRAP_TOKEN: BOOTSTRAP,
    KEYWARD_RATE_LIMIT: '0',
    KEYWARD_AUDIT_CHECKPOINT_EVENTS: '1000',
    KEYWARD_AUDIT_CHECKPOINT_INTERVAL: '1',
  });
}, 120_000);
afterAll(async () => {
  await server?.stop();
  rmSync(root, { recursive: true, force: true });
});

function kw(args: string[]) {
  return run(args, { KEYWARD_ADDR: server.url, KEYWARD_TOKEN: BOOTSTRAP, XDG_CONFIG_HOME: join(root, 'config') });
}

describe('keyward audit export and verify', () => {
  it('the service checkpoints on its own timer; the export verifies offline, pinned; an edit is exit 1', async () => {
    for (let i = 0; i < 3; i++) expect((await api(server.url, BOOTSTRAP, 'POST', '/v1/keys', { name: `k${i}`, kind: 'generic' })).status).toBe(201);
    // Wait (at most 20 s) until a checkpoint covers all three events of the tenant's chain.
    let covered = 0;
    for (let i = 0; i < 40 && covered < 3; i++) {
      await new Promise((r) => setTimeout(r, 500));
      const page = (await api(server.url, BOOTSTRAP, 'GET', '/v1/audit/export?tenant=default')).json;
      covered = Math.max(0, ...page.checkpoints.map((c: { leaves: { seq: number }[] }) => c.leaves[0]?.seq ?? 0));
    }
    expect(covered).toBe(3);
    const file = join(root, 'default.json');
    const exported = await kw(['audit', 'export', '--tenant', 'default', '--out', file]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stderr).toMatch(/^wrote 3 events and \d+ checkpoints of tenant:default to /);
    const keys = join(root, 'keys.json');
    const listed = await kw(['audit', 'keys', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual((await api(server.url, BOOTSTRAP, 'GET', '/v1/audit/checkpoint-keys')).json);
    expect((await kw(['audit', 'keys'])).stdout).toMatch(/^KID +ALG +CRV +X\nkw-audit-\S+ +EdDSA +Ed25519 /);
    writeFileSync(keys, listed.stdout);
    const ok = await run(['audit', 'verify', file, '--key', keys], {});
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/chain: +tenant:default\n/);
    expect(ok.stdout).toMatch(/checkpoints: +\d+ \(signed by the pinned key\)\n/);
    expect(ok.stdout).toMatch(/not yet covered: +0 rows after the last checkpoint\n/);
    expect(ok.stdout).toMatch(/verdict: +verified\n$/);
    const unpinned = await run(['audit', 'verify', file], {});
    expect(unpinned.stdout).toMatch(/trusted as given: pin it with --key/);

    const doc = JSON.parse(readFileSync(file, 'utf8'));
    doc.rows[0].outcome = 'failure';
    writeFileSync(file, JSON.stringify(doc));
    const bad = await run(['audit', 'verify', file, '--json'], {});
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ verified: false, error: { row: doc.rows[0].seq } });
    expect(bad.stderr).toContain(`ERR_CLI_AUDIT_BROKEN: ${file}: row seq ${doc.rows[0].seq} (tenant:default #1): its content does not match its hash (edited)`);

    writeFileSync(file, 'not json');
    expect((await run(['audit', 'verify', file], {})).code).toBe(2);
    expect((await run(['audit', 'verify', '--key', keys], {})).code).toBe(2);
  });
});
