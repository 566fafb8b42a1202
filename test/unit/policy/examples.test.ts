import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { evaluatePolicy, type PolicyDecision, type PolicyInput } from '../../../src/policy/evaluate.js';
import { readManifest } from '../../helpers/vectors.js';
import type { SnpClaims } from '../../../src/evidence/snp/claims.js';
import {
  APPROVED_SNP_MEASUREMENT,
  changed,
  compileExample,
  eightGpus,
  gpuClaims,
  POLICIES_DIR,
  sgxClaims,
  snpClaims,
  tdxClaims,
} from './fixtures.js';

/** Names of the rules that did not pass, with their outcome. */
function notPassing(decision: PolicyDecision): string[] {
  return decision.rules.filter((r) => r.outcome !== 'pass').map((r) => `${r.name}:${r.outcome}`);
}

describe('policies/ ships the four example policies', () => {
  it('holds exactly the documented examples and they all compile', () => {
    const files = readdirSync(POLICIES_DIR).filter((f) => f.endsWith('.yaml')).sort();
    expect(files).toEqual(['sgx-enclave.yaml', 'snp-8gpu-composite.yaml', 'snp-production.yaml', 'tdx-production.yaml']);
    for (const f of files) expect(compileExample(f.replace(/\.yaml$/, '')).rules.length).toBeGreaterThan(3);
  });
});

describe('snp-production', () => {
  const policy = compileExample('snp-production');
  const allow = (cpu: SnpClaims) => evaluatePolicy(policy, { cpu, gpus: [] });

  it('allows a production SNP guest running an approved image', () => {
    const decision = allow(snpClaims());
    expect(decision.allowed).toBe(true);
    expect(decision.policy).toBe('snp-production');
    expect(decision.rules.map((r) => r.name)).toEqual(['snp', 'vendor-root', 'no-debug', 'vmpl-0', 'min-tcb', 'measurement']);
  });

  it.each([
    ['a debug guest', 'no-debug', (c: SnpClaims) => changed(c, (d) => ((d.debug = true), (d.policy.debug = true)))],
    ['VMPL 2', 'vmpl-0', (c: SnpClaims) => changed(c, (d) => (d.vmpl = 2))],
    ['a low SNP firmware SVN', 'min-tcb', (c: SnpClaims) => changed(c, (d) => (d.reportedTcb.snp = 22))],
    ['an old microcode', 'min-tcb', (c: SnpClaims) => changed(c, (d) => (d.reportedTcb.microcode = 212))],
    ['an unknown image', 'measurement', (c: SnpClaims) => changed(c, (d) => (d.measurement = 'ff'.repeat(48)))],
    ['a development anchor', 'vendor-root', (c: SnpClaims) => changed(c, (d) => (d.anchor.source = 'extra'))],
  ])('denies %s, naming rule %s', (_what, rule, mutate) => {
    const decision = allow(mutate(snpClaims()));
    expect(decision.allowed).toBe(false);
    expect(notPassing(decision)).toEqual([`${rule}:fail`]);
  });

  it('explains a TCB denial with the values it compared', () => {
    const decision = allow(changed(snpClaims(), (d) => (d.reportedTcb.snp = 22)));
    const rule = decision.rules.find((r) => r.name === 'min-tcb')!;
    expect(rule.reads).toEqual({
      'cpu.reportedTcb': { bootloader: 4, tee: 0, snp: 22, microcode: 219 },
      'cpu.product': 'Milan',
      'refs.minTcb[cpu.product]': { bootloader: 4, tee: 0, snp: 23, microcode: 213 },
    });
    expect(decision.rules.find((r) => r.name === 'measurement')!.reads['cpu.measurement']).toBe(APPROVED_SNP_MEASUREMENT);
  });

  it('records an error, not a pass, for a product without a minimum TCB', () => {
    const decision = allow(changed(snpClaims(), (d) => (d.product = 'Siena' as never)));
    expect(decision.allowed).toBe(false);
    expect(notPassing(decision)).toEqual(['min-tcb:error']);
    expect(decision.rules.find((r) => r.name === 'min-tcb')!.message).toMatch(/No such key: Siena \(at 1:\d+\)/);
  });

  it('denies TDX claims: the TEE rule fails and the SNP-only rules are errors, never passes', () => {
    const decision = evaluatePolicy(policy, { cpu: tdxClaims() });
    expect(decision.allowed).toBe(false);
    expect(notPassing(decision)).toEqual(['snp:fail', 'no-debug:error', 'vmpl-0:error', 'min-tcb:error', 'measurement:error']);
  });

  interface SnpManifest {
    vectors: { id: string; product: string; signer: string; fields: Record<string, any> }[];
  }

  it('decides the claims of every real SNP vector as an independent check of its fields says', () => {
    const manifest = readManifest<SnpManifest>('snp');
    const mins: Record<string, Record<string, number>> = {
      Milan: { bootloader: 4, tee: 0, snp: 23, microcode: 213 },
      Genoa: { bootloader: 9, tee: 0, snp: 23, microcode: 84 },
      Turin: { fmc: 0, bootloader: 1, tee: 0, snp: 2, microcode: 71 },
    };
    const vectors = manifest.vectors.filter((v) => !v.id.startsWith('NEG-'));
    expect(vectors.length).toBeGreaterThanOrEqual(15);
    const seen = new Set<string>();
    for (const v of vectors) {
      const f = v.fields;
      const tcb = { ...f['reported_tcb'] };
      delete tcb.raw_hex;
      const cpu = changed(snpClaims(), (d) => {
        d.product = v.product as never;
        d.signer = v.signer.toLowerCase() as never;
        d.measurement = f['measurement'];
        d.chipId = f['chip_id'];
        d.vmpl = f['vmpl'];
        d.debug = f['policy'].debug;
        d.policy.debug = f['policy'].debug;
        d.reportedTcb = tcb;
      });
      const expected: string[] = [];
      if (f['policy'].debug) expected.push('no-debug:fail');
      if (f['vmpl'] !== 0) expected.push('vmpl-0:fail');
      const min = mins[v.product]!;
      if (Object.entries(min).some(([k, floor]) => !(tcb[k] >= floor))) expected.push('min-tcb:fail');
      if (f['measurement'] !== APPROVED_SNP_MEASUREMENT) expected.push('measurement:fail');
      const decision = allow(cpu);
      expect(notPassing(decision), v.id).toEqual(expected);
      for (const e of expected) seen.add(e);
    }
    // The real vectors exercise each kind of denial at least once.
    expect([...seen].sort()).toEqual(['measurement:fail', 'min-tcb:fail', 'no-debug:fail', 'vmpl-0:fail']);
  });
});

describe('tdx-production', () => {
  const policy = compileExample('tdx-production');

  it('allows an UpToDate production TD running an approved image', () => {
    expect(evaluatePolicy(policy, { cpu: tdxClaims() }).allowed).toBe(true);
  });

  it('allows SWHardeningNeeded when every advisory is accepted', () => {
    const cpu = changed(tdxClaims(), (d) => ((d.tcbStatus = 'SWHardeningNeeded'), (d.advisoryIds = ['INTEL-SA-00837'])));
    const decision = evaluatePolicy(policy, { cpu });
    expect(decision.allowed).toBe(true);
    expect(decision.rules.find((r) => r.name === 'tcb')!.reads).toEqual({
      'cpu.tcbStatus': 'SWHardeningNeeded',
      'refs.tolerableTcbStatuses': ['SWHardeningNeeded'],
      'cpu.advisoryIds[*]': ['INTEL-SA-00837'],
      'refs.acceptedAdvisories': ['INTEL-SA-00837', 'INTEL-SA-00960'],
    });
  });

  it.each([
    ['a debug TD', 'no-debug', (c: PolicyInput['cpu']) => changed(c!, (d: any) => ((d.debug = true), (d.tdAttributes.debug = true)))],
    ['an advisory nobody accepted', 'tcb', (c: any) => changed(c, (d: any) => ((d.tcbStatus = 'SWHardeningNeeded'), (d.advisoryIds = ['INTEL-SA-00837', 'INTEL-SA-01079'])))],
    ['an OutOfDate platform', 'tcb', (c: any) => changed(c, (d: any) => ((d.tcbStatus = 'OutOfDate'), (d.advisoryIds = ['INTEL-SA-00837'])))],
    ['a revoked platform', 'tcb', (c: any) => changed(c, (d: any) => (d.tcbStatus = 'Revoked'))],
    ['an unknown TD firmware', 'mrtd', (c: any) => changed(c, (d: any) => (d.mrTd = '01'.repeat(48)))],
    ['a changed kernel command line (RTMR2)', 'rtmrs', (c: any) => changed(c, (d: any) => (d.rtmr[2] = '02'.repeat(48)))],
    ['a runtime extension of RTMR3', 'rtmrs', (c: any) => changed(c, (d: any) => (d.rtmr[3] = '03'.repeat(48)))],
    ['a development anchor', 'vendor-root', (c: any) => changed(c, (d: any) => (d.anchor.source = 'extra'))],
  ])('denies %s, naming rule %s', (_what, rule, mutate) => {
    const decision = evaluatePolicy(policy, { cpu: mutate(tdxClaims()) });
    expect(decision.allowed).toBe(false);
    expect(notPassing(decision)).toEqual([`${rule}:fail`]);
  });
});

describe('snp-8gpu-composite', () => {
  const policy = compileExample('snp-8gpu-composite');
  const decide = (gpus = eightGpus(), cpu = snpClaims()) => evaluatePolicy(policy, { cpu, gpus });

  it('allows an SNP guest with 8 matched Hopper GPUs on one approved driver', () => {
    const decision = decide();
    expect(decision.allowed).toBe(true);
    expect(decision.rules.find((r) => r.name === 'gpu-measurements')!.reads).toEqual({
      'gpus[*].measurements.total': Array(8).fill(64),
      'gpus[*].measurements.matched': Array(8).fill(64),
      'gpus[*].measurements.mismatchedIndices.size()': Array(8).fill(0),
    });
  });

  const withGpu = (i: number, change: (g: any) => void) => eightGpus().map((g, j) => (j === i ? changed(g, change) : g));

  it.each([
    ['7 GPUs', 'eight-hopper-gpus', () => eightGpus().slice(0, 7)],
    ['9 GPUs', 'eight-hopper-gpus', () => [...eightGpus(), gpuClaims(8)]],
    ["one GPU's claims eight times", 'eight-hopper-gpus', () => eightGpus().map(() => gpuClaims(0))],
    ['seven GPUs, one of them twice', 'eight-hopper-gpus', () => [...eightGpus().slice(0, 7), gpuClaims(0)]],
    ['a Blackwell GPU among them', 'eight-hopper-gpus', () => withGpu(3, (g) => (g.arch = 'blackwell'))],
    ['a GPU chained to a development anchor', 'eight-hopper-gpus', () => withGpu(0, (g) => (g.anchor.source = 'extra'))],
    ['a GPU in debug', 'gpu-no-debug', () => withGpu(5, (g) => (g.debug = true))],
    ['one mismatched measurement', 'gpu-measurements', () => withGpu(6, (g) => ((g.measurements.matched = 63), (g.measurements.mismatchedIndices = [12])))],
    ['a GPU with no measurements', 'gpu-measurements', () => withGpu(2, (g) => ((g.measurements.matched = 0), (g.measurements.total = 0)))],
    ['one GPU on a newer driver', 'same-driver', () => withGpu(7, (g) => (g.driverVersion = '550.127.05'))],
    ['all GPUs on an old driver', 'approved-driver', () => eightGpus().map((g) => changed(g, (d) => (d.driverVersion = '535.86.09')))],
    ['all GPUs on an unapproved VBIOS', 'approved-driver', () => eightGpus().map((g) => changed(g, (d) => (d.vbiosVersion = '96.00.5e.00.01')))],
  ])('denies %s, naming rule %s', (_what, rule, gpus) => {
    const decision = decide(gpus());
    expect(decision.allowed).toBe(false);
    expect(notPassing(decision)).toEqual([`${rule}:fail`]);
  });

  it('denies a guest without GPUs on the GPU count alone', () => {
    expect(notPassing(decide([]))).toEqual(['eight-hopper-gpus:fail']);
  });

  it('denies a debug CPU even with perfect GPUs', () => {
    const decision = decide(eightGpus(), changed(snpClaims(), (d) => ((d.debug = true), (d.policy.debug = true))));
    expect(notPassing(decision)).toEqual(['cpu-no-debug:fail']);
  });
});

describe('sgx-enclave', () => {
  const policy = compileExample('sgx-enclave');

  it('allows an enclave of our signer and product at or above the minimum ISVSVN', () => {
    expect(evaluatePolicy(policy, { cpu: sgxClaims() }).allowed).toBe(true);
    expect(evaluatePolicy(policy, { cpu: changed(sgxClaims(), (d) => (d.isvSvn = 3)) }).allowed).toBe(true);
  });

  it.each([
    ['another signer', 'signer', (d: any) => (d.mrSigner = '11'.repeat(32))],
    ['another product', 'product', (d: any) => (d.isvProdId = 2)],
    ['an old enclave release', 'min-svn', (d: any) => (d.isvSvn = 2)],
    ['a debug enclave', 'no-debug', (d: any) => ((d.debug = true), (d.attributes.debug = true))],
    ['an out-of-date platform', 'tcb', (d: any) => ((d.tcbStatus = 'OutOfDate'), (d.advisoryIds = ['INTEL-SA-00615']))],
    ['a development anchor', 'sgx', (d: any) => (d.anchor.source = 'extra')],
  ])('denies %s, naming rule %s', (_what, rule, change) => {
    const decision = evaluatePolicy(policy, { cpu: changed(sgxClaims(), change) });
    expect(decision.allowed).toBe(false);
    expect(notPassing(decision)).toEqual([`${rule}:fail`]);
  });
});
