// `keyward import`, `keyward member role|reenrol` and `keyward platform invite` through the built CLI (run `npm run build` first)
// against a live `keyward serve`: --json is the server's JSON exactly, a used import token cannot be
// replayed, bad material and unknown subcommands are usage errors (exit 2).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, run, serve, type Served } from '../helpers/process.js';

const BOOTSTRAP = 'admin-cli-platform-bootstrap-token-0123456789';
let server: Served;
let root: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'keyward-admin-cli-platform-'));
  server = await serve({ KEYWARD_DATA_DIR: join(root, 'data'), KEYWARD_BOOTSTRAP_TOKEN: BOOTSTRAP, KEYWARD_RATE_LIMIT: '0' });
}, 120_000);
afterAll(async () => {
  await server?.stop();
  rmSync(root, { recursive: true, force: true });
});

function kw(args: string[]) {
  return run(args, { KEYWARD_ADDR: server.url, XDG_CONFIG_HOME: join(root, 'config'), KEYWARD_TOKEN: BOOTSTRAP });
}

describe('keyward import', () => {
  it('imports material as the key\'s new version with single-use import parameters', async () => {
    const key = await api(server.url, BOOTSTRAP, 'POST', '/v1/keys', { name: 'cli-byok', kind: 'model' });
    expect(key.status).toBe(201);
    const file = join(root, 'material.bin');
    writeFileSync(file, randomBytes(32));
    const res = await kw(['import', key.json.id, '--file', file, '--json']);
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ id: key.json.id, version: 2, origin: 'generated' });
    const human = await kw(['import', key.json.id, '--file', file, '--alg', 'ECDH-ES+A256KW']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/version:\s+3/);
    const audit = await api(server.url, BOOTSTRAP, 'GET', '/v1/audit?action=key.import');
    expect(audit.json.items).toHaveLength(2);
  });

  it('refuses material of the wrong size and a bad --alg before asking the server (exit 2)', async () => {
    const small = join(root, 'small.bin');
    writeFileSync(small, randomBytes(8));
    const res = await kw(['import', '00000000-0000-4000-8000-000000000000', '--file', small]);
    expect([res.code, res.stderr]).toEqual([2, expect.stringContaining('16 to 64 bytes')]);
    const alg = await kw(['import', '00000000-0000-4000-8000-000000000000', '--file', small, '--alg', 'A128KW']);
    expect(alg.code).toBe(2);
  });
});

describe('keyward member', () => {
  it('changes a role and re-enrols a member of tenant default (quorum 1: applied at once)', async () => {
    const invite = await api(server.url, BOOTSTRAP, 'POST', '/v1/tenants/default/members', { name: 'erin', role: 'auditor' });
    expect(invite.status).toBe(201);
    const role = await kw(['member', 'role', 'default', invite.json.userId, 'owner', '--json']);
    expect(role.code, role.stderr).toBe(0);
    expect(JSON.parse(role.stdout)).toEqual({ userId: invite.json.userId, role: 'owner' });
    const again = await kw(['member', 'role', 'default', invite.json.userId, 'owner']);
    expect([again.code, again.stderr]).toEqual([1, expect.stringContaining('ERR_REQUEST_INVALID')]);
    const reenrol = await kw(['member', 'reenrol', 'default', invite.json.userId]);
    expect(reenrol.code, reenrol.stderr).toBe(0);
    expect(reenrol.stdout).toMatch(/enrolment code:\s+kwe_/);
    const members = await api(server.url, BOOTSTRAP, 'GET', '/v1/tenants/default/members');
    expect(members.json.items.find((m: { userId: string }) => m.userId === invite.json.userId)).toMatchObject({ role: 'owner', inviteOpen: true });
  });

  it('is a usage error without a subcommand or with an unknown role (exit 2)', async () => {
    expect((await kw(['member'])).code).toBe(2);
    expect((await kw(['member', 'role', 'default', 'someone', 'boss'])).code).toBe(2);
  });
});

describe('keyward platform invite', () => {
  it('answers a platform operator\'s single-use enrolment code; a tenant role is a usage error (exit 2)', async () => {
    const res = await kw(['platform', 'invite', '--name', 'olga', '--role', 'operator', '--json']);
    expect(res.code, res.stderr).toBe(0);
    const invite = JSON.parse(res.stdout);
    expect(invite).toMatchObject({ userId: expect.any(String), enrolmentCode: expect.any(String), expiresAt: expect.any(String) });
    const human = await kw(['platform', 'invite', '--name', 'pat', '--role', 'admin']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain(`${server.url.replace('127.0.0.1', 'localhost')}/console/ (single use)`);
    const bad = await kw(['platform', 'invite', '--name', 'quinn', '--role', 'owner']);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining('--role must be admin or operator')]);
  });
});
