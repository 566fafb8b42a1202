// Property tests for the Nitro CBOR/COSE parser: random bytes, random CBOR and mutations of real documents
// only ever produce a typed EvidenceError (or, for mutations, the original claims), never a crash or hang.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Decoder, Encoder } from 'cbor-x';
import { parseNitroDocument } from '../../../../src/evidence/nitro/document.js';
import { checkStrictCbor, decodeStrictCbor } from '../../../../src/evidence/nitro/cbor.js';
import { verifyNitroEvidence } from '../../../../src/evidence/nitro/verify.js';
import { vendorAnchors } from '../../../../src/evidence/anchors.js';
import { LruMemo } from '../../../../src/evidence/memo.js';
import { EvidenceError } from '../../../../src/errors.js';
import { assembleCoseSign1, ES384_PROTECTED_HEADER } from '../../../../src/dev/nitro.js';
import { contextAt, manifest, vectorDocument } from './nitro-helpers.js';

/** Runs `fn`; a thrown value must be an EvidenceError with a Nitro, chain or nonce code. */
function outcome<T>(fn: () => T): T | EvidenceError {
  try {
    return fn();
  } catch (err) {
    expect(err).toBeInstanceOf(EvidenceError);
    expect((err as EvidenceError).code).toMatch(/^ERR_(NITRO|CHAIN|EVIDENCE)_/);
    return err as EvidenceError;
  }
}

async function outcomeAsync<T>(fn: () => Promise<T>): Promise<T | EvidenceError> {
  try {
    return await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(EvidenceError);
    expect((err as EvidenceError).code).toMatch(/^ERR_(NITRO|CHAIN|EVIDENCE)_/);
    return err as EvidenceError;
  }
}

// Any CBOR cbor-x can write, including what the gate refuses (floats, booleans, tags via Date/Set).
const cborValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.integer(),
    fc.bigInt({ min: -(2n ** 64n) + 1n, max: 2n ** 64n - 1n }),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.string({ maxLength: 20 }),
    fc.uint8Array({ maxLength: 64 }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.array(fc.tuple(fc.oneof(fc.string({ maxLength: 10 }), fc.nat(40)), tie('value')), { maxLength: 5 }).map((e) => new Map(e)),
  ),
})).value;

/** [value to encode, what decoding must give]: the subset NSM uses, with 8-byte integers as bigint. */
const nsmValue: fc.Arbitrary<[unknown, unknown]> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 }).map((n) => [n, n] as [unknown, unknown]),
    fc.bigInt({ min: 0n, max: 2n ** 53n - 1n }).map((n) => [n, Number(n)] as [unknown, unknown]),
    fc.constant([null, null] as [unknown, unknown]),
    fc.string({ maxLength: 20 }).map((t) => [t, t] as [unknown, unknown]),
    fc.uint8Array({ maxLength: 64 }).map((b) => [b, Buffer.from(b)] as [unknown, unknown]),
    fc.array(tie('value') as fc.Arbitrary<[unknown, unknown]>, { maxLength: 5 }).map((items) => [items.map((i) => i[0]), items.map((i) => i[1])] as [unknown, unknown]),
    fc
      .uniqueArray(fc.tuple(fc.oneof(fc.string({ maxLength: 10 }), fc.nat(40)), tie('value') as fc.Arbitrary<[unknown, unknown]>), {
        maxLength: 5,
        selector: (entry) => entry[0],
      })
      .map((entries) => [new Map(entries.map(([k, v]) => [k, v[0]])), new Map(entries.map(([k, v]) => [k, v[1]]))] as [unknown, unknown]),
  ),
})).value as fc.Arbitrary<[unknown, unknown]>;

const rawDecoder = new Decoder({ mapsAsObjects: false, useRecords: false });
const anyEncoder = new Encoder({ useRecords: false, mapsAsObjects: false, tagUint8Array: false });
const encode = (v: unknown) => new Uint8Array(anyEncoder.encode(v));

describe('parseNitroDocument', () => {
  it('turns random bytes into an EvidenceError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (bytes) => {
        const result = outcome(() => parseNitroDocument(bytes));
        expect(result).toBeInstanceOf(EvidenceError);
      }),
      { numRuns: 2000 },
    );
  });

  it('turns random bytes after a plausible envelope head into an EvidenceError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.boolean(), (tail, tagged) => {
        const head = Uint8Array.of(...(tagged ? [0xd2] : []), 0x84, 0x44, 0xa1, 0x01, 0x38, 0x22, 0xa0);
        expect(outcome(() => parseNitroDocument(Uint8Array.of(...head, ...tail)))).toBeInstanceOf(EvidenceError);
      }),
      { numRuns: 1000 },
    );
  });

  it('turns random CBOR, as envelope or as payload, into an EvidenceError', () => {
    fc.assert(
      fc.property(cborValue, (value) => {
        const encoded = encode(value);
        expect(outcome(() => parseNitroDocument(encoded))).toBeInstanceOf(EvidenceError);
        const doc = assembleCoseSign1({ protectedHeader: ES384_PROTECTED_HEADER, payload: encoded, signature: new Uint8Array(96) });
        expect(outcome(() => parseNitroDocument(doc))).toBeInstanceOf(EvidenceError);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('decodeStrictCbor', () => {
  it('decodes random bytes or refuses them with the given code', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        outcome(() => decodeStrictCbor(bytes, { maxDepth: 4, code: 'ERR_NITRO_DOCUMENT_MALFORMED', what: 'x' }));
      }),
      { numRuns: 3000 },
    );
  });

  it('never passes the gate with input cbor-x then fails to decode', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 128 }), cborValue.map(encode)), (bytes) => {
        const gate = outcome(() => checkStrictCbor(bytes, { maxDepth: 8, code: 'ERR_NITRO_DOCUMENT_MALFORMED', what: 'x' }));
        if (!(gate instanceof EvidenceError)) expect(() => rawDecoder.decode(Buffer.from(bytes))).not.toThrow();
      }),
      { numRuns: 3000 },
    );
  });

  it('accepts every value of the NSM subset and decodes it unchanged', () => {
    fc.assert(
      fc.property(nsmValue, ([value, expected]) => {
        expect(decodeStrictCbor(encode(value), { maxDepth: 64, code: 'ERR_NITRO_DOCUMENT_MALFORMED', what: 'x' })).toEqual(expected);
      }),
      { numRuns: 1000 },
    );
  });
});

interface Mutation {
  readonly kind: 'flip' | 'set' | 'insert' | 'delete' | 'truncate';
  readonly at: number;
  readonly byte: number;
}

function mutate(bytes: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let out = [...bytes];
  for (const m of mutations) {
    const at = out.length === 0 ? 0 : m.at % out.length;
    if (m.kind === 'flip') out[at] = (out[at] ?? 0) ^ (1 << (m.byte % 8));
    else if (m.kind === 'set') out[at] = m.byte;
    else if (m.kind === 'insert') out.splice(at, 0, m.byte);
    else if (m.kind === 'delete') out.splice(at, 1);
    else out = out.slice(0, at);
  }
  return Uint8Array.from(out);
}

const mutation = fc.record({
  kind: fc.constantFrom('flip', 'set', 'insert', 'delete', 'truncate') as fc.Arbitrary<Mutation['kind']>,
  at: fc.nat(),
  byte: fc.nat(255),
});

describe.each(manifest.vectors.map((v) => [v.id, v] as const))('mutations of %s', (_id, vector) => {
  const original = vectorDocument(vector);
  const memo = new LruMemo();
  const ctx = contextAt(new Date(vector.verification_time), vendorAnchors(), { memo });

  it('are refused with a typed error, or verify to exactly the original claims', async () => {
    const { claims } = await verifyNitroEvidence({ type: 'nitro', document: original }, ctx);
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), async (mutations) => {
        const document = mutate(original, mutations);
        const result = await outcomeAsync(() => verifyNitroEvidence({ type: 'nitro', document }, ctx));
        if (!(result instanceof EvidenceError)) expect(result.claims).toEqual(claims);
      }),
      { numRuns: 150 },
    );
  });
});
