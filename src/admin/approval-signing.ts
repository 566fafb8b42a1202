// Signing approvals with a passkey (docs/design.md "Admin side"): the request options carry the challenge
// SHA-256("keyward-approval:v1" ‖ digest ‖ 16 random bytes) for the caller's passkeys; the assertion is
// verified (single use, origin, RP id, counter), bound to this approval and digest, and recorded as a vote.
import { randomBytes } from 'node:crypto';
import type { AuthenticationResponseJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { RequestError } from '../errors.js';
import type { Db } from '../store/database.js';
import { approvalChallenge, type ApprovalInfo, type Approvals } from '../broker/approvals.js';
import type { Principal } from '../broker/api-tokens.js';
import type { RequestContext } from '../broker/vault.js';
import type { Passkeys } from './passkeys.js';

export class ApprovalSigning {
  constructor(
    private readonly db: Db,
    private readonly approvals: Approvals,
    private readonly passkeys: Passkeys,
  ) {}

  async options(ctx: RequestContext, id: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const row = await this.approvals.forSigning(ctx, id);
    const randomness = new Uint8Array(randomBytes(16));
    return this.passkeys.assertionOptions(this.db, (ctx.actor as Principal).userId, approvalChallenge(row.digest, randomness), id, randomness);
  }

  async approve(ctx: RequestContext, id: string, response: AuthenticationResponseJSON): Promise<{ approval: ApprovalInfo; applied?: unknown }> {
    const row = await this.approvals.forSigning(ctx, id);
    const userId = (ctx.actor as Principal).userId;
    const assertion = await this.passkeys.verifyAssertion(this.db, response, 'approval', { userId, approvalId: id });
    // Why: the signed challenge must commit to this approval's digest, not merely to a stored row.
    if (!assertion.randomness || approvalChallenge(row.digest, assertion.randomness) !== assertion.challenge) {
      throw new RequestError('ERR_APPROVAL_DIGEST_MISMATCH', 'The signed challenge is not over this approval\'s digest.');
    }
    return this.approvals.approve(ctx, id, {
      userId,
      randomness: assertion.randomness,
      credentialId: assertion.credentialId,
      publicKey: new Uint8Array(Buffer.from(assertion.publicKey, 'base64url')),
      authenticatorData: assertion.authenticatorData,
      clientDataJson: assertion.clientDataJSON,
      signature: assertion.signature,
    });
  }
}
