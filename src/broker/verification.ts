// The one place the service assembles what verifying evidence needs (attest, the policy dry run and
// POST /v1/evidence/verify): the held collateral, the anchors configured at start plus the uploads a
// platform admin trusted, the signature memo and KEYWARD_REVOCATION. Verifiers stay pure; this is their input.
import { withAnchors } from '../evidence/anchors.js';
import type { EvidenceItem, TrustAnchors, VerificationMemo } from '../evidence/types.js';
import type { EvidenceCheckContext } from './evidence-check.js';
import type { VerificationCollateral } from './collateral.js';

/** Where held collateral and trusted uploads come from (the CollateralBroker). */
export interface CollateralSource {
  verificationInputs(items: readonly EvidenceItem[], now: Date): Promise<VerificationCollateral>;
}

export interface VerificationSource {
  /** Everything but the expected nonce that verifying `items` at `now` takes. */
  contextFor(items: readonly EvidenceItem[], now: Date): Promise<EvidenceCheckContext>;
}

export interface VerificationOptions {
  /** Vendor pins and KEYWARD_EXTRA_ANCHORS. */
  readonly anchors: TrustAnchors;
  readonly collateral: CollateralSource;
  readonly memo: VerificationMemo;
  /** KEYWARD_REVOCATION. */
  readonly revocation: 'required' | 'optional';
}

export function createVerificationSource(opts: VerificationOptions): VerificationSource {
  return {
    async contextFor(items, now) {
      const { collateral, trusted } = await opts.collateral.verificationInputs(items, now);
      return { collateral, anchors: withAnchors(opts.anchors, trusted), now, memo: opts.memo, revocation: opts.revocation };
    },
  };
}
