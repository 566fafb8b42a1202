import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Readable } from 'node:stream';
import { isSealedFileError } from '../../../../src/agent/sealed/sealed-error.js';
import { sealStream, unsealStream } from '../../../../src/agent/sealed/stream.js';
import { MAGIC } from '../../../../src/agent/sealed/format.js';
import { BASE, DATA_KEY, MemorySink, randomPlaintext, sealBytes } from './sealed-helpers.js';

/** Unseals `bytes`, returning the plaintext or the SealedFileError code; anything else fails the test. */
async function attempt(bytes: Uint8Array, pieceSize = 613): Promise<Buffer | string> {
  const sink = new MemorySink();
  const parts: Buffer[] = [];
  for (let off = 0; off < bytes.length; off += pieceSize) parts.push(Buffer.from(bytes.subarray(off, off + pieceSize)));
  try {
    await unsealStream(Readable.from(parts), sink, { dataKey: DATA_KEY });
    return sink.bytes();
  } catch (err) {
    if (isSealedFileError(err)) return err.code;
    throw err;
  }
}

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'duplicate'; at: number; length: number }
  | { kind: 'splice'; at: number; length: number };

const position = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });
const mutation: fc.Arbitrary<Mutation[]> = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: position, bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('set' as const), at: position, value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: position }),
    fc.record({ kind: fc.constant('insert' as const), at: position, bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }) }),
    fc.record({ kind: fc.constant('delete' as const), at: position, length: fc.integer({ min: 1, max: 300 }) }),
    fc.record({ kind: fc.constant('duplicate' as const), at: position, length: fc.integer({ min: 1, max: 600 }) }),
    fc.record({ kind: fc.constant('splice' as const), at: position, length: fc.integer({ min: 1, max: 600 }) }),
  ),
  { minLength: 1, maxLength: 3 },
);

/** Applies mutations; `other` is a second file sealed under the same data key, for splicing. */
function apply(original: Buffer, other: Buffer, mutations: Mutation[]): Buffer {
  let b = Buffer.from(original);
  for (const m of mutations) {
    const at = Math.floor(m.at * b.length);
    switch (m.kind) {
      case 'flip':
        if (b.length > 0) b[at] = b[at]! ^ (1 << m.bit);
        break;
      case 'set':
        if (b.length > 0) b[at] = m.value;
        break;
      case 'truncate':
        b = b.subarray(0, at);
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
        break;
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.length)]);
        break;
      case 'duplicate':
        b = Buffer.concat([b.subarray(0, at + m.length), b.subarray(at, at + m.length), b.subarray(at + m.length)]);
        break;
      case 'splice':
        b = Buffer.concat([b.subarray(0, at), other.subarray(at, at + m.length), b.subarray(at + m.length)]);
        break;
    }
  }
  return b;
}

describe('random mutations of a sealed file', () => {
  const plain = randomPlaintext(4 * 256 + 77);
  let sealed: Buffer;
  let other: Buffer;
  beforeAll(async () => {
    sealed = await sealBytes(plain, { chunkSize: 256 });
    other = await sealBytes(plain, { chunkSize: 256 });
  });

  it('never yield wrong plaintext and never throw anything but a SealedFileError', async () => {
    await fc.assert(
      fc.asyncProperty(mutation, fc.integer({ min: 1, max: 2000 }), async (mutations, pieceSize) => {
        const mutated = apply(sealed, other, mutations);
        const outcome = await attempt(mutated, pieceSize);
        if (mutated.equals(sealed)) {
          expect(Buffer.isBuffer(outcome) && outcome.equals(plain)).toBe(true);
        } else {
          expect(typeof outcome).toBe('string');
          expect(outcome as string).toMatch(/^ERR_SEALED_[A-Z_]+$/);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('random bytes, with or without the magic in front, are refused with a typed error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.uint8Array({ maxLength: 2000 }), async (withMagic, bytes) => {
        const input = withMagic ? Buffer.concat([MAGIC, Buffer.from([0, 1]), bytes]) : Buffer.from(bytes);
        const outcome = await attempt(input);
        expect(typeof outcome).toBe('string');
      }),
      { numRuns: 300 },
    );
  });
});

describe('round trips over random sizes, chunk sizes and stream splits', () => {
  it('unseal(seal(x)) = x', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 3000 }),
        fc.integer({ min: 256, max: 1100 }),
        fc.integer({ min: 1, max: 1500 }),
        async (bytes, chunkSize, pieceSize) => {
          const sink = new MemorySink();
          const parts: Buffer[] = [];
          for (let off = 0; off < bytes.length; off += pieceSize) parts.push(Buffer.from(bytes.subarray(off, off + pieceSize)));
          await sealStream(Readable.from(parts), sink, { dataKey: DATA_KEY, ...BASE, chunkSize });
          const outcome = await attempt(sink.bytes(), pieceSize);
          expect(Buffer.isBuffer(outcome) && outcome.equals(Buffer.from(bytes))).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });
});
