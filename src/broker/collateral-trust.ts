// Uploaded collateral as trust anchors (docs/trust.md): an uploaded JWK set or certificate is material only
// until a platform admin trusts it (POST /v1/collateral/{id}/trust, scope collateral:trust). Trusted items
// become anchors with source "uploaded", valid only to sign NRAS results, never as hardware roots.
import type { JWK } from 'jose';
import { fromHex } from '../encoding.js';
import { KeywardError, RequestError } from '../errors.js';
import { uploadedAnchors } from '../evidence/anchors.js';
import type { TrustAnchor } from '../evidence/types.js';
import type { Db } from '../store/database.js';
import * as repo from '../store/collateral-repo.js';
import type { CollateralMetaRow } from '../store/collateral-repo.js';
import { appendAudit } from './audit.js';
import type { RequestContext } from './vault.js';

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

/**
 * Trusts one held item as an anchor, in one transaction with its audit row (`collateral.trust`, naming
 * the SPKI hashes it trusts). Trusting an item already trusted changes nothing and is audited again.
 */
export async function trustCollateralItem(db: Db, ctx: RequestContext, id: string, at: Date): Promise<CollateralMetaRow> {
  const sha256 = /^[0-9a-f]{64}$/.test(id) ? fromHex(id) : undefined;
  return db.transaction().execute(async (trx) => {
    const held = sha256 ? (await repo.loadCollateral(trx, [sha256]))[0] : undefined;
    if (!held || !sha256) throw new RequestError('ERR_COLLATERAL_NOT_FOUND', 'No collateral with this id is held.');
    const anchors = anchorsOfItem({ kind: held.kind, data: new Uint8Array(held.data) });
    const row = await repo.trustCollateral(trx, sha256, ctx.actor.id, at);
    if (!row) throw new RequestError('ERR_COLLATERAL_NOT_FOUND', 'No collateral with this id is held.');
    const details = { kind: row.kind, label: row.label, anchors: anchors.map((a) => ({ name: a.name, spki: a.spkiSha256 })).slice(0, 100) };
    await appendAudit(trx, { actor: ctx.actor, action: 'collateral.trust', target: id, outcome: 'success', requestId: ctx.requestId, details }, at);
    return row;
  });
}
