import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MANIFEST_FILE, readSealedHeader, sealDirectory, unsealDirectory } from '../../../../src/agent/sealed/directory.js';
import { BASE, DATA_KEY, codeOf, randomPlaintext } from './sealed-helpers.js';

const C = 256;
const OTHER_KEY = Buffer.alloc(32, 0x42);
let root: string;
let input: string;
let sealed: string;
const shards: Record<string, Buffer> = {
  'config.json': Buffer.from('{"architectures":["LlamaForCausalLM"]}'),
  'model-00001-of-00002.safetensors': randomPlaintext(5 * C + 3),
  'model-00002-of-00002.safetensors': randomPlaintext(3 * C),
  'tokenizer/empty.txt': Buffer.alloc(0),
  'tokenizer/tokenizer.json': randomPlaintext(C + 1),
};

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'keyward-sealed-dir-'));
  input = join(root, 'model');
  for (const [name, bytes] of Object.entries(shards)) {
    mkdirSync(join(input, name, '..'), { recursive: true });
    writeFileSync(join(input, name), bytes);
  }
  sealed = join(root, 'model.sealed');
  await sealDirectory(input, sealed, { dataKey: DATA_KEY, ...BASE, chunkSize: C });
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A copy of the sealed directory to break, and where unsealing it would go. */
function copyOfSealed(): { dir: string; out: string; parent: string } {
  const parent = mkdtempSync(join(root, 'case-'));
  cpSync(sealed, join(parent, 'in'), { recursive: true });
  return { dir: join(parent, 'in'), out: join(parent, 'out'), parent };
}

async function unsealCode(dir: string, out: string, opts: Record<string, unknown> = {}) {
  return codeOf(() => unsealDirectory(dir, out, { dataKey: DATA_KEY, ...opts }));
}

describe('sealDirectory / unsealDirectory', () => {
  it('seals every file as <name>.sealed plus a manifest, one data key, a salt and a name per file', async () => {
    const listed = readdirSync(sealed, { recursive: true }).map(String).sort();
    expect(listed).toEqual([
      'config.json.sealed',
      MANIFEST_FILE,
      'model-00001-of-00002.safetensors.sealed',
      'model-00002-of-00002.safetensors.sealed',
      'tokenizer',
      'tokenizer/empty.txt.sealed',
      'tokenizer/tokenizer.json.sealed',
    ]);
    const headers = await Promise.all(Object.keys(shards).map((n) => readSealedHeader(join(sealed, `${n}.sealed`))));
    expect(headers.map((h) => h.name)).toEqual(Object.keys(shards));
    expect(new Set(headers.map((h) => h.wrappedDataKey))).toEqual(new Set([BASE.wrappedDataKey]));
    expect(new Set(headers.map((h) => Buffer.from(h.salt).toString('hex'))).size).toBe(headers.length);
    const manifest = await readSealedHeader(sealed);
    expect(manifest).toMatchObject({ kind: 'manifest', keyId: 'model-llama', keyVersion: 3, name: '' });
  });

  it('unseals the whole tree, byte for byte, into a 0700 directory', async () => {
    const out = join(root, 'unsealed');
    let last = 0;
    const result = await unsealDirectory(sealed, out, { dataKey: DATA_KEY, expect: { keyId: 'model-llama' }, onProgress: (p) => (last = p.bytesDone / (p.bytesTotal ?? 1)) });
    for (const [name, bytes] of Object.entries(shards)) expect(readFileSync(join(out, name)).equals(bytes)).toBe(true);
    expect(result.files.map((f) => f.name)).toEqual(Object.keys(shards));
    expect(result.plaintextBytes).toBe(Object.values(shards).reduce((s, b) => s + b.length, 0));
    expect(statSync(out).mode & 0o777).toBe(0o700);
    expect(last).toBe(1);
  });

  it('unseals into an existing empty directory but not over a non-empty one', async () => {
    const c = copyOfSealed();
    mkdirSync(c.out);
    expect(await unsealCode(c.dir, c.out)).toBeUndefined();
    expect(await unsealCode(c.dir, c.out)).toBe('ERR_SEALED_OUTPUT_UNWRITABLE');
  });

  it('follows symlinks to files and refuses input named like the manifest', async () => {
    const dir = mkdtempSync(join(root, 'links-'));
    mkdirSync(join(dir, 'in'));
    writeFileSync(join(dir, 'blob'), 'shard');
    symlinkSync(join(dir, 'blob'), join(dir, 'in', 'linked.bin'));
    await sealDirectory(join(dir, 'in'), join(dir, 'sealed'), { dataKey: DATA_KEY, ...BASE });
    await unsealDirectory(join(dir, 'sealed'), join(dir, 'out'), { dataKey: DATA_KEY });
    expect(readFileSync(join(dir, 'out', 'linked.bin'), 'utf8')).toBe('shard');
    writeFileSync(join(dir, 'in', 'keyward-manifest'), 'x');
    expect(await codeOf(() => sealDirectory(join(dir, 'in'), join(dir, 'sealed2'), { dataKey: DATA_KEY, ...BASE }))).toBe(
      'ERR_SEALED_INPUT_UNREADABLE',
    );
  });
});

describe('a tampered sealed directory fails with a specific code and leaves no output', () => {
  const cases: [string, (dir: string) => void | Promise<void>, Record<string, unknown>, string][] = [
    [
      'two shards swapped by renaming',
      (d) => {
        renameSync(join(d, 'model-00001-of-00002.safetensors.sealed'), join(d, 'tmp'));
        renameSync(join(d, 'model-00002-of-00002.safetensors.sealed'), join(d, 'model-00001-of-00002.safetensors.sealed'));
        renameSync(join(d, 'tmp'), join(d, 'model-00002-of-00002.safetensors.sealed'));
      },
      {},
      'ERR_SEALED_NAME_MISMATCH',
    ],
    ['a shard removed', (d) => rmSync(join(d, 'tokenizer', 'tokenizer.json.sealed')), {}, 'ERR_SEALED_DIRECTORY_MISMATCH'],
    [
      'an extra sealed shard',
      (d) => cpSync(join(d, 'config.json.sealed'), join(d, 'extra.json.sealed')),
      {},
      'ERR_SEALED_DIRECTORY_MISMATCH',
    ],
    [
      'a shard from another seal of the same tree (same data key)',
      async (d) => {
        const again = join(d, '..', 'again');
        await sealDirectory(input, again, { dataKey: DATA_KEY, ...BASE, chunkSize: C });
        cpSync(join(again, 'config.json.sealed'), join(d, 'config.json.sealed'));
      },
      {},
      'ERR_SEALED_DIRECTORY_MISMATCH',
    ],
    [
      'a shard from a seal under another data key',
      async (d) => {
        const other = join(d, '..', 'other');
        await sealDirectory(input, other, { dataKey: OTHER_KEY, ...BASE, chunkSize: C });
        cpSync(join(other, 'tokenizer', 'tokenizer.json.sealed'), join(d, 'tokenizer', 'tokenizer.json.sealed'));
      },
      {},
      'ERR_SEALED_DIRECTORY_MISMATCH',
    ],
    [
      'a corrupt chunk in the last shard',
      (d) => {
        const p = join(d, 'tokenizer', 'tokenizer.json.sealed');
        const b = readFileSync(p);
        b[b.length - 3]! ^= 1;
        writeFileSync(p, b);
      },
      {},
      'ERR_SEALED_CHUNK_AUTH_FAILED',
    ],
    ['the manifest removed', (d) => rmSync(join(d, MANIFEST_FILE)), {}, 'ERR_SEALED_INPUT_UNREADABLE'],
    [
      'a shard put in place of the manifest',
      (d) => cpSync(join(d, 'config.json.sealed'), join(d, MANIFEST_FILE)),
      {},
      'ERR_SEALED_DIRECTORY_MISMATCH',
    ],
    ['a wrong data key', () => undefined, { dataKey: OTHER_KEY }, 'ERR_SEALED_KEY_MISMATCH'],
    ['a wrong expected key id', () => undefined, { expect: { keyId: 'model-mistral' } }, 'ERR_SEALED_KEY_ID_MISMATCH'],
  ];
  for (const [label, tamper, opts, code] of cases) {
    it(`${label}: ${code}`, async () => {
      const c = copyOfSealed();
      await tamper(c.dir);
      const before = readdirSync(c.parent).sort();
      expect(await unsealCode(c.dir, c.out, opts)).toBe(code);
      expect(readdirSync(c.parent).sort()).toEqual(before);
    });
  }
});
