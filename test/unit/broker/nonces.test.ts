// Stateless nonces (src/broker/nonces.ts): the wire form, the expiry they carry, and every way a nonce
// that keyward did not issue is refused — a flipped bit anywhere, another installation's key, a wrong length.
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { NONCE_BYTES, StatelessNonces } from '../../../src/broker/nonces.js';

const at = new Date('2026-12-07T00:00:00.000Z');
const clock = { now: () => at };
const secret = new Uint8Array(randomBytes(32));

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

describe('StatelessNonces', () => {
  const nonces = new StatelessNonces(secret, clock, 300);

  it('hands out nonces of 72 bytes (base64url) that carry their expiry, and opens them', () => {
    const issued = nonces.issue();
    expect(issued.expiresAt).toBe('2026-12-07T00:05:00.000Z');
    expect(issued.nonce).toMatch(/^[A-Za-z0-9_-]{96}$/);
    const opened = nonces.open(issued.nonce);
    expect(opened.bytes).toHaveLength(NONCE_BYTES);
    expect(opened.expiresAt.toISOString()).toBe(issued.expiresAt);
    expect(Buffer.from(opened.hash).toString('hex')).toBe(createHash('sha256').update(opened.bytes).digest('hex'));
    expect(nonces.issue().nonce).not.toBe(issued.nonce);
  });

  it('refuses a nonce with any one bit flipped: ERR_ATTEST_NONCE_UNKNOWN', () => {
    const bytes = Buffer.from(nonces.issue().nonce, 'base64url');
    for (let i = 0; i < bytes.length; i++) {
      const flipped = Buffer.from(bytes);
      flipped[i] = (flipped[i] as number) ^ (1 << (i % 8));
      expect(codeOf(() => nonces.open(flipped.toString('base64url'))), `byte ${i}`).toBe('ERR_ATTEST_NONCE_UNKNOWN');
    }
  });

  it("refuses another installation's nonce, and an old 32-byte nonce, as unknown", () => {
    const other = new StatelessNonces(new Uint8Array(randomBytes(32)), clock, 300);
    expect(codeOf(() => nonces.open(other.issue().nonce))).toBe('ERR_ATTEST_NONCE_UNKNOWN');
    expect(codeOf(() => nonces.open(randomBytes(32).toString('base64url')))).toBe('ERR_ATTEST_NONCE_UNKNOWN');
  });

  it('refuses what is not a nonce at all: ERR_ATTEST_NONCE_MALFORMED', () => {
    for (const bad of ['', 'short', 'has*stars', randomBytes(31).toString('base64url'), randomBytes(129).toString('base64url')]) {
      expect(codeOf(() => nonces.open(bad)), bad).toBe('ERR_ATTEST_NONCE_MALFORMED');
    }
  });
});
