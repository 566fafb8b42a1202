// Strict CBOR (RFC 8949 §3) for Nitro attestation documents: a well-formedness gate, then cbor-x decoding.
//
// Why a gate: cbor-x turns many tags into live objects (dates, RegExp, records, shared references,
// typed arrays), accepts floats and simple values, and lets a duplicate map key silently overwrite the
// first. None of that appears in an NSM document, and each is room for a parser differential. The gate
// walks the item heads without building values and admits only what NSM emits: unsigned/negative
// integers (up to 2^53 - 1), definite-length byte strings and UTF-8 text strings, arrays, maps with
// unique integer or text keys, and `null`. No tags (the COSE tag 18 is stripped by the COSE layer before
// the gate runs). Nesting is bounded, so neither walk can exhaust the stack.
// Arrays and maps may have indefinite length (RFC 8949 §3.2.2): recent NSM output encodes the payload
// map that way (`bf … ff`, the 2026 Epsilon vector). Chunked (indefinite-length) strings are refused:
// nothing real sends them.
import { Decoder, type Options } from 'cbor-x';
import { EvidenceError, type EvidenceErrorCode } from '../../errors.js';

export interface CborGateOptions {
  /** Deepest container nesting accepted (the outermost array or map is depth 1). */
  readonly maxDepth: number;
  /** Code of the EvidenceError thrown when the input is refused. */
  readonly code: EvidenceErrorCode;
  /** What is being decoded, for messages ("the COSE_Sign1 envelope", "the payload", ...). */
  readonly what: string;
}

const MAJOR_UINT = 0;
const MAJOR_NINT = 1;
const MAJOR_BSTR = 2;
const MAJOR_TSTR = 3;
const MAJOR_ARRAY = 4;
const MAJOR_MAP = 5;
const MAJOR_TAG = 6;
const MAJOR_SIMPLE = 7;
const NULL_BYTE = 0xf6;
const BREAK_BYTE = 0xff;
/** Marks an indefinite-length container in Head.arg. */
const INDEFINITE = -1;
/** 2^53 / 2^32: the high 32 bits of an 8-byte argument must stay below this for a safe integer. */
const SAFE_HIGH_WORD_LIMIT = 0x200000;

const utf8 = new TextDecoder('utf-8', { fatal: true });

class Gate {
  private pos = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly opts: CborGateOptions,
  ) {}

  fail(reason: string): never {
    throw new EvidenceError(this.opts.code, `${this.opts.what} is not acceptable CBOR: ${reason}.`);
  }

  run(): void {
    this.item(0);
    if (this.pos !== this.bytes.length) this.fail('trailing bytes after the item');
  }

  /** Reads one head (RFC 8949 §3): returns the major type and its argument. */
  private head(): { major: number; arg: number } {
    const initial = this.bytes[this.pos++];
    if (initial === undefined) this.fail('truncated');
    const major = initial >> 5;
    const info = initial & 0x1f;
    // Major type 7 carries floats and simple values; only `null` is part of the format.
    if (major === MAJOR_SIMPLE) {
      if (initial !== NULL_BYTE) this.fail('floats and simple values other than null are not allowed');
      return { major, arg: 0 };
    }
    if (info < 24) return { major, arg: info };
    if (info === 31) {
      if (major !== MAJOR_ARRAY && major !== MAJOR_MAP) this.fail('indefinite lengths are allowed only for arrays and maps');
      return { major, arg: INDEFINITE };
    }
    if (info > 27) this.fail('reserved additional information');
    const width = 1 << (info - 24);
    if (this.pos + width > this.bytes.length) this.fail('truncated');
    let arg = 0;
    for (let i = 0; i < width; i++) {
      // With 8-byte arguments, refuse before the value leaves the range a double holds exactly.
      if (i === 4 && width === 8 && arg >= SAFE_HIGH_WORD_LIMIT) this.fail('integer or length out of range');
      arg = arg * 256 + (this.bytes[this.pos + i] as number);
    }
    this.pos += width;
    return { major, arg };
  }

  private take(length: number): Uint8Array {
    if (length > this.bytes.length - this.pos) this.fail('truncated');
    const out = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  private text(length: number): string {
    try {
      return utf8.decode(this.take(length));
    } catch (err) {
      if (err instanceof EvidenceError) throw err;
      this.fail('a text string is not valid UTF-8');
    }
  }

  private item(depth: number): void {
    const { major, arg } = this.head();
    switch (major) {
      case MAJOR_UINT:
      case MAJOR_NINT:
      case MAJOR_SIMPLE:
        return;
      case MAJOR_BSTR:
        this.take(arg);
        return;
      case MAJOR_TSTR:
        this.text(arg);
        return;
      case MAJOR_ARRAY:
        if (depth + 1 > this.opts.maxDepth) this.fail('nested too deeply');
        for (let i = 0; arg === INDEFINITE ? !this.atBreak() : i < arg; i++) this.item(depth + 1);
        return;
      case MAJOR_MAP:
        if (depth + 1 > this.opts.maxDepth) this.fail('nested too deeply');
        this.map(arg, depth + 1);
        return;
      case MAJOR_TAG:
        this.fail('tags are not allowed');
    }
    this.fail('unknown major type');
  }

  /** In an indefinite-length container: consumes the break that ends it, or returns false. */
  private atBreak(): boolean {
    const next = this.bytes[this.pos];
    if (next === undefined) this.fail('truncated');
    if (next !== BREAK_BYTE) return false;
    this.pos++;
    return true;
  }

  private map(entries: number, depth: number): void {
    const seen = new Set<string>();
    for (let i = 0; entries === INDEFINITE ? !this.atBreak() : i < entries; i++) {
      const key = this.mapKey();
      // Keys are compared by value, so 1 encoded as 0x01 and as 0x18 0x01 are the same key.
      if (seen.has(key)) this.fail('a map has a duplicate key');
      seen.add(key);
      this.item(depth);
    }
  }

  private mapKey(): string {
    const { major, arg } = this.head();
    if (major === MAJOR_UINT) return `u${arg}`;
    if (major === MAJOR_NINT) return `n${arg}`;
    if (major === MAJOR_TSTR) return `t${this.text(arg)}`;
    this.fail('map keys must be integers or text strings');
  }
}

/** Throws `opts.code` unless `bytes` is exactly one item of the strict subset described above. */
export function checkStrictCbor(bytes: Uint8Array, opts: CborGateOptions): void {
  new Gate(bytes, opts).run();
}

// Maps stay Maps (integer keys such as PCR indices keep their type); 8-byte integers (the gate keeps them
// below 2^53) come back as numbers. `int64AsNumber` is documented in cbor-x's README but not in its typings.
const decoderOptions: Options & { readonly int64AsNumber: boolean } = { mapsAsObjects: false, useRecords: false, int64AsNumber: true };
const decoder = new Decoder(decoderOptions);

/** Runs the gate, then decodes with cbor-x. Byte strings come back as views into `bytes`. */
export function decodeStrictCbor(bytes: Uint8Array, opts: CborGateOptions): unknown {
  checkStrictCbor(bytes, opts);
  try {
    return decoder.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (cause) {
    throw new EvidenceError(opts.code, `${opts.what} could not be decoded as CBOR.`, { cause });
  }
}

/** A CBOR byte-string head for `length` in preferred (shortest) form, RFC 8949 §4.2.1. */
export function byteStringHead(length: number): Uint8Array {
  const major = MAJOR_BSTR << 5;
  if (length < 24) return Uint8Array.of(major | length);
  if (length < 0x100) return Uint8Array.of(major | 24, length);
  if (length < 0x10000) return Uint8Array.of(major | 25, length >> 8, length & 0xff);
  return Uint8Array.of(major | 26, (length >>> 24) & 0xff, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff);
}
