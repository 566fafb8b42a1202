// Uploaded collateral as trust anchors (docs/trust.md): an uploaded JWK set or certificate is material only
// until a platform admin trusts it (POST /v1/collateral/{id}/trust, scope collateral:trust; under the platform
// quorum, docs/governance.md). Trusted items become anchors with source "uploaded", valid only to sign NRAS results, never as hardware roots.
import type { JWK } from 'jose';
import { fromHex } from '../encoding.js';
import { KeywardError, RequestError } from '../errors.js';
import { uploadedAnchors } from '../evidence/anchors.js';
import type { TrustAnchor } from '../evidence/types.js';
import type { Db } from '../store/database.js';
import * as repo from '../store/collateral-repo.js';
import type { CollateralMetaRow } from '../store/collateral-repo.js';
import type { Clock } from '../clock.js';
import { appendAudit, canonicalJson } from './audit.js';
import { isPrincipal } from './api-tokens.js';
import { stale, type SensitiveOperation } from './approvals.js';
import type { CollateralInfo } from './collateral-rows.js';

/** The collateral kinds an admin may trust: they name signing keys. */
export const TRUSTABLE_KINDS: readonly string[] = ['jwks', 'certificate'];

interface TrustedRow {
  readonly kind: string;
  readonly data: Uint8Array;
}

/** The anchors one trusted item stands for; an item that cannot be one is refused (ERR_COLLATERAL_INVALID). */
export function anchorsOfItem(row: TrustedRow): TrustAnchor[] {
  try {
    if (row.kind === 'certificate') return uploadedAnchors({ roots: [row.data] });
    if (row.kind === 'jwks') {
      const keys = (JSON.parse(Buffer.from(row.data).toString('utf8')) as { keys: JWK[] }).keys;
      return uploadedAnchors({ signingKeys: keys });
    }
  } catch (cause) {
    throw new RequestError('ERR_COLLATERAL_INVALID', 'This collateral item cannot be trusted: it holds no usable public key.', { cause });
  }
  throw new RequestError('ERR_REQUEST_INVALID', `Only ${TRUSTABLE_KINDS.join(' and ')} collateral can be trusted.`);
}

/** Anchors of every trusted row; a row that no longer yields one is left out (and reported to `skip`). */
export function trustedAnchorsOf(rows: readonly (TrustedRow & { readonly trustedBy: string | null })[], skip?: (err: unknown) => void): TrustAnchor[] {
  const out: TrustAnchor[] = [];
  for (const row of rows) {
    if (row.trustedBy === null) continue;
    try {
      out.push(...anchorsOfItem(row));
    } catch (err) {
      if (!(err instanceof KeywardError)) throw err;
      skip?.(err);
    }
  }
  return out;
}

function parseId(id: string): Uint8Array {
  const sha256 = /^[0-9a-f]{64}$/.test(id) ? fromHex(id) : undefined;
  if (!sha256) throw new RequestError('ERR_COLLATERAL_NOT_FOUND', 'No collateral with this id is held.');
  return sha256;
}

/** The item's anchors as the change JSON names them (what the approvers see and what is re-checked). */
async function describeItem(db: Db, id: string): Promise<{ kind: string; label: string; anchors: { name: string; spki: string }[] }> {
  const held = (await repo.loadCollateral(db, [parseId(id)]))[0];
  if (!held) throw new RequestError('ERR_COLLATERAL_NOT_FOUND', 'No collateral with this id is held.');
  const anchors = anchorsOfItem({ kind: held.kind, data: new Uint8Array(held.data) });
  return { kind: held.kind, label: held.label, anchors: anchors.map((a) => ({ name: a.name, spki: a.spkiSha256 })).slice(0, 100) };
}

/**
 * Trusting one held item as an anchor: a platform change (KEYWARD_PLATFORM_QUORUM). The change names the
 * item and the SPKI hashes it trusts; at apply the item must still yield exactly those anchors. Applied in
 * one transaction with its audit row (`collateral.trust`). Trusting an item already trusted changes
 * nothing and is audited again.
 */
export function trustOperation(clock: Clock, toResult: (row: CollateralMetaRow, at: Date) => CollateralInfo): SensitiveOperation<{ id: string }, CollateralInfo> {
  return {
    name: 'collateral.trust',
    describe: async (trx, ctx, { id }) => {
      if (!isPrincipal(ctx.actor) || ctx.actor.platformRole !== 'admin') throw new RequestError('ERR_AUTH_FORBIDDEN', 'Only a platform admin trusts collateral.');
      const item = await describeItem(trx, id);
      return { tenant: null, target: id, from: { item: id }, to: item };
    },
    apply: async (trx, change, actx) => {
      const id = change.target;
      const now = await describeItem(trx, id).catch(() => undefined);
      // Why: what the platform admins approved is these anchors; a changed or deleted item is not it.
      if (!now || canonicalJson(now) !== canonicalJson(change.to)) throw stale('the collateral item changed');
      const at = clock.now();
      const row = await repo.trustCollateral(trx, parseId(id), actx.actor.id, at);
      if (!row) throw stale('the collateral item is gone');
      await appendAudit(trx, { actor: actx.actor, action: 'collateral.trust', target: id, outcome: 'success', requestId: actx.requestId, details: { ...now, approvalId: actx.approvalId } }, at);
      return toResult(row, at);
    },
  };
}
