import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { readSealedStreamHeader, openSealedStream, sealStream } from '../../../../src/agent/sealed/stream.js';
import { SealedFileError } from '../../../../src/agent/sealed/sealed-error.js';
import { statusOf } from '../../../../src/errors.js';
import { BASE, DATA_KEY, MemorySink, codeOf, layoutOf, pieces, randomPlaintext, sealBytes, unsealBytes } from './sealed-helpers.js';

const C = 256; // smallest chunk size: many chunks from small inputs

describe('sealStream / unsealStream round trips', () => {
  const sizes: [string, number][] = [
    ['empty', 0],
    ['1 byte', 1],
    ['exactly one chunk', C],
    ['one chunk + 1', C + 1],
    ['exactly three chunks', 3 * C],
    ['many chunks', 40 * C + 17],
  ];
  for (const [label, size] of sizes) {
    it(`${label} (${size} bytes, chunk size ${C})`, async () => {
      const plain = randomPlaintext(size);
      const sealed = await sealBytes(plain, { chunkSize: C });
      const chunks = Math.max(1, Math.ceil(size / C));
      expect(sealed.length).toBe(layoutOf(sealed, C).headerLength + size + chunks * 21);
      expect((await unsealBytes(sealed)).equals(plain)).toBe(true);
    });
  }

  it('uses 1 MiB chunks by default and writes the header fields given', async () => {
    const plain = randomPlaintext(1024 * 1024 + 5);
    const sealed = await sealBytes(plain, { name: 'model-00001-of-00002.safetensors' });
    const header = await readSealedStreamHeader(Readable.from([sealed]));
    expect(header).toMatchObject({
      version: 1,
      kind: 'file',
      chunkSize: 1024 * 1024,
      keyId: 'model-llama',
      keyVersion: 3,
      wrappedDataKey: 'kw1.wrapped.AAAA-bbbb_CCCC',
      name: 'model-00001-of-00002.safetensors',
    });
    expect(header.salt).toHaveLength(32);
    expect((await unsealBytes(sealed)).equals(plain)).toBe(true);
  });

  it('seals the same plaintext differently each time (fresh salt)', async () => {
    const plain = randomPlaintext(100);
    const a = await sealBytes(plain, { chunkSize: C });
    const b = await sealBytes(plain, { chunkSize: C });
    expect(a.subarray(0x18, 0x38).equals(b.subarray(0x18, 0x38))).toBe(false);
    expect(a.subarray(-116).equals(b.subarray(-116))).toBe(false);
  });

  it('reports progress per chunk and the sizes it wrote', async () => {
    const plain = randomPlaintext(5 * C);
    const sink = new MemorySink();
    const seen: number[] = [];
    const result = await sealStream(Readable.from([plain.subarray(0, 2 * C), plain.subarray(2 * C)]), sink, {
      dataKey: DATA_KEY,
      ...BASE,
      chunkSize: C,
      totalBytes: plain.length,
      onProgress: (p) => {
        expect(p.bytesTotal).toBe(5 * C);
        seen.push(p.bytesDone);
      },
    });
    expect(seen).toEqual([2 * C, 5 * C]);
    expect(result.plaintextBytes).toBe(5 * C);
    expect(result.sealedBytes).toBe(sink.bytes().length);
    const unsealed: number[] = [];
    await unsealBytes(sink.bytes(), { onProgress: (p) => unsealed.push(p.bytesDone) });
    expect(unsealed.at(-1)).toBe(sink.bytes().length);
    expect(unsealed).toHaveLength(5);
  });

  it('leaves the output open with end: false (stdout), ends it by default', async () => {
    const sealed = await sealBytes(randomPlaintext(300), { chunkSize: C });
    const open = new MemorySink();
    await unsealBytes(sealed, { end: false }, open);
    expect(open.writableEnded).toBe(false);
    const ended = new MemorySink();
    await unsealBytes(sealed, {}, ended);
    expect(ended.writableEnded).toBe(true);
  });

  it('unseals in two steps: header first, then the rest of the same stream', async () => {
    const plain = randomPlaintext(3 * C + 9);
    const sealed = await sealBytes(plain, { chunkSize: C });
    const opened = await openSealedStream(Readable.from(pieces(sealed, 7)));
    expect(opened.header.keyId).toBe('model-llama');
    const sink = new MemorySink();
    const result = await opened.unseal(sink, { dataKey: DATA_KEY, expect: { keyId: 'model-llama', keyVersion: 3 } });
    expect(result.plaintextBytes).toBe(plain.length);
    expect(sink.bytes().equals(plain)).toBe(true);
  });
});

describe('tampering is detected with a specific code', () => {
  const plain = randomPlaintext(4 * C + 100); // 4 full chunks + a final chunk of 100
  let sealed: Buffer;
  let L: ReturnType<typeof layoutOf>;
  const ready = (async () => {
    sealed = await sealBytes(plain, { chunkSize: C, name: 'shard-1.bin' });
    L = layoutOf(sealed, C);
  })();
  const unseal = async (bytes: Buffer, opts = {}) => {
    await ready;
    return codeOf(() => unsealBytes(bytes, opts));
  };
  const mutate = (fn: (b: Buffer) => Buffer | void) => {
    const copy = Buffer.from(sealed);
    return fn(copy) ?? copy;
  };

  it('a flipped byte in a chunk body', async () => {
    await ready;
    expect(await unseal(mutate((b) => void (b[L.recordAt(2) + 5 + 10]! ^= 1)))).toBe('ERR_SEALED_CHUNK_AUTH_FAILED');
  });

  it('a flipped byte in a chunk tag', async () => {
    await ready;
    expect(await unseal(mutate((b) => void (b[L.recordAt(1) + L.recordLength - 1]! ^= 0x80)))).toBe('ERR_SEALED_CHUNK_AUTH_FAILED');
  });

  it('a non-final chunk relabelled final (flag bit set)', async () => {
    await ready;
    expect(await unseal(mutate((b) => void (b[L.recordAt(1)] = 1)))).toBe('ERR_SEALED_CHUNK_AUTH_FAILED');
  });

  it('the final chunk relabelled non-final', async () => {
    await ready;
    expect(await unseal(mutate((b) => void (b[L.recordAt(4)] = 0)))).toBe('ERR_SEALED_CHUNK_MALFORMED');
  });

  it('unknown record flags or a length out of range', async () => {
    await ready;
    expect(await unseal(mutate((b) => void (b[L.recordAt(0)] = 0x02)))).toBe('ERR_SEALED_CHUNK_MALFORMED');
    expect(await unseal(mutate((b) => void b.writeUInt32BE(C - 1, L.recordAt(0) + 1)))).toBe('ERR_SEALED_CHUNK_MALFORMED');
    expect(await unseal(mutate((b) => void b.writeUInt32BE(C + 1, L.recordAt(4) + 1)))).toBe('ERR_SEALED_CHUNK_MALFORMED');
    expect(await unseal(mutate((b) => void b.writeUInt32BE(99, L.recordAt(4) + 1)))).toBe('ERR_SEALED_CHUNK_AUTH_FAILED');
  });

  it('truncation at a chunk boundary', async () => {
    await ready;
    expect(await unseal(sealed.subarray(0, L.recordAt(4)))).toBe('ERR_SEALED_TRUNCATED');
    expect(await unseal(sealed.subarray(0, L.recordAt(1)))).toBe('ERR_SEALED_TRUNCATED');
  });

  it('truncation in the middle of a chunk, of its prefix, and of the final chunk', async () => {
    await ready;
    expect(await unseal(sealed.subarray(0, L.recordAt(2) + 100))).toBe('ERR_SEALED_TRUNCATED');
    expect(await unseal(sealed.subarray(0, L.recordAt(2) + 3))).toBe('ERR_SEALED_TRUNCATED');
    expect(await unseal(sealed.subarray(0, sealed.length - 1))).toBe('ERR_SEALED_TRUNCATED');
  });

  it('header only, and truncation inside the header', async () => {
    await ready;
    expect(await unseal(sealed.subarray(0, L.headerLength))).toBe('ERR_SEALED_TRUNCATED');
    expect(await unseal(sealed.subarray(0, L.headerLength - 1))).toBe('ERR_SEALED_TRUNCATED');
    expect(await unseal(sealed.subarray(0, 0x20))).toBe('ERR_SEALED_TRUNCATED');
    expect(await unseal(sealed.subarray(0, 4))).toBe('ERR_SEALED_TRUNCATED');
    expect(await unseal(Buffer.alloc(0))).toBe('ERR_SEALED_TRUNCATED');
  });

  it('extension: bytes, a copy of the final chunk, or another file appended', async () => {
    await ready;
    expect(await unseal(Buffer.concat([sealed, Buffer.from([0])]))).toBe('ERR_SEALED_EXTENDED');
    expect(await unseal(Buffer.concat([sealed, sealed.subarray(L.recordAt(4))]))).toBe('ERR_SEALED_EXTENDED');
    expect(await unseal(Buffer.concat([sealed, sealed]))).toBe('ERR_SEALED_EXTENDED');
  });

  it('swapped and duplicated chunks', async () => {
    await ready;
    const swapped = mutate((b) => {
      sealed.copy(b, L.recordAt(1), L.recordAt(2), L.recordAt(3));
      sealed.copy(b, L.recordAt(2), L.recordAt(1), L.recordAt(2));
    });
    expect(await unseal(swapped)).toBe('ERR_SEALED_CHUNK_AUTH_FAILED');
    const duplicated = mutate((b) => void sealed.copy(b, L.recordAt(3), L.recordAt(2), L.recordAt(3)));
    expect(await unseal(duplicated)).toBe('ERR_SEALED_CHUNK_AUTH_FAILED');
    const dropped = Buffer.concat([sealed.subarray(0, L.recordAt(1)), sealed.subarray(L.recordAt(2))]);
    expect(await unseal(dropped)).toBe('ERR_SEALED_CHUNK_AUTH_FAILED');
  });

  it('a chunk from another file sealed with the same data key and the same header fields', async () => {
    await ready;
    const other = await sealBytes(plain, { chunkSize: C, name: 'shard-1.bin' });
    const spliced = mutate((b) => void other.copy(b, L.recordAt(2), L.recordAt(2), L.recordAt(3)));
    expect(await unseal(spliced)).toBe('ERR_SEALED_CHUNK_AUTH_FAILED');
    const otherFinal = Buffer.concat([sealed.subarray(0, L.recordAt(4)), other.subarray(L.recordAt(4))]);
    expect(await unseal(otherFinal)).toBe('ERR_SEALED_CHUNK_AUTH_FAILED');
    const otherHeader = Buffer.concat([other.subarray(0, L.headerLength), sealed.subarray(L.headerLength)]);
    expect(await unseal(otherHeader)).toBe('ERR_SEALED_CHUNK_AUTH_FAILED');
  });

  it('edited header fields, each one', async () => {
    await ready;
    const at = (offset: number, value: number) => mutate((b) => void (b[offset] = value));
    const flip = (offset: number) => mutate((b) => void (b[offset]! ^= 0x01));
    expect(await unseal(flip(0x00))).toBe('ERR_SEALED_NOT_SEALED'); // magic
    expect(await unseal(at(0x09, 2))).toBe('ERR_SEALED_VERSION_UNSUPPORTED'); // version 2
    expect(await unseal(flip(0x0d))).toBe('ERR_SEALED_HEADER_MALFORMED'); // header length
    expect(await unseal(at(0x0e, 1))).toBe('ERR_SEALED_HEADER_AUTH_FAILED'); // kind file → manifest
    expect(await unseal(at(0x0e, 7))).toBe('ERR_SEALED_HEADER_MALFORMED'); // unknown kind
    expect(await unseal(at(0x0f, 1))).toBe('ERR_SEALED_HEADER_MALFORMED'); // reserved
    expect(await unseal(flip(0x13))).toBe('ERR_SEALED_HEADER_AUTH_FAILED'); // chunk size 256 → 257
    expect(await unseal(at(0x10, 2))).toBe('ERR_SEALED_HEADER_MALFORMED'); // chunk size 32 MiB: out of range
    expect(await unseal(flip(0x17))).toBe('ERR_SEALED_HEADER_AUTH_FAILED'); // key version
    expect(await unseal(flip(0x20))).toBe('ERR_SEALED_KEY_MISMATCH'); // salt
    expect(await unseal(flip(L.keyIdAt))).toBe('ERR_SEALED_HEADER_AUTH_FAILED'); // key id ('m' → 'l')
    expect(await unseal(flip(L.keyIdAt - 1))).toBe('ERR_SEALED_HEADER_MALFORMED'); // key id length
    expect(await unseal(flip(L.nameAt + 2))).toBe('ERR_SEALED_HEADER_AUTH_FAILED'); // name
    expect(await unseal(flip(L.wrappedAt + 5))).toBe('ERR_SEALED_HEADER_AUTH_FAILED'); // wrapped data key
    expect(await unseal(flip(L.keyCheckAt + 3))).toBe('ERR_SEALED_KEY_MISMATCH'); // key check
    expect(await unseal(flip(L.tagAt + 31))).toBe('ERR_SEALED_HEADER_AUTH_FAILED'); // header tag
  });

  it('a name field that would escape the output directory is refused as malformed', async () => {
    await ready;
    const escaped = mutate((b) => void b.write('../', L.nameAt + 2, 'latin1'));
    expect(await unseal(escaped)).toBe('ERR_SEALED_HEADER_MALFORMED');
  });

  it('wrong data key, and expectations the header does not meet', async () => {
    await ready;
    expect(await unseal(sealed, { dataKey: Buffer.alloc(32, 7) })).toBe('ERR_SEALED_KEY_MISMATCH');
    expect(await unseal(sealed, { dataKey: Buffer.alloc(16) })).toBe('ERR_SEALED_OPTIONS_INVALID');
    expect(await unseal(sealed, { expect: { keyId: 'model-mistral' } })).toBe('ERR_SEALED_KEY_ID_MISMATCH');
    expect(await unseal(sealed, { expect: { keyVersion: 2 } })).toBe('ERR_SEALED_KEY_ID_MISMATCH');
    expect(await unseal(sealed, { expect: { name: 'shard-2.bin' } })).toBe('ERR_SEALED_NAME_MISMATCH');
    expect(await unseal(sealed, { expect: { keyId: 'model-llama', keyVersion: 3, name: 'shard-1.bin' } })).toBeUndefined();
  });

  it('not a sealed file at all', async () => {
    expect(await unseal(Buffer.from('{"safetensors": true}\n'.repeat(10)))).toBe('ERR_SEALED_NOT_SEALED');
  });

  it('writes only authenticated chunks: a corrupt chunk 3 leaves exactly chunks 0..2 written', async () => {
    await ready;
    const sink = new MemorySink();
    const bad = mutate((b) => void (b[L.recordAt(3) + 40]! ^= 1));
    expect(await codeOf(() => unsealBytes(bad, {}, sink))).toBe('ERR_SEALED_CHUNK_AUTH_FAILED');
    expect(sink.bytes().equals(plain.subarray(0, 3 * C))).toBe(true);
    expect(sink.destroyed).toBe(true);
  });

  it('does not write the final chunk when the file was extended', async () => {
    await ready;
    const sink = new MemorySink();
    expect(await codeOf(() => unsealBytes(Buffer.concat([sealed, Buffer.from('x')]), {}, sink))).toBe('ERR_SEALED_EXTENDED');
    expect(sink.bytes().equals(plain.subarray(0, 4 * C))).toBe(true);
  });
});

describe('options and errors', () => {
  it('refuses bad seal options, naming no secret', async () => {
    const plain = randomPlaintext(10);
    const cases: Record<string, unknown>[] = [
      { dataKey: Buffer.alloc(31) },
      { chunkSize: 255 },
      { chunkSize: 16 * 1024 * 1024 + 1 },
      { keyId: '' },
      { keyId: 'a\nb' },
      { keyVersion: 0 },
      { keyVersion: 1.5 },
      { wrappedDataKey: '' },
      { name: '../escape' },
      { name: '/abs' },
      { name: 'a//b' },
      { name: 'a\\b' },
    ];
    for (const bad of cases) {
      expect(await codeOf(() => sealBytes(plain, bad as never))).toBe('ERR_SEALED_OPTIONS_INVALID');
    }
  });

  it('refuses a non-byte input stream', async () => {
    const code = await codeOf(() =>
      sealStream(Readable.from(['text'], { objectMode: true }), new MemorySink(), { dataKey: DATA_KEY, ...BASE }),
    );
    expect(code).toBe('ERR_SEALED_INPUT_UNREADABLE');
  });

  it('maps an abort to ERR_SEALED_ABORTED and a failing source to ERR_SEALED_IO_FAILED', async () => {
    const controller = new AbortController();
    async function* slow() {
      yield Buffer.alloc(300);
      controller.abort();
      yield Buffer.alloc(300);
    }
    const aborted = await codeOf(() =>
      sealStream(Readable.from(slow()), new MemorySink(), { dataKey: DATA_KEY, ...BASE, chunkSize: C, signal: controller.signal }),
    );
    expect(aborted).toBe('ERR_SEALED_ABORTED');
    async function* failing() {
      yield Buffer.alloc(10);
      throw Object.assign(new Error('EIO'), { code: 'EIO' });
    }
    const io = await codeOf(() => sealStream(Readable.from(failing()), new MemorySink(), { dataKey: DATA_KEY, ...BASE }));
    expect(io).toBe('ERR_SEALED_IO_FAILED');
  });

  it('gives every code its status: verdicts 422, unusable input 400, I/O 500', () => {
    expect(new SealedFileError('ERR_SEALED_CHUNK_AUTH_FAILED', 'x').status).toBe(422);
    expect(statusOf('ERR_SEALED_TRUNCATED')).toBe(422);
    expect(statusOf('ERR_SEALED_NOT_SEALED')).toBe(400);
    expect(statusOf('ERR_SEALED_IO_FAILED')).toBe(500);
  });
});
