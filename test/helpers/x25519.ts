// The X25519 public values of small order (RFC 7748 §6.1), as 32-byte little-endian hex, with their
// non-canonical twins (top bit set, which X25519 ignores): what a TEE key must never be.
const CANONICAL = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
];

function withTopBit(hex: string): string {
  const bytes = Buffer.from(hex, 'hex');
  bytes[31] = bytes[31]! | 0x80;
  return bytes.toString('hex');
}

export const X25519_SMALL_ORDER_POINTS: readonly string[] = [...CANONICAL, ...CANONICAL.map(withTopBit)];
