// Byte encodings used across keyward: hex, base64, base64url, constant-time comparison, zeroing.
import { timingSafeEqual } from 'node:crypto';

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

/** Strict hex decode: even length, hex digits only; returns undefined otherwise. */
export function fromHex(text: string): Uint8Array | undefined {
  if (!HEX_RE.test(text)) return undefined;
  return new Uint8Array(Buffer.from(text, 'hex'));
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const B64URL_RE = /^[A-Za-z0-9_-]*$/;

/** Strict standard base64 (padded) decode; undefined when the text is not canonical base64. */
export function fromBase64(text: string): Uint8Array | undefined {
  if (!B64_RE.test(text)) return undefined;
  return new Uint8Array(Buffer.from(text, 'base64'));
}

/** Strict base64url (unpadded) decode; undefined when the text is not base64url. */
export function fromBase64Url(text: string): Uint8Array | undefined {
  if (!B64URL_RE.test(text) || text.length % 4 === 1) return undefined;
  return new Uint8Array(Buffer.from(text, 'base64url'));
}

/** Accepts standard base64 (padded or not) and base64url, as clients send either. */
export function fromAnyBase64(text: string): Uint8Array | undefined {
  const normalized = text.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  if (!/^[A-Za-z0-9+/]*$/.test(normalized) || normalized.length % 4 === 1) return undefined;
  return new Uint8Array(Buffer.from(normalized, 'base64'));
}

export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}

/** Overwrites secret bytes in place; call when a buffer of key material is no longer needed. */
export function zeroize(...buffers: (Uint8Array | undefined)[]): void {
  for (const b of buffers) b?.fill(0);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * A canonical (lowercase, hyphenated) UUID as keyward issues them. Ids from requests are checked with this
 * before they reach the database, where anything else would be a type error rather than "not found".
 */
export function isUuid(text: string): boolean {
  return UUID_RE.test(text);
}

/** Largest value of a Postgres `integer` column (versions): anything larger can never name a row. */
export const MAX_INT4 = 2_147_483_647;
