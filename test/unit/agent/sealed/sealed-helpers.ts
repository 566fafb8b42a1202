// Shared helpers for the sealed-file tests: in-memory seal/unseal and error-code capture.
import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { isSealedFileError } from '../../../../src/agent/sealed/sealed-error.js';
import { sealStream, unsealStream, type SealOptions, type UnsealOptions } from '../../../../src/agent/sealed/stream.js';

export const DATA_KEY = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
export const BASE: Omit<SealOptions, 'dataKey'> = { keyId: 'model-llama', keyVersion: 3, wrappedDataKey: 'kw1.wrapped.AAAA-bbbb_CCCC' };

/** Splits bytes into pieces of varying size, as a stream would deliver them. */
export function* pieces(bytes: Uint8Array, size = 977): Generator<Buffer> {
  for (let off = 0; off < bytes.length; off += size) yield Buffer.from(bytes.subarray(off, off + size));
}

export class MemorySink extends Writable {
  readonly parts: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.parts.push(Buffer.from(chunk));
    done();
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

export async function sealBytes(plain: Uint8Array, options: Partial<SealOptions> = {}): Promise<Buffer> {
  const sink = new MemorySink();
  await sealStream(Readable.from(pieces(plain)), sink, { dataKey: DATA_KEY, ...BASE, ...options });
  return sink.bytes();
}

export async function unsealBytes(sealed: Uint8Array, options: Partial<UnsealOptions> = {}, sink = new MemorySink()): Promise<Buffer> {
  await unsealStream(Readable.from(pieces(sealed, 1531)), sink, { dataKey: DATA_KEY, ...options });
  return sink.bytes();
}

/** Runs `fn` and returns the code of the SealedFileError it rejected with; rethrows anything else. */
export async function codeOf(fn: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await fn();
  } catch (err) {
    if (isSealedFileError(err)) return err.code;
    throw err;
  }
  return undefined;
}

export function randomPlaintext(size: number): Buffer {
  return randomBytes(size);
}

/** Byte offsets of a v1 sealed file's parts, computed from its own length fields. */
export function layoutOf(sealed: Buffer, chunkSize: number) {
  const headerLength = sealed.readUInt32BE(0x0a);
  const keyIdLength = sealed.readUInt16BE(0x38);
  const nameAt = 0x38 + 2 + keyIdLength;
  const nameLength = sealed.readUInt16BE(nameAt);
  const wrappedAt = nameAt + 2 + nameLength;
  const wrappedLength = sealed.readUInt16BE(wrappedAt);
  const keyCheckAt = wrappedAt + 2 + wrappedLength;
  const recordLength = 5 + chunkSize + 16;
  return {
    headerLength,
    keyIdAt: 0x3a,
    keyIdLength,
    nameAt,
    wrappedAt,
    keyCheckAt,
    tagAt: keyCheckAt + 32,
    recordLength,
    /** Offset of record i when every record before it is full. */
    recordAt: (i: number) => headerLength + i * recordLength,
  };
}
