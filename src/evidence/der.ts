// A minimal strict DER reader (ITU-T X.690 §8, §10): definite lengths, single-byte tags, for vendor
// certificate extensions (Intel SGX PCK, NVIDIA FWID); anything unexpected throws DerError, which each
// caller maps to its own evidence code.

export interface Tlv {
  readonly tag: number;
  /** The contents octets. */
  readonly value: Uint8Array;
  /** Offset just past this element in the parent buffer. */
  readonly end: number;
}

export class DerError extends Error {}

export function readTlv(bytes: Uint8Array, offset: number): Tlv {
  const tag = bytes[offset];
  const first = bytes[offset + 1];
  if (tag === undefined || first === undefined) throw new DerError('truncated element');
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not used here');
  let length: number;
  let header = 2;
  if (first < 0x80) {
    length = first;
  } else {
    const n = first & 0x7f;
    if (n === 0 || n > 3) throw new DerError('unsupported length encoding');
    length = 0;
    for (let i = 0; i < n; i++) {
      const b = bytes[offset + 2 + i];
      if (b === undefined) throw new DerError('truncated length');
      length = length * 256 + b;
    }
    if (length < 0x80 || (n > 1 && (bytes[offset + 2] ?? 0) === 0)) throw new DerError('non-minimal length');
    header += n;
  }
  const start = offset + header;
  const end = start + length;
  if (end > bytes.length) throw new DerError('element overruns its container');
  return { tag, value: bytes.subarray(start, end), end };
}

/** The elements of a constructed value, which must be consumed exactly. */
export function readChildren(value: Uint8Array): Tlv[] {
  const out: Tlv[] = [];
  let offset = 0;
  while (offset < value.length) {
    const tlv = readTlv(value, offset);
    out.push(tlv);
    offset = tlv.end;
  }
  return out;
}

export function expectTag(tlv: Tlv | undefined, tag: number, what: string): Tlv {
  if (!tlv || tlv.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}`);
  return tlv;
}

export const TAG_INTEGER = 0x02;
export const TAG_OCTET_STRING = 0x04;
export const TAG_OID = 0x06;
export const TAG_ENUMERATED = 0x0a;
export const TAG_SEQUENCE = 0x30;

/** Dotted form of an OBJECT IDENTIFIER's contents (X.690 §8.19). */
export function decodeOid(value: Uint8Array): string {
  if (value.length === 0) throw new DerError('empty OID');
  const arcs: number[] = [];
  let acc = 0;
  for (let i = 0; i < value.length; i++) {
    const b = value[i] as number;
    if (acc === 0 && b === 0x80) throw new DerError('non-minimal OID arc');
    acc = acc * 128 + (b & 0x7f);
    if (acc > Number.MAX_SAFE_INTEGER / 128) throw new DerError('OID arc too large');
    if ((b & 0x80) === 0) {
      arcs.push(acc);
      acc = 0;
    } else if (i === value.length - 1) {
      throw new DerError('truncated OID arc');
    }
  }
  const first = arcs[0] as number;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...arcs.slice(1)].join('.');
}

/** A non-negative INTEGER that fits in `maxBytes` significant bytes. */
export function decodeUnsigned(value: Uint8Array, maxBytes: number): number {
  if (value.length === 0) throw new DerError('empty INTEGER');
  if ((value[0] as number) & 0x80) throw new DerError('negative INTEGER');
  if (value.length > 1 && value[0] === 0 && ((value[1] as number) & 0x80) === 0) throw new DerError('non-minimal INTEGER');
  const significant = value[0] === 0 ? value.subarray(1) : value;
  if (significant.length > maxBytes) throw new DerError('INTEGER out of range');
  let n = 0;
  for (const b of significant) n = n * 256 + b;
  return n;
}
