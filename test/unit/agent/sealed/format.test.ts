import { describe, expect, it } from 'vitest';
import { createDecipheriv, createHash, createHmac, hkdfSync } from 'node:crypto';
import {
  MAGIC,
  MAX_HEADER_LENGTH,
  MIN_HEADER_LENGTH,
  chunkNonce,
  encodeHeaderBody,
  isSafeRelativeName,
  parseHeader,
  parseHeaderPrefix,
  parseRecordPrefix,
} from '../../../../src/agent/sealed/format.js';
import { SealedFileError } from '../../../../src/agent/sealed/sealed-error.js';
import { DATA_KEY, randomPlaintext, sealBytes } from './sealed-helpers.js';

function codeOfSync(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof SealedFileError) return err.code;
    throw err;
  }
  return undefined;
}

/**
 * A second decoder written from docs/sealed-format.md alone (layout table, HKDF labels, nonce, AAD):
 * if the code and the document ever disagree, this fails.
 */
function referenceUnseal(file: Buffer, dataKey: Buffer): { fields: Record<string, unknown>; plaintext: Buffer } {
  expect(file.subarray(0, 8).toString('latin1')).toBe('\x89KWSEAL\n');
  expect(file.readUInt16BE(0x08)).toBe(1);
  const headerLength = file.readUInt32BE(0x0a);
  const chunkSize = file.readUInt32BE(0x10);
  const salt = file.subarray(0x18, 0x38);
  let at = 0x38;
  const field = () => {
    const len = file.readUInt16BE(at);
    const value = file.subarray(at + 2, at + 2 + len).toString('utf8');
    at += 2 + len;
    return value;
  };
  const keyId = field();
  const name = field();
  const wrappedDataKey = field();
  const keyCheck = file.subarray(at, at + 32);
  const tag = file.subarray(at + 32, at + 64);
  expect(at + 64).toBe(headerLength);
  const hkdf = (label: string, len: number) => Buffer.from(hkdfSync('sha256', dataKey, salt, `keyward sealed v1 ${label}`, len));
  expect(hkdf('key check', 32).equals(keyCheck)).toBe(true);
  expect(createHmac('sha256', hkdf('header hmac key', 32)).update(file.subarray(0, at + 32)).digest().equals(tag)).toBe(true);
  const aesKey = hkdf('aes-256-gcm key', 32);
  const prefix = hkdf('nonce prefix', 7);
  const headerHash = createHash('sha256').update(file.subarray(0, headerLength)).digest();
  const out: Buffer[] = [];
  let off = headerLength;
  for (let i = 0; ; i++) {
    const flags = file[off]!;
    const len = file.readUInt32BE(off + 1);
    const nonce = Buffer.concat([prefix, Buffer.from([i >>> 24, (i >>> 16) & 255, (i >>> 8) & 255, i & 255, flags])]);
    const d = createDecipheriv('aes-256-gcm', aesKey, nonce);
    d.setAAD(Buffer.concat([headerHash, file.subarray(off, off + 5)]));
    d.setAuthTag(file.subarray(off + 5 + len, off + 5 + len + 16));
    out.push(d.update(file.subarray(off + 5, off + 5 + len)));
    d.final();
    off += 5 + len + 16;
    if (flags === 1) break;
    expect(len).toBe(chunkSize);
  }
  expect(off).toBe(file.length);
  return {
    fields: { kind: file[0x0e], chunkSize, keyVersion: file.readUInt32BE(0x14), keyId, name, wrappedDataKey },
    plaintext: Buffer.concat(out),
  };
}

describe('format v1 matches its document', () => {
  it('decodes with an independent reference decoder (multi-chunk and empty)', async () => {
    for (const size of [0, 1, 700, 1024]) {
      const plain = randomPlaintext(size);
      const sealed = await sealBytes(plain, { chunkSize: 256, name: 'dir/w.bin' });
      const ref = referenceUnseal(sealed, DATA_KEY);
      expect(ref.plaintext.equals(plain)).toBe(true);
      expect(ref.fields).toEqual({
        kind: 0,
        chunkSize: 256,
        keyVersion: 3,
        keyId: 'model-llama',
        name: 'dir/w.bin',
        wrappedDataKey: 'kw1.wrapped.AAAA-bbbb_CCCC',
      });
    }
  });

  it('lays out the fixed header part at the documented offsets', () => {
    const salt = Buffer.alloc(32, 0xaa);
    const keyCheck = Buffer.alloc(32, 0xcc);
    const body = encodeHeaderBody(
      { kind: 'manifest', chunkSize: 0x1000, keyId: 'k', keyVersion: 0x01020304, name: '', wrappedDataKey: 'wk' },
      salt,
      keyCheck,
    );
    const expected = Buffer.concat([
      Buffer.from('894b575345414c0a', 'hex'), // magic
      Buffer.from('0001', 'hex'), // version
      Buffer.from('00000081', 'hex'), // header length 129 = 0x38 + 3 + 2 + 4 + 32 + 32
      Buffer.from('0100', 'hex'), // kind manifest, reserved
      Buffer.from('00001000', 'hex'), // chunk size
      Buffer.from('01020304', 'hex'), // key version
      salt,
      Buffer.from('00016b', 'hex'), // key id "k"
      Buffer.from('0000', 'hex'), // name ""
      Buffer.from('0002776b', 'hex'), // wrapped key "wk"
      keyCheck,
    ]);
    expect(body.toString('hex')).toBe(expected.toString('hex'));
    expect(MAGIC.toString('hex')).toBe('894b575345414c0a');
  });

  it('builds nonces as prefix ‖ u32 counter ‖ final flag', () => {
    const prefix = Buffer.from('01020304050607', 'hex');
    expect(chunkNonce(prefix, 0x0a0b0c0d, true).toString('hex')).toBe('010203040506070a0b0c0d01');
    expect(chunkNonce(prefix, 0, false).toString('hex')).toBe('010203040506070000000000');
  });
});

describe('parseHeader / parseHeaderPrefix', () => {
  const body = (overrides: Partial<Parameters<typeof encodeHeaderBody>[0]> = {}) =>
    Buffer.concat([
      encodeHeaderBody(
        { kind: 'file', chunkSize: 4096, keyId: 'key-1', keyVersion: 1, name: 'a/b.bin', wrappedDataKey: 'w', ...overrides },
        Buffer.alloc(32, 1),
        Buffer.alloc(32, 2),
      ),
      Buffer.alloc(32, 3),
    ]);

  it('parses what it encodes, copying the bytes', () => {
    const bytes = body();
    const header = parseHeader(bytes);
    expect(header).toMatchObject({ kind: 'file', chunkSize: 4096, keyId: 'key-1', keyVersion: 1, name: 'a/b.bin', wrappedDataKey: 'w' });
    bytes.fill(0);
    expect(header.tag).toEqual(new Uint8Array(32).fill(3));
    expect(header.keyCheck).toEqual(new Uint8Array(32).fill(2));
  });

  it('refuses bad magic before anything else, and an unknown version before the length', () => {
    expect(codeOfSync(() => parseHeaderPrefix(Buffer.from('PK\x03\x04')))).toBe('ERR_SEALED_NOT_SEALED');
    const v9 = Buffer.concat([MAGIC, Buffer.from([0, 9])]);
    expect(codeOfSync(() => parseHeaderPrefix(v9))).toBe('ERR_SEALED_VERSION_UNSUPPORTED');
    expect(codeOfSync(() => parseHeaderPrefix(MAGIC.subarray(0, 5)))).toBe('ERR_SEALED_TRUNCATED');
  });

  it('bounds the header length field', () => {
    const tooSmall = body();
    tooSmall.writeUInt32BE(MIN_HEADER_LENGTH - 1, 0x0a);
    expect(codeOfSync(() => parseHeaderPrefix(tooSmall))).toBe('ERR_SEALED_HEADER_MALFORMED');
    const tooLarge = body();
    tooLarge.writeUInt32BE(MAX_HEADER_LENGTH + 1, 0x0a);
    expect(codeOfSync(() => parseHeaderPrefix(tooLarge))).toBe('ERR_SEALED_HEADER_MALFORMED');
    expect(codeOfSync(() => parseHeader(body().subarray(0, -1)))).toBe('ERR_SEALED_HEADER_MALFORMED');
  });

  it('refuses invalid UTF-8, control characters and unsafe names', () => {
    const badUtf8 = body({ keyId: 'key-x' });
    badUtf8[0x3a + 4] = 0xff;
    expect(codeOfSync(() => parseHeader(badUtf8))).toBe('ERR_SEALED_HEADER_MALFORMED');
    const control = body({ keyId: 'key-x' });
    control[0x3a + 4] = 0x0a;
    expect(codeOfSync(() => parseHeader(control))).toBe('ERR_SEALED_HEADER_MALFORMED');
    const zeroVersion = body();
    zeroVersion.writeUInt32BE(0, 0x14);
    expect(codeOfSync(() => parseHeader(zeroVersion))).toBe('ERR_SEALED_HEADER_MALFORMED');
  });
});

describe('isSafeRelativeName', () => {
  it('accepts relative POSIX paths', () => {
    for (const name of ['model.safetensors', 'a/b/c.json', '.hidden', 'x..y', 'ünïcode/名前.bin']) {
      expect(isSafeRelativeName(name)).toBe(true);
    }
  });
  it('refuses anything that could leave the output directory or confuse a terminal', () => {
    for (const name of ['', '/etc/passwd', '../x', 'a/../../x', 'a/./b', 'a//b', 'a/', '..', '.', 'a\\b', 'a\nb', 'a\u0000b', 'x'.repeat(4097)]) {
      expect(isSafeRelativeName(name)).toBe(false);
    }
  });
});

describe('parseRecordPrefix', () => {
  const prefix = (flags: number, length: number) => {
    const b = Buffer.alloc(5);
    b[0] = flags;
    b.writeUInt32BE(length, 1);
    return b;
  };
  it('accepts the one canonical framing', () => {
    expect(parseRecordPrefix(prefix(0, 512), 512, 3)).toEqual({ final: false, length: 512 });
    expect(parseRecordPrefix(prefix(1, 512), 512, 3)).toEqual({ final: true, length: 512 });
    expect(parseRecordPrefix(prefix(1, 1), 512, 3)).toEqual({ final: true, length: 1 });
    expect(parseRecordPrefix(prefix(1, 0), 512, 0)).toEqual({ final: true, length: 0 });
  });
  it('refuses short non-final chunks, oversize chunks, empty final chunks after data, unknown flags', () => {
    expect(codeOfSync(() => parseRecordPrefix(prefix(0, 511), 512, 0))).toBe('ERR_SEALED_CHUNK_MALFORMED');
    expect(codeOfSync(() => parseRecordPrefix(prefix(1, 513), 512, 0))).toBe('ERR_SEALED_CHUNK_MALFORMED');
    expect(codeOfSync(() => parseRecordPrefix(prefix(1, 0), 512, 1))).toBe('ERR_SEALED_CHUNK_MALFORMED');
    expect(codeOfSync(() => parseRecordPrefix(prefix(0x81, 512), 512, 0))).toBe('ERR_SEALED_CHUNK_MALFORMED');
  });
});
