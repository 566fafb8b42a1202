// The simulator end to end: `keyward dev ca --out DIR` through the built CLI (run `npm run build` first),
// simulated evidence from the workload flags verifying against exactly what it wrote, and a server
// configured with DIR/anchors logging those roots as SIMULATED extra anchors.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../helpers/process.js';
import { startTestKeyward } from '../helpers/keyward.js';
import { createEvidenceProvider } from '../../src/cli/evidence-select.js';
import { decodeEvidenceItem } from '../../src/evidence/wire.js';
import { verifyEvidenceSet } from '../../src/evidence/verify.js';
import { vendorAnchors } from '../../src/evidence/anchors.js';
import type { SnpClaims } from '../../src/evidence/snp/claims.js';
import { anchorsFromDir, collateralFromDir } from '../unit/agent/evidence/dev-ca-fixture.js';

let root: string;
let dataDir: string;
let out: string;
let first: { code: number | null; stdout: string; stderr: string };

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'keyward-sim-'));
  dataDir = join(root, 'data');
  out = join(root, 'dev');
  // The first run creates the CA (RSA-4096 AMD keys, as AMD's): a few seconds.
  first = await run(['dev', 'ca', '--out', out], { KEYWARD_DATA_DIR: dataDir });
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const readAnchors = (): string[] => readdirSync(join(out, 'anchors')).sort().map((f) => readFileSync(join(out, 'anchors', f), 'utf8'));

describe('keyward dev ca', () => {
  it('writes the roots and collateral and prints the settings to use', () => {
    expect(first.code).toBe(0);
    // Progress on stderr; stdout is only comments and exports a shell can `eval`.
    expect(first.stderr).toContain(`creating the development CA in ${join(dataDir, 'dev-ca')}`);
    expect(first.stdout).toContain(`# development CA: ${join(dataDir, 'dev-ca')}`);
    expect(first.stdout).toContain('SIMULATED');
    expect(first.stdout).toContain(`\nexport KEYWARD_EXTRA_ANCHORS=${join(out, 'anchors')}\n`);
    expect(first.stdout).toContain(`\nexport KEYWARD_COLLATERAL_DIR=${join(out, 'collateral')}\n`);
    expect(first.stdout).toContain(`# wrote ${join(out, 'collateral', 'intel-tdx-tcb-info.json')}`);
    for (const line of first.stdout.trimEnd().split('\n')) expect(line).toMatch(/^(# |export KEYWARD_)/);
    expect(readdirSync(join(out, 'anchors'))).toHaveLength(4);
    expect(readdirSync(join(out, 'collateral'))).toHaveLength(16);
  });

  it('reuses the CA in the data dir: the same roots the second time, also via --data-dir', async () => {
    const before = readAnchors();
    const again = await run(['dev', 'ca', '--out', out, '--data-dir', dataDir], { KEYWARD_DATA_DIR: join(root, 'elsewhere') });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain(`using the development CA in ${join(dataDir, 'dev-ca')}`);
    expect(readAnchors()).toEqual(before);
    expect(readdirSync(root).sort()).toEqual(['data', 'dev']);
  });

  it('is a usage error (exit 2) without --out or a subcommand', async () => {
    expect((await run(['dev', 'ca'], { KEYWARD_DATA_DIR: dataDir })).code).toBe(2);
    expect((await run(['dev'], { KEYWARD_DATA_DIR: dataDir })).code).toBe(2);
    expect((await run(['dev', 'ca', '--out', out, '--bogus'], { KEYWARD_DATA_DIR: dataDir })).code).toBe(2);
  });
});

describe('simulated evidence against what dev ca wrote', () => {
  it('verifies (snp + 2 GPUs, --measurement) with DIR/anchors and DIR/collateral, and not with vendor roots only', async () => {
    const measurement = 'c0ffee'.repeat(16);
    const provider = await createEvidenceProvider({ simulate: 'snp', gpus: 2, measurement, dataDir, now: new Date() });
    expect(provider.name).toBe('simulator:snp+simulator:2gpu');
    const bind = new Uint8Array(createHash('sha512').update(randomBytes(32)).update(randomBytes(32)).digest());
    const items = (await provider.collect(bind)).map((w, i) => decodeEvidenceItem(JSON.parse(JSON.stringify(w)), i));
    const ctx = { anchors: anchorsFromDir(join(out, 'anchors')), collateral: collateralFromDir(join(out, 'collateral')), now: new Date() };
    const verified = await verifyEvidenceSet(items, ctx, bind);
    expect(verified.map((v) => v.claims.tee)).toEqual(['snp', 'nvidia-gpu', 'nvidia-gpu']);
    expect((verified[0]!.claims as SnpClaims).measurement).toBe(measurement);
    expect(verified.every((v) => v.claims.anchor.source === 'extra' && v.claims.anchor.name.includes('SIMULATED'))).toBe(true);
    await expect(verifyEvidenceSet(items, { ...ctx, anchors: vendorAnchors() }, bind)).rejects.toMatchObject({ code: 'ERR_CHAIN_UNTRUSTED_ROOT' });
  });

  it('a server given KEYWARD_EXTRA_ANCHORS=DIR/anchors logs the roots as SIMULATED extra anchors', async () => {
    const server = await startTestKeyward('pglite', { env: { KEYWARD_EXTRA_ANCHORS: join(out, 'anchors') } });
    try {
      const line = server.logs.find((l) => l.includes('EXTRA TRUST ANCHORS CONFIGURED'));
      expect(line).toBeDefined();
      const names = (JSON.parse(line as string) as { extraAnchors: { name: string }[] }).extraAnchors.map((a) => a.name).sort();
      expect(names).toEqual([
        'ARK-Milan (keyward SIMULATED)',
        'Intel SGX Root CA (keyward SIMULATED)',
        'keyward SIMULATED NVIDIA CoRIM signing Root CA (keyward SIMULATED NVIDIA)',
        'keyward SIMULATED NVIDIA Device Identity CA (keyward SIMULATED NVIDIA)',
      ]);
    } finally {
      await server.close();
    }
  });
});
