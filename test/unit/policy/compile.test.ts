import { describe, expect, it } from 'vitest';
import { compilePolicy, CompiledPolicyCache } from '../../../src/policy/compile.js';
import { PolicyError, type PolicyProblem } from '../../../src/policy/policy-error.js';
import { POLICY_LIMITS } from '../../../src/policy/document-schema.js';

const REFS = {
  llamaImages: ['27411a5e2e3e62f591c0bb3aea6f35f136d4bb3448749af1a23bf1c8e99c7ee9cfd6fa1b2a61d72b2d141c4474ffbdc1'],
  minTcb: { bootloader: 4, tee: 0, snp: 23, microcode: 213 },
  perProduct: { Milan: { snp: 23 }, Genoa: { snp: 22 } },
  statuses: ['UpToDate', 'SWHardeningNeeded'],
  minDriver: '550.90.07',
};

function policyWith(...exprs: string[]) {
  return { name: 'p', rules: exprs.map((expr, i) => ({ name: `rule-${i}`, expr })), refs: REFS };
}

/** The PolicyError compiling these rule expressions throws. */
function refusal(...exprs: string[]): PolicyError {
  try {
    compilePolicy(policyWith(...exprs));
  } catch (err) {
    if (err instanceof PolicyError) return err;
    throw err;
  }
  throw new Error('compiled without error');
}

function only(err: PolicyError): PolicyProblem {
  expect(err.problems).toHaveLength(1);
  return err.problems[0]!;
}

describe('compilePolicy type-checks rules against the claims schema', () => {
  it('compiles well-typed rules over cpu, gpus and refs', () => {
    const compiled = compilePolicy(
      policyWith(
        'cpu.measurement in refs.llamaImages && !cpu.debug && cpu.reportedTcb.snp >= 22',
        'gpus.size() == 8 && gpus.all(g, g.measurements.matched == g.measurements.total)',
        'tcbAtLeast(cpu.reportedTcb, refs.minTcb)',
        'cpu.tee != "snp" || tcbAtLeast(cpu.reportedTcb, refs.perProduct[cpu.product])',
        'has(cpu.reportedTcb.fmc) ? cpu.reportedTcb.fmc >= 1 : true',
        'cpu.tcbStatus in refs.statuses',
        'gpus.all(g, versionAtLeast(g.driverVersion, refs.minDriver))',
        'cel.bind(t, cpu.launchTcb, t.snp == cpu.reportedTcb.snp)',
        'cpu.pcrs["0"] == cpu.userData',
        'cpu.rtmr.size() == 4 && cpu.rtmr[3] == "00"',
      ),
    );
    expect(compiled.rules.map((r) => r.name)).toHaveLength(10);
    expect(compiled.rules[0]!.reads.map((p) => p.text)).toEqual([
      'cpu.measurement',
      'refs.llamaImages',
      'cpu.debug',
      'cpu.reportedTcb.snp',
    ]);
    expect(compiled.rules[7]!.reads.map((p) => p.text)).toEqual(['cpu.launchTcb.snp', 'cpu.reportedTcb.snp']);
  });

  it('types gpuCount, the number of distinct GPUs, as int', () => {
    const compiled = compilePolicy(policyWith('gpuCount == 8 && gpus.size() == gpuCount'));
    expect(compiled.rules[0]!.reads.map((p) => p.text)).toEqual(['gpuCount', 'gpus.size()']);
    expect(only(refusal('gpuCount == "8"')).message).toBe('no such overload: int == string');
  });

  it('refuses an unknown claim with the rule, position and status 422', () => {
    const err = refusal('cpu.vmpl == 0', 'cpu.signr == "vcek"');
    expect(err.code).toBe('ERR_POLICY_TYPE');
    expect(err.status).toBe(422);
    expect(only(err)).toMatchObject({ rule: 'rule-1', path: '/rules/1/expr', offset: 4, line: 1, column: 5 });
  });

  it('refuses a typo and suggests the claim that was meant', () => {
    const problem = only(refusal('cpu.measurment in refs.llamaImages'));
    expect(problem).toMatchObject({ code: 'ERR_POLICY_TYPE', line: 1, column: 5 });
    expect(problem.message).toBe('No such key: measurment (did you mean measurement?)');
  });

  it('gives line and column inside a multi-line expression', () => {
    const problem = only(refusal('cpu.vmpl == 0 &&\n  !cpu.debug &&\n  cpu.reportedTcb.snpp >= 8'));
    expect(problem).toMatchObject({ code: 'ERR_POLICY_TYPE', line: 3, column: 19, offset: 51 });
  });

  it('refuses a type mismatch', () => {
    const problem = only(refusal('cpu.vmpl == "0"'));
    expect(problem).toMatchObject({ code: 'ERR_POLICY_TYPE', line: 1, column: 1 });
    expect(problem.message).toBe('no such overload: int == string');
  });

  it('refuses a rule that does not evaluate to bool', () => {
    expect(only(refusal('cpu.vmpl')).message).toBe('a rule must evaluate to bool, this one evaluates to int');
    expect(only(refusal('gpus.map(g, g.arch)')).code).toBe('ERR_POLICY_TYPE');
  });

  it('refuses an unknown reference and suggests the one that was meant', () => {
    const problem = only(refusal('cpu.measurement in refs.llamaImage'));
    expect(problem).toMatchObject({ code: 'ERR_POLICY_TYPE', line: 1, column: 25 });
    expect(problem.message).toBe('No such key: llamaImage (did you mean llamaImages?)');
  });

  it('refuses a key a reference map does not have', () => {
    const problem = only(refusal('cpu.reportedTcb.snp >= refs.minTcb.snpp'));
    expect(problem).toMatchObject({ code: 'ERR_POLICY_TYPE', column: 24 });
    expect(problem.message).toBe('refs.minTcb has no key "snpp"');
  });

  it('refuses an unknown variable (a typo of gpus)', () => {
    expect(only(refusal('gpu.size() == 8'))).toMatchObject({ code: 'ERR_POLICY_TYPE', message: 'Unknown variable: gpu', column: 1 });
  });

  it('refuses words a claim never holds, in literals and in reference lists', () => {
    expect(only(refusal('cpu.tcbStatus == "UptoDate"'))).toMatchObject({ code: 'ERR_POLICY_TYPE', column: 18 });
    expect(only(refusal('gpus.all(g, g.arch in ["hopper", "hoper"])')).message).toMatch(/^"hoper" is never a value of gpus\[\*\]\.arch/);
    const err = refusal('cpu.tee == "SNP"');
    expect(only(err).message).toBe('"SNP" is never a value of cpu.tee (snp, tdx, sgx, nitro)');
    const refsErr = (() => {
      try {
        compilePolicy({ name: 'p', rules: [{ name: 'r', expr: 'cpu.tcbStatus in refs.ok' }], refs: { ok: ['UpToDate', 'SwHardeningNeeded'] } });
      } catch (e) {
        return e as PolicyError;
      }
      return undefined;
    })();
    expect(only(refsErr!).message).toMatch(/^refs\.ok holds "SwHardeningNeeded", never a value of cpu\.tcbStatus/);
  });

  it('checks helper arguments known before evaluation', () => {
    expect(only(refusal('tcbAtLeast(cpu.reportedTcb, {"snpp": 8})')).message).toMatch(/^tcbAtLeast: "snpp" is not an SNP TCB component/);
    expect(only(refusal('tcbAtLeast(cpu.reportedTcb, refs.perProduct.Milan) && tcbAtLeast(cpu.reportedTcb, {})')).message).toBe(
      'tcbAtLeast: the minimum names no TCB component',
    );
    expect(only(refusal('gpus.all(g, versionAtLeast(g.driverVersion, "r550"))')).message).toBe(
      'versionAtLeast: "r550" is not a dotted decimal version',
    );
  });

  it('refuses regular expressions', () => {
    expect(only(refusal('cpu.hostData.matches("^(a|aa)*$")'))).toMatchObject({ code: 'ERR_POLICY_TYPE' });
  });

  it('reports every problem of every rule, the first one setting the code', () => {
    const err = refusal('cpu.vmpl == ', 'cpu.measurment == "x"', 'true', 'cpu.vmpl');
    expect(err.code).toBe('ERR_POLICY_SYNTAX');
    expect(err.problems.map((p) => [p.rule, p.code])).toEqual([
      ['rule-0', 'ERR_POLICY_SYNTAX'],
      ['rule-1', 'ERR_POLICY_TYPE'],
      ['rule-3', 'ERR_POLICY_TYPE'],
    ]);
    expect(err.extra).toEqual({ problems: err.problems });
    expect(err.message).toBe('policy rule "rule-0" at 1:13: Unexpected token: EOF (and 2 more)');
  });
});

describe('compilePolicy refuses syntax errors', () => {
  it.each([
    ['cpu.vmpl == ', 1, 13],
    ['cpu.vmpl == 0 &&', 1, 17],
    ['(cpu.vmpl == 0', 1, 15],
    ['cpu.vmpl = 0', 1, 10],
    ['cpu.measurement in ["a",]]', 1, 26],
    ['cpu.vmpl == 0\n&& cpu.debug ==', 2, 16],
  ])('%j → ERR_POLICY_SYNTAX at %i:%i', (expr, line, column) => {
    const err = refusal(expr);
    expect(err.code).toBe('ERR_POLICY_SYNTAX');
    expect(err.status).toBe(422);
    expect(only(err)).toMatchObject({ line, column });
  });
});

describe('compilePolicy limits', () => {
  it('refuses comprehensions that could iterate too often', () => {
    const big = Array.from({ length: 1000 }, (_, i) => `image-${i}`);
    const doc = {
      name: 'p',
      rules: [{ name: 'r', expr: 'refs.big.all(a, refs.big.exists(b, a == b))' }],
      refs: { big },
    };
    try {
      compilePolicy(doc);
      expect.unreachable();
    } catch (err) {
      expect((err as PolicyError).code).toBe('ERR_POLICY_TOO_COSTLY');
      expect((err as PolicyError).status).toBe(422);
      expect((err as PolicyError).problems[0]).toMatchObject({ rule: 'r', path: '/rules/0/expr', limit: POLICY_LIMITS.policyCost });
      expect((err as PolicyError).problems[0]!.estimate).toBeGreaterThan(1_000_000);
    }
    // One level over the same list, or two levels over the GPUs, is fine.
    expect(() => compilePolicy({ ...doc, rules: [{ name: 'r', expr: 'refs.big.exists(b, b == cpu.measurement)' }] })).not.toThrow();
    expect(() =>
      compilePolicy({ ...doc, rules: [{ name: 'r', expr: 'gpus.all(g, gpus.all(h, g.driverVersion == h.driverVersion))' }] }),
    ).not.toThrow();
    const allowlist = Array.from({ length: POLICY_LIMITS.refListItems }, (_, i) => `96.00.${i}`);
    expect(() =>
      compilePolicy({ name: 'p', rules: [{ name: 'r', expr: 'gpus.all(g, g.vbiosVersion in refs.v)' }], refs: { v: allowlist } }),
    ).not.toThrow();
  });

  it('refuses an expression with too many nodes, or nested too deep', () => {
    const plus = `cpu.vmpl${'+1'.repeat(POLICY_LIMITS.astNodes)} > 0`;
    const deep = `${'('.repeat(POLICY_LIMITS.astDepth + 1)}cpu.debug${')'.repeat(POLICY_LIMITS.astDepth + 1)}`;
    for (const [expr, limit] of [
      [plus, /maxAstNodes/],
      [deep, /maxDepth/],
    ] as const) {
      expect(expr.length).toBeLessThanOrEqual(POLICY_LIMITS.exprLength);
      const problem = only(refusal(expr));
      expect(problem.code).toBe('ERR_POLICY_INVALID');
      expect(problem.message).toMatch(limit);
    }
    expect(() => compilePolicy(policyWith(`cpu.vmpl${'+1'.repeat(100)} > 0`))).not.toThrow();
  });
});

describe('CompiledPolicyCache', () => {
  it('compiles a document once and returns the same compiled policy for equal content', () => {
    const cache = new CompiledPolicyCache(4);
    const a = cache.compile(policyWith('cpu.vmpl == 0'));
    expect(cache.compile(policyWith('cpu.vmpl == 0'))).toBe(a);
    expect(cache.compile(policyWith('cpu.vmpl == 1'))).not.toBe(a);
  });

  it('does not cache refusals', () => {
    const cache = new CompiledPolicyCache(4);
    for (let i = 0; i < 2; i++) expect(() => cache.compile(policyWith('cpu.vmpl =='))).toThrow(PolicyError);
  });
});
