// Passkey sessions (docs/design.md "Admin side"): a row per login that a signed cookie names, a CSRF token
// stored hashed, a 12 h idle-out and a 12 h absolute lifetime, and the principal a session acts as (its user's current roles).
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock.js';
import { RequestError } from '../errors.js';
import { isUuid } from '../encoding.js';
import type { Db } from '../store/database.js';
import type { KekRing } from '../keys/kek.js';
import * as authRepo from '../store/auth-repo.js';
import { findUser, findUserRoles } from '../store/tenants-repo.js';
import { activeKekRow } from '../store/keks-repo.js';
import { serviceKeyAad } from '../broker/kek-admin.js';
import { sessionAuthority, type Principal } from '../broker/api-tokens.js';
import type { RowMac } from '../broker/row-mac.js';

/** A session unused this long is over. */
export const SESSION_IDLE_MS = 12 * 60 * 60 * 1000;
/**
 * A session is over this long after its login however busy it is (docs/governance.md "Sessions"). Why: a
 * stolen cookie kept alive by a script must still die; the cookie's Max-Age says the same to browsers.
 */
export const SESSION_ABSOLUTE_MS = 12 * 60 * 60 * 1000;
/** Adding a passkey needs a login at most this old. */
export const REAUTH_MS = 5 * 60 * 1000;
/** How often last_seen_at is written (not on every request). */
const TOUCH_MS = 60 * 1000;

export const SESSION_COOKIE = 'keyward_session';
export const CSRF_HEADER = 'x-keyward-csrf';

function sha256(text: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(text, 'utf8').digest());
}

export class Sessions {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly rowMac: RowMac,
  ) {}

  /**
   * The session cookie's signing secret: 32 random bytes sealed under the KEK (one per installation,
   * shared by replicas, resealed by a KEK rotation).
   */
  static async signingSecret(db: Db, keks: KekRing, clock: Clock): Promise<Buffer> {
    let row = await authRepo.findServiceKey(db, 'session');
    if (!row) {
      const fresh = randomBytes(32);
      const active = await activeKekRow(db);
      const kek = active ? await keks.resolve(active.id) : keks.active;
      row = await authRepo.insertServiceKey(db, { purpose: 'session', kekId: kek.id, sealed: await kek.seal(fresh, serviceKeyAad('session')), at: clock.now() });
      fresh.fill(0);
    }
    const kek = await keks.resolve(row.kekId);
    return Buffer.from(await kek.open(row.sealed, serviceKeyAad('session')));
  }

  /** Starts a session after a verified login; returns its id and the CSRF token (shown once). */
  async start(db: Db, userId: string, credentialId: string, at: Date): Promise<{ sessionId: string; csrfToken: string }> {
    const sessionId = randomUUID();
    const csrfToken = randomBytes(32).toString('base64url');
    await authRepo.insertSession(db, { id: sessionId, userId, credentialId, csrfHash: sha256(csrfToken), at });
    return { sessionId, csrfToken };
  }

  /** The principal of a live session; revoked, idle, past its absolute lifetime or unknown is ERR_AUTH_INVALID. */
  async authenticate(sessionId: string): Promise<Principal> {
    const now = this.clock.now();
    const row = isUuid(sessionId) ? await authRepo.findSession(this.db, sessionId) : undefined;
    if (!row || row.revokedAt || row.lastSeenAt.getTime() + SESSION_IDLE_MS <= now.getTime() || row.loginAt.getTime() + SESSION_ABSOLUTE_MS <= now.getTime()) {
      throw new RequestError('ERR_AUTH_INVALID', 'The session has ended; log in again.');
    }
    if (now.getTime() - row.lastSeenAt.getTime() > TOUCH_MS) await authRepo.touchSession(this.db, row.id, now);
    const [user, roles] = await Promise.all([findUser(this.db, row.userId), findUserRoles(this.db, row.userId, this.rowMac.keepMembership)]);
    const authority = sessionAuthority(roles);
    return {
      id: `user:${row.userId}`,
      name: user?.name ?? row.userId,
      tokenId: null,
      userId: row.userId,
      expiresAt: null,
      bootstrap: false,
      session: { id: row.id, loginAt: row.loginAt },
      ...authority,
    };
  }

  /** Every cookie-authenticated write echoes the session's CSRF token in x-keyward-csrf. */
  async assertCsrf(principal: Principal, given: string | undefined): Promise<void> {
    const row = principal.session ? await authRepo.findSession(this.db, principal.session.id) : undefined;
    const ok = row !== undefined && given !== undefined && timingSafeEqual(Buffer.from(sha256(given)), Buffer.from(row.csrfHash));
    if (!ok) throw new RequestError('ERR_AUTH_CSRF_INVALID', `A write with the session cookie must send its CSRF token in ${CSRF_HEADER}.`);
  }

  async end(principal: Principal): Promise<void> {
    if (principal.session) await authRepo.revokeSession(this.db, principal.session.id, this.clock.now());
  }
}
