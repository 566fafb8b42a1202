// The shared strict DER reader (../der.ts) for the NVIDIA certificate extensions that carry the FWID;
// a malformed extension is the evidence error ERR_NVIDIA_FWID_MISMATCH.
import { EvidenceError } from '../../errors.js';
import { DerError, readChildren as readDerChildren, readTlv, type Tlv } from '../der.js';

export type DerElement = Tlv;

function mapped<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof DerError) {
      throw new EvidenceError('ERR_NVIDIA_FWID_MISMATCH', `The device certificate's FWID extension is malformed: ${err.message}`);
    }
    throw err;
  }
}

export function readDer(bytes: Uint8Array, offset = 0): DerElement {
  return mapped(() => readTlv(bytes, offset));
}

/** The elements of a constructed value, which they must fill exactly. */
export function readChildren(value: Uint8Array): DerElement[] {
  return mapped(() => readDerChildren(value));
}

/** Reads exactly one element spanning all of `bytes`. */
export function readSingle(bytes: Uint8Array): DerElement {
  const el = readDer(bytes, 0);
  if (el.end !== bytes.length) {
    throw new EvidenceError('ERR_NVIDIA_FWID_MISMATCH', "The device certificate's FWID extension is malformed: trailing bytes after the value");
  }
  return el;
}
