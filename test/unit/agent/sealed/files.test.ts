import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sealFile, unsealFile } from '../../../../src/agent/sealed/files.js';
import { readSealedHeader } from '../../../../src/agent/sealed/directory.js';
import { BASE, DATA_KEY, codeOf, layoutOf, randomPlaintext } from './sealed-helpers.js';

const C = 512;
let dir: string;
let plain: Buffer;
let sealedPath: string;
let sealed: Buffer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'keyward-sealed-files-'));
  plain = randomPlaintext(6 * C + 33);
  writeFileSync(join(dir, 'weights.bin'), plain);
  sealedPath = join(dir, 'weights.bin.sealed');
  await sealFile(join(dir, 'weights.bin'), sealedPath, { dataKey: DATA_KEY, ...BASE, chunkSize: C });
  sealed = readFileSync(sealedPath);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh sub-directory holding `bytes` as in.sealed: failures there are easy to inspect. */
function caseDir(bytes: Buffer): { root: string; input: string; output: string } {
  const root = mkdtempSync(join(dir, 'case-'));
  writeFileSync(join(root, 'in.sealed'), bytes);
  return { root, input: join(root, 'in.sealed'), output: join(root, 'out.bin') };
}

describe('sealFile / unsealFile', () => {
  it('round-trips a file, binds its base name, and writes plaintext with mode 0600', async () => {
    const out = join(dir, 'roundtrip.bin');
    const seen: [number, number | undefined][] = [];
    const result = await unsealFile(sealedPath, out, { dataKey: DATA_KEY, onProgress: (p) => seen.push([p.bytesDone, p.bytesTotal]) });
    expect(readFileSync(out).equals(plain)).toBe(true);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(result.header.name).toBe('weights.bin');
    expect(result.plaintextBytes).toBe(plain.length);
    expect(seen).toHaveLength(7);
    expect(seen.at(-1)).toEqual([sealed.length, sealed.length]);
  });

  it('reads the header from a path without the data key', async () => {
    const header = await readSealedHeader(sealedPath);
    expect(header).toMatchObject({ kind: 'file', keyId: 'model-llama', keyVersion: 3, wrappedDataKey: BASE.wrappedDataKey, chunkSize: C });
    expect(await codeOf(() => readSealedHeader(join(dir, 'weights.bin')))).toBe('ERR_SEALED_NOT_SEALED');
    expect(await codeOf(() => readSealedHeader(join(dir, 'nope')))).toBe('ERR_SEALED_INPUT_UNREADABLE');
  });

  it('seals an empty file and unseals it to an empty file', async () => {
    writeFileSync(join(dir, 'empty'), '');
    await sealFile(join(dir, 'empty'), join(dir, 'empty.sealed'), { dataKey: DATA_KEY, ...BASE });
    await unsealFile(join(dir, 'empty.sealed'), join(dir, 'empty.out'), { dataKey: DATA_KEY });
    expect(readFileSync(join(dir, 'empty.out'))).toHaveLength(0);
  });

  it('reports unreadable inputs and unwritable outputs', async () => {
    const opts = { dataKey: DATA_KEY, ...BASE };
    expect(await codeOf(() => sealFile(join(dir, 'missing'), join(dir, 'x.sealed'), opts))).toBe('ERR_SEALED_INPUT_UNREADABLE');
    expect(await codeOf(() => sealFile(dir, join(dir, 'x.sealed'), opts))).toBe('ERR_SEALED_INPUT_UNREADABLE');
    expect(await codeOf(() => sealFile(join(dir, 'weights.bin'), join(dir, 'no', 'such', 'x'), opts))).toBe('ERR_SEALED_OUTPUT_UNWRITABLE');
    expect(await codeOf(() => unsealFile(sealedPath, join(dir, 'no', 'x'), { dataKey: DATA_KEY }))).toBe('ERR_SEALED_OUTPUT_UNWRITABLE');
  });
});

describe('no partial plaintext is left behind', () => {
  const L = () => layoutOf(sealed, C);
  const failures: [string, () => Buffer, Record<string, unknown>, string][] = [
    ['a corrupt last chunk', () => flip(sealed, sealed.length - 20), {}, 'ERR_SEALED_CHUNK_AUTH_FAILED'],
    ['a corrupt middle chunk', () => flip(sealed, L().recordAt(3) + 9), {}, 'ERR_SEALED_CHUNK_AUTH_FAILED'],
    ['truncation at a chunk boundary', () => sealed.subarray(0, L().recordAt(6)), {}, 'ERR_SEALED_TRUNCATED'],
    ['truncation mid-chunk', () => sealed.subarray(0, L().recordAt(6) + 20), {}, 'ERR_SEALED_TRUNCATED'],
    ['header only', () => sealed.subarray(0, L().headerLength), {}, 'ERR_SEALED_TRUNCATED'],
    ['extension', () => Buffer.concat([sealed, Buffer.alloc(1)]), {}, 'ERR_SEALED_EXTENDED'],
    ['a wrong data key', () => sealed, { dataKey: Buffer.alloc(32, 9) }, 'ERR_SEALED_KEY_MISMATCH'],
    ['a wrong expected key id', () => sealed, { expect: { keyId: 'other' } }, 'ERR_SEALED_KEY_ID_MISMATCH'],
    ['an edited header', () => flip(sealed, 0x17), {}, 'ERR_SEALED_HEADER_AUTH_FAILED'],
  ];
  for (const [label, bytes, opts, code] of failures) {
    it(`after ${label}: ${code}, no output, no temp file`, async () => {
      const c = caseDir(bytes());
      expect(await codeOf(() => unsealFile(c.input, c.output, { dataKey: DATA_KEY, ...opts }))).toBe(code);
      expect(readdirSync(c.root)).toEqual(['in.sealed']);
    });
  }

  it('keeps an existing output file intact when unsealing over it fails', async () => {
    const c = caseDir(flip(sealed, sealed.length - 1));
    writeFileSync(c.output, 'previous contents');
    expect(await codeOf(() => unsealFile(c.input, c.output, { dataKey: DATA_KEY }))).toBe('ERR_SEALED_CHUNK_AUTH_FAILED');
    expect(readFileSync(c.output, 'utf8')).toBe('previous contents');
    expect(readdirSync(c.root).sort()).toEqual(['in.sealed', 'out.bin']);
  });

  it('removes the temp file when aborted mid-way', async () => {
    const c = caseDir(sealed);
    const controller = new AbortController();
    const code = await codeOf(() =>
      unsealFile(c.input, c.output, { dataKey: DATA_KEY, signal: controller.signal, onProgress: () => controller.abort() }),
    );
    expect(code).toBe('ERR_SEALED_ABORTED');
    expect(readdirSync(c.root)).toEqual(['in.sealed']);
  });

  it('leaves no sealed output either when sealing fails', async () => {
    const root = mkdtempSync(join(dir, 'seal-'));
    mkdirSync(join(root, 'in-dir'));
    const code = await codeOf(() => sealFile(join(root, 'in-dir'), join(root, 'out.sealed'), { dataKey: DATA_KEY, ...BASE }));
    expect(code).toBe('ERR_SEALED_INPUT_UNREADABLE');
    const bad = await codeOf(() => sealFile(join(dir, 'weights.bin'), join(root, 'out.sealed'), { dataKey: DATA_KEY, ...BASE, chunkSize: 1 }));
    expect(bad).toBe('ERR_SEALED_OPTIONS_INVALID');
    expect(existsSync(join(root, 'out.sealed'))).toBe(false);
    expect(readdirSync(root)).toEqual(['in-dir']);
  });
});

function flip(bytes: Buffer, offset: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[offset]! ^= 0x01;
  return copy;
}
