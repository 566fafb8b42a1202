// selectCollateral: per series, everything valid now; else only the newest expired item (for the verifier to
// refuse as stale); never what is not valid yet; and a window around `now` in which the choice stays the same.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { selectCollateral, stateAt, type HeldCollateral } from '../../../src/collateral/selection.js';

const day = (n: number): Date => new Date(Date.UTC(2025, 0, 1) + n * 86_400_000);

function held(sha: string, series: string, from: number | null, until: number | null): HeldCollateral {
  return {
    sha256: sha,
    kind: 'crl',
    series,
    validFrom: from === null ? null : day(from),
    validUntil: until === null ? null : day(until),
    details: {},
    item: { kind: 'crl', data: new Uint8Array([sha.charCodeAt(0)]) },
  };
}

const picked = (items: readonly HeldCollateral[], now: Date): string[] => selectCollateral(items, now).selected.map((s) => s.held.sha256);

describe('selectCollateral', () => {
  const items = [
    held('a-old', 'A', 0, 10),
    held('a-new', 'A', 9, 40),
    held('b-older', 'B', 0, 5),
    held('b-old', 'B', 3, 8),
    held('c-future', 'C', 30, 60),
    held('d-forever', 'D', null, null),
  ];

  it('keeps every item valid now, in the order given', () => {
    expect(picked(items, day(4))).toEqual(['a-old', 'b-older', 'b-old', 'd-forever']);
    expect(picked(items, day(9.5))).toEqual(['a-old', 'a-new', 'b-old', 'd-forever']);
  });

  it('drops an expired item when its series has a valid one, keeps the newest expired one when it has none', () => {
    const s = selectCollateral(items, day(20));
    expect(s.selected.map((x) => [x.held.sha256, x.fresh])).toEqual([
      ['a-new', true],
      ['b-old', false],
      ['d-forever', true],
    ]);
    expect(s.collateral.crls).toHaveLength(3);
  });

  it('never hands out an item before its validFrom', () => {
    expect(picked(items, day(29))).not.toContain('c-future');
    expect(picked(items, day(30))).toContain('c-future');
  });

  it('judges the window as verifiers do: valid on both edges, stale one millisecond after', () => {
    const edge = held('e', 'E', 0, 10);
    expect(stateAt(edge, day(10).getTime())).toBe('fresh');
    expect(stateAt(edge, day(10).getTime() + 1)).toBe('stale');
    expect(stateAt(edge, day(0).getTime() - 1)).toBe('future');
  });

  it('reports the instants between which the selection does not change', () => {
    const s = selectCollateral(items, day(20));
    expect([s.from, s.until]).toEqual([day(10).getTime() + 1, day(30).getTime()]);
    expect(selectCollateral([], day(1))).toMatchObject({ from: -Infinity, until: Infinity });
  });

  it('property: any instant in [from, until) selects the same items', () => {
    const arbHeld = fc
      .tuple(fc.integer({ min: 0, max: 5 }), fc.option(fc.integer({ min: 0, max: 60 })), fc.option(fc.integer({ min: 0, max: 60 })))
      .map(([series, a, b]) => held('h', `S${series}`, a === null || b === null ? a : Math.min(a, b), a === null || b === null ? b : Math.max(a, b)));
    fc.assert(
      fc.property(fc.array(arbHeld, { maxLength: 12 }), fc.integer({ min: -5, max: 70 }), fc.double({ min: 0, max: 1, noNaN: true }), (list, n, r) => {
        const unique = list.map((h, i) => ({ ...h, sha256: `h${i}` }));
        const now = day(n);
        const s = selectCollateral(unique, now);
        const lo = Math.max(s.from, now.getTime() - 100 * 86_400_000);
        const hi = Math.min(s.until, now.getTime() + 100 * 86_400_000);
        const t = new Date(Math.floor(lo + (hi - lo) * r * 0.999));
        expect(picked(unique, t)).toEqual(s.selected.map((x) => x.held.sha256));
        // Per series: either only valid items, or exactly one expired item.
        for (const series of new Set(s.selected.map((x) => x.held.series))) {
          const chosen = s.selected.filter((x) => x.held.series === series);
          expect(chosen.every((x) => x.fresh) || (chosen.length === 1 && !chosen[0]?.fresh)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
