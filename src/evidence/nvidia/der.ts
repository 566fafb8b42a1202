// A minimal strict DER reader (X.690 §8.1: tag ‖ definite length ‖ value) for the NVIDIA certificate
// extensions that carry the FWID; anything indefinite, truncated or oversized is refused.
import { EvidenceError } from '../../errors.js';

export interface DerElement {
  /** The identifier octet (single-byte tags only). */
  readonly tag: number;
  readonly value: Uint8Array;
  /** Offset just past this element in the input it was read from. */
  readonly end: number;
}

function bad(message: string): never {
  throw new EvidenceError('ERR_NVIDIA_FWID_MISMATCH', `The device certificate's FWID extension is malformed: ${message}`);
}

export function readDer(bytes: Uint8Array, offset = 0): DerElement {
  const tag = bytes[offset];
  const first = bytes[offset + 1];
  if (tag === undefined || first === undefined) bad('truncated element');
  if ((tag & 0x1f) === 0x1f) bad('multi-byte tags are not used here');
  let length: number;
  let header = 2;
  if (first < 0x80) {
    length = first;
  } else {
    const n = first & 0x7f;
    if (n === 0 || n > 3) bad('unsupported length encoding');
    length = 0;
    for (let i = 0; i < n; i++) {
      const b = bytes[offset + 2 + i];
      if (b === undefined) bad('truncated length');
      length = length * 256 + b;
    }
    header += n;
  }
  const end = offset + header + length;
  if (end > bytes.length) bad('element runs past its container');
  return { tag, value: bytes.subarray(offset + header, end), end };
}

/** The elements of a constructed value, which they must fill exactly. */
export function readChildren(value: Uint8Array): DerElement[] {
  const out: DerElement[] = [];
  let offset = 0;
  while (offset < value.length) {
    const el = readDer(value, offset);
    out.push(el);
    offset = el.end;
  }
  return out;
}

/** Reads exactly one element spanning all of `bytes`. */
export function readSingle(bytes: Uint8Array): DerElement {
  const el = readDer(bytes, 0);
  if (el.end !== bytes.length) bad('trailing bytes after the value');
  return el;
}
