import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compilePolicy, type CompiledPolicy } from '../../../src/policy/compile.js';
import { evaluatePolicy, policyInputFromClaims, type PolicyInput } from '../../../src/policy/evaluate.js';
import { EvidenceError } from '../../../src/errors.js';
import { changed, compileExample, eightGpus, gpuClaims, nitroClaims, sgxClaims, snpClaims, tdxClaims } from './fixtures.js';

function policy(rules: Record<string, string>, refs: Record<string, unknown> = {}): CompiledPolicy {
  return compilePolicy({ name: 'test', rules: Object.entries(rules).map(([name, expr]) => ({ name, expr })), refs });
}

describe('evaluatePolicy', () => {
  const p = policy(
    {
      image: 'cpu.measurement in refs.images',
      vmpl: 'cpu.vmpl == 0',
      fmc: 'cpu.reportedTcb.fmc >= 1',
      count: 'gpus.size() == 2',
    },
    { images: ['aa'] },
  );

  it('evaluates every rule, not stopping at the first failure, with the values each one read', () => {
    const decision = evaluatePolicy(p, { cpu: changed(snpClaims(), (d) => (d.vmpl = 1)), gpus: [] });
    expect(decision).toEqual({
      allowed: false,
      policy: 'test',
      rules: [
        { name: 'image', outcome: 'fail', reads: { 'cpu.measurement': snpClaims().measurement, 'refs.images': ['aa'] } },
        { name: 'vmpl', outcome: 'fail', reads: { 'cpu.vmpl': 1 } },
        { name: 'fmc', outcome: 'error', reads: { 'cpu.reportedTcb.fmc': null }, message: 'No such key: fmc (at 1:17)' },
        { name: 'count', outcome: 'fail', reads: { 'gpus.size()': 0 } },
      ],
    });
  });

  it('allows only when every rule passes', () => {
    const cpu = changed(snpClaims(), (d) => ((d.measurement = 'aa'), (d.product = 'Turin'), (d.reportedTcb.fmc = 2)));
    expect(evaluatePolicy(p, { cpu, gpus: [gpuClaims(0), gpuClaims(1)] }).allowed).toBe(true);
    expect(evaluatePolicy(p, { cpu, gpus: [gpuClaims(0)] }).allowed).toBe(false);
  });

  it('counts a GPU whose claims appear twice once in gpuCount, whatever gpus.size() says', () => {
    const q = policy({ eight: 'gpuCount == 8' });
    const one = gpuClaims(3);
    const decision = evaluatePolicy(q, { cpu: snpClaims(), gpus: Array.from({ length: 8 }, () => one) });
    expect(decision).toEqual({ allowed: false, policy: 'test', rules: [{ name: 'eight', outcome: 'fail', reads: { gpuCount: 1 } }] });
    expect(evaluatePolicy(q, { cpu: snpClaims(), gpus: eightGpus() }).allowed).toBe(true);
    const switches = eightGpus().map((g, i) => (i < 2 ? changed(g, (d) => (d.deviceType = 'nvswitch')) : g));
    expect(evaluatePolicy(q, { cpu: snpClaims(), gpus: switches }).rules[0]?.reads).toEqual({ gpuCount: 6 });
  });

  it('never allows a policy without rules (fail closed)', () => {
    const empty: CompiledPolicy = { ...policy({ t: 'true' }), rules: [] };
    expect(evaluatePolicy(empty, { cpu: snpClaims() })).toEqual({ allowed: false, policy: 'test', rules: [] });
  });

  it('reads across the GPUs of a comprehension and by index', () => {
    const q = policy({ same: 'gpus.all(g, g.driverVersion == gpus[0].driverVersion)' });
    const gpus = eightGpus().slice(0, 3).map((g, i) => changed(g, (d) => (d.driverVersion = i === 2 ? '550.127.05' : d.driverVersion)));
    const [rule] = evaluatePolicy(q, { cpu: snpClaims(), gpus }).rules;
    expect(rule).toEqual({
      name: 'same',
      outcome: 'fail',
      reads: {
        'gpus[*].driverVersion': ['550.90.07', '550.90.07', '550.127.05'],
        'gpus[0].driverVersion': '550.90.07',
      },
    });
  });

  it('reads a reference entry chosen by a claim', () => {
    const q = policy({ tcb: 'tcbAtLeast(cpu.reportedTcb, refs.min[cpu.product])' }, { min: { Milan: { snp: 30 }, Genoa: { snp: 1 } } });
    const [rule] = evaluatePolicy(q, { cpu: snpClaims() }).rules;
    expect(rule!.outcome).toBe('fail');
    expect(rule!.reads).toEqual({
      'cpu.reportedTcb': snpClaims().reportedTcb,
      'cpu.product': 'Milan',
      'refs.min[cpu.product]': { snp: 30 },
    });
  });

  it('follows CEL logic for claims a TEE does not have: && and || absorb the error when they can', () => {
    const q = policy({ guarded: 'cpu.tee == "snp" && cpu.vmpl == 0', either: 'cpu.tee == "tdx" || cpu.vmpl == 0', bare: 'cpu.vmpl == 0' });
    const decision = evaluatePolicy(q, { cpu: tdxClaims() });
    expect(decision.rules.map((r) => r.outcome)).toEqual(['fail', 'pass', 'error']);
    expect(decision.allowed).toBe(false);
  });

  it('reads Nitro PCRs by index', () => {
    const q = policy({ pcr0: 'cpu.tee == "nitro" && cpu.pcrs["0"] == refs.pcr0 && !cpu.debug' }, { pcr0: 'ab'.repeat(48) });
    const decision = evaluatePolicy(q, { cpu: nitroClaims() });
    expect(decision.allowed).toBe(true);
    expect(decision.rules[0]!.reads).toEqual({ 'cpu.tee': 'nitro', 'cpu.pcrs["0"]': 'ab'.repeat(48), 'refs.pcr0': 'ab'.repeat(48), 'cpu.debug': false });
    expect(evaluatePolicy(q, { cpu: changed(nitroClaims(), (d) => (d.pcrs = { '0': '00' })) }).allowed).toBe(false);
  });

  it('records evaluation errors of malformed claims instead of throwing', () => {
    const q = policy({ vmpl: 'cpu.vmpl == 0', driver: 'gpus.all(g, versionAtLeast(g.driverVersion, "550.0"))' });
    const decision = evaluatePolicy(q, {
      cpu: changed(snpClaims(), (d) => (d.vmpl = '0' as never)),
      gpus: [changed(gpuClaims(), (d) => (d.driverVersion = 'r550'))],
    });
    expect(decision.allowed).toBe(false);
    expect(decision.rules.map((r) => [r.outcome, r.message])).toEqual([
      ['error', "Field 'vmpl' is not of type 'int', got 'string' (at 1:5)"],
      ['error', 'versionAtLeast: "r550" is not a dotted decimal version (at 1:13)'],
    ]);
    expect(decision.rules[0]!.reads).toEqual({ 'cpu.vmpl': '0' });
  });

  it('treats missing cpu and gpus as absent and empty', () => {
    const q = policy({ cpu: 'cpu.vmpl == 0', gpus: 'gpus.size() == 0' });
    expect(evaluatePolicy(q, {}).rules.map((r) => r.outcome)).toEqual(['error', 'pass']);
    expect(evaluatePolicy(q, { cpu: null }).rules.map((r) => r.outcome)).toEqual(['error', 'pass']);
  });

  it('neither mutates nor depends on anything but its input', () => {
    const q = compileExample('snp-8gpu-composite');
    const input = deepFreeze({ cpu: snpClaims(), gpus: eightGpus() });
    const first = evaluatePolicy(q, input);
    expect(first.allowed).toBe(true);
    expect(evaluatePolicy(q, input)).toEqual(first);
  });
});

describe('policyInputFromClaims', () => {
  it('puts the CPU TEE in cpu and the GPUs in gpus', () => {
    const gpus = eightGpus().slice(0, 2);
    expect(policyInputFromClaims([gpus[0]!, snpClaims(), gpus[1]!])).toEqual({ cpu: snpClaims(), gpus });
    expect(policyInputFromClaims(gpus)).toEqual({ cpu: null, gpus });
  });

  it('refuses two CPU TEEs in one evidence set', () => {
    try {
      policyInputFromClaims([snpClaims(), tdxClaims()]);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(EvidenceError);
      expect((err as EvidenceError).code).toBe('ERR_EVIDENCE_SET_INVALID');
    }
  });
});

describe('evaluatePolicy property: no input makes it throw', () => {
  const policies = ['snp-production', 'tdx-production', 'snp-8gpu-composite', 'sgx-enclave'].map(compileExample);
  const claimSets = [snpClaims(), tdxClaims(), sgxClaims(), nitroClaims(), gpuClaims()] as unknown as Record<string, unknown>[];

  /** A real claims object with some fields replaced by anything or removed, and some junk added. */
  const mutatedClaims = fc
    .tuple(
      fc.constantFrom(...claimSets),
      fc.array(fc.tuple(fc.string({ maxLength: 12 }), fc.anything({ maxDepth: 2 })), { maxLength: 3 }),
      fc.array(fc.nat(), { maxLength: 4 }),
    )
    .map(([claims, junk, picks]) => {
      const copy: Record<string, unknown> = structuredClone(claims);
      const keys = Object.keys(copy);
      for (const [i, pick] of picks.entries()) {
        const key = keys[pick % keys.length]!;
        if (i % 2 === 0) delete copy[key];
        else copy[key] = junk[0]?.[1] ?? null;
      }
      for (const [k, v] of junk) copy[k] = v;
      return copy;
    });

  const input = fc.record(
    {
      cpu: fc.oneof(mutatedClaims, fc.anything({ maxDepth: 3 })),
      gpus: fc.oneof(fc.array(fc.oneof(mutatedClaims, fc.anything({ maxDepth: 2 })), { maxLength: 9 }), fc.anything({ maxDepth: 2 })),
    },
    { requiredKeys: [] },
  );

  it('returns a JSON-serializable decision for random and mutated claims', () => {
    fc.assert(
      fc.property(fc.oneof(input, fc.anything({ maxDepth: 2 })), fc.constantFrom(...policies), (raw, compiled) => {
        const decision = evaluatePolicy(compiled, raw as PolicyInput);
        expect(decision.rules).toHaveLength(compiled.rules.length);
        for (const r of decision.rules) expect(['pass', 'fail', 'error']).toContain(r.outcome);
        expect(decision.allowed).toBe(decision.rules.every((r) => r.outcome === 'pass'));
        expect(JSON.parse(JSON.stringify(decision))).toEqual(decision);
      }),
      { numRuns: 400 },
    );
  });
});

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
