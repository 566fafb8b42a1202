// The strict CBOR gate in front of cbor-x: what NSM emits passes, everything else is a typed refusal.
import { describe, expect, it } from 'vitest';
import { checkStrictCbor, decodeStrictCbor, byteStringHead } from '../../../../src/evidence/nitro/cbor.js';
import { codeOf } from './nitro-helpers.js';

const OPTS = { maxDepth: 2, code: 'ERR_NITRO_DOCUMENT_MALFORMED', what: 'The test item' } as const;
const hex = (h: string) => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
const gate = (h: string) => codeOf(() => checkStrictCbor(hex(h), OPTS));
const decode = (h: string) => decodeStrictCbor(hex(h), OPTS);

describe('accepted', () => {
  it.each([
    ['17', 23],
    ['1818', 24],
    ['190100', 256],
    ['1a00010000', 65536],
    ['1b0000019c320d4d14', 1770366258452],
    ['1b001fffffffffffff', 2 ** 53 - 1],
    ['3822', -35],
    ['3b001ffffffffffffe', -(2 ** 53 - 1)],
    ['f6', null],
  ])('%s decodes to %s', (h, value) => {
    expect(decode(h)).toBe(value);
  });

  it('decodes byte strings as views, text as strings, maps as Maps with typed keys', () => {
    const value = decode('a3 00 43 010203 6161 66534841333834 63787878 80') as Map<unknown, unknown>;
    expect(value).toBeInstanceOf(Map);
    expect([...value.keys()]).toEqual([0, 'a', 'xxx']);
    expect(Buffer.from(value.get(0) as Uint8Array).toString('hex')).toBe('010203');
    expect(value.get('a')).toBe('SHA384');
    expect(value.get('xxx')).toEqual([]);
  });

  it('accepts indefinite-length arrays and maps (recent NSM payloads)', () => {
    expect(decode('9f 01 02 ff')).toEqual([1, 2]);
    const map = decode('bf 6161 01 6162 9f f6 ff ff') as Map<unknown, unknown>;
    expect([...map.entries()]).toEqual([['a', 1], ['b', [null]]]);
  });

  it('writes preferred byte-string heads', () => {
    expect([0, 23, 24, 255, 256, 65535, 65536].map((n) => Buffer.from(byteStringHead(n)).toString('hex'))).toEqual([
      '40', '57', '5818', '58ff', '590100', '59ffff', '5a00010000',
    ]);
  });
});

describe('refused with the caller\'s code', () => {
  it.each([
    ['an integer of 2^53', '1b0020000000000000'],
    ['a negative integer below -2^53', '3b0020000000000000'],
    ['an 8-byte length of 2^53', '5b0020000000000000'],
    ['a tag (epoch date)', 'c1 01'],
    ['COSE tag 18 inside', '81 d2 80'],
    ['a bignum tag', 'c2 41 01'],
    ['a record/extension tag', 'd9 dfff 80'],
    ['a half float', 'f9 3c00'],
    ['a single float', 'fa 3f800000'],
    ['a double float', 'fb 3ff0000000000000'],
    ['false', 'f4'],
    ['true', 'f5'],
    ['undefined', 'f7'],
    ['a one-byte simple value', 'f8 20'],
    ['a lone break', 'ff'],
    ['reserved additional information', '1c'],
    ['an indefinite byte string', '5f 41 00 ff'],
    ['an indefinite text string', '7f 61 61 ff'],
    ['invalid UTF-8 text', '62 c3 28'],
    ['trailing bytes', '01 02'],
    ['a truncated byte string', '42 00'],
    ['a truncated head', '19 01'],
    ['empty input', ''],
    ['nesting deeper than allowed', '81 81 81 00'],
    ['a duplicate integer key', 'a2 01 00 01 00'],
    ['a duplicate key in non-preferred form', 'a2 01 00 18 01 00'],
    ['a duplicate text key', 'a2 6161 00 6161 01'],
    ['a duplicate key in an indefinite map', 'bf 6161 00 6161 01 ff'],
    ['a byte-string key', 'a1 41 00 00'],
    ['an array key', 'a1 80 00'],
    ['a null key', 'a1 f6 00'],
    ['an indefinite map without break', 'bf 01 00'],
    ['a break between key and value', 'bf 01 ff'],
    ['an indefinite array without break', '9f 01'],
    ['a map missing its last value', 'a2 01 00 02'],
    ['an array shorter than declared', '83 01 02'],
    ['a huge declared array', '9b 001fffffffffffff 00'],
    ['a huge declared map', 'bb 001fffffffffffff 00'],
  ])('%s', (_what, h) => {
    expect(gate(h)).toBe('ERR_NITRO_DOCUMENT_MALFORMED');
  });

  it('uses the code it is given', () => {
    expect(codeOf(() => checkStrictCbor(hex('f4'), { ...OPTS, code: 'ERR_NITRO_FIELD_INVALID' }))).toBe('ERR_NITRO_FIELD_INVALID');
  });
});
