// DEPENDS ON KEYWARD_COLLATERAL_DIR (the server loading `keyward dev ca` collateral): rename to
// agent-cli-collateral.test.ts once that setting is on main. TDX quotes need the simulated TCB Info / QE
// Identity / PCK CRLs, GPU reports need the simulated RIMs and CRLs; SNP alone needs neither.
//
// `keyward agent release` and `keyward unseal` through the built CLI (run `npm run build` first) with
// `--simulate tdx` and `--simulate snp --gpus 2` against a `keyward serve` child given DIR/anchors and
// DIR/collateral of `keyward dev ca --out DIR`.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startAgentWorld, SIMULATED_MEASUREMENT, type AgentWorld } from '../helpers/agent-cli.js';
import { SIMULATED_DEFAULTS } from '../../src/dev/simulator-provider.js';

const MRTD = Buffer.from(SIMULATED_DEFAULTS.tdxMrTd).toString('hex');

function tdxPolicy(name: string, mrTd = MRTD) {
  return {
    name,
    rules: [
      { name: 'tdx', expr: 'cpu.tee == "tdx"' },
      { name: 'no-debug', expr: '!cpu.tdAttributes.debug' },
      { name: 'up-to-date', expr: 'cpu.tcbStatus == "UpToDate"' },
      { name: 'image', expr: 'cpu.mrTd in refs.images' },
    ],
    refs: { images: [mrTd] },
  };
}

function snpTwoGpuPolicy(name: string) {
  return {
    name,
    rules: [
      { name: 'snp', expr: 'cpu.tee == "snp" && cpu.vmpl == 0 && !cpu.debug' },
      { name: 'image', expr: 'cpu.measurement in refs.images' },
      { name: 'two-gpus', expr: 'gpus.size() == 2 && gpus.all(g, g.arch == "hopper" && !g.debug)' },
      { name: 'gpu-measurements', expr: 'gpus.all(g, g.measurements.total > 0 && g.measurements.matched == g.measurements.total)' },
    ],
    refs: { images: [SIMULATED_MEASUREMENT] },
  };
}

let world: AgentWorld;
let tdxKey: string;
let tdxOtherKey: string;
let gpuKey: string;
let files: string;

beforeAll(async () => {
  world = await startAgentWorld('keyward-agent-collateral-', (devDir) => ({ KEYWARD_COLLATERAL_DIR: join(devDir, 'collateral') }));
  tdxKey = await world.createKeyWithPolicy('tdx-model', tdxPolicy('tdx-policy'));
  tdxOtherKey = await world.createKeyWithPolicy('tdx-other', tdxPolicy('tdx-other-policy', 'f6'.repeat(48)));
  gpuKey = await world.createKeyWithPolicy('gpu-model', snpTwoGpuPolicy('gpu-policy'));
  files = join(world.root, 'files');
  mkdirSync(files);
}, 180_000);
afterAll(async () => world?.close());

const release = (...args: string[]) => runCli(['agent', 'release', '--server', world.url, '--data-dir', world.agentDir, ...args]);

async function dataKeyOf(keyId: string): Promise<{ plaintext: string; wrapped: string }> {
  const res = await fetch(`${world.url}/v1/keys/${keyId}/datakey`, { method: 'POST', headers: { authorization: `Bearer ${world.token}` } });
  return (await res.json()) as { plaintext: string; wrapped: string };
}

describe('keyward agent release with simulated TDX and GPUs', () => {
  it('--simulate tdx releases the data key its policy allows', async () => {
    const dk = await dataKeyOf(tdxKey);
    const res = await release('--simulate', 'tdx', '--key', tdxKey, '--wrapped-data-key', dk.wrapped, '--out', '-', '--format', 'base64');
    expect(res.stderr).toContain('SIMULATED TDX evidence');
    expect(res.code).toBe(0);
    expect(res.stdout.toString()).toBe(`${dk.plaintext}\n`);
  });

  it('--simulate tdx against a policy for another MRTD: ERR_POLICY_DENIED', async () => {
    const res = await release('--simulate', 'tdx', '--key', tdxOtherKey, '--out', '-');
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('ERR_POLICY_DENIED');
    expect(res.stdout.length).toBe(0);
  });

  it('--simulate snp --gpus 2 releases; --gpus 1 is denied by the two-GPU rule', async () => {
    const dk = await dataKeyOf(gpuKey);
    const ok = await release('--simulate', 'snp', '--gpus', '2', '--key', gpuKey, '--wrapped-data-key', dk.wrapped, '--out', '-', '--format', 'base64');
    expect(ok.code).toBe(0);
    expect(ok.stdout.toString()).toBe(`${dk.plaintext}\n`);
    const one = await release('--simulate', 'snp', '--gpus', '1', '--key', gpuKey, '--out', '-');
    expect(one.code).toBe(1);
    expect(one.stderr).toContain('ERR_POLICY_DENIED');
  });
});

describe('keyward seal / unseal with simulated TDX and GPUs', () => {
  it.each([
    ['tdx', () => tdxKey, ['--simulate', 'tdx']],
    ['snp + 2 GPUs', () => gpuKey, ['--simulate', 'snp', '--gpus', '2']],
  ] as const)('%s: round trip byte for byte', async (name, key, evidence) => {
    const plain = join(files, `${name.replace(/\W+/g, '-')}.bin`);
    const bytes = randomBytes(70_000);
    writeFileSync(plain, bytes);
    const sealed = await runCli(['seal', '--server', world.url, '--key', key(), '--in', plain, '--out', `${plain}.sealed`, '--chunk-size', '16K'], { KEYWARD_TOKEN: world.token });
    expect(sealed.code).toBe(0);
    const out = `${plain}.out`;
    const res = await runCli(['unseal', '--server', world.url, '--in', `${plain}.sealed`, '--out', out, '--data-dir', world.agentDir, ...evidence]);
    expect(res.code).toBe(0);
    expect(readFileSync(out).equals(bytes)).toBe(true);
  });

  it('tdx evidence for a key whose policy wants another MRTD: no plaintext', async () => {
    const plain = join(files, 'denied.bin');
    writeFileSync(plain, randomBytes(1000));
    expect((await runCli(['seal', '--server', world.url, '--key', tdxOtherKey, '--in', plain, '--out', `${plain}.sealed`], { KEYWARD_TOKEN: world.token })).code).toBe(0);
    const res = await runCli(['unseal', '--server', world.url, '--in', `${plain}.sealed`, '--out', `${plain}.out`, '--data-dir', world.agentDir, '--simulate', 'tdx']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('ERR_POLICY_DENIED');
    expect(existsSync(`${plain}.out`)).toBe(false);
  });
});
