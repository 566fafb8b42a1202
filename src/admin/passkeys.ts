// People's passkeys (WebAuthn, docs/design.md "Admin side"): enrolment with a single-use code or from a
// fresh session, login to a session, and assertions over a given challenge (approvals). User
// verification is required; challenges are single-use, expire after 5 minutes and are kept in the
// database; the sign counter must advance; origin and RP id come from the configuration, never the request.
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { Clock } from '../clock.js';
import { RequestError } from '../errors.js';
import type { Db } from '../store/database.js';
import * as authRepo from '../store/auth-repo.js';
import * as tenantsRepo from '../store/tenants-repo.js';
import { revokeBootstrapTokens } from '../store/tokens-repo.js';
import { appendAudit } from '../broker/audit.js';
import { hashEnrolmentCode } from '../broker/tenants.js';
import type { Principal, Tokens } from '../broker/api-tokens.js';
import type { RowMac } from '../broker/row-mac.js';
import { REAUTH_MS, type Sessions } from './sessions.js';

/** How long a WebAuthn challenge can be answered. */
export const CHALLENGE_TTL_MS = 5 * 60 * 1000;

export interface RelyingParty {
  readonly rpId: string;
  readonly origin: string;
  readonly name: string;
}

/** A verified assertion, with everything an auditor needs to re-verify it offline. */
export interface VerifiedAssertion {
  readonly userId: string;
  readonly credentialId: string;
  readonly publicKey: string;
  readonly authenticatorData: string;
  readonly clientDataJSON: string;
  readonly signature: string;
  /** The challenge this assertion answered (base64url). */
  readonly challenge: string;
  /** For approvals: the random bytes mixed into the challenge. */
  readonly randomness: Uint8Array | null;
}

function invalid(message: string, cause?: unknown): RequestError {
  return new RequestError('ERR_WEBAUTHN_INVALID', message, cause === undefined ? {} : { cause });
}

/** The challenge the client data answers (base64url), read before anything is verified. */
export function challengeOf(clientDataJSON: unknown, expectedType: 'webauthn.create' | 'webauthn.get'): string {
  try {
    const data = JSON.parse(Buffer.from(String(clientDataJSON), 'base64url').toString('utf8')) as { type?: unknown; challenge?: unknown };
    if (data.type === expectedType && typeof data.challenge === 'string' && /^[A-Za-z0-9_-]{16,128}$/.test(data.challenge)) return data.challenge;
  } catch {
    // fall through: malformed client data
  }
  throw invalid('The client data is malformed or of the wrong type.');
}

/** The sign counter in authenticatorData (bytes 0x21..0x25, big-endian). */
function counterOf(authenticatorData: string): number {
  const bytes = Buffer.from(authenticatorData, 'base64url');
  if (bytes.length < 37) throw invalid('The authenticator data is too short.');
  return bytes.readUInt32BE(33);
}

export class Passkeys {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly rp: RelyingParty,
    private readonly sessions: Sessions,
    private readonly tokens: Tokens,
    private readonly rowMac: RowMac,
  ) {}

  /** The enrolment code, unless its row MAC fails (an invite planted in the database: alarmed, and unknown). */
  private intactCode(code: tenantsRepo.EnrolmentCodeRow | undefined): tenantsRepo.EnrolmentCodeRow | undefined {
    return this.rowMac.intactOrAbsent(code, (c) => this.rowMac.enrolmentCodeIntact(c), 'enrolment_codes', (c) => c.userId);
  }

  /** Creation options for an invitee (enrolment code) or a signed-in user adding a passkey (fresh login). */
  async registrationOptions(input: { enrolmentCode?: string }, principal: Principal | null): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const now = this.clock.now();
    let userId: string;
    let codeHash: Uint8Array | undefined;
    let sessionId: string | undefined;
    if (input.enrolmentCode !== undefined) {
      codeHash = hashEnrolmentCode(input.enrolmentCode);
      const code = this.intactCode(await tenantsRepo.findEnrolmentCode(this.db, codeHash));
      if (!code || code.usedAt || code.revokedAt || code.expiresAt <= now) throw new RequestError('ERR_ENROLMENT_CODE_INVALID', 'The enrolment code is unknown, used, revoked or expired.');
      userId = code.userId;
    } else {
      if (!principal?.session) throw new RequestError('ERR_AUTH_REQUIRED', 'Send an enrolment code, or log in to add a passkey.');
      this.assertFreshLogin(principal, now);
      userId = principal.userId;
      sessionId = principal.session.id;
    }
    const user = await tenantsRepo.findUser(this.db, userId);
    const existing = await authRepo.listUserPasskeys(this.db, userId);
    const options = await generateRegistrationOptions({
      rpName: this.rp.name,
      rpID: this.rp.rpId,
      userName: user?.name ?? userId,
      userID: new Uint8Array(Buffer.from(userId, 'utf8')),
      attestationType: 'none',
      excludeCredentials: existing.map((p) => ({ id: p.credentialId })),
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
      supportedAlgorithmIDs: [-7, -257],
      timeout: CHALLENGE_TTL_MS,
    });
    await authRepo.insertChallenge(this.db, {
      challenge: options.challenge,
      purpose: 'register',
      userId,
      ...(codeHash ? { enrolmentCodeHash: codeHash } : {}),
      ...(sessionId ? { sessionId } : {}),
      at: now,
      expiresAt: new Date(now.getTime() + CHALLENGE_TTL_MS),
    });
    return options;
  }

  private assertFreshLogin(principal: Principal, now: Date): void {
    if (!principal.session || now.getTime() - principal.session.loginAt.getTime() > REAUTH_MS) {
      throw new RequestError('ERR_AUTH_REAUTH_REQUIRED', 'Adding a passkey needs a login at most 5 minutes old; log in again.');
    }
  }

  /**
   * Verifies a new passkey and stores it. The challenge is consumed first (a failed attempt cannot be
   * retried with it); the enrolment code only with a verified passkey, in the same transaction.
   */
  async verifyRegistration(response: RegistrationResponseJSON, principal: Principal | null): Promise<{ userId: string; credentialId: string }> {
    const now = this.clock.now();
    const challenge = challengeOf(response.response?.clientDataJSON, 'webauthn.create');
    const row = await authRepo.consumeChallenge(this.db, challenge, 'register', now);
    if (!row || !row.userId) throw new RequestError('ERR_WEBAUTHN_CHALLENGE_INVALID', 'The challenge is unknown, used or expired; ask for new options.');
    const userId = row.userId;
    if (row.sessionId && (principal?.session?.id !== row.sessionId || principal.userId !== userId)) {
      throw new RequestError('ERR_WEBAUTHN_CHALLENGE_INVALID', 'The challenge belongs to another session.');
    }
    if (row.sessionId && principal) this.assertFreshLogin(principal, now);
    let verified;
    try {
      verified = await verifyRegistrationResponse({ response, expectedChallenge: challenge, expectedOrigin: this.rp.origin, expectedRPID: this.rp.rpId, requireUserVerification: true });
    } catch (cause) {
      throw invalid('The passkey registration does not verify.', cause);
    }
    if (!verified.verified || !verified.registrationInfo) throw invalid('The passkey registration does not verify.');
    const credential = verified.registrationInfo.credential;
    await this.db.transaction().execute(async (trx) => {
      let tenant: string | null = null;
      if (row.enrolmentCodeHash) {
        const code = this.intactCode(await tenantsRepo.consumeEnrolmentCode(trx, row.enrolmentCodeHash, now));
        if (!code) throw new RequestError('ERR_ENROLMENT_CODE_INVALID', 'The enrolment code is unknown, used, revoked or expired.');
        tenant = code.tenant;
        // Serialize with invites: a platform admin's invite and the first owner's enrolment cannot interleave.
        if (tenant) await tenantsRepo.findTenant(trx, tenant, { forUpdate: true });
      }
      if (await authRepo.findPasskey(trx, credential.id)) throw invalid('This passkey is already registered.');
      const mac = this.rowMac.passkey({ credentialId: credential.id, userId, publicKey: credential.publicKey });
      await authRepo.insertPasskey(trx, { credentialId: credential.id, userId, publicKey: credential.publicKey, signCount: credential.counter, transports: credential.transports ?? [], at: now, mac });
      const roles = await tenantsRepo.findUserRoles(trx, userId, this.rowMac.keepMembership);
      const actor = { id: `user:${userId}`, name: (await tenantsRepo.findUser(trx, userId))?.name ?? userId };
      const details = { credentialId: credential.id, enrolment: row.enrolmentCodeHash !== null, addedFromSession: row.sessionId };
      // Shown to every owner: one event in each tenant the user belongs to, and one for the platform.
      for (const t of roles.tenants.keys()) await appendAudit(trx, { actor, action: 'passkey.register', target: userId, outcome: 'success', requestId: null, details: { ...details, tenant: t } }, now);
      if (roles.platform || roles.tenants.size === 0) await appendAudit(trx, { actor, action: 'passkey.register', target: userId, outcome: 'success', requestId: null, details }, now);
      if (roles.platform === 'admin' && userId !== tenantsRepo.BOOTSTRAP_USER_ID) {
        // The first human platform admin with a passkey replaces the bootstrap token.
        const revoked = await revokeBootstrapTokens(trx, now);
        for (const id of revoked) await appendAudit(trx, { actor, action: 'token.revoke', target: id, outcome: 'success', requestId: null, details: { bootstrap: true, reason: 'a platform admin enrolled a passkey' } }, now);
      }
    });
    this.tokens.forget();
    return { userId, credentialId: credential.id };
  }

  /** Request options for a login (discoverable credentials: no user named). */
  async loginOptions(): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const now = this.clock.now();
    const options = await generateAuthenticationOptions({ rpID: this.rp.rpId, userVerification: 'required', timeout: CHALLENGE_TTL_MS });
    await authRepo.insertChallenge(this.db, { challenge: options.challenge, purpose: 'login', userId: null, at: now, expiresAt: new Date(now.getTime() + CHALLENGE_TTL_MS) });
    return options;
  }

  /** Request options over a given challenge for one user's passkeys (approvals sign a digest this way). */
  async assertionOptions(db: Db, userId: string, challenge: string, approvalId: string, randomness: Uint8Array): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const now = this.clock.now();
    const passkeys = await authRepo.listUserPasskeys(db, userId);
    if (passkeys.length === 0) throw new RequestError('ERR_AUTH_FORBIDDEN', 'This user holds no passkey to sign with.');
    const options = await generateAuthenticationOptions({
      rpID: this.rp.rpId,
      userVerification: 'required',
      timeout: CHALLENGE_TTL_MS,
      challenge: new Uint8Array(Buffer.from(challenge, 'base64url')),
      allowCredentials: passkeys.map((p) => ({ id: p.credentialId })),
    });
    await authRepo.insertChallenge(db, { challenge: options.challenge, purpose: 'approval', userId, approvalId, randomness, at: now, expiresAt: new Date(now.getTime() + CHALLENGE_TTL_MS) });
    return options;
  }

  /**
   * Verifies an assertion to a stored challenge of `purpose` and advances the passkey's counter.
   * The challenge is consumed first, so an assertion is never accepted twice.
   */
  async verifyAssertion(db: Db, response: AuthenticationResponseJSON, purpose: 'login' | 'approval', expect?: { userId: string; approvalId: string }): Promise<VerifiedAssertion> {
    const now = this.clock.now();
    const challenge = challengeOf(response.response?.clientDataJSON, 'webauthn.get');
    const row = await authRepo.consumeChallenge(db, challenge, purpose, now);
    if (!row) throw new RequestError('ERR_WEBAUTHN_CHALLENGE_INVALID', 'The challenge is unknown, used or expired; ask for new options.');
    if (expect && (row.userId !== expect.userId || row.approvalId !== expect.approvalId)) {
      throw new RequestError('ERR_WEBAUTHN_CHALLENGE_INVALID', 'The challenge was issued for another approval or user.');
    }
    const found = typeof response.id === 'string' ? await authRepo.findPasskey(db, response.id) : undefined;
    // A passkey whose row MAC fails was planted in the database: it is not registered here (alarmed).
    const passkey = this.rowMac.intactOrAbsent(found, (p) => this.rowMac.passkeyIntact(p), 'passkeys', (p) => p.credentialId);
    if (!passkey || (row.userId !== null && passkey.userId !== row.userId)) throw invalid('The passkey is not registered here.');
    const stored = Number(passkey.signCount);
    const counter = counterOf(String(response.response?.authenticatorData ?? ''));
    // Why: a counter that does not advance means a cloned authenticator or a replayed assertion.
    if ((stored > 0 || counter > 0) && counter <= stored) throw new RequestError('ERR_WEBAUTHN_COUNTER_REGRESSED', 'The passkey sign counter did not advance.');
    let verified;
    try {
      verified = await verifyAuthenticationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin: this.rp.origin,
        expectedRPID: this.rp.rpId,
        credential: { id: passkey.credentialId, publicKey: new Uint8Array(passkey.publicKey), counter: stored },
        requireUserVerification: true,
      });
    } catch (cause) {
      throw invalid('The passkey assertion does not verify.', cause);
    }
    if (!verified.verified) throw invalid('The passkey assertion does not verify.');
    if (!(await authRepo.advancePasskeyCounter(db, passkey.credentialId, stored, verified.authenticationInfo.newCounter, now))) {
      throw new RequestError('ERR_WEBAUTHN_COUNTER_REGRESSED', 'The passkey was used concurrently; try again.');
    }
    return {
      userId: passkey.userId,
      credentialId: passkey.credentialId,
      publicKey: Buffer.from(passkey.publicKey).toString('base64url'),
      authenticatorData: String(response.response.authenticatorData),
      clientDataJSON: String(response.response.clientDataJSON),
      signature: String(response.response.signature),
      challenge,
      randomness: row.randomness ? new Uint8Array(row.randomness) : null,
    };
  }

  /** Logs in: a verified, user-verified assertion starts a session. */
  async login(response: AuthenticationResponseJSON): Promise<{ userId: string; sessionId: string; csrfToken: string }> {
    const assertion = await this.verifyAssertion(this.db, response, 'login');
    const now = this.clock.now();
    return this.db.transaction().execute(async (trx) => {
      const started = await this.sessions.start(trx, assertion.userId, assertion.credentialId, now);
      await appendAudit(trx, { actor: { id: `user:${assertion.userId}`, name: assertion.userId }, action: 'session.login', target: assertion.userId, outcome: 'success', requestId: null, details: { credentialId: assertion.credentialId, sessionId: started.sessionId } }, now);
      return { userId: assertion.userId, ...started };
    });
  }
}
