// `keyward verify` as a user runs it: the BUILT CLI as a child process (run `npm run build` first) over
// every vector of the four manifests, with and without --type; flipped bytes, nonces, the wire form,
// composite sets, extra anchors, and usage errors (exit 2, nothing on stdout). One process per case.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../helpers/process.js';
import { readManifest, vectorPath } from '../helpers/vectors.js';
import { intelManifest, type IntelEvaluation, type IntelQuote } from '../helpers/intel.js';
import { parseSpdmReport } from '../../src/evidence/nvidia/spdm.js';
import { createNvidiaDevRimPki, mintRim, rimEntries, type NvidiaDevRimPki } from '../../src/dev/nvidia-rim.js';

type Json = Record<string, any>;
type Env = Record<string, string>;

const tmp = mkdtempSync(join(tmpdir(), 'keyward-verify-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const snpPath = (...p: string[]) => vectorPath('snp', ...p);
const intelPath = (...p: string[]) => vectorPath('intel', ...p);
const nvPath = (...p: string[]) => vectorPath('nvidia', ...p);
const nitroPath = (...p: string[]) => vectorPath('nitro', ...p);
const collateral = (...paths: string[]): string[] => paths.flatMap((p) => ['--collateral', p]);

function tmpFile(name: string, content: Uint8Array | string): string {
  const path = join(tmp, name);
  writeFileSync(path, content);
  return path;
}

function flipped(path: string, offset: (length: number) => number, name: string): string {
  const bytes = new Uint8Array(readFileSync(path));
  const at = offset(bytes.length);
  bytes[at] = (bytes[at] as number) ^ 0x01;
  return tmpFile(name, bytes);
}

/** Runs `keyward verify ... --json` and returns the one JSON object it printed (asserting there is exactly one). */
async function verifyJson(args: string[], expectedExit: 0 | 1, env: Env = {}): Promise<Json> {
  const r = await run(['verify', ...args, '--json'], env);
  expect(r.code, `exit code; stderr: ${r.stderr}`).toBe(expectedExit);
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1);
  const verdict = JSON.parse(lines[0] as string) as Json;
  expect(Object.keys(verdict).sort()).toEqual(expectedExit === 0 ? ['claims', 'tee', 'verified'] : ['error', 'verified']);
  expect(verdict['verified']).toBe(expectedExit === 0);
  return verdict;
}

async function expectVerified(args: string[], env: Env = {}): Promise<Json> {
  return verifyJson(args, 0, env);
}

async function expectRefused(args: string[], code: string, env: Env = {}): Promise<Json> {
  const verdict = await verifyJson(args, 1, env);
  expect(verdict['error']['code']).toBe(code);
  expect(typeof verdict['error']['message']).toBe('string');
  return verdict['error'] as Json;
}

async function expectUsage(args: string[], stderr: RegExp, env: Env = {}): Promise<void> {
  const r = await run(['verify', ...args], env);
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(stderr);
}

/** Runs the same case with --type (plus `typedExtra`, e.g. the matching --nonce) and without it (detected by content). */
async function bothWays(args: string[], type: string, check: (v: Json) => void, typedExtra: string[] = [], env: Env = {}): Promise<void> {
  for (const a of [[...args, '--type', type, ...typedExtra], args]) {
    const r = await run(['verify', ...a, '--json'], env);
    expect([0, 1], r.stderr).toContain(r.code);
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    const verdict = JSON.parse(lines[0] as string) as Json;
    expect(r.code).toBe(verdict['verified'] ? 0 : 1);
    check(verdict);
  }
}

const refusedWith = (code: string) => (v: Json) => expect(v['error']?.['code'] ?? 'verified').toBe(code);

// --- AMD SEV-SNP ------------------------------------------------------------------------------------

interface SnpVector {
  id: string;
  report: string;
  product: 'Milan' | 'Genoa' | 'Turin';
  report_version: number;
  signer: 'VCEK' | 'VLEK';
  vek: string | null;
  signature_verifies: boolean | null;
  verification_time: string | null;
  fields: { report_data: string; measurement: string; chip_id: string; vmpl: number; policy: { debug: boolean }; reported_tcb: Json };
}

const snpVectors = readManifest<{ vectors: SnpVector[] }>('snp').vectors;
const chainOf = (v: SnpVector) => snpPath('amd', v.product.toLowerCase(), `cert_chain_${v.signer.toLowerCase()}.pem`);

describe.concurrent('snp: every manifest vector', () => {
  it('lists the vectors this suite expects', () => {
    expect(snpVectors.length).toBe(18);
  });

  it.each(snpVectors.map((v) => [v.id, v] as const))('%s', async (_id, v) => {
    if (!v.vek) {
      // The parse-only report: no VCEK exists anywhere, so the key is missing collateral.
      await bothWays(['--evidence', snpPath(v.report), ...collateral(chainOf(v)), '--at', '2025-06-01T00:00:00Z'], 'snp', refusedWith('ERR_COLLATERAL_MISSING'));
      return;
    }
    const args = ['--evidence', snpPath(v.report), ...collateral(snpPath(v.vek), chainOf(v)), '--at', v.verification_time as string];
    if (!v.signature_verifies) {
      await bothWays(args, 'snp', refusedWith('ERR_SNP_SIGNATURE_INVALID'));
      return;
    }
    const { raw_hex: _raw, ...reportedTcb } = v.fields.reported_tcb;
    await bothWays(args, 'snp', (verdict) => {
      expect(verdict['tee']).toBe('snp');
      expect(verdict['claims']).toMatchObject({
        tee: 'snp',
        product: v.product,
        reportVersion: v.report_version,
        signer: v.signer.toLowerCase(),
        measurement: v.fields.measurement,
        reportData: v.fields.report_data,
        chipId: v.fields.chip_id,
        vmpl: v.fields.vmpl,
        debug: v.fields.policy.debug,
        reportedTcb,
        anchor: { source: 'vendor', name: `AMD ARK-${v.product}` },
      });
    }, ['--nonce', v.fields.report_data]);
  });
});

describe.concurrent('snp: revocation offline', () => {
  const v = snpVectors.find((x) => x.id === 'milan-v3-vcek-oak-cb') as SnpVector;
  const args = ['--evidence', snpPath(v.report), ...collateral(snpPath(v.vek as string), chainOf(v)), '--at', '2025-06-01T00:00:00Z'];
  const crl = snpPath('crl', 'milan_vcek_crl_2025-05-06.der');

  it('without CRLs: verified, and the claims say revocationChecked: false', async () => {
    expect((await expectVerified(args))['claims']).toMatchObject({ revocationChecked: false });
  });

  it('--require-revocation: refused without the ARK CRL (ERR_COLLATERAL_MISSING), verified with it', async () => {
    await expectRefused([...args, '--require-revocation'], 'ERR_COLLATERAL_MISSING');
    expect((await expectVerified([...args, '--collateral', crl, '--require-revocation']))['claims']).toMatchObject({ revocationChecked: true });
  });

  it('a CRL that is given is checked: past its nextUpdate it is ERR_CRL_STALE', async () => {
    await expectRefused(['--evidence', snpPath(v.report), ...collateral(snpPath(v.vek as string), chainOf(v), crl), '--at', '2026-06-01T00:00:00Z'], 'ERR_CRL_STALE');
  });
});

// --- Intel TDX and SGX ---------------------------------------------------------------------------------

const intelCases = intelManifest.quotes.flatMap((q) => q.evaluations.map((e) => [`${q.id} @ ${e.collateral_set}`, q, e] as const));

function checkIntel(q: IntelQuote, e: IntelEvaluation): (v: Json) => void {
  return (verdict) => {
    if (e.expected.tcb_status === 'TCB_NOT_SUPPORTED') {
      refusedWith('ERR_DCAP_TCB_NOT_SUPPORTED')(verdict);
      return;
    }
    const tee = q.tee_type === 'TDX' ? 'tdx' : 'sgx';
    const report = (q.td_report ?? q.enclave_report) as Json;
    expect(verdict['tee']).toBe(tee);
    expect(verdict['claims']).toMatchObject({
      tee,
      quoteVersion: q.quote_version,
      tcbStatus: e.expected.tcb_status,
      advisoryIds: [...(e.expected.advisory_ids ?? [])].sort(),
      fmspc: q.pck.fmspc.toLowerCase(),
      reportData: report['report_data'],
      ...(tee === 'tdx' ? { mrTd: report['mrtd'], mrSeam: report['mrseam'] } : { mrEnclave: report['mrenclave'], mrSigner: report['mrsigner'] }),
      anchor: { source: 'vendor', name: 'Intel SGX Root CA' },
    });
  };
}

describe.concurrent('tdx and sgx: every manifest quote under each collateral set (a directory)', () => {
  it('lists the evaluations this suite expects', () => {
    expect(intelCases.length).toBe(21);
  });

  it.each(intelCases)('%s', async (_label, q, e) => {
    const dir = intelPath(intelManifest.collateral_sets[e.collateral_set]?.dir as string);
    const reportData = ((q.td_report ?? q.enclave_report) as Json)['report_data'] as string;
    const args = ['--evidence', intelPath(q.file), '--collateral', dir, '--at', e.verification_time];
    await bothWays(args, q.tee_type === 'TDX' ? 'tdx' : 'sgx', checkIntel(q, e), ['--nonce', reportData]);
  });
});

// --- AWS Nitro Enclaves ----------------------------------------------------------------------------------

interface NitroVector {
  id: string;
  files: { path: string }[];
  verification_time: string;
  document: { module_id: string; pcrs: Record<string, string>; nonce: { hex: string } | null; user_data: { hex: string } | null };
}
const nitroVectors = readManifest<{ vectors: NitroVector[] }>('nitro').vectors;

describe.concurrent('nitro: every manifest document', () => {
  it.each(nitroVectors.map((v) => [v.id, v] as const))('%s', async (_id, v) => {
    const nonce = v.document.nonce ? ['--nonce', v.document.nonce.hex] : [];
    await bothWays(['--evidence', nitroPath((v.files[0] as { path: string }).path), '--at', v.verification_time], 'nitro', (verdict) => {
      expect(verdict['tee']).toBe('nitro');
      expect(verdict['claims']).toMatchObject({
        tee: 'nitro',
        moduleId: v.document.module_id,
        pcrs: v.document.pcrs,
        nonce: v.document.nonce?.hex ?? '',
        userData: v.document.user_data?.hex ?? '',
        debug: v.id.includes('debug-mode'),
        anchor: { source: 'vendor', name: 'AWS Nitro Enclaves Root-G1' },
      });
    }, nonce);
  });
});

// --- NVIDIA GPUs, NVSwitch and NRAS ------------------------------------------------------------------------

interface NvVector {
  id: string;
  nonce?: string;
  verification_time: string;
  verification_times?: Record<string, string>;
  expected: Json | null;
}
const nvVectors = readManifest<{ vectors: NvVector[] }>('nvidia').vectors;
const nv = (id: string): NvVector => nvVectors.find((v) => v.id === id) as NvVector;
const JWKS = nvPath('nras-jwks');
/** NVIDIA's NRAS JWKS of that day, trusted as a configured signer (JWK sets in KEYWARD_EXTRA_ANCHORS). */
const nrasEnv: Env = { KEYWARD_EXTRA_ANCHORS: JWKS };

const E2E = 'hopper-550.90.07-e2e';
const NEG = 'hopper-535.86.09-negatives';
const BW1 = 'blackwell-575.32-sdk-sample';
const BW8 = 'blackwell-8gpu-590.48.01-mpt';
const H200 = 'h200-595.71.05-nras-e2e';
const H200N = 'h200-8gpu-595.71.05-nras-nonce-mismatch';
const SW = 'nvswitch-ls10-96.10.55.00.01-e2e';
const e2eRims = [nvPath(E2E, 'driver_rim_NV_GPU_DRIVER_GH100_550.90.07.xml'), nvPath(E2E, 'vbios_rim_NV_GPU_VBIOS_1010_0200_882_96009F0001.xml')];
const gpuArgs = (dir: string, report = 'attestation_report.bin', chain = 'device_cert_chain.pem') => ['--evidence', nvPath(dir, report), ...collateral(nvPath(dir, chain))];
const bw8Chains = Array.from({ length: 8 }, (_, i) => nvPath(BW8, `gpu${i}_device_cert_chain.pem`));

/**
 * RIMs from a test CoRIM root vouching for what the eight real Blackwell reports measured (no Blackwell RIM
 * is public): every index any GPU measured is active, each distinct value an alternative.
 */
function blackwellRims(pki: NvidiaDevRimPki, reports: readonly string[]): [string, string] {
  const parsed = reports.map((r) => parseSpdmReport(new Uint8Array(readFileSync(r))));
  const active = new Set<number>();
  for (const r of parsed) for (const b of r.blocks) if (b.value.some((x) => x !== 0)) active.add(b.index - 1);
  const alternatives = (i: number) => [...new Map(parsed.map((r) => [Buffer.from(r.blocks[i]?.value as Uint8Array).toString('hex'), r.blocks[i]?.value as Uint8Array])).values()];
  const entries = (keep: (i: number) => boolean) => rimEntries(new Map([...active].filter(keep).map((i) => [i, alternatives(i)])));
  const chain = [pki.l3, pki.ca, pki.root];
  return [
    mintRim({ product: 'GB100', version: '590.48.01', entries: entries((i) => i >= 21), signer: pki.signer, chain }),
    mintRim({ product: 'GB100', version: '97.00.D9.00.35', entries: entries((i) => i < 21), signer: pki.signer, chain }),
  ];
}

/** No genuine 535.86.09 driver RIM exists: one from a test CoRIM root vouching for the report's driver indices. */
function driverRim535(pki: NvidiaDevRimPki): string {
  const blocks = parseSpdmReport(new Uint8Array(readFileSync(nvPath(NEG, 'attestation_report.bin')))).blocks;
  const driverActive = [7, ...Array.from({ length: 20 }, (_, i) => 21 + i)];
  const entries = rimEntries(new Map(driverActive.map((i) => [i, [blocks[i]?.value as Uint8Array]])));
  return mintRim({ product: 'GH100', version: '535.86.09', entries, signer: pki.signer, chain: [pki.l3, pki.ca, pki.root] });
}

describe.concurrent('nvidia: every manifest vector', () => {
  let anchorsEnv: Env;
  let syntheticDriver535: string;
  let bw8Rims: string[];
  let bw8Set: string;

  beforeAll(async () => {
    const pki = await createNvidiaDevRimPki({ label: 'TEST', notBefore: new Date('2020-01-01Z'), notAfter: new Date('2030-01-01Z') });
    const anchorsDir = mkdtempSync(join(tmp, 'anchors-'));
    writeFileSync(join(anchorsDir, 'test-corim-root.der'), pki.root.der);
    anchorsEnv = { KEYWARD_EXTRA_ANCHORS: anchorsDir };
    syntheticDriver535 = tmpFile('driver-535.86.09.xml', driverRim535(pki));
    const reports = Array.from({ length: 8 }, (_, i) => nvPath(BW8, `gpu${i}_attestation_report.bin`));
    bw8Rims = blackwellRims(pki, reports).map((xml, i) => tmpFile(`bw8-rim-${i}.xml`, xml));
    const evidence = reports.map((r, i) => ({ type: 'nvidia-gpu', report: readFileSync(r).toString('base64'), certChain: readFileSync(bw8Chains[i] as string, 'utf8') }));
    bw8Set = tmpFile('bw8-set.json', JSON.stringify({ evidence }));
  });

  it(`${E2E}: 33/33 measurements against the real driver and VBIOS RIMs`, async () => {
    const v = nv(E2E);
    const expected = v.expected as Json;
    await bothWays([...gpuArgs(E2E), ...collateral(...e2eRims), '--at', v.verification_time], 'nvidia-gpu', (verdict) => {
      expect(verdict['tee']).toBe('nvidia-gpu');
      expect(verdict['claims']).toMatchObject({
        arch: 'hopper',
        source: 'local',
        nonce: v.nonce,
        driverVersion: expected['driver_version'],
        vbiosVersion: expected['vbios_version'],
        measurements: { matched: 33, total: 33, mismatchedIndices: [] },
        rim: { driver: expected['driver_rim_id'], vbios: expected['vbios_rim_id'] },
        anchor: { source: 'vendor', name: 'NVIDIA Device Identity CA' },
      });
    }, ['--nonce', v.nonce as string]);
  });

  it(`${E2E}: the device chain's OCSP answers count; a directory of other versions' RIMs is read and ignored`, async () => {
    const at = nv(E2E).verification_times?.['gpu_ocsp'] as string;
    const ocsp = readdirSync(nvPath(E2E, 'ocsp')).filter((f) => f.startsWith('gpu_')).map((f) => nvPath(E2E, 'ocsp', f));
    expect(ocsp).toHaveLength(3);
    const verdict = await expectVerified([...gpuArgs(E2E), ...collateral(...e2eRims, ...ocsp, nvPath('rim-signature-only')), '--at', at]);
    expect(verdict['claims']['revocationCoverage']).toEqual({ checked: 3, required: 9 });
    expect(verdict['claims']['rim']['driver']).toBe('NV_GPU_DRIVER_GH100_550.90.07');
  });

  it(`${E2E}: its NRAS token cannot be checked without the JWKS of its day (ERR_COLLATERAL_MISSING)`, async () => {
    await bothWays(['--evidence', nvPath(E2E, 'nras_detached_eat.json'), '--collateral', JWKS, '--at', '2025-06-11T00:31:00Z'], 'nvidia-nras', refusedWith('ERR_COLLATERAL_MISSING'));
  });

  it(`${NEG}: the report with a bad signature (ERR_NVIDIA_REPORT_SIGNATURE_INVALID)`, async () => {
    const v = nv(NEG);
    await bothWays([...gpuArgs(NEG, 'attestation_report_invalid_signature.bin'), '--at', v.verification_time], 'nvidia-gpu', refusedWith('ERR_NVIDIA_REPORT_SIGNATURE_INVALID'));
  });

  it(`${NEG}: the tampered driver RIM (ERR_RIM_DIGEST_MISMATCH once its signer is valid)`, async () => {
    const rims = [nvPath(NEG, 'driver_rim_535.86.09_tampered.xml'), nvPath(NEG, 'vbios_rim_1010_0200_882_96005E0001_PROD.swidtag')];
    await bothWays([...gpuArgs(NEG), ...collateral(...rims), '--at', '2025-10-24T12:00:00Z'], 'nvidia-gpu', refusedWith('ERR_RIM_DIGEST_MISMATCH'));
  });

  it(`${NEG}: with a test-root driver RIM (KEYWARD_EXTRA_ANCHORS), the PROD VBIOS RIM matches and the idx9 one does not`, async () => {
    const v = nv(NEG);
    const base = [...gpuArgs(NEG), '--collateral', syntheticDriver535, '--at', v.verification_time];
    const prod = await expectVerified([...base, '--collateral', nvPath(NEG, 'vbios_rim_1010_0200_882_96005E0001_PROD.swidtag'), '--nonce', v.nonce as string], anchorsEnv);
    expect(prod['claims']).toMatchObject({ measurements: { matched: 33, total: 33 }, anchor: { source: 'extra' }, rimAnchor: { source: 'extra' } });
    const idx9 = await expectRefused([...base, '--collateral', nvPath(NEG, 'vbios_rim_measurement_mismatch_idx9.xml')], 'ERR_NVIDIA_MEASUREMENT_MISMATCH', anchorsEnv);
    expect(idx9['details']).toEqual({ mismatchedIndices: [9], matched: 32, total: 33 });
    await expectRefused([...base, '--collateral', nvPath(NEG, 'vbios_rim_1010_0200_882_96005E0001_PROD.swidtag')], 'ERR_CHAIN_UNTRUSTED_ROOT');
  });

  it(`${BW1}: report, chain and nonce verify; no Blackwell RIM is public (ERR_COLLATERAL_MISSING names it)`, async () => {
    const v = nv(BW1);
    await bothWays([...gpuArgs(BW1), '--at', v.verification_time], 'nvidia-gpu', (verdict) => {
      expect(verdict['error']).toMatchObject({ code: 'ERR_COLLATERAL_MISSING', details: { rimId: 'NV_GPU_CC_DRIVER_GB100_575.32' } });
    }, ['--nonce', v.nonce as string]);
    await expectRefused([...gpuArgs(BW1), '--at', v.verification_time, '--nonce', '00'.repeat(32)], 'ERR_EVIDENCE_NONCE_MISMATCH');
  });

  it(`${BW8}: one report among eight chains: the leaf is the one that signed it`, async () => {
    const v = nv(BW8);
    await bothWays(['--evidence', nvPath(BW8, 'gpu5_attestation_report.bin'), ...collateral(...bw8Chains), '--at', v.verification_time], 'nvidia-gpu', (verdict) => {
      expect(verdict['error']).toMatchObject({ code: 'ERR_COLLATERAL_MISSING', details: { rimId: 'NV_GPU_CC_DRIVER_GB100_590.48.01' } });
    });
    const others = bw8Chains.filter((_, i) => i !== 5);
    await expectRefused(['--evidence', nvPath(BW8, 'gpu5_attestation_report.bin'), ...collateral(...others), '--at', v.verification_time], 'ERR_NVIDIA_REPORT_SIGNATURE_INVALID');
  });

  it(`${BW8}: the eight reports as one composite wire-form set, with test-root RIMs: 8 GPUs, all matched`, async () => {
    const v = nv(BW8);
    const expected = v.expected as Json;
    const args = ['--evidence', bw8Set, ...collateral(...bw8Rims), '--at', v.verification_time];
    const verdict = await expectVerified(args, anchorsEnv);
    expect(verdict['tee']).toBe('composite');
    expect(verdict['claims']['items']).toHaveLength(8);
    for (const item of verdict['claims']['items'] as Json[]) {
      expect(item).toMatchObject({ tee: 'nvidia-gpu', arch: 'blackwell', nonce: v.nonce, driverVersion: expected['driver_version'], vbiosVersion: expected['vbios_version'] });
    }
    expect(verdict['claims']['topology']).toMatchObject({ gpuCount: 8, duplicateCount: 0, allMeasurementsMatched: true, sameDriver: true, sameVbios: true });
    const binding = `${v.nonce}${randomBytes(32).toString('hex')}`;
    expect((await expectVerified([...args, '--nonce', binding], anchorsEnv))['tee']).toBe('composite');
    await expectRefused([...args, '--nonce', `${'00'.repeat(32)}${binding.slice(64)}`], 'ERR_EVIDENCE_NONCE_MISMATCH', anchorsEnv);
    await expectRefused(['--evidence', bw8Set, '--at', v.verification_time], 'ERR_COLLATERAL_MISSING');
  });

  it(`${H200}: the NRAS result verifies with the archived JWKS as an anchor, not as mere collateral; its local report needs a RIM`, async () => {
    const v = nv(H200);
    await bothWays(['--evidence', nvPath(H200, 'nras_response.json'), '--at', v.verification_time], 'nvidia-nras', (verdict) => {
      expect(verdict['tee']).toBe('nvidia-gpu');
      expect(verdict['claims']).toMatchObject({ source: 'nras', nonce: v.nonce, driverVersion: '595.71.05', vbiosVersion: '96.00.d9.00.02', chip: 'GH100', anchor: { source: 'extra' } });
      expect(verdict['claims']['devices']).toHaveLength(1);
    }, ['--nonce', v.nonce as string], nrasEnv);
    await expectRefused(['--evidence', nvPath(H200, 'nras_response.json'), '--collateral', JWKS, '--at', v.verification_time], 'ERR_NRAS_SIGNER_UNTRUSTED');
    await expectRefused(['--evidence', nvPath(H200, 'nras_response.json'), '--at', v.verification_time, '--nonce', 'ff'.repeat(32)], 'ERR_EVIDENCE_NONCE_MISMATCH', nrasEnv);
    const local = await expectRefused([...gpuArgs(H200), '--at', v.verification_time, '--nonce', v.nonce as string], 'ERR_COLLATERAL_MISSING');
    expect(local['details']).toEqual({ rimId: 'NV_GPU_DRIVER_GH100_595.71.05' });
  });

  it(`${H200N}: NRAS's signed "false" for a nonce the GPUs did not sign, and the GPU's own report`, async () => {
    const v = nv(H200N);
    await bothWays(['--evidence', nvPath(H200N, 'nras_response.json'), '--at', v.verification_time], 'nvidia-nras', refusedWith('ERR_EVIDENCE_NONCE_MISMATCH'), [], nrasEnv);
    await expectRefused([...gpuArgs(H200N, 'gpu0_attestation_report.bin', 'gpu0_device_cert_chain.pem'), '--at', v.verification_time, '--nonce', v.nonce as string], 'ERR_EVIDENCE_NONCE_MISMATCH');
  });

  it(`${SW}: the NVSwitch with its switch BIOS RIM: 31/31; the staging NRAS token is refused`, async () => {
    const v = nv(SW);
    const rim = nvPath(SW, 'switch_bios_rim_NV_SWITCH_BIOS_5612_0002_890_9610550001.xml');
    await bothWays([...gpuArgs(SW), '--collateral', rim, '--at', v.verification_time], 'nvidia-gpu', (verdict) => {
      expect(verdict['claims']).toMatchObject({ deviceType: 'nvswitch', chip: 'LS10', vbiosVersion: (v.expected as Json)['bios_version_ascii'], measurements: { matched: 31, total: 31 } });
    }, ['--nonce', v.nonce as string]);
    await expectRefused(['--evidence', nvPath(SW, 'nras_detached_eat.json'), '--collateral', JWKS, '--at', '2025-06-29T00:00:00Z'], 'ERR_NRAS_ISSUER_UNTRUSTED');
  });

  it('rim-signature-only holds RIMs, not evidence: they are read as collateral (see the OCSP case above)', () => {
    const v = nv('rim-signature-only') as NvVector & { rims?: unknown[] };
    expect(v.rims?.length).toBeGreaterThan(0);
    expect(readdirSync(nvPath('rim-signature-only')).every((f) => f.endsWith('.xml'))).toBe(true);
  });

  it('covers every vector of the manifest', () => {
    expect(nvVectors.map((v) => v.id).sort()).toEqual([BW1, BW8, H200, H200N, NEG, E2E, 'rim-signature-only', SW].sort());
  });
});

// --- mutations, nonces, the wire form, output forms ------------------------------------------------------------

describe.concurrent('flipped bytes are refused with the specific code', () => {
  const gosev = snpVectors.find((v) => v.id === 'milan-v2-vcek-gosevguest') as SnpVector;
  const tdx = intelManifest.quotes.find((q) => q.id === 'tdx-v4-dcapqvl-sample') as IntelQuote;
  const sgx = intelManifest.quotes.find((q) => q.id === 'sgx-v3-dcapqvl-sample') as IntelQuote;
  const setDir = (q: IntelQuote) => intelPath(intelManifest.collateral_sets[(q.evaluations[0] as IntelEvaluation).collateral_set]?.dir as string);
  const at = (q: IntelQuote) => (q.evaluations[0] as IntelEvaluation).verification_time;
  const cape = nitroVectors.find((v) => v.id === 'cape-2022-09-15') as NitroVector;

  it.each([
    ['snp MEASUREMENT (0x90)', () => ['--evidence', flipped(snpPath(gosev.report), () => 0x90, 'snp.bin'), ...collateral(snpPath(gosev.vek as string), chainOf(gosev)), '--at', gosev.verification_time as string], 'ERR_SNP_SIGNATURE_INVALID'],
    ['tdx body (MRTD)', () => ['--evidence', flipped(intelPath(tdx.file), () => 0x30 + 0x88, 'tdx.bin'), '--collateral', setDir(tdx), '--at', at(tdx)], 'ERR_DCAP_QUOTE_SIGNATURE_INVALID'],
    ['sgx body (MRENCLAVE)', () => ['--evidence', flipped(intelPath(sgx.file), () => 0x30 + 0x40, 'sgx.bin'), '--collateral', setDir(sgx), '--at', at(sgx)], 'ERR_DCAP_QUOTE_SIGNATURE_INVALID'],
    ['nvidia-gpu signature (last byte)', () => ['--evidence', flipped(nvPath(E2E, 'attestation_report.bin'), (n) => n - 1, 'gpu.bin'), ...collateral(nvPath(E2E, 'device_cert_chain.pem'), ...e2eRims), '--at', nv(E2E).verification_time], 'ERR_NVIDIA_REPORT_SIGNATURE_INVALID'],
    ['nitro COSE signature (last byte)', () => ['--evidence', flipped(nitroPath((cape.files[0] as { path: string }).path), (n) => n - 1, 'nitro.cbor'), '--at', cape.verification_time], 'ERR_NITRO_SIGNATURE_INVALID'],
  ] as const)('%s', async (_label, args, code) => {
    await expectRefused([...args()], code);
  });

  it('nvidia-nras: one character of the overall token\'s signature', async () => {
    const text = readFileSync(nvPath(H200, 'nras_response.json'), 'utf8');
    const [[, overall], devices] = JSON.parse(text) as [[string, string], Json];
    const signatureAt = overall.lastIndexOf('.') + 10;
    const edited = overall.slice(0, signatureAt) + (overall[signatureAt] === 'A' ? 'B' : 'A') + overall.slice(signatureAt + 1);
    const file = tmpFile('nras-flipped.json', JSON.stringify([['JWT', edited], devices]));
    await expectRefused(['--evidence', file, '--at', nv(H200).verification_time], 'ERR_NRAS_SIGNATURE_INVALID', nrasEnv);
  });
});

describe.concurrent('nonce mismatch, wire form and human output', () => {
  const gosev = snpVectors.find((v) => v.id === 'milan-v2-vcek-gosevguest') as SnpVector;
  const gosevArgs = () => ['--evidence', snpPath(gosev.report), ...collateral(snpPath(gosev.vek as string), chainOf(gosev)), '--at', gosev.verification_time as string];
  const cape = nitroVectors.find((v) => v.id === 'cape-2022-09-15') as NitroVector;
  const capeDoc = () => readFileSync(nitroPath((cape.files[0] as { path: string }).path));

  it('snp and nitro refuse another nonce (ERR_EVIDENCE_NONCE_MISMATCH)', async () => {
    const wrong = `${gosev.fields.report_data.slice(0, 126)}ff`;
    await expectRefused([...gosevArgs(), '--nonce', wrong], 'ERR_EVIDENCE_NONCE_MISMATCH');
    await expectRefused(['--evidence', nitroPath((cape.files[0] as { path: string }).path), '--at', cape.verification_time, '--nonce', '00'.repeat(12)], 'ERR_EVIDENCE_NONCE_MISMATCH');
  });

  it('accepts one wire-form item {"type", ...}; a malformed one is a verdict (ERR_EVIDENCE_MALFORMED)', async () => {
    const item = tmpFile('nitro-item.json', JSON.stringify({ type: 'nitro', document: capeDoc().toString('base64') }));
    const verdict = await expectVerified(['--evidence', item, '--at', cape.verification_time]);
    expect(verdict['claims']['moduleId']).toBe(cape.document.module_id);
    const bad = tmpFile('nitro-bad.json', JSON.stringify({ type: 'nitro', document: '%%%' }));
    await expectRefused(['--evidence', bad, '--at', cape.verification_time], 'ERR_EVIDENCE_MALFORMED');
  });

  it('prints a short human summary without --json', async () => {
    const ok = await run(['verify', ...gosevArgs()], {});
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^VERIFIED at 2022-09-25T00:55:28\.000Z\n/);
    expect(ok.stdout).toMatch(/\n {2}tee +snp\n/);
    expect(ok.stdout).toMatch(/\n {2}anchor +vendor: AMD ARK-Milan /);
    expect(ok.stdout).toContain(gosev.fields.measurement);
    const refused = await run(['verify', ...gosevArgs(), '--at', '2030-01-01T00:00:00Z'], {});
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/^NOT VERIFIED at 2030-01-01T00:00:00\.000Z: ERR_CHAIN_EXPIRED\n {2}\S/);
  });

  it('--help describes the options and how the GPU chain is assembled', async () => {
    const r = await run(['verify', '--help'], {});
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--collateral PATH');
    expect(r.stdout).toContain('device certificate chain is assembled');
  });
});

describe.concurrent('usage errors exit 2 with nothing on stdout', () => {
  const gosev = snpVectors.find((v) => v.id === 'milan-v2-vcek-gosevguest') as SnpVector;
  const report = snpPath(gosev.report);

  it.each([
    ['missing --evidence', () => ['--json'], /--evidence FILE is required/],
    ['unknown --type', () => ['--evidence', report, '--type', 'sev', '--json'], /--type must be one of/],
    ['bad --at', () => ['--evidence', report, '--at', 'yesterday', '--json'], /--at must be an RFC 3339/],
    ['impossible --at', () => ['--evidence', report, '--at', '2025-02-30T00:00:00Z', '--json'], /does not exist/],
    ['non-hex --nonce', () => ['--evidence', report, '--nonce', 'xyz', '--json'], /--nonce must be/],
    ['odd-length --nonce', () => ['--evidence', report, '--nonce', 'abc', '--json'], /--nonce must be/],
    ['unreadable evidence file', () => ['--evidence', join(tmp, 'no-such-file.bin'), '--json'], /cannot read --evidence .*no-such-file\.bin/],
    ['unrecognized collateral', () => ['--evidence', report, '--collateral', report, '--json'], /--collateral .*milan-v2-vcek-gosevguest\.bin: not a certificate/],
    ['missing collateral path', () => ['--evidence', report, '--collateral', join(tmp, 'nope'), '--json'], /cannot read --collateral/],
    ['unknown option', () => ['--evidence', report, '--frobnicate', '--json'], /Unknown option/],
    ['undetectable evidence', () => ['--evidence', tmpFile('noise.bin', randomBytes(2000)), '--json'], /cannot tell what evidence/],
    ['JSON that is no evidence', () => ['--evidence', tmpFile('other.json', '{"hello": 1}'), '--json'], /neither an evidence item/],
    ['--type against the wire form', () => ['--evidence', tmpFile('typed.json', JSON.stringify({ type: 'nitro', document: 'AA==' })), '--type', 'snp', '--json'], /--type snp does not match/],
    ['a GPU report without its chain', () => ['--evidence', nvPath(E2E, 'attestation_report.bin'), '--json'], /needs its device certificate chain/],
  ] as const)('%s', async (_label, args, stderr) => {
    await expectUsage([...args()], stderr);
  });

  it('a KEYWARD_EXTRA_ANCHORS that is not a directory of certificates', async () => {
    await expectUsage(['--evidence', report, '--json'], /KEYWARD_EXTRA_ANCHORS/, { KEYWARD_EXTRA_ANCHORS: join(tmp, 'missing-anchors') });
  });
});
