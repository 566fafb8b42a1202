// Stateless challenges (docs/release.md "Stateless challenges"): POST /v1/challenge writes nothing. A nonce
// is 32 random bytes, its expiry and an HMAC over both under a KEK-sealed service key the replicas share;
// single use is enforced when it is consumed (store/release-repo.ts consumeNonce, the database's clock).
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock.js';
import { RequestError } from '../errors.js';
import { fromBase64Url, toBase64Url } from '../encoding.js';
import type { Db } from '../store/database.js';
import type { KekRing } from '../keys/kek.js';
import * as authRepo from '../store/auth-repo.js';
import { activeKekRow } from '../store/keks-repo.js';
import { serviceKeyAad } from './kek-admin.js';

/** The fresh randomness of a nonce (docs/design.md "Release protocol": 32 random bytes). */
const RANDOM_BYTES = 32;
const EXPIRY_BYTES = 8;
const MAC_BYTES = 32;
/** random(32) ‖ expiry (ms since the epoch, uint64 big-endian) ‖ HMAC-SHA-256: 72 bytes, 96 base64url characters. */
export const NONCE_BYTES = RANDOM_BYTES + EXPIRY_BYTES + MAC_BYTES;
/** Shortest and longest decoded nonce accepted as well-formed (32: the nonces keyward issued before 0011). */
const MIN_NONCE_BYTES = 32;
const MAX_NONCE_BYTES = 128;
const MAC_LABEL = Buffer.from('keyward:nonce:v1\0', 'utf8');

/** A nonce whose MAC verified: its decoded bytes (what the binding hashes), its consumed-set key, its expiry. */
export interface OpenedNonce {
  readonly bytes: Uint8Array;
  /** SHA-256 of the decoded nonce bytes: the key of the consumed set. */
  readonly hash: Uint8Array;
  readonly expiresAt: Date;
}

/**
 * The HMAC key of stateless nonces: 32 random bytes sealed under the KEK, created once by whichever replica
 * starts first, shared through the database and resealed by a KEK rotation (like the session secret).
 */
export async function loadNonceSecret(db: Db, keks: KekRing, clock: Clock): Promise<Buffer> {
  let row = await authRepo.findServiceKey(db, 'nonce');
  if (!row) {
    const fresh = randomBytes(32);
    const active = await activeKekRow(db);
    const kek = active ? await keks.resolve(active.id) : keks.active;
    row = await authRepo.insertServiceKey(db, { purpose: 'nonce', kekId: kek.id, sealed: await kek.seal(fresh, serviceKeyAad('nonce')), at: clock.now() });
    fresh.fill(0);
  }
  const kek = await keks.resolve(row.kekId);
  return Buffer.from(await kek.open(row.sealed, serviceKeyAad('nonce')));
}

export class StatelessNonces {
  constructor(
    private readonly secret: Uint8Array,
    private readonly clock: Clock,
    private readonly ttlSeconds: number,
  ) {}

  /** A fresh nonce (base64url) and its expiry. Nothing is written anywhere. */
  issue(): { nonce: string; expiresAt: string } {
    const expiresAt = new Date(this.clock.now().getTime() + this.ttlSeconds * 1000);
    const body = Buffer.alloc(RANDOM_BYTES + EXPIRY_BYTES);
    randomBytes(RANDOM_BYTES).copy(body, 0);
    body.writeBigUInt64BE(BigInt(expiresAt.getTime()), RANDOM_BYTES);
    return { nonce: toBase64Url(Buffer.concat([body, this.mac(body)])), expiresAt: expiresAt.toISOString() };
  }

  /**
   * Checks a nonce's form and MAC and returns what it carries. Not base64url or of an impossible length:
   * ERR_ATTEST_NONCE_MALFORMED; a MAC that does not verify (forged, tampered, another installation's, or
   * a stateful nonce from before 0011): ERR_ATTEST_NONCE_UNKNOWN. Expiry and single use are checked by
   * the caller (expiry finally by the database's clock, when the nonce is consumed).
   */
  open(nonce: string): OpenedNonce {
    const bytes = typeof nonce === 'string' ? fromBase64Url(nonce) : undefined;
    if (!bytes || bytes.length < MIN_NONCE_BYTES || bytes.length > MAX_NONCE_BYTES) {
      throw new RequestError('ERR_ATTEST_NONCE_MALFORMED', 'nonce must be the base64url string POST /v1/challenge returned.');
    }
    const body = Buffer.from(bytes.subarray(0, RANDOM_BYTES + EXPIRY_BYTES));
    const mac = bytes.subarray(RANDOM_BYTES + EXPIRY_BYTES);
    // Why constant time: the MAC is the only thing that makes a nonce keyward's own.
    if (bytes.length !== NONCE_BYTES || !timingSafeEqual(mac, this.mac(body))) {
      throw new RequestError('ERR_ATTEST_NONCE_UNKNOWN', 'The nonce was not issued by this keyward (POST /v1/challenge first).');
    }
    const expiresAt = new Date(Number(body.readBigUInt64BE(RANDOM_BYTES)));
    return { bytes, hash: new Uint8Array(createHash('sha256').update(bytes).digest()), expiresAt };
  }

  private mac(body: Uint8Array): Buffer {
    return createHmac('sha256', this.secret).update(MAC_LABEL).update(body).digest();
  }
}
