// Collateral rows as the API shows them (GET /v1/collateral) and as the verifiers' snapshot holds them,
// and the listing cursor.
import { storedItem } from '../collateral/describe.js';
import type { CollateralKind } from '../collateral/recognize.js';
import type { HeldCollateral } from '../collateral/selection.js';
import { fromHex, toHex } from '../encoding.js';
import { RequestError } from '../errors.js';
import type * as repo from '../store/collateral-repo.js';
import type { CollateralMetaRow } from '../store/collateral-repo.js';

export type CollateralSource = CollateralMetaRow['source'];

/** What keyward holds about one item (GET /v1/collateral). */
export interface CollateralInfo {
  /** SHA-256 of the stored bytes, lowercase hex. */
  readonly id: string;
  readonly kind: CollateralKind;
  readonly label: string;
  readonly validFrom: string | null;
  readonly validUntil: string | null;
  /** Past validUntil now: verifiers refuse it (ERR_CRL_STALE / ERR_COLLATERAL_STALE ...) until it is replaced. */
  readonly stale: boolean;
  readonly source: CollateralSource;
  readonly name: string | null;
  readonly uploadedBy: string;
  readonly createdAt: string;
  readonly details: Record<string, unknown>;
  /** The platform admin who trusted this item as an anchor (POST /v1/collateral/{id}/trust), or null. */
  readonly trustedBy: string | null;
  readonly trustedAt: string | null;
}

export function toInfo(row: CollateralMetaRow, now: Date): CollateralInfo {
  return {
    id: toHex(row.sha256),
    kind: row.kind,
    label: row.label,
    validFrom: row.validFrom?.toISOString() ?? null,
    validUntil: row.validUntil?.toISOString() ?? null,
    stale: row.validUntil !== null && now.getTime() > row.validUntil.getTime(),
    source: row.source,
    name: row.name,
    uploadedBy: row.uploadedBy,
    createdAt: row.createdAt.toISOString(),
    details: row.details,
    trustedBy: row.trustedBy,
    trustedAt: row.trustedAt?.toISOString() ?? null,
  };
}

export function toHeld(row: repo.CollateralRow): HeldCollateral {
  return {
    sha256: toHex(row.sha256),
    kind: row.kind,
    series: row.series,
    validFrom: row.validFrom,
    validUntil: row.validUntil,
    details: row.details,
    item: storedItem(row.kind, new Uint8Array(row.data)),
  };
}

export function encodeCursor(row: CollateralMetaRow): string {
  return Buffer.from(JSON.stringify([row.createdAt.toISOString(), toHex(row.sha256)])).toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: Date; sha256: Uint8Array } {
  try {
    const [at, sha] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    const createdAt = new Date(String(at));
    const sha256 = typeof sha === 'string' && sha.length === 64 ? fromHex(sha) : undefined;
    if (Number.isNaN(createdAt.getTime()) || !sha256) throw new Error('bad cursor');
    return { createdAt, sha256 };
  } catch {
    throw new RequestError('ERR_REQUEST_INVALID', 'The cursor is not one this server issued.');
  }
}
