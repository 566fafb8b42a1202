// The admin commands added to cover every admin route (docs/admin-cli.md "Every admin route and its
// command"), through the built CLI (run `npm run build` first) against a live `keyward serve` that trusts
// the development CA: each command's --json is parsed and asserted, and each has an error case with the
// server's ERR_* code and its exit code.
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, run } from '../helpers/process.js';
import { BOOTSTRAP_TOKEN } from '../helpers/keyward.js';
import { startAgentWorld, type AgentWorld } from '../helpers/agent-cli.js';
import { closedPort } from '../helpers/fake-http.js';
import { ORIGIN } from '../helpers/people.js';
import { SoftwareAuthenticator } from '../helpers/webauthn-authenticator.js';

let world: AgentWorld;

beforeAll(async () => {
  world = await startAgentWorld('keyward-admin-cli-routes-', () => ({ KEYWARD_ORIGIN: ORIGIN }));
}, 120_000);
afterAll(async () => world?.close());

function kw(args: string[], env: Record<string, string> = {}) {
  return run(args, { KEYWARD_ADDR: world.url, KEYWARD_TOKEN: BOOTSTRAP_TOKEN, XDG_CONFIG_HOME: join(world.root, 'config'), ...env });
}

/** `--json` output parsed; the command must have succeeded. */
async function kwJson(args: string[], env: Record<string, string> = {}): Promise<any> {
  const res = await kw([...args, '--json'], env);
  expect(res.code, res.stderr).toBe(0);
  return JSON.parse(res.stdout);
}

/** The command failed with the server's code (exit 1) and printed it as `keyward GROUP: CODE: ...`. */
async function expectServerError(args: string[], code: string, env: Record<string, string> = {}): Promise<void> {
  const res = await kw(args, env);
  expect(res.stderr).toMatch(new RegExp(`^keyward ${args[0]}: ${code}: .*\\(HTTP \\d{3}, request id `));
  expect(res.code).toBe(1);
}

const NO_KEY = '00000000-0000-4000-8000-000000000000';

describe('keyward key update, versions, datakey, destroy', () => {
  it('update changes the description, labels and release budget; an unknown key is ERR_KEY_NOT_FOUND', async () => {
    const id = (await kwJson(['key', 'create', '--name', 'upd', '--kind', 'generic'])).id;
    const updated = await kwJson(['key', 'update', id, '--description', 'new words', '--label', 'team=ml', '--label', 'env=prod', '--rate-limit', '30']);
    expect(updated).toMatchObject({ id, description: 'new words', labels: { team: 'ml', env: 'prod' }, rateLimit: { perMinute: 30 } });
    const cleared = await kwJson(['key', 'update', id, '--no-labels', '--rate-limit', 'default']);
    expect(cleared).toMatchObject({ labels: {}, rateLimit: null, description: 'new words' });
    expect((await kw(['key', 'show', id])).stdout).toMatch(/\ndescription: +new words\n/);
    expect((await kw(['key', 'update', id])).code).toBe(2);
    await expectServerError(['key', 'update', NO_KEY, '--description', 'x'], 'ERR_KEY_NOT_FOUND');
  });

  it('versions lists every version; datakey answers a plaintext and its wrapped form', async () => {
    const id = (await kwJson(['key', 'create', '--name', 'ver', '--kind', 'model'])).id;
    await kwJson(['key', 'rotate', id]);
    const versions = await kwJson(['key', 'versions', id]);
    expect(versions.items.map((v: { version: number; state: string }) => [v.version, v.state])).toEqual([[1, 'active'], [2, 'active']]);
    expect((await kw(['key', 'versions', id])).stdout).toMatch(/^VERSION +STATE +CREATED +DESTROYED\n1 +active /);
    const dk = await kwJson(['key', 'datakey', id]);
    expect(dk).toMatchObject({ keyId: id, version: 2 });
    expect(Buffer.from(dk.plaintext, 'base64')).toHaveLength(32);
    expect(dk.wrapped).toEqual(expect.any(String));
    await expectServerError(['key', 'versions', NO_KEY], 'ERR_KEY_NOT_FOUND');
  });

  it('cancel-destroy returns a scheduled key to active; on a key not pending destruction it is refused', async () => {
    const id = (await kwJson(['key', 'create', '--name', 'saved', '--kind', 'generic'])).id;
    expect((await kwJson(['key', 'schedule-destroy', id])).state).toBe('pending-destroy');
    const back = await kwJson(['key', 'cancel-destroy', id]);
    expect(back).toMatchObject({ id, state: 'active', destroyAfter: null });
    await expectServerError(['key', 'cancel-destroy', id], 'ERR_KEY_NOT_PENDING_DESTROY');
  });

  it('destroy needs --yes (exit 2, nothing sent); with it the key is destroyed; then datakey is ERR_KEY_DESTROYED', async () => {
    const id = (await kwJson(['key', 'create', '--name', 'shred', '--kind', 'generic'])).id;
    const refused = await kw(['key', 'destroy', id]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('add --yes');
    expect((await kwJson(['key', 'show', id])).state).toBe('active');
    expect(await kwJson(['key', 'destroy', id, '--yes'])).toMatchObject({ id, state: 'destroyed' });
    await expectServerError(['key', 'datakey', id], 'ERR_KEY_DESTROYED');
  });
});

describe('keyward key releases', () => {
  let released: string;
  let denied: string;

  beforeAll(async () => {
    released = await world.createKey('rel-ok');
    denied = await world.createKey('rel-no', 'd4'.repeat(48));
    for (const key of [released, denied]) {
      await run(['agent', 'release', '--server', world.url, '--simulate', 'snp', '--data-dir', world.agentDir, '--key', key, '--out', join(world.root, `${key}.bin`)], {});
    }
  }, 120_000);

  it('--json: each release and denial, filtered by outcome and time; the table for people', async () => {
    const ok = await kwJson(['key', 'releases', released]);
    expect(ok.items).toHaveLength(1);
    expect(ok.items[0]).toMatchObject({ outcome: 'released', version: 1, tee: 'snp', failingRules: [] });
    const no = await kwJson(['key', 'releases', denied, '--outcome', 'denied']);
    expect(no.items).toHaveLength(1);
    expect(no.items[0]).toMatchObject({ outcome: 'denied', tee: 'snp' });
    expect(no.items[0].failingRules.length).toBeGreaterThan(0);
    expect((await kwJson(['key', 'releases', denied, '--outcome', 'released'])).items).toEqual([]);
    expect((await kwJson(['key', 'releases', released, '--from', '2099-01-01T00:00:00Z'])).items).toEqual([]);
    expect(await kwJson(['key', 'releases', released, '--to', '2099-01-01T00:00:00Z'])).toEqual(ok);
    const human = await kw(['key', 'releases', denied]);
    expect(human.stdout).toMatch(/^AT +OUTCOME +VERSION +TEE +CHIP +MEASUREMENT +POLICY +WHY\n\S+ +denied /);
  });

  it('--format csv prints the server\'s CSV', async () => {
    const res = await kw(['key', 'releases', released, '--format', 'csv']);
    expect(res.code, res.stderr).toBe(0);
    const lines = res.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^at,outcome,/);
    expect(lines[1]).toContain(',released,');
  });

  it('bad filters are usage errors (exit 2); an unknown key is ERR_KEY_NOT_FOUND (exit 1)', async () => {
    for (const args of [['--outcome', 'maybe'], ['--from', 'yesterday'], ['--format', 'xml'], ['--format', 'csv', '--json'], ['--limit', '0']]) {
      expect((await kw(['key', 'releases', released, ...args])).code, args.join(' ')).toBe(2);
    }
    await expectServerError(['key', 'releases', NO_KEY], 'ERR_KEY_NOT_FOUND');
  });
});

describe('keyward policy validate, update, delete', () => {
  const doc = (name: string, expr: string) => `name: ${name}\nrules:\n  - name: snp\n    expr: '${expr}'\n`;

  it('validate checks without saving; a type error is ERR_POLICY_TYPE with its problems', async () => {
    const file = join(world.root, 'valid.yaml');
    writeFileSync(file, doc('never-saved', 'cpu.tee == "snp"'));
    expect(await kwJson(['policy', 'validate', '--file', file])).toEqual({ valid: true });
    expect((await kw(['policy', 'validate', '--file', file])).stdout).toBe(`${file}: valid (nothing was saved)\n`);
    expect((await kwJson(['policy', 'list'])).items.map((p: { name: string }) => p.name)).not.toContain('never-saved');
    writeFileSync(file, doc('typo', 'cpu.teee == "snp"'));
    const bad = await kw(['policy', 'validate', '--file', file]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^keyward policy: ERR_POLICY_TYPE: .*\n {2}- rule "snp" at 1:\d+: /);
  });

  it('update saves a new version; delete removes an unbound policy; a bound one is refused', async () => {
    const file = join(world.root, 'upd.yaml');
    writeFileSync(file, doc('cli-upd', 'cpu.tee == "snp"'));
    const created = await kwJson(['policy', 'create', '--file', file]);
    writeFileSync(file, doc('cli-upd', 'cpu.tee == "tdx"'));
    const v2 = await kwJson(['policy', 'update', created.id, '--file', file]);
    expect(v2).toMatchObject({ id: created.id, version: 2, document: { rules: [{ name: 'snp', expr: 'cpu.tee == "tdx"' }] } });
    const key = (await kwJson(['key', 'create', '--name', 'pol-bound', '--kind', 'generic'])).id;
    await kwJson(['policy', 'bind', key, created.id]);
    await expectServerError(['policy', 'delete', created.id], 'ERR_POLICY_IN_USE');
    await kwJson(['policy', 'bind', key, '--none']);
    expect(await kwJson(['policy', 'delete', created.id])).toEqual({ deleted: created.id });
    await expectServerError(['policy', 'show', created.id], 'ERR_POLICY_NOT_FOUND');
    await expectServerError(['policy', 'update', created.id, '--file', file], 'ERR_POLICY_NOT_FOUND');
  });
});

describe('keyward collateral', () => {
  it('upload stores a file; list shows it; trust makes it an NRAS signer; delete drops it', async () => {
    // A JWK set no one holds yet (the server already holds the development CA's certificates).
    const jwk = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'jwk' });
    const text = JSON.stringify({ keys: [{ ...jwk, kid: 'cli-nras-test', alg: 'ES384', use: 'sig' }] });
    const file = join(world.root, 'nras.jwks');
    writeFileSync(file, text);
    const stored = await kwJson(['collateral', 'upload', file]);
    expect(stored.items).toHaveLength(1);
    const item = stored.items[0];
    expect(item).toMatchObject({ kind: 'jwks', source: 'upload', name: 'nras.jwks', trustedBy: null, duplicate: false });
    expect(item.id).toBe(createHash('sha256').update(text).digest('hex'));
    const listed = await kwJson(['collateral', 'list', '--source', 'upload']);
    expect(listed.items.map((c: { id: string }) => c.id)).toEqual([item.id]);
    expect((await kw(['collateral', 'list', '--kind', 'jwks'])).stdout).toMatch(new RegExp(`\\n${item.id.slice(0, 16)} +jwks +upload `));
    const trusted = await kwJson(['collateral', 'trust', item.id]);
    expect(trusted).toMatchObject({ id: item.id, trustedBy: expect.any(String), trustedAt: expect.any(String) });
    expect(await kwJson(['collateral', 'delete', item.id])).toMatchObject({ id: item.id });
    expect((await kwJson(['collateral', 'list', '--source', 'upload'])).items).toEqual([]);
  });

  it('content that is no collateral is ERR_COLLATERAL_UNRECOGNIZED; an unknown id ERR_COLLATERAL_NOT_FOUND', async () => {
    const junk = join(world.root, 'junk.txt');
    writeFileSync(junk, 'not a certificate\n');
    await expectServerError(['collateral', 'upload', junk], 'ERR_COLLATERAL_UNRECOGNIZED');
    await expectServerError(['collateral', 'trust', 'ab'.repeat(32)], 'ERR_COLLATERAL_NOT_FOUND');
    expect((await kw(['collateral', 'list', '--kind', 'pdf'])).code).toBe(2);
  });
});

describe('keyward evidence verify', () => {
  it('verifies what `keyward dev evidence` prints with the server\'s anchors; a flipped byte is not verified (exit 1)', async () => {
    const bind = createHash('sha512').update(randomBytes(32)).digest('hex');
    const printed = await run(['dev', 'evidence', '--simulate', 'snp', '--data-dir', world.agentDir, bind], {});
    expect(printed.code, printed.stderr).toBe(0);
    const file = join(world.root, 'evidence.json');
    writeFileSync(file, printed.stdout);
    const ok = await kwJson(['evidence', 'verify', file, '--nonce', bind]);
    expect(ok.verified).toBe(true);
    expect(JSON.stringify(ok.claims)).toContain(bind);
    const items = JSON.parse(printed.stdout);
    const report = Buffer.from(items[0].report, 'base64');
    report[0x50] = report[0x50]! ^ 1;
    items[0].report = report.toString('base64');
    writeFileSync(file, JSON.stringify(items));
    const bad = await kw(['evidence', 'verify', file, '--nonce', bind, '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ verified: false, error: { code: expect.stringMatching(/^ERR_/) } });
    const human = await kw(['evidence', 'verify', file, '--nonce', bind]);
    expect(human.stdout).toMatch(/^NOT verified: ERR_\w+: /);
  });

  it('evidence that is not evidence is the server\'s ERR_REQUEST_INVALID (exit 1)', async () => {
    const file = join(world.root, 'not-evidence.json');
    writeFileSync(file, JSON.stringify({ hello: 'world' }));
    await expectServerError(['evidence', 'verify', file], 'ERR_REQUEST_INVALID');
  });
});

describe('keyward kek --remote', () => {
  it('status --json is GET /v1/kek; rotate reseals under a new KEK; an unknown target is ERR_KEK_TARGET_UNKNOWN', async () => {
    const before = await kwJson(['kek', 'status', '--remote']);
    expect(before).toEqual((await api(world.url, BOOTSTRAP_TOKEN, 'GET', '/v1/kek')).json);
    expect(before.items.filter((k: { state: string }) => k.state === 'active')).toHaveLength(1);
    const rotated = await kwJson(['kek', 'rotate', '--remote']);
    expect(rotated).toMatchObject({ from: before.items[0].id, resumed: false });
    expect(rotated.resealed).toBeGreaterThan(0);
    const after = await kwJson(['kek', 'status', '--remote']);
    expect(after.items.find((k: { id: string }) => k.id === rotated.to).state).toBe('active');
    await expectServerError(['kek', 'rotate', '--remote', '--target', 'nowhere'], 'ERR_KEK_TARGET_UNKNOWN');
  });
});

describe('keyward health, metrics, whoami', () => {
  it('health and metrics need no token; whoami names the token\'s user', async () => {
    expect(await kwJson(['health'], { KEYWARD_TOKEN: '' })).toEqual({ status: 'ok' });
    const metrics = await kwJson(['metrics']);
    expect(metrics.samples.some((s: { name: string; value: unknown }) => s.name === 'keyward_process_cpu_user_seconds_total' && typeof s.value === 'number')).toBe(true);
    expect((await kw(['metrics'])).stdout).toContain('# TYPE ');
    const me = await kwJson(['whoami']);
    expect(me).toMatchObject({ via: 'token', platformRole: 'admin' });
    expect(me.tenants).toContainEqual({ tenant: 'default', role: 'owner' });
    await expectServerError(['whoami'], 'ERR_AUTH_INVALID', { KEYWARD_TOKEN: 'kw_wrong' });
    const down = await kw(['health'], { KEYWARD_ADDR: `http://127.0.0.1:${await closedPort()}` });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^keyward health: ERR_CLIENT_UNREACHABLE: /);
  });
});

/** Registers a passkey with an enrolment code over HTTP, as the console would. */
async function enrol(enrolmentCode: string): Promise<void> {
  const post = (path: string, body: unknown) =>
    fetch(`${world.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', origin: ORIGIN }, body: JSON.stringify(body) });
  const options = await post('/v1/auth/passkeys/register/options', { enrolmentCode });
  expect(options.status).toBe(200);
  const verify = await post('/v1/auth/passkeys/register/verify', { response: new SoftwareAuthenticator(ORIGIN).create((await options.json()) as { challenge: string; rp: { id?: string }; user: { id: string } }) });
  expect(verify.status, await verify.clone().text()).toBe(201);
}

describe('keyward tenant members, remove, update and approvals', () => {
  it('members lists invites; remove revokes one; an unknown member is ERR_MEMBER_NOT_FOUND', async () => {
    await kwJson(['tenant', 'create', 'crew']);
    const invite = await kwJson(['tenant', 'invite', 'crew', '--name', 'Carol', '--role', 'owner']);
    const members = await kwJson(['tenant', 'members', 'crew']);
    expect(members.items).toEqual([expect.objectContaining({ userId: invite.userId, name: 'Carol', role: 'owner', state: 'invited', passkeys: 0, inviteOpen: true })]);
    expect((await kw(['tenant', 'members', 'crew'])).stdout).toMatch(/\n\S+ +Carol +owner +invited +0 +open until /);
    expect(await kwJson(['tenant', 'remove', 'crew', invite.userId])).toEqual({ removed: invite.userId, tenant: 'crew' });
    expect((await kwJson(['tenant', 'members', 'crew'])).items).toEqual([]);
    await expectServerError(['tenant', 'remove', 'crew', invite.userId], 'ERR_MEMBER_NOT_FOUND');
    await expectServerError(['tenant', 'members', 'nosuch'], 'ERR_TENANT_NOT_FOUND');
  });

  it('update sets the quorum; above the owners holding a passkey it is ERR_TENANT_QUORUM_UNREACHABLE', async () => {
    await expectServerError(['tenant', 'update', 'default', '--quorum', '2'], 'ERR_TENANT_QUORUM_UNREACHABLE');
    for (const name of ['xavier', 'yvonne']) await enrol((await kwJson(['tenant', 'invite', 'default', '--name', name, '--role', 'owner'])).enrolmentCode);
    expect(await kwJson(['tenant', 'update', 'default', '--quorum', '2'])).toMatchObject({ name: 'default', quorum: 2 });
    expect((await kw(['tenant', 'update', 'default'])).code).toBe(2);
  });

  it('a change under the quorum waits; approve points to the console (exit 3); reject ends it', async () => {
    const key = (await kwJson(['key', 'create', '--name', 'quorum-key', '--kind', 'generic'])).id;
    const pending = await kw(['key', 'destroy', key, '--yes']);
    expect(pending.code, pending.stderr).toBe(0);
    const id = /approval ([0-9a-f-]{36}) \(keyward approval show /.exec(pending.stdout)![1]!;
    expect(pending.stdout).toBe(`the destruction needs approvals: approval ${id} (keyward approval show ${id})\n`);
    expect((await kwJson(['approval', 'list'])).items.map((a: { id: string }) => a.id)).toContain(id);

    const approve = await kw(['approval', 'approve', id]);
    expect(approve.code).toBe(3);
    expect(approve.stdout).toMatch(/\ndigest: +[0-9a-f]{64} \(matches the change below\)\n/);
    expect(approve.stderr).toBe(`keyward approval: ERR_APPROVAL_PASSKEY_REQUIRED: approving needs an owner's passkey, which the command line cannot hold; approve it in the console: ${world.url.replace("127.0.0.1", "localhost")}/console/#/approvals/${id}\n`);
    expect((await kwJson(['approval', 'show', id])).approval.state).toBe('pending');

    const human = await kw(['approval', 'reject', id]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^digest: [0-9a-f]{64} \(matches its change\)\napproval \S+ \(key\.destroy\) is rejected\n$/);
    expect((await kwJson(['approval', 'list', '--state', 'rejected'])).items.map((a: { id: string }) => a.id)).toContain(id);
    expect((await kwJson(['key', 'show', key])).state).toBe('active');
    await expectServerError(['approval', 'reject', id], 'ERR_APPROVAL_NOT_PENDING');
    await expectServerError(['approval', 'approve', NO_KEY], 'ERR_APPROVAL_NOT_FOUND');
    expect((await kw(['approval', 'list', '--state', 'approved'])).code).toBe(2);
  });
});
