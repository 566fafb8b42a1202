// Picks the RIMs a report needs from collateral and verifies them as NVIDIA's SDK and xmlsec1 do: the
// signer's chain to the pinned NVIDIA CoRIM signing root at `now` first, then the XML signature.
import { EvidenceError } from '../../errors.js';
import { commonNameOf, type VerifiedChain } from '../pki.js';
import { verifyChainWithCollateral } from './chain-pool.js';
import type { VerifyContext } from '../types.js';
import { inspectRim, verifyRimSignature, type InspectedRim, type SignedRim } from './rim.js';

export interface RimRequirement {
  readonly role: 'driver' | 'vbios';
  /** RIM Meta@product the device needs ("GH100", "GB100", "LS10"). */
  readonly product: string;
  /** Driver version (exact) or VBIOS version (compared case-insensitively). */
  readonly version: string;
  /** The id NVIDIA's RIM service files it under (for messages and claims). */
  readonly id: string;
}

export interface VerifiedRim {
  readonly requirement: RimRequirement;
  readonly rim: SignedRim;
  readonly chain: VerifiedChain;
}

function matches(inspected: InspectedRim, req: RimRequirement): boolean {
  const id = inspected.identity;
  if (id.product.toUpperCase() !== req.product.toUpperCase()) return false;
  return req.role === 'driver' ? id.version === req.version : id.version.toLowerCase() === req.version.toLowerCase();
}

/**
 * The signer's chain to the NVIDIA CoRIM signing root. When the chain cannot be completed and the RIM
 * presents a self-signed root of its own that keyward does not trust (a debug or foreign CoRIM root),
 * the precise verdict is "untrusted root", not "missing intermediate".
 */
export function verifyRimChain(inspected: InspectedRim, ctx: VerifyContext): VerifiedChain {
  try {
    const opts = { anchors: ctx.anchors, role: 'nvidia-corim-root' as const, now: ctx.now, ...(ctx.memo ? { memo: ctx.memo } : {}) };
    return verifyChainWithCollateral(inspected.signer, inspected.certificates, opts, ctx);
  } catch (err) {
    if (!(err instanceof EvidenceError) || err.code !== 'ERR_CHAIN_INCOMPLETE') throw err;
    const foreignRoot = inspected.certificates.find((c) => c.selfSigned && !ctx.anchors.lookup(c.spkiSha256, 'nvidia-corim-root'));
    if (!foreignRoot) throw err;
    throw new EvidenceError(
      'ERR_CHAIN_UNTRUSTED_ROOT',
      `The RIM is signed under "${commonNameOf(foreignRoot.subject)}", which is not a trusted RIM root.`,
      { cause: err },
    );
  }
}

function verifyCandidate(text: string, inspected: InspectedRim, req: RimRequirement, ctx: VerifyContext): VerifiedRim {
  const chain = verifyRimChain(inspected, ctx);
  const rim = verifyRimSignature(text, inspected, ctx.memo);
  // The identity used for selection was read before the signature check; confirm it from signed bytes.
  if (!matches({ ...inspected, identity: rim.identity }, req)) {
    throw new EvidenceError('ERR_RIM_MALFORMED', `RIM ${req.id}: the signed identity differs from the selected one.`);
  }
  return { requirement: req, rim, chain };
}

/**
 * Finds and verifies the RIM for each requirement. Several candidates (e.g. re-signed copies) are tried
 * newest signer first; the first that verifies is used, otherwise the newest candidate's error is thrown.
 * No candidate: ERR_COLLATERAL_MISSING (or the parse error of a malformed RIM in the collateral).
 */
export function selectAndVerifyRims(requirements: readonly RimRequirement[], ctx: VerifyContext): VerifiedRim[] {
  const inspected: { text: string; rim: InspectedRim }[] = [];
  let parseError: unknown;
  for (const text of ctx.collateral.rims) {
    try {
      inspected.push({ text, rim: inspectRim(text, ctx.memo) });
    } catch (err) {
      parseError ??= err;
    }
  }
  return requirements.map((req) => {
    const candidates = inspected
      .filter((c) => matches(c.rim, req))
      .sort((a, b) => b.rim.signer.notBefore.getTime() - a.rim.signer.notBefore.getTime());
    if (candidates.length === 0) {
      if (parseError) throw parseError;
      throw new EvidenceError('ERR_COLLATERAL_MISSING', `The ${req.role} RIM ${req.id} is required and was not supplied.`, {
        extra: { rimId: req.id },
      });
    }
    let firstError: unknown;
    for (const c of candidates) {
      try {
        return verifyCandidate(c.text, c.rim, req, ctx);
      } catch (err) {
        firstError ??= err;
      }
    }
    throw firstError;
  });
}
