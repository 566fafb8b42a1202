// The one place the service assembles what verifying evidence needs (attest, the policy dry run and
// POST /v1/evidence/verify): the held collateral, the anchors configured at start plus the uploads a
// platform admin trusted, the signature memo, KEYWARD_REVOCATION and the collateral floors; and the one
// place an accepted attestation raises those floors. Verifiers stay pure; this is their input.
import { withAnchors } from '../evidence/anchors.js';
import type { CollateralVersion, EvidenceItem, TrustAnchors, VerificationMemo, VerifiedEvidence } from '../evidence/types.js';
import type { EvidenceCheckContext } from './evidence-check.js';
import type { VerificationCollateral } from './collateral.js';

/** Where held collateral, trusted uploads and floors come from (the CollateralBroker). */
export interface CollateralSource {
  verificationInputs(items: readonly EvidenceItem[], now: Date): Promise<VerificationCollateral>;
  raiseFloors(versions: readonly CollateralVersion[]): Promise<void>;
}

export interface ContextOptions {
  /**
   * A verdict at an instant the caller chose (a dry run or an admin's check of old evidence): the floors
   * are left out, since older collateral is what such an instant needs. Attestation never sets it.
   */
  readonly historical?: boolean;
}

export interface VerificationSource {
  /** Everything but the expected nonce that verifying `items` at `now` takes. */
  contextFor(items: readonly EvidenceItem[], now: Date, opts?: ContextOptions): Promise<EvidenceCheckContext>;
  /** Records what an accepted attestation relied on: collateral below it is refused from now on. */
  accepted(verified: readonly VerifiedEvidence[]): Promise<void>;
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
    async contextFor(items, now, o = {}) {
      const { collateral, trusted, floors } = await opts.collateral.verificationInputs(items, now);
      const anchors = withAnchors(opts.anchors, trusted);
      return { collateral, anchors, now, memo: opts.memo, revocation: opts.revocation, ...(o.historical ? {} : { floors }) };
    },
    async accepted(verified) {
      await opts.collateral.raiseFloors(verified.flatMap((v) => v.collateralVersions ?? []));
    },
  };
}
