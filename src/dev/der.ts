// Tiny DER writer (X.690 definite-length encoding) for development fixtures: vendor extensions that
// @peculiar/x509 has no class for (NVIDIA FWID, DICE TcbInfo).

export function derTlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const body = Buffer.concat(parts);
  const n = body.length;
  const header =
    n < 0x80 ? [tag, n] : n < 0x100 ? [tag, 0x81, n] : n < 0x10000 ? [tag, 0x82, n >> 8, n & 0xff] : [tag, 0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return new Uint8Array(Buffer.concat([Buffer.from(header), body]));
}

export const derSequence = (...parts: Uint8Array[]): Uint8Array => derTlv(0x30, ...parts);
export const derOctetString = (bytes: Uint8Array): Uint8Array => derTlv(0x04, bytes);

export function derSmallInteger(value: number): Uint8Array {
  return derTlv(0x02, Uint8Array.of(value & 0x7f));
}

/** Encodes a dotted OID. */
export function derOid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map(Number);
  const bytes: number[] = [(arcs[0] as number) * 40 + (arcs[1] as number)];
  for (const arc of arcs.slice(2)) {
    const chunk: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return derTlv(0x06, Uint8Array.from(bytes));
}
