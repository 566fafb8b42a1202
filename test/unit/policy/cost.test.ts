// The worst-case cost model: policies whose values can blow up (nested cel.bind doubling, concatenation
// chains, split) are refused when saved with ERR_POLICY_TOO_COSTLY and an estimate; realistic policies
// stay far below the inline limit, so releases never pay for the sandbox.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { compilePolicy } from '../../../src/policy/compile.js';
import { claimsWithinBounds, MAX_CLAIM_STRING } from '../../../src/policy/cost.js';
import { PolicyError } from '../../../src/policy/policy-error.js';
import { INLINE_COST } from '../../../src/broker/policy-sandbox.js';
import { doublingChain } from '../../helpers/costly-policies.js';

function refusal(expr: string, refs: Record<string, unknown> = {}): PolicyError {
  try {
    compilePolicy({ name: 'p', rules: [{ name: 'ok', expr: 'true' }, { name: 'blowup', expr }], refs });
  } catch (err) {
    if (err instanceof PolicyError) return err;
    throw err;
  }
  throw new Error(`accepted: ${expr}`);
}

describe('the cost estimate', () => {
  it('refuses nested cel.bind doubling with ERR_POLICY_TOO_COSTLY (422), the estimate and the rule', () => {
    for (const expr of [doublingChain(13, 4), doublingChain(10, 4, '"ab"'), doublingChain(13, 3, '[1, 2, 3]')]) {
      const err = refusal(expr);
      expect(err.code).toBe('ERR_POLICY_TOO_COSTLY');
      expect(err.status).toBe(422);
      expect(err.problems[0]).toMatchObject({ code: 'ERR_POLICY_TOO_COSTLY', rule: 'blowup', path: '/rules/1/expr', limit: 1_000_000 });
      expect(err.problems[0]!.estimate).toBeGreaterThan(1_000_000);
      expect(err.problems[0]!.message).toMatch(/^too costly: evaluating the policy may take ~\d/);
    }
  });

  it('is at least the number of elements the values hold', () => {
    for (const levels of [4, 8, 12, 14]) {
      const { cost } = compilePolicy({ name: 'p', rules: [{ name: 'r', expr: doublingChain(levels, 4) }] }, { maxCost: Infinity });
      // The last list holds 2 * 4^(levels-1) elements; building every level copies more than that.
      expect(cost, `${levels} levels`).toBeGreaterThanOrEqual(2 * 4 ** (levels - 1));
    }
  });

  it('refuses other amplifiers: lists of lists compared deeply, split, comprehensions building lists', () => {
    const big = Array.from({ length: 4096 }, (_, i) => `image-${i}`);
    const long = 'x'.repeat(1000);
    for (const [expr, refs] of [
      ['cel.bind(a, [refs.big, refs.big], cel.bind(b, [a, a, a, a], cel.bind(c, [b, b, b, b], cel.bind(d, [c, c, c, c], cel.bind(e, [d, d, d, d], e == e)))))', { big }],
      ['cel.bind(s, refs.long + refs.long + refs.long + refs.long, s.split("").map(x, s.split("")).size() > 0)', { long }],
      ['refs.big.map(x, refs.big).all(l, l == refs.big)', { big }],
    ] as const) {
      expect(refusal(expr, refs).code, expr).toBe('ERR_POLICY_TOO_COSTLY');
    }
  });

  it('keeps every example policy and the usual shapes far below the inline limit', () => {
    const dir = join(process.cwd(), 'policies');
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
      const policy = compilePolicy(parse(readFileSync(join(dir, file), 'utf8')));
      expect(policy.cost, file).toBeLessThan(INLINE_COST / 4);
    }
    const images = Array.from({ length: 1000 }, (_, i) => i.toString(16).padStart(96, '0'));
    const usual = compilePolicy({
      name: 'usual',
      rules: [
        { name: 'image', expr: 'cpu.measurement in refs.images' },
        { name: 'gpus', expr: 'gpus.all(g, g.vbiosVersion in refs.images && !g.debug)' },
        { name: 'same', expr: 'gpus.all(g, gpus.all(h, g.driverVersion == h.driverVersion))' },
      ],
      refs: { images },
    });
    expect(usual.cost).toBeLessThan(INLINE_COST);
  });
});

describe('claimsWithinBounds', () => {
  it('accepts claims within the schema bounds and refuses oversized lists and strings', () => {
    expect(claimsWithinBounds({ tee: 'snp', measurement: 'a1'.repeat(48), advisoryIds: ['INTEL-SA-00001'] }, [{ tee: 'nvidia-gpu' }])).toBe(true);
    expect(claimsWithinBounds(null, [])).toBe(true);
    expect(claimsWithinBounds({ tee: 'snp', measurement: 'a'.repeat(MAX_CLAIM_STRING + 1) }, [])).toBe(false);
    expect(claimsWithinBounds({ tee: 'tdx', advisoryIds: Array(129).fill('x') }, [])).toBe(false);
    expect(claimsWithinBounds(null, Array(65).fill({ tee: 'nvidia-gpu' }))).toBe(false);
    expect(claimsWithinBounds({ tee: 'snp', extra: Array(65).fill('x') }, [])).toBe(false);
  });
});
