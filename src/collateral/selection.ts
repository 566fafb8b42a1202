// Picks, from everything held, the collateral handed to the verifiers at an instant: per series (one issuer's
// CRL, one FMSPC's TCB Info, one certificate, ...) every item valid at `now`; when none is, only the newest
// expired one, so that the verifier refuses it as stale (ERR_CRL_STALE / ERR_COLLATERAL_STALE, 503) rather
// than silently verifying without it. Items not yet valid are left out. Pure: the caller supplies `now`.
import type { Collateral } from '../evidence/types.js';
import { addToCollateral, emptyCollateral, type CollateralItem, type CollateralKind } from './recognize.js';

export interface HeldCollateral {
  /** Lowercase hex SHA-256 of the stored bytes. */
  readonly sha256: string;
  readonly kind: CollateralKind;
  readonly series: string;
  readonly validFrom: Date | null;
  readonly validUntil: Date | null;
  readonly details: Readonly<Record<string, unknown>>;
  /** The item as verifiers read it. */
  readonly item: CollateralItem;
}

export interface SelectedCollateral {
  readonly held: HeldCollateral;
  /** False for an expired item kept because its series has nothing newer. */
  readonly fresh: boolean;
}

export interface CollateralSelection {
  readonly collateral: Collateral;
  readonly selected: readonly SelectedCollateral[];
  /** The selection is the same for every instant in [from, until) (epoch ms; ±Infinity when unbounded). */
  readonly from: number;
  readonly until: number;
}

type State = 'future' | 'fresh' | 'stale';

/** As the verifiers judge windows: valid for validFrom <= now <= validUntil. */
export function stateAt(held: Pick<HeldCollateral, 'validFrom' | 'validUntil'>, now: number): State {
  if (held.validFrom && now < held.validFrom.getTime()) return 'future';
  if (held.validUntil && now > held.validUntil.getTime()) return 'stale';
  return 'fresh';
}

function newer(a: HeldCollateral, b: HeldCollateral): boolean {
  const au = a.validUntil?.getTime() ?? Infinity;
  const bu = b.validUntil?.getTime() ?? Infinity;
  if (au !== bu) return au > bu;
  const af = a.validFrom?.getTime() ?? -Infinity;
  const bf = b.validFrom?.getTime() ?? -Infinity;
  return af !== bf ? af > bf : a.sha256 > b.sha256;
}

/** The window around `now` in which no item changes state. */
function windowAround(held: readonly HeldCollateral[], now: number): { from: number; until: number } {
  let from = -Infinity;
  let until = Infinity;
  for (const h of held) {
    // State changes at validFrom (future → fresh) and just after validUntil (fresh → stale).
    for (const edge of [h.validFrom?.getTime(), h.validUntil === null ? undefined : h.validUntil.getTime() + 1]) {
      if (edge === undefined) continue;
      if (edge <= now) from = Math.max(from, edge);
      else until = Math.min(until, edge);
    }
  }
  return { from, until };
}

/** The collateral for verifications at `now`, in the order the items were given. */
export function selectCollateral(held: readonly HeldCollateral[], now: Date): CollateralSelection {
  const t = now.getTime();
  const freshSeries = new Set<string>();
  const newestStale = new Map<string, HeldCollateral>();
  for (const h of held) {
    const state = stateAt(h, t);
    if (state === 'fresh') freshSeries.add(h.series);
    if (state !== 'stale') continue;
    const best = newestStale.get(h.series);
    if (!best || newer(h, best)) newestStale.set(h.series, h);
  }
  const selected: SelectedCollateral[] = [];
  for (const h of held) {
    const state = stateAt(h, t);
    if (state === 'fresh') selected.push({ held: h, fresh: true });
    else if (state === 'stale' && !freshSeries.has(h.series) && newestStale.get(h.series) === h) selected.push({ held: h, fresh: false });
  }
  const collateral = addToCollateral(emptyCollateral(), selected.map((s) => s.held.item));
  return { collateral, selected, ...windowAround(held, t) };
}
