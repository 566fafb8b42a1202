// The policy sandbox: cheap policies over bounded claims evaluate inline (no thread, no round trip);
// anything else runs in a child process that a timeout and a heap cap stop with ERR_POLICY_LIMIT_EXCEEDED,
// while the event loop keeps running.
import { describe, expect, it, afterEach } from 'vitest';
import { compilePolicy } from '../../../src/policy/compile.js';
import { evaluatePolicy } from '../../../src/policy/evaluate.js';
import { PolicySandbox } from '../../../src/broker/policy-sandbox.js';
import { BIG_REFS, doublingChain, NESTED_SCAN } from '../../helpers/costly-policies.js';

const sandboxes: PolicySandbox[] = [];
afterEach(async () => {
  for (const s of sandboxes.splice(0)) await s.close();
});

function sandbox(timeoutMs: number, inlineCost?: number): PolicySandbox {
  const s = new PolicySandbox({ timeoutMs, ...(inlineCost === undefined ? {} : { inlineCost }) });
  sandboxes.push(s);
  return s;
}

const cheap = compilePolicy({ name: 'cheap', rules: [{ name: 'snp', expr: 'cpu.tee == "snp"' }, { name: 'image', expr: 'cpu.measurement in refs.images' }], refs: { images: ['a1'] } });
const claims = { cpu: { tee: 'snp' as const, measurement: 'a1' } as never, gpus: [] };

/** Counts event-loop turns while `work` runs: proof the loop was not blocked. */
async function ticksDuring<T>(work: Promise<T>): Promise<{ ticks: number; result: PromiseSettledResult<T> }> {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  const [result] = await Promise.allSettled([work]);
  clearInterval(timer);
  return { ticks, result: result! };
}

describe('PolicySandbox', () => {
  it('evaluates cheap policies over bounded claims inline, identical to evaluatePolicy', async () => {
    const s = sandbox(1000);
    expect(await s.evaluate(cheap, claims)).toEqual(evaluatePolicy(cheap, claims));
    expect(s.stats).toEqual({ inline: 1, sandboxed: 0 });
  });

  it('sends costly policies and oversized claims to the sandbox, with the same decision', async () => {
    const s = sandbox(5000, 0);
    const decision = await s.evaluate(cheap, claims);
    expect(decision).toEqual(evaluatePolicy(cheap, claims));
    const oversized = { cpu: { tee: 'snp', measurement: 'x'.repeat(10_000) } as never, gpus: [] };
    const bounded = sandbox(5000);
    expect((await bounded.evaluate(cheap, oversized)).allowed).toBe(false);
    expect(bounded.stats).toEqual({ inline: 0, sandboxed: 1 });
  }, 30_000);

  it('stops an evaluation past its time limit with ERR_POLICY_LIMIT_EXCEEDED, and keeps serving', async () => {
    const s = sandbox(300);
    const endless = compilePolicy({ name: 'endless', rules: [{ name: 'scan', expr: NESTED_SCAN }], refs: BIG_REFS }, { maxCost: Infinity });
    const started = performance.now();
    const { ticks, result } = await ticksDuring(s.evaluate(endless, claims));
    expect(result).toMatchObject({ status: 'rejected', reason: { code: 'ERR_POLICY_LIMIT_EXCEEDED', status: 422 } });
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(ticks).toBeGreaterThan(5);
    // The next evaluation gets a fresh sandbox process.
    const again = sandbox(5000, 0);
    expect((await again.evaluate(cheap, claims)).allowed).toBe(true);
    expect((await s.evaluate(compilePolicy({ name: 'x', rules: [{ name: 'r', expr: 'size(refs.big) > 0' }], refs: BIG_REFS }), claims)).allowed).toBe(true);
  }, 60_000);

  it('stops an evaluation that outgrows its heap with ERR_POLICY_LIMIT_EXCEEDED, and the service process lives on', async () => {
    const s = sandbox(20_000);
    const blowup = compilePolicy({ name: 'blowup', rules: [{ name: 'r', expr: doublingChain(14, 4) }] }, { maxCost: Infinity });
    const { ticks, result } = await ticksDuring(s.evaluate(blowup, claims));
    expect(result).toMatchObject({ status: 'rejected', reason: { code: 'ERR_POLICY_LIMIT_EXCEEDED' } });
    expect(ticks).toBeGreaterThan(0);
  }, 60_000);
});
