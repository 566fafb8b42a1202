// The admin commands through the built CLI (run `npm run build` first) against a live `keyward serve`:
// login stores a checked token 0600 and KEYWARD_TOKEN overrides it; every command's --json is exactly the
// server's JSON; human output; errors print the server's ERR_* code (exit 1); usage errors exit 2; routes
// the server does not have yet (approvals, tenants, schedule-destroy) are a clear ERR_ROUTE_NOT_FOUND.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, BIN, run, serve, type Served } from '../helpers/process.js';
import { closedPort } from '../helpers/fake-http.js';

const BOOTSTRAP = 'admin-cli-bootstrap-token-0123456789abcdef';
let server: Served;
let root: string;
let config: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'keyward-admin-cli-'));
  config = join(root, 'config');
  server = await serve({ KEYWARD_DATA_DIR: join(root, 'data'), KEYWARD_BOOTSTRAP_TOKEN: BOOTSTRAP, KEYWARD_RATE_LIMIT: '0' });
}, 120_000);
afterAll(async () => {
  await server?.stop();
  rmSync(root, { recursive: true, force: true });
});

/** `keyward ARGS` with the server's address and the bootstrap token (unless `token` says otherwise). */
function kw(args: string[], opts: { token?: string | null; env?: Record<string, string> } = {}) {
  const token = opts.token === undefined ? BOOTSTRAP : opts.token;
  return run(args, { KEYWARD_ADDR: server.url, XDG_CONFIG_HOME: config, ...(token === null ? {} : { KEYWARD_TOKEN: token }), ...opts.env });
}

/** `--json` output parsed; the command must have succeeded. */
async function kwJson(args: string[]): Promise<any> {
  const res = await kw([...args, '--json']);
  expect(res.code, res.stderr).toBe(0);
  expect(res.stdout.endsWith('\n')).toBe(true);
  return JSON.parse(res.stdout);
}

async function loginWith(token: string, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [BIN, 'login'], {
    env: { PATH: process.env['PATH'] ?? '', KEYWARD_ADDR: server.url, XDG_CONFIG_HOME: config, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdin.end(`${token}\n`);
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

describe('keyward login and status', () => {
  it('without a token, commands say how to get one (ERR_CLI_NOT_LOGGED_IN, exit 1); status says none', async () => {
    const res = await kw(['key', 'list'], { token: null });
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(`keyward key: ERR_CLI_NOT_LOGGED_IN: no API token for ${server.url}: set KEYWARD_TOKEN or run 'keyward login'\n`);
    const status = await kw(['status'], { token: null });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/status: +ready/);
    expect(status.stdout).toMatch(/\ntoken: +none \(set KEYWARD_TOKEN or run 'keyward login'\)\n/);
  });

  it('a wrong token is refused by the server and not stored', async () => {
    const res = await loginWith('kw_not-a-real-token');
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('keyward login: ERR_AUTH_INVALID: The bearer token is not valid. (HTTP 401');
    expect(() => statSync(join(config, 'keyward', 'credentials.json'))).toThrow();
  });

  it('stores a checked token for KEYWARD_ADDR in a 0600 file; later commands use it', async () => {
    const res = await loginWith(BOOTSTRAP);
    expect(res.code, res.stderr).toBe(0);
    const file = join(config, 'keyward', 'credentials.json');
    expect(res.stdout).toBe(`stored the token for ${server.url} in ${file} (mode 0600)\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(config, 'keyward')).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(file, 'utf8')).servers[server.url].token).toBe(BOOTSTRAP);
    const list = await kw(['key', 'list', '--json'], { token: null });
    expect(list.code, list.stderr).toBe(0);
    const status = await kw(['status'], { token: null });
    expect(status.stdout).toMatch(/\ntoken: +from credentials, valid\n/);
  });

  it('KEYWARD_TOKEN overrides the stored token (as in Vault)', async () => {
    const res = await kw(['key', 'list'], { token: 'kw_revoked-or-wrong' });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('ERR_AUTH_INVALID');
    const status = await kw(['status'], { token: 'kw_revoked-or-wrong' });
    expect(status.stdout).toMatch(/\ntoken: +from KEYWARD_TOKEN, ERR_AUTH_INVALID\n/);
  });

  it('status --json is exactly GET /readyz', async () => {
    const res = await kw(['status', '--json']);
    const ready = await fetch(`${server.url}/readyz`).then((r) => r.text());
    expect(res.stdout).toBe(`${ready}\n`);
  });
});

describe('keyward key', () => {
  let keyId: string;

  it('create --json is the server\'s key; list and show --json equal the API', async () => {
    const key = await kwJson(['key', 'create', '--name', 'cli-llama', '--kind', 'model', '--description', 'weights']);
    expect(key).toMatchObject({ name: 'cli-llama', kind: 'model', description: 'weights', state: 'active', version: 1, policyId: null });
    keyId = key.id;
    expect(await kwJson(['key', 'show', keyId])).toEqual((await api(server.url, BOOTSTRAP, 'GET', `/v1/keys/${keyId}`)).json);
    expect(await kwJson(['key', 'list', '--kind', 'model'])).toEqual((await api(server.url, BOOTSTRAP, 'GET', '/v1/keys?limit=100&kind=model')).json);
  });

  it('prints keys for people', async () => {
    const list = await kw(['key', 'list']);
    expect(list.stdout).toMatch(/^ID +NAME +KIND +STATE +VERSION +POLICY\n/);
    expect(list.stdout).toContain(`${keyId}  cli-llama  model  active  1        -`);
    const show = await kw(['key', 'show', keyId]);
    expect(show.stdout).toContain('name:        cli-llama\n');
    expect(show.stdout).toContain('description: weights\n');
  });

  it('rotate adds a version; disable and enable change the state', async () => {
    expect((await kwJson(['key', 'rotate', keyId])).version).toBe(2);
    expect((await kwJson(['key', 'disable', keyId])).state).toBe('disabled');
    expect((await kwJson(['key', 'enable', keyId])).state).toBe('active');
  });

  it('schedule-destroy puts a key in pending-destroy for its window; outside 7..30 days it is a usage error, exit 2', async () => {
    const doomed = (await kwJson(['key', 'create', '--name', 'cli-doomed', '--kind', 'generic'])).id as string;
    const short = await kw(['key', 'schedule-destroy', doomed, '--pending-days', '3']);
    expect(short.code).toBe(2); // a usage error, before any request
    const scheduled = await kwJson(['key', 'schedule-destroy', doomed, '--pending-days', '7']);
    expect(scheduled.state).toBe('pending-destroy');
    const days = (Date.parse(scheduled.destroyAfter) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThan(7.1);
  });

  it('lift-hold on a key that is not held prints ERR_KEY_NOT_HELD (exit 1); without an id it is a usage error', async () => {
    const res = await kw(['key', 'lift-hold', keyId]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^keyward key: ERR_KEY_NOT_HELD: The key is not on hold\. \(HTTP 409/);
    expect((await kw(['key', 'lift-hold'])).code).toBe(2);
  });

  it('errors carry the server\'s code; usage errors exit 2', async () => {
    const missing = await kw(['key', 'show', '00000000-0000-4000-8000-000000000000']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^keyward key: ERR_KEY_NOT_FOUND: No key with this id exists\. \(HTTP 404, request id /);
    const dup = await kw(['key', 'create', '--name', 'cli-llama', '--kind', 'model']);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('ERR_KEY_NAME_TAKEN');
    for (const args of [['key', 'create', '--name', 'x'], ['key', 'create', '--name', 'x', '--kind', 'weights'], ['key', 'show'], ['key', 'show', 'a', 'b'], ['key', 'frob'], ['key', 'list', '--bogus'], ['key', 'schedule-destroy', keyId, '--pending-days', '3']]) {
      const res = await kw(args);
      expect(res.code, args.join(' ')).toBe(2);
      expect(res.stderr).toMatch(/^keyward key: .*\nrun 'keyward key --help' for usage\n$/);
    }
  });
});

describe('keyward policy', () => {
  let policyId: string;
  let keyId: string;
  const yaml = (name: string, expr: string) => `name: ${name}\ndescription: from the CLI\nrules:\n  - name: snp\n    expr: 'cpu.tee == "snp"'\n  - name: debug\n    expr: '${expr}'\nrefs:\n  images: ["ab"]\n`;

  it('create --file takes YAML; the server type-checks it', async () => {
    const file = join(root, 'policy.yaml');
    writeFileSync(file, yaml('cli-prod', '!cpu.debug'));
    const policy = await kwJson(['policy', 'create', '--file', file]);
    expect(policy).toMatchObject({ name: 'cli-prod', version: 1, description: 'from the CLI' });
    policyId = policy.id;
    writeFileSync(file, yaml('cli-typo', '!cpu.debgu'));
    const typo = await kw(['policy', 'create', '--file', file]);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toMatch(/^keyward policy: ERR_POLICY_TYPE: .*\n {2}- rule "debug" at 1:\d+: /);
    const gone = await kw(['policy', 'create', '--file', join(root, 'nope.yaml')]);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toContain('ENOENT');
  });

  it('list and show (--json equal the API; --version reads an older version)', async () => {
    expect(await kwJson(['policy', 'list'])).toEqual((await api(server.url, BOOTSTRAP, 'GET', '/v1/policies?limit=100')).json);
    await api(server.url, BOOTSTRAP, 'PUT', `/v1/policies/${policyId}`, { name: 'cli-prod', rules: [{ name: 'snp', expr: 'cpu.tee == "snp"' }] });
    expect((await kwJson(['policy', 'show', policyId])).version).toBe(2);
    expect((await kwJson(['policy', 'show', policyId, '--version', '1'])).description).toBe('from the CLI');
    const human = await kw(['policy', 'show', policyId, '--version', '1']);
    expect(human.stdout).toContain('rules:\n  snp: cpu.tee == "snp"\n  debug: !cpu.debug\n');
  });

  it('bind and bind --none', async () => {
    keyId = (await kwJson(['key', 'create', '--name', 'cli-bound', '--kind', 'dataset'])).id;
    expect((await kwJson(['policy', 'bind', keyId, policyId])).policyId).toBe(policyId);
    expect((await kw(['policy', 'bind', keyId, policyId])).stdout).toBe(`key ${keyId} is bound to policy ${policyId}\n`);
    expect((await kwJson(['policy', 'bind', keyId, '--none'])).policyId).toBeNull();
    expect((await kw(['policy', 'bind', keyId])).code).toBe(2);
  });

  it('evaluate --claims: the explanation; exit 0 allowed, 1 denied', async () => {
    const claims = join(root, 'claims.json');
    writeFileSync(claims, JSON.stringify({ cpu: { tee: 'snp' }, gpus: [] }));
    const allowed = await kw(['policy', 'evaluate', policyId, '--claims', claims, '--json']);
    expect(allowed.code).toBe(0);
    expect(JSON.parse(allowed.stdout)).toMatchObject({ allowed: true, policyId, version: 2 });
    writeFileSync(claims, JSON.stringify({ cpu: { tee: 'tdx' }, gpus: [] }));
    const denied = await kw(['policy', 'evaluate', policyId, '--claims', claims]);
    expect(denied.code).toBe(1);
    expect(denied.stdout).toMatch(/^DENIED by cli-prod version 2\nRULE +OUTCOME +READS\nsnp +fail +\{"cpu.tee":"tdx"\}\n$/);
    expect((await kw(['policy', 'evaluate', policyId])).code).toBe(2);
  });
});

describe('keyward token', () => {
  it('create prints the secret once; it works; list shows it; revoke ends it', async () => {
    const created = await kwJson(['token', 'create', '--name', 'cli-ci', '--role', 'owner', '--scope', 'keys:read', '--expires-in', '30d']);
    expect(created).toMatchObject({ name: 'cli-ci', role: 'owner', scopes: ['keys:read'], revokedAt: null });
    expect(created.token).toMatch(/^kw_/);
    expect(Date.parse(created.expiresAt) - Date.parse(created.createdAt)).toBe(30 * 86400 * 1000);
    expect((await kw(['key', 'list'], { token: created.token })).code).toBe(0);
    const forbidden = await kw(['policy', 'list'], { token: created.token });
    expect(forbidden.stderr).toContain('ERR_AUTH_FORBIDDEN');
    const list = await kwJson(['token', 'list']);
    expect(list).toEqual((await api(server.url, BOOTSTRAP, 'GET', '/v1/tokens')).json);
    expect(list.items.find((t: { id: string }) => t.id === created.id).token).toBeUndefined();
    expect((await kw(['token', 'list'])).stdout).toContain('bootstrap admin (bootstrap)');
    const human = await kw(['token', 'create', '--name', 'cli-human', '--role', 'auditor']);
    expect(human.stdout).toMatch(/token: +kw_\S+\n\(shown once: keyward keeps only its hash\)\n/);
    expect((await kwJson(['token', 'revoke', created.id])).revokedAt).not.toBeNull();
    expect((await kw(['key', 'list'], { token: created.token })).stderr).toContain('ERR_AUTH_INVALID');
    expect((await kw(['token', 'create', '--name', 'x', '--role', 'root'])).code).toBe(2);
    expect((await kw(['token', 'create', '--name', 'x', '--role', 'owner', '--expires-in', 'soon'])).code).toBe(2);
  });
});

describe('keyward audit', () => {
  it('list --json is the server\'s page; --all exports every event; verify asks the server', async () => {
    expect(await kwJson(['audit', 'list', '--limit', '5'])).toEqual((await api(server.url, BOOTSTRAP, 'GET', '/v1/audit?limit=5')).json);
    expect((await kwJson(['audit', 'list', '--action', 'key.create'])).items.every((e: { action: string }) => e.action === 'key.create')).toBe(true);
    const all = await kwJson(['audit', 'list', '--all', '--limit', '3']);
    expect(all.items.map((e: { seq: number }) => e.seq)).toEqual(all.items.map((_: unknown, i: number) => i + 1));
    expect(await kwJson(['audit', 'verify'])).toMatchObject({ ok: true, brokenAt: null });
    expect((await kw(['audit', 'verify'])).stdout).toMatch(/^chain: +intact\n/);
  });

  it('verify FILE checks an exported log offline; a tampered one is ERR_CLI_AUDIT_BROKEN, exit 1', async () => {
    const file = join(root, 'audit.json');
    writeFileSync(file, (await kw(['audit', 'list', '--all', '--json'])).stdout);
    const ok = await kw(['audit', 'verify', file], { token: null, env: { KEYWARD_ADDR: `http://127.0.0.1:${await closedPort()}` } });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/chain: +intact\n$/);
    const exported = JSON.parse(readFileSync(file, 'utf8'));
    exported.items[1].details = { tampered: true };
    writeFileSync(file, JSON.stringify(exported));
    const bad = await kw(['audit', 'verify', file, '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false, brokenAt: exported.items[1].seq });
    expect(bad.stderr).toBe(`keyward audit: ERR_CLI_AUDIT_BROKEN: the hash chain of ${file} breaks at seq ${exported.items[1].seq}\n`);
  });
});

describe('tenants and approvals', () => {
  it('tenant create, list and invite against the live server', async () => {
    const name = `acme-${Date.now().toString(36)}`;
    const created = await kwJson(['tenant', 'create', name, '--quorum', '1']);
    expect(created).toMatchObject({ name, quorum: 1 });
    const listed = await kwJson(['tenant', 'list']);
    expect(listed.items.map((t: { name: string }) => t.name)).toContain(name);
    const invite = await kwJson(['tenant', 'invite', name, '--name', 'Alice', '--role', 'owner']);
    expect(invite.enrolmentCode).toEqual(expect.any(String));
    expect(invite.userId).toMatch(/^[0-9a-f-]{36}$/);
    const again = await kw(['tenant', 'create', name]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('ERR_TENANT_NAME_TAKEN');
  });

  it('approval list shows none pending; approval show of an unknown id is ERR_APPROVAL_NOT_FOUND, exit 1', async () => {
    const pending = await kwJson(['approval', 'list', '--state', 'pending']);
    expect(pending.items).toEqual([]);
    const missing = await kw(['approval', 'show', '00000000-0000-4000-8000-000000000000']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^keyward approval: ERR_APPROVAL_NOT_FOUND: /);
  });

  it('usage errors of those commands exit 2 before any request', async () => {
    for (const args of [['tenant', 'create'], ['tenant', 'invite', 'acme', '--name', 'A', '--role', 'admin'], ['approval', 'show'], ['approval', 'frob']]) {
      expect((await kw(args)).code, args.join(' ')).toBe(2);
    }
  });
});

describe('transport', () => {
  it('a server that is down: ERR_CLIENT_UNREACHABLE, exit 1', async () => {
    const port = await closedPort();
    const res = await kw(['key', 'list'], { env: { KEYWARD_ADDR: `http://127.0.0.1:${port}` } });
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(`keyward key: ERR_CLIENT_UNREACHABLE: cannot reach keyward at http://127.0.0.1:${port}: connection refused (is keyward running there?)\n`);
  });

  it('refuses to send a token over plain http to another machine', async () => {
    const res = await kw(['key', 'list'], { env: { KEYWARD_ADDR: 'http://keyward.example.invalid:8750' } });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('ERR_CLIENT_OPTIONS_INVALID: refusing to send an API token over plain http');
  });
});
