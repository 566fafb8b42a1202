// `keyward agent release` through the built CLI (run `npm run build` first) against a `keyward serve` child
// that trusts the development CA: the released key is written exactly, only where --out says (0600 file,
// or stdout); denials, a server that is down, a missing configfs-tsm and usage errors have their exit codes
// and codes and leave no file. Also: the package exports `keyward/client` to another project.
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../helpers/process.js';
import { closedPort } from '../helpers/fake-http.js';
import { leftovers, runCli, startAgentWorld, type AgentWorld } from '../helpers/agent-cli.js';

let world: AgentWorld;
let keyId: string;
let deniedKeyId: string;
let outDir: string;
const material = new Uint8Array(randomBytes(32));
const hex = Buffer.from(material).toString('hex');
const b64 = Buffer.from(material).toString('base64');

beforeAll(async () => {
  world = await startAgentWorld('keyward-agent-cli-');
  keyId = await world.importKey('agent-model', material);
  deniedKeyId = await world.importKey('agent-denied', new Uint8Array(randomBytes(32)), 'd4'.repeat(48));
  outDir = join(world.root, 'out');
  mkdirSync(outDir);
}, 180_000);
afterAll(async () => world?.close());

const release = (...extra: string[]) => runCli(['agent', 'release', '--server', world.url, '--simulate', 'snp', '--data-dir', world.agentDir, ...extra]);

async function auditCount(target: string, outcome: string): Promise<number> {
  return (await api(world.url, world.token, 'GET', `/v1/audit?action=key.release&target=${target}&outcome=${outcome}&limit=1000`)).json.items.length;
}

describe('keyward agent release --simulate snp', () => {
  it('--out FILE: exactly the key material, mode 0600; stdout confirms without the secret', async () => {
    const file = join(outDir, 'key.bin');
    const res = await release('--key', keyId, '--out', file);
    expect(res.stderr).toContain('SIMULATED SNP evidence from the development CA');
    expect(res.code).toBe(0);
    expect(new Uint8Array(readFileSync(file))).toEqual(material);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = res.stdout.toString();
    expect(text).toContain(`released key ${keyId} version 1 (32 bytes; release `);
    expect(text).toContain(`written to ${file} (mode 0600)`);
    expect(text).not.toContain(hex);
    expect(text).not.toContain(b64);
    expect(leftovers(outDir)).toEqual([]);
  });

  it('--out - writes the raw bytes (or hex / base64 text) to stdout and nothing else', async () => {
    const raw = await release('--key', keyId, '--out', '-', '--quiet');
    expect(raw.code).toBe(0);
    expect(new Uint8Array(raw.stdout)).toEqual(material);
    expect(raw.stderr).toBe('');
    const asHex = await release('--key', keyId, '--out', '-', '--format', 'hex', '--tee-key', 'p384');
    expect(asHex.stdout.toString()).toBe(`${hex}\n`);
    expect(asHex.stderr).toContain(`released key ${keyId} version 1 (32 bytes`);
    const asB64 = await release('--key', keyId, '--out', '-', '--format', 'base64', '--tee-key', 'rsa', '--quiet');
    expect(asB64.stdout.toString()).toBe(`${b64}\n`);
  });

  it('without --out prints only a confirmation, never the key', async () => {
    const res = await release('--key', keyId);
    expect(res.code).toBe(0);
    const text = res.stdout.toString();
    expect(text).toContain('not shown: use --out FILE or --out - to write it');
    expect(text).toContain('evidence chained to an EXTRA anchor');
    for (const secret of [hex, b64, Buffer.from(material).toString('latin1')]) expect(text + res.stderr).not.toContain(secret);
  });

  it('--wrapped-data-key releases exactly that data key', async () => {
    const dk = (await api(world.url, world.token, 'POST', `/v1/keys/${keyId}/datakey`)).json;
    const res = await release('--key', keyId, '--wrapped-data-key', dk.wrapped, '--out', '-', '--format', 'base64');
    expect(res.code).toBe(0);
    expect(res.stdout.toString()).toBe(`${dk.plaintext}\n`);
    expect(res.stderr).toContain(`released a data key of key ${keyId} version 1`);
  });

  it('a denial exits 1 with ERR_POLICY_DENIED, leaves no file, and is in the audit log', async () => {
    const before = await auditCount(deniedKeyId, 'denied');
    const file = join(outDir, 'denied.bin');
    const res = await release('--key', deniedKeyId, '--out', file);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('keyward agent: ERR_POLICY_DENIED: The release policy does not allow this workload. (request id ');
    expect(res.stdout.length).toBe(0);
    expect(existsSync(file)).toBe(false);
    expect(leftovers(outDir)).toEqual([]);
    expect(await auditCount(deniedKeyId, 'denied')).toBe(before + 1);
  });

  it('another measurement (--measurement) is denied the same way', async () => {
    const res = await release('--key', keyId, '--measurement', 'ab'.repeat(48), '--out', '-');
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('ERR_POLICY_DENIED');
    expect(res.stdout.length).toBe(0);
  });

  it('a server that is down: exit 1, "cannot reach", no file', async () => {
    const port = await closedPort();
    const file = join(outDir, 'down.bin');
    const res = await runCli(['agent', 'release', '--server', `http://127.0.0.1:${port}`, '--key', keyId, '--simulate', 'snp', '--data-dir', world.agentDir, '--out', file]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`keyward agent: ERR_CLIENT_UNREACHABLE: cannot reach keyward at http://127.0.0.1:${port}: connection refused`);
    expect(existsSync(file)).toBe(false);
  });

  it('an unknown key is ERR_KEY_NOT_FOUND; an unwritable --out fails before anything is released', async () => {
    const missing = await release('--key', '00000000-0000-4000-8000-000000000000');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('ERR_KEY_NOT_FOUND');
    const before = await auditCount(keyId, 'success');
    const res = await release('--key', keyId, '--out', join(outDir, 'no-such-dir', 'key.bin'));
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('ERR_CLI_OUTPUT_UNWRITABLE');
    expect(await auditCount(keyId, 'success')).toBe(before);
    const dir = await release('--key', keyId, '--out', outDir);
    expect(dir.code).toBe(1);
    expect(dir.stderr).toContain('is a directory');
    const existing = join(outDir, 'existing.bin');
    writeFileSync(existing, 'keep me');
    const kept = await release('--key', keyId, '--out', existing);
    expect(kept.code).toBe(1);
    expect(kept.stderr).toContain('ERR_CLI_OUTPUT_EXISTS');
    expect(readFileSync(existing, 'utf8')).toBe('keep me');
    expect(await auditCount(keyId, 'success')).toBe(before);
    expect((await release('--key', keyId, '--out', existing, '--force')).code).toBe(0);
    expect(readFileSync(existing).length).toBe(32);
  });
});

describe('keyward agent release on a machine without configfs-tsm', () => {
  it('exits 1 with ERR_AGENT_TSM_UNAVAILABLE and says why', async () => {
    const file = join(outDir, 'tsm.bin');
    const res = await runCli(['agent', 'release', '--server', world.url, '--key', keyId, '--tsm-root', join(world.root, 'no-tsm'), '--out', file]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`keyward agent: ERR_AGENT_TSM_UNAVAILABLE: configfs-tsm is not available at ${join(world.root, 'no-tsm')}: the directory does not exist`);
    expect(existsSync(file)).toBe(false);
  });
});

describe('keyward agent usage errors exit 2', () => {
  it.each([
    [['agent']],
    [['agent', 'fetch']],
    [['agent', 'release', '--key', 'k']],
    [['agent', 'release', '--server', 'http://127.0.0.1:1']],
    [['agent', 'release', '--server', 'localhost:8750', '--key', 'k']],
    [['agent', 'release', '--server', 'http://127.0.0.1:1', '--key', 'k', '--format', 'pem', '--out', '-']],
    [['agent', 'release', '--server', 'http://127.0.0.1:1', '--key', 'k', '--format', 'hex']],
    [['agent', 'release', '--server', 'http://127.0.0.1:1', '--key', 'k', '--gpus', '2']],
    [['agent', 'release', '--server', 'http://127.0.0.1:1', '--key', 'k', '--simulate', 'sev']],
    [['agent', 'release', '--server', 'http://127.0.0.1:1', '--key', 'k', '--tee-key', 'rsa2048']],
    [['agent', 'release', '--server', 'http://127.0.0.1:1', '--key', 'k', '--timeout', '0']],
    [['agent', 'release', '--server', 'http://127.0.0.1:1', '--key', 'k', '--bogus']],
  ])('%j', async (args) => {
    const res = await runCli(args, { KEYWARD_DATA_DIR: world.agentDir });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/\nrun 'keyward agent --help' for usage\n$/);
    expect(res.stderr).not.toContain('usage: keyward <command>');
  });
});

describe('the package exports keyward/client', () => {
  it('resolves from another project through node_modules (runtime and types), and nothing else is exported', async () => {
    const project = join(world.root, 'consumer');
    mkdirSync(join(project, 'node_modules'), { recursive: true });
    symlinkSync(process.cwd(), join(project, 'node_modules', 'keyward'), 'dir');
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
    writeFileSync(
      join(project, 'check.mjs'),
      [
        "import { KeywardClient, KeywardClientError, createTeeKeyPair } from 'keyward/client';",
        'const client = new KeywardClient({ baseUrl: process.argv[2] + "/" });',
        'const { nonce } = await client.challenge();',
        "let blocked = 'no';",
        "try { await import('keyward/dist/cli/main.js'); } catch (e) { blocked = e.code; }",
        'console.log(JSON.stringify({ base: client.baseUrl, nonce: nonce.length, jwk: createTeeKeyPair().publicJwk.kty, error: typeof KeywardClientError, blocked }));',
      ].join('\n'),
    );
    const exec = promisify(execFile);
    const { stdout } = await exec(process.execPath, ['check.mjs', world.url], { cwd: project });
    expect(JSON.parse(stdout)).toEqual({ base: world.url, nonce: 96, jwk: 'OKP', error: 'function', blocked: 'ERR_PACKAGE_PATH_NOT_EXPORTED' });
    writeFileSync(
      join(project, 'check.ts'),
      [
        "import { KeywardClient, type ReleasedKey, type EvidenceProvider } from 'keyward/client';",
        "const provider: EvidenceProvider = { name: 'x', collect: async () => [{ type: 'tdx', quote: '' }] };",
        "const released: Promise<ReleasedKey> = new KeywardClient({ baseUrl: 'https://k' }).releaseKey('id', provider, { teeKey: 'p384' });",
        'void released;',
      ].join('\n'),
    );
    const tsc = join(process.cwd(), 'node_modules', 'typescript', 'bin', 'tsc');
    const typeRoots = join(process.cwd(), 'node_modules', '@types');
    const args = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', '--typeRoots', typeRoots, '--types', 'node', 'check.ts'];
    const typed = await exec(process.execPath, [tsc, ...args], { cwd: project }).then(
      () => 'ok',
      (e: { stdout: string }) => e.stdout,
    );
    expect(typed).toBe('ok');
    expect(readdirSync(project).sort()).toEqual(['check.mjs', 'check.ts', 'node_modules', 'package.json']);
  }, 60_000);
});
