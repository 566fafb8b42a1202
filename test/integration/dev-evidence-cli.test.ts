// `keyward dev evidence` through the built CLI (run `npm run build` first): the simulated evidence array it
// prints verifies against what `keyward dev ca` wrote, bound to the given binding; bad arguments exit 2.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../helpers/process.js';
import { decodeEvidenceItem } from '../../src/evidence/wire.js';
import { verifyEvidenceSet } from '../../src/evidence/verify.js';
import type { SnpClaims } from '../../src/evidence/snp/claims.js';
import type { TdxClaims } from '../../src/evidence/dcap/claims.js';
import { anchorsFromDir, collateralFromDir } from '../unit/agent/evidence/dev-ca-fixture.js';

let root: string;
let dataDir: string;
let out: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'keyward-dev-evidence-'));
  dataDir = join(root, 'data');
  out = join(root, 'dev');
  const ca = await run(['dev', 'ca', '--out', out, '--data-dir', dataDir], {});
  if (ca.code !== 0) throw new Error(ca.stderr);
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const randomBind = (): Buffer => createHash('sha512').update(randomBytes(32)).update(randomBytes(32)).digest();

async function verifyPrinted(stdout: string, bind: Buffer) {
  const wire = JSON.parse(stdout) as unknown[];
  const items = wire.map((w, i) => decodeEvidenceItem(w, i));
  const ctx = { anchors: anchorsFromDir(join(out, 'anchors')), collateral: collateralFromDir(join(out, 'collateral')), now: new Date() };
  return verifyEvidenceSet(items, ctx, new Uint8Array(bind));
}

describe('keyward dev evidence', () => {
  it('prints SNP evidence bound to BIND_HEX that verifies with the dev CA; says SIMULATED on stderr', async () => {
    const bind = randomBind();
    const res = await run(['dev', 'evidence', '--simulate', 'snp', '--data-dir', dataDir, bind.toString('hex')], {});
    expect(res.code).toBe(0);
    expect(res.stderr).toContain('SIMULATED SNP evidence');
    expect(res.stdout.endsWith(']\n')).toBe(true);
    const verified = await verifyPrinted(res.stdout, bind);
    expect(verified.map((v) => v.claims.tee)).toEqual(['snp']);
    expect((verified[0]!.claims as SnpClaims).reportData).toBe(bind.toString('hex'));
    expect(verified[0]!.claims.anchor.source).toBe('extra');
  });

  it('TDX with GPUs and --measurement; the data dir may come from KEYWARD_DATA_DIR', async () => {
    const bind = randomBind();
    const measurement = 'c0ffee'.repeat(16);
    const res = await run(['dev', 'evidence', '--simulate', 'tdx', '--gpus', '2', '--measurement', measurement, bind.toString('hex')], { KEYWARD_DATA_DIR: dataDir });
    expect(res.code).toBe(0);
    const verified = await verifyPrinted(res.stdout, bind);
    expect(verified.map((v) => v.claims.tee)).toEqual(['tdx', 'nvidia-gpu', 'nvidia-gpu']);
    expect((verified[0]!.claims as TdxClaims).mrTd).toBe(measurement);
  });

  it('the SNP measurement follows --measurement', async () => {
    const bind = randomBind();
    const res = await run(['dev', 'evidence', '--simulate', 'snp', '--measurement', 'ab'.repeat(48), '--data-dir', dataDir, bind.toString('hex')], {});
    expect(res.code).toBe(0);
    expect(((await verifyPrinted(res.stdout, bind))[0]!.claims as SnpClaims).measurement).toBe('ab'.repeat(48));
  });

  it.each([
    ['no --simulate', ['dev', 'evidence', 'ab'.repeat(64)]],
    ['no binding', ['dev', 'evidence', '--simulate', 'snp']],
    ['two bindings', ['dev', 'evidence', '--simulate', 'snp', 'ab'.repeat(64), 'ab'.repeat(64)]],
    ['a short binding', ['dev', 'evidence', '--simulate', 'snp', 'ab'.repeat(32)]],
    ['a binding that is not hex', ['dev', 'evidence', '--simulate', 'snp', 'zz'.repeat(64)]],
    ['an unknown TEE', ['dev', 'evidence', '--simulate', 'sgx', 'ab'.repeat(64)]],
    ['too many GPUs', ['dev', 'evidence', '--simulate', 'snp', '--gpus', '33', 'ab'.repeat(64)]],
    ['a short measurement', ['dev', 'evidence', '--simulate', 'snp', '--measurement', 'ab', 'ab'.repeat(64)]],
    ['an unknown flag', ['dev', 'evidence', '--simulate', 'snp', '--bogus', 'ab'.repeat(64)]],
  ])('%s is a usage error: exit 2, nothing on stdout', async (_name, args) => {
    const res = await run(args, { KEYWARD_DATA_DIR: dataDir });
    expect(res.code).toBe(2);
    expect(res.stdout).toBe('');
    expect(res.stderr).toContain('keyward dev: ');
  });
});
