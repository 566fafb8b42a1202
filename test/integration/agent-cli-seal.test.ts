// `keyward seal` / `keyward unseal` through the built CLI (run `npm run build` first) with --simulate snp
// against a `keyward serve` child: files and directories of shards round-trip byte for byte; every kind of
// tampering, a data key wrapped under another key, a wrong key id, a denial and a server that is down exit 1
// with their code and leave no plaintext (nor a temp file) behind; Ctrl-C stops cleanly.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { appendFileSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, spawnCli } from '../helpers/process.js';
import { closedPort, startFakeHttp } from '../helpers/fake-http.js';
import { leftovers, runCli, sealedLayout, startAgentWorld, type AgentWorld } from '../helpers/agent-cli.js';

let world: AgentWorld;
let keyA: string;
let keyB: string;
let deniedKey: string;
let dir: string;
let plainFile: string;
let sealedA: string;
let sealedB: string;
const plaintext = randomBytes(40 * 1024 + 123);

beforeAll(async () => {
  world = await startAgentWorld('keyward-seal-cli-');
  keyA = await world.createKey('seal-a');
  keyB = await world.createKey('seal-b');
  deniedKey = await world.createKey('seal-denied', 'e5'.repeat(48));
  dir = join(world.root, 'files');
  mkdirSync(dir);
  plainFile = join(dir, 'model.safetensors');
  writeFileSync(plainFile, plaintext);
  sealedA = join(dir, 'model.a.sealed');
  sealedB = join(dir, 'model.b.sealed');
  for (const [key, out] of [[keyA, sealedA], [keyB, sealedB]] as const) {
    const res = await seal('--key', key, '--in', plainFile, '--out', out);
    if (res.code !== 0) throw new Error(res.stderr);
  }
}, 180_000);
afterAll(async () => world?.close());

/** seal with the token from KEYWARD_TOKEN (not on the command line), 4 KiB chunks. */
const seal = (...args: string[]) => runCli(['seal', '--server', world.url, '--chunk-size', '4K', ...args], { KEYWARD_TOKEN: world.token });
const unseal = (...args: string[]) => runCli(['unseal', '--server', world.url, '--simulate', 'snp', ...args], { KEYWARD_DATA_DIR: world.agentDir });

function outPath(name: string): string {
  const out = join(world.root, 'unsealed', name);
  mkdirSync(join(world.root, 'unsealed'), { recursive: true });
  return out;
}

/** Writes a tampered copy of `source` and returns its path. */
function tampered(name: string, source: string, edit: (bytes: Buffer) => Buffer): string {
  const path = join(world.root, 'tampered', name);
  mkdirSync(join(world.root, 'tampered'), { recursive: true });
  writeFileSync(path, edit(Buffer.from(readFileSync(source))));
  return path;
}

describe('keyward seal / unseal of a file', () => {
  it('round-trips byte for byte; the plaintext is 0600; messages name key, version and sizes', async () => {
    const layout = sealedLayout(readFileSync(sealedA));
    expect(layout.records).toHaveLength(11);
    expect(readFileSync(sealedA).subarray(layout.keyId.offset, layout.keyId.offset + layout.keyId.length).toString()).toBe(keyA);
    const out = outPath('model.out');
    const res = await unseal('--in', sealedA, '--out', out);
    expect(res.stderr).toContain('SIMULATED SNP evidence');
    expect(res.code).toBe(0);
    expect(readFileSync(out).equals(plaintext)).toBe(true);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(res.stdout.toString()).toContain(`unsealed ${sealedA} into ${out}: ${plaintext.length} bytes (key ${keyA} version 1; release `);
  });

  it('--out - streams the plaintext to stdout (messages on stderr); --key checks the key id', async () => {
    const res = await unseal('--in', sealedB, '--out', '-', '--key', keyB, '--tee-key', 'p384');
    expect(res.code).toBe(0);
    expect(res.stdout.equals(plaintext)).toBe(true);
    expect(res.stderr).toContain(`unsealed ${sealedB} into standard output: ${plaintext.length} bytes`);
  });

  it('seal reports what it did, with --token on the command line too', async () => {
    const out = join(dir, 'again.sealed');
    const res = await runCli(['seal', '--server', world.url, '--token', world.token, '--key', keyA, '--in', plainFile, '--out', out]);
    expect(res.code).toBe(0);
    expect(res.stdout.toString()).toMatch(new RegExp(`^sealed ${plainFile} \\(${plaintext.length} bytes\\) into ${out} under key ${keyA} version 1; header sha256 [0-9a-f]{64}\\n$`));
    expect(statSync(out).size).toBe(sealedLayout(readFileSync(out)).headerLength + plaintext.length + 21);
  });
});

describe('keyward seal / unseal of a directory of shards', () => {
  it('round-trips every shard byte for byte, nested and empty ones included', async () => {
    const shards = join(world.root, 'shards');
    mkdirSync(join(shards, 'sub'), { recursive: true });
    const files: Record<string, Buffer> = { 'model-00001-of-00002.safetensors': randomBytes(9000), 'model-00002-of-00002.safetensors': randomBytes(5000), 'sub/config.json': Buffer.from('{"layers":80}'), empty: Buffer.alloc(0) };
    for (const [name, bytes] of Object.entries(files)) writeFileSync(join(shards, name), bytes);
    const sealedDir = join(world.root, 'shards.sealed');
    const sealed = await seal('--key', keyA, '--in', shards, '--out', sealedDir);
    expect(sealed.code).toBe(0);
    expect(sealed.stdout.toString()).toContain(`sealed 4 files (14013 bytes) from ${shards} into ${sealedDir} under key ${keyA} version 1; manifest header sha256 `);
    const out = outPath('shards');
    const res = await unseal('--in', sealedDir, '--out', out);
    expect(res.code).toBe(0);
    for (const [name, bytes] of Object.entries(files)) expect(readFileSync(join(out, name)).equals(bytes)).toBe(true);
    expect(readdirSync(out).sort()).toEqual(['empty', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'sub']);

    const missing = join(world.root, 'shards-missing.sealed');
    cpSync(sealedDir, missing, { recursive: true });
    rmSync(join(missing, 'empty.sealed'));
    const gone = await unseal('--in', missing, '--out', outPath('shards-missing'));
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('ERR_SEALED_DIRECTORY_MISMATCH');
    expect(existsSync(outPath('shards-missing'))).toBe(false);

    const swapped = join(world.root, 'shards-swapped.sealed');
    cpSync(sealedDir, swapped, { recursive: true });
    const [one, two] = ['model-00001-of-00002.safetensors.sealed', 'model-00002-of-00002.safetensors.sealed'].map((f) => join(swapped, f)) as [string, string];
    renameSync(one, `${one}.tmp`);
    renameSync(two, one);
    renameSync(`${one}.tmp`, two);
    const swap = await unseal('--in', swapped, '--out', outPath('shards-swapped'));
    expect(swap.code).toBe(1);
    expect(swap.stderr).toContain('ERR_SEALED_NAME_MISMATCH');
    expect(existsSync(outPath('shards-swapped'))).toBe(false);
    expect(readdirSync(join(world.root, 'unsealed')).filter((f) => f.includes('keyward-tmp'))).toEqual([]);

    const toStdout = await unseal('--in', sealedDir, '--out', '-');
    expect(toStdout.code).toBe(2);
  });
});

describe('tampered sealed files: exit 1 with the sealed-file code, no plaintext left behind', () => {
  const flipAt = (offset: number) => (b: Buffer) => (b.writeUInt8(b.readUInt8(offset) ^ 0x01, offset), b);
  const cases: [string, () => string, string][] = [
    ['a corrupted chunk', () => tampered('corrupt', sealedA, (b) => flipAt(sealedLayout(b).records[3]!.offset + 100)(b)), 'ERR_SEALED_CHUNK_AUTH_FAILED'],
    ['a truncated file (cut inside the last record)', () => tampered('cut', sealedA, (b) => b.subarray(0, b.length - 7)), 'ERR_SEALED_TRUNCATED'],
    ['a truncated file (final record dropped)', () => tampered('dropped', sealedA, (b) => b.subarray(0, sealedLayout(b).records.at(-1)!.offset)), 'ERR_SEALED_TRUNCATED'],
    ['an extended file', () => tampered('extended', sealedA, (b) => Buffer.concat([b, Buffer.from([0])])), 'ERR_SEALED_EXTENDED'],
    [
      'swapped chunks',
      () =>
        tampered('swapped', sealedA, (b) => {
          const [r1, r2] = [sealedLayout(b).records[1]!, sealedLayout(b).records[2]!];
          const first = Buffer.from(b.subarray(r1.offset, r1.offset + r1.length));
          b.copy(b, r1.offset, r2.offset, r2.offset + r2.length);
          first.copy(b, r2.offset);
          return b;
        }),
      'ERR_SEALED_CHUNK_AUTH_FAILED',
    ],
    ['a chunk from the same file sealed under key B', () => tampered('spliced', sealedA, (b) => {
      const other = readFileSync(sealedB);
      const [mine, theirs] = [sealedLayout(b).records[2]!, sealedLayout(other).records[2]!];
      other.copy(b, mine.offset, theirs.offset, theirs.offset + theirs.length);
      return b;
    }), 'ERR_SEALED_CHUNK_AUTH_FAILED'],
    ['an edited header (name)', () => tampered('header', sealedA, (b) => flipAt(sealedLayout(b).name.offset)(b)), 'ERR_SEALED_HEADER_AUTH_FAILED'],
    ['an edited header (chunk size)', () => tampered('chunk-size', sealedA, (b) => (b.writeUInt32BE(8192, 0x10), b)), 'ERR_SEALED_HEADER_AUTH_FAILED'],
    [
      "a header naming key B with B's wrapped data key (the file's chunks are under A's)",
      () =>
        tampered('wrapped-b', sealedA, (b) => {
          const other = readFileSync(sealedB);
          const [mine, theirs] = [sealedLayout(b), sealedLayout(other)];
          expect([mine.keyId.length, mine.wrapped.length]).toEqual([theirs.keyId.length, theirs.wrapped.length]);
          other.copy(b, mine.keyId.offset, theirs.keyId.offset, theirs.keyId.offset + theirs.keyId.length);
          other.copy(b, mine.wrapped.offset, theirs.wrapped.offset, theirs.wrapped.offset + theirs.wrapped.length);
          return b;
        }),
      'ERR_SEALED_KEY_MISMATCH',
    ],
    [
      "a header naming key A with B's wrapped data key (the server refuses it)",
      () =>
        tampered('wrapped-mixed', sealedA, (b) => {
          const other = readFileSync(sealedB);
          const [mine, theirs] = [sealedLayout(b), sealedLayout(other)];
          other.copy(b, mine.wrapped.offset, theirs.wrapped.offset, theirs.wrapped.offset + theirs.wrapped.length);
          return b;
        }),
      'ERR_DATAKEY_INVALID',
    ],
    ['a header naming a key that does not exist', () => tampered('no-key', sealedA, (b) => (b.write('00000000-0000-4000-8000-000000000000', sealedLayout(b).keyId.offset, 'latin1'), b)), 'ERR_KEY_NOT_FOUND'],
    ['a file that is not sealed', () => plainFile, 'ERR_SEALED_NOT_SEALED'],
  ];

  it.each(cases.map(([name, make, code]) => [name, code, make] as const))('%s → %s', async (name, code, make) => {
    const input = make();
    const out = outPath(`tampered-${name.replace(/\W+/g, '-')}`);
    const res = await unseal('--in', input, '--out', out);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`keyward unseal: ${code}: `);
    expect(existsSync(out)).toBe(false);
    expect(leftovers(join(world.root, 'unsealed'))).toEqual([]);
  });
});

describe('keyward unseal refusals', () => {
  it('--key naming another key: ERR_SEALED_KEY_ID_MISMATCH before anything is released', async () => {
    const before = (await api(world.url, world.token, 'GET', `/v1/audit?action=key.release&target=${keyA}&limit=1000`)).json.items.length;
    const res = await unseal('--in', sealedA, '--out', outPath('wrong-key'), '--key', keyB);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`ERR_SEALED_KEY_ID_MISMATCH: ${sealedA} was sealed under key ${keyA}, not ${keyB}`);
    expect((await api(world.url, world.token, 'GET', `/v1/audit?action=key.release&target=${keyA}&limit=1000`)).json.items.length).toBe(before);
    expect(existsSync(outPath('wrong-key'))).toBe(false);
  });

  it('a policy that does not match: ERR_POLICY_DENIED, no plaintext, and the denial is audited', async () => {
    const sealed = join(dir, 'denied.sealed');
    expect((await seal('--key', deniedKey, '--in', plainFile, '--out', sealed)).code).toBe(0);
    const res = await unseal('--in', sealed, '--out', outPath('denied'));
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('keyward unseal: ERR_POLICY_DENIED: ');
    expect(existsSync(outPath('denied'))).toBe(false);
    const audit = (await api(world.url, world.token, 'GET', `/v1/audit?action=key.release&target=${deniedKey}&outcome=denied`)).json.items;
    expect(audit.at(-1).details).toMatchObject({ code: 'ERR_POLICY_DENIED' });
    expect(audit.at(-1).details.reasons.map((r: { name: string }) => r.name)).toEqual(['image']);
  });

  it('a server that is down: unseal and seal exit 1 with "cannot reach" and write nothing', async () => {
    const port = await closedPort();
    const server = `http://127.0.0.1:${port}`;
    const un = await runCli(['unseal', '--server', server, '--in', sealedA, '--out', outPath('down'), '--simulate', 'snp', '--data-dir', world.agentDir]);
    expect(un.code).toBe(1);
    expect(un.stderr).toContain(`keyward unseal: ERR_CLIENT_UNREACHABLE: cannot reach keyward at ${server}`);
    expect(existsSync(outPath('down'))).toBe(false);
    const se = await runCli(['seal', '--server', server, '--key', keyA, '--in', plainFile, '--out', join(dir, 'down.sealed')], { KEYWARD_TOKEN: world.token });
    expect(se.code).toBe(1);
    expect(se.stderr).toContain('ERR_CLIENT_UNREACHABLE');
    expect(existsSync(join(dir, 'down.sealed'))).toBe(false);
  });

  it('Ctrl-C during the release stops cleanly: exit 130, no output', async () => {
    const fake = await startFakeHttp(() => 'hang');
    try {
      const out = outPath('interrupted');
      const child = spawnCli(['unseal', '--server', fake.url, '--in', sealedA, '--out', out, '--simulate', 'snp', '--data-dir', world.agentDir, '--timeout', '60'], {});
      let stderr = '';
      child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
      for (let i = 0; i < 200 && fake.requests.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(fake.requests.map((r) => r.url)).toEqual(['/v1/challenge']);
      child.kill('SIGINT');
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(130);
      expect(stderr).toContain('interrupted by SIGINT; stopped cleanly');
      expect(existsSync(out)).toBe(false);
    } finally {
      await fake.close();
    }
  });
});

describe('keyward seal usage and input errors', () => {
  it('no token, a bad chunk size or --out - are usage errors (exit 2); a missing input is exit 1 before any data key', async () => {
    const noToken = await runCli(['seal', '--server', world.url, '--key', keyA, '--in', plainFile, '--out', join(dir, 'x.sealed')]);
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('seal needs an API token');
    expect((await seal('--key', keyA, '--in', plainFile, '--out', join(dir, 'x.sealed'), '--chunk-size', '100')).code).toBe(2);
    expect((await seal('--key', keyA, '--in', plainFile, '--out', '-')).code).toBe(2);
    const before = (await api(world.url, world.token, 'GET', `/v1/audit?action=key.datakey&limit=1000`)).json.items.length;
    const missing = await seal('--key', keyA, '--in', join(dir, 'nope'), '--out', join(dir, 'x.sealed'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('ERR_SEALED_INPUT_UNREADABLE');
    expect((await api(world.url, world.token, 'GET', `/v1/audit?action=key.datakey&limit=1000`)).json.items.length).toBe(before);
    expect(existsSync(join(dir, 'x.sealed'))).toBe(false);
    const copy = join(dir, 'copy.bin');
    copyFileSync(plainFile, copy);
    appendFileSync(copy, 'x');
    expect((await seal('--key', keyA, '--in', copy, '--out', copy)).code).toBe(2);
  });
});
