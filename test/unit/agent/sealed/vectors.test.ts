// The shared sealed-file vectors (test/vectors/sealed/README.md): the TypeScript reader opens the files
// sealed by the Python SDK (and its own) to the expected plaintext, header fields and hashes, and refuses
// them with the right code once a byte is flipped, the data key is wrong or the file is cut.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseHeader, parseHeaderPrefix } from '../../../../src/agent/sealed/format.js';
import { codeOf, unsealBytes } from './sealed-helpers.js';

const DIR = join(process.cwd(), 'test', 'vectors', 'sealed');
const params = JSON.parse(readFileSync(join(DIR, 'params.json'), 'utf8')) as {
  dataKeyHex: string;
  keyId: string;
  keyVersion: number;
  wrappedDataKey: string;
  chunkSize: number;
};
const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as {
  vectors: { file: string; sealedBy: string; plaintext: string; plaintextSha256: string; headerSha256: string; sealedSize: number }[];
};
const dataKey = Buffer.from(params.dataKeyHex, 'hex');
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('sealed-file vectors shared with the Python SDK', () => {
  it('holds files sealed by both implementations', () => {
    expect(new Set(manifest.vectors.map((v) => v.sealedBy))).toEqual(new Set(['node', 'python']));
    expect(manifest.vectors.filter((v) => v.sealedBy === 'python')).toHaveLength(3);
  });

  it.each(manifest.vectors.map((v) => [v.file, v] as const))('%s opens to its plaintext', async (_file, vector) => {
    const sealed = readFileSync(join(DIR, vector.file));
    const plaintext = readFileSync(join(DIR, vector.plaintext));
    expect(sealed.length).toBe(vector.sealedSize);
    const header = parseHeader(sealed.subarray(0, parseHeaderPrefix(sealed)));
    expect(header).toMatchObject({ kind: 'file', keyId: params.keyId, keyVersion: params.keyVersion, wrappedDataKey: params.wrappedDataKey, chunkSize: params.chunkSize, name: vector.plaintext });
    expect(sha256(header.bytes)).toBe(vector.headerSha256);
    const opened = await unsealBytes(sealed, { dataKey, expect: { keyId: params.keyId, keyVersion: params.keyVersion, name: vector.plaintext } });
    expect(opened.equals(plaintext)).toBe(true);
    expect(sha256(opened)).toBe(vector.plaintextSha256);
  });

  it.each(manifest.vectors.filter((v) => v.sealedBy === 'python').map((v) => [v.file, v] as const))('%s is refused when damaged', async (_file, vector) => {
    const sealed = readFileSync(join(DIR, vector.file));
    const headerLength = parseHeaderPrefix(sealed);
    const flipped = Buffer.from(sealed);
    flipped[sealed.length - 1]! ^= 0x01;
    expect(await codeOf(() => unsealBytes(flipped, { dataKey }))).toBe('ERR_SEALED_CHUNK_AUTH_FAILED');
    const header = Buffer.from(sealed);
    header[0x3a]! ^= 0x01;
    expect(await codeOf(() => unsealBytes(header, { dataKey }))).toBe('ERR_SEALED_HEADER_AUTH_FAILED');
    expect(await codeOf(() => unsealBytes(sealed, { dataKey: Buffer.alloc(32, 7) }))).toBe('ERR_SEALED_KEY_MISMATCH');
    expect(await codeOf(() => unsealBytes(sealed.subarray(0, headerLength + 3), { dataKey }))).toBe('ERR_SEALED_TRUNCATED');
    expect(await codeOf(() => unsealBytes(Buffer.concat([sealed, Buffer.from([0])]), { dataKey }))).toBe('ERR_SEALED_EXTENDED');
  });
});
