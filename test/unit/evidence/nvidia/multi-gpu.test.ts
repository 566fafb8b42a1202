import { beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { readVector } from '../../../helpers/vectors.js';
import { verifyEvidenceSet } from '../../../../src/evidence/verify.js';
import { parseSpdmReport } from '../../../../src/evidence/nvidia/spdm.js';
import { verifyGpuReport } from '../../../../src/evidence/nvidia/report.js';
import { summarizeGpus, expandNvidiaClaims } from '../../../../src/evidence/nvidia/topology.js';
import type { NvidiaGpuClaims } from '../../../../src/evidence/nvidia/claims.js';
import { createTrustAnchors } from '../../../../src/evidence/anchors.js';
import { LruMemo } from '../../../../src/evidence/memo.js';
import { emptyCollateral } from '../../../../src/collateral/recognize.js';
import type { EvidenceItem, VerifyContext } from '../../../../src/evidence/types.js';
import { createNvidiaDevRimPki, mintRim, rimEntries, type NvidiaDevRimPki } from '../../../../src/dev/nvidia-rim.js';
import { mintNvidiaGpuEvidence } from '../../../../src/dev/nvidia-evidence.js';
import { codeOf, ctx, gpuItem, hex, nvText, vector } from './fixtures.js';

const BW = 'blackwell-8gpu-590.48.01-mpt';
const bw = vector(BW);
const bwItems = Array.from({ length: 8 }, (_, i) => gpuItem(`${BW}/gpu${i}_attestation_report.bin`, `${BW}/gpu${i}_device_cert_chain.pem`));
const bwNonce = hex(bw.nonce as string);
/** A 64-byte release binding whose first 32 bytes are the GPUs' nonce (docs/design.md "Release protocol"). */
const bwBinding = new Uint8Array([...bwNonce, ...randomBytes(32)]);

/**
 * No Blackwell RIMs are public: vouch for the eight real reports with RIMs from a test CoRIM root. Every
 * index any GPU measured is active, with each distinct value seen as an alternative (as NVIDIA lists them).
 */
function blackwellRims(pki: NvidiaDevRimPki): string[] {
  const reports = bwItems.map((item) => parseSpdmReport(item.report));
  const active = new Set<number>();
  for (const r of reports) for (const b of r.blocks) if (b.value.some((x) => x !== 0)) active.add(b.index - 1);
  const alternatives = (i: number): Uint8Array[] => {
    const distinct = new Map(reports.map((r) => [Buffer.from(r.blocks[i]?.value as Uint8Array).toString('hex'), r.blocks[i]?.value as Uint8Array]));
    return [...distinct.values()];
  };
  const entries = (filter: (i: number) => boolean) => rimEntries(new Map([...active].filter(filter).map((i) => [i, alternatives(i)])));
  const chain = [pki.l3, pki.ca, pki.root];
  return [
    mintRim({ product: 'GB100', version: '590.48.01', entries: entries((i) => i >= 21), signer: pki.signer, chain }),
    mintRim({ product: 'GB100', version: '97.00.D9.00.35', entries: entries((i) => i < 21), signer: pki.signer, chain }),
  ];
}

describe('the real Blackwell 8-GPU set (MPT)', () => {
  let pki: NvidiaDevRimPki;
  let setCtx: Omit<VerifyContext, 'expectedNonce'>;

  beforeAll(async () => {
    pki = await createNvidiaDevRimPki({ notBefore: new Date('2025-01-01Z'), notAfter: new Date('2030-01-01Z') });
    // No OCSP answers were captured with these reports: revocation is optional here.
    setCtx = { collateral: { ...emptyCollateral(), rims: blackwellRims(pki) }, anchors: createTrustAnchors([pki.root.der]), now: new Date(bw.verification_time), memo: new LruMemo(), revocation: 'optional' };
  });

  it('every report verifies (signature, chain, FWID) with the shared nonce', () => {
    const ueids = bwItems.map((item) => verifyGpuReport(item.report, item.certChain, ctx(bw.verification_time, {}, { expectedNonce: bwNonce })).ueid);
    expect(new Set(ueids).size).toBe(8);
  });

  it('verifyEvidenceSet accepts all eight bound to one nonce; the topology says "8 GPUs, all matched"', async () => {
    const verified = await verifyEvidenceSet(bwItems, setCtx, bwBinding);
    const claims = verified.map((v) => v.claims as NvidiaGpuClaims);
    expect(claims.every((c) => c.nonce === bw.nonce && c.featureFlag === 'mpt' && c.arch === 'blackwell')).toBe(true);
    expect(summarizeGpus(claims)).toEqual({
      gpuCount: 8,
      switchCount: 0,
      duplicateCount: 0,
      allCcMode: true,
      sameDriver: true,
      sameVbios: true,
      allMeasurementsMatched: true,
      allRevocationChecked: false,
      driverVersions: [(bw.expected as Record<string, string>)['driver_version']],
      vbiosVersions: [(bw.expected as Record<string, string>)['vbios_version']],
    });
    expect(claims[0]?.anchor.source).toBe('extra');
  });

  it('a set bound to another nonce is refused', async () => {
    expect(await codeOf(() => verifyEvidenceSet(bwItems, setCtx, new Uint8Array(64)))).toBe('ERR_EVIDENCE_NONCE_MISMATCH');
  });

  it('one GPU from another session in the set is refused', async () => {
    const stranger = gpuItem('hopper-550.90.07-e2e/attestation_report.bin', 'hopper-550.90.07-e2e/device_cert_chain.pem');
    expect(await codeOf(() => verifyEvidenceSet([...bwItems.slice(0, 7), stranger], setCtx, bwBinding))).toBe('ERR_EVIDENCE_NONCE_MISMATCH');
  });

  it('a GPU repeated to look like eight is refused: ERR_EVIDENCE_DUPLICATE_DEVICE', async () => {
    expect(await codeOf(() => verifyEvidenceSet([...bwItems.slice(0, 7), bwItems[0] as EvidenceItem], setCtx, bwBinding))).toBe('ERR_EVIDENCE_DUPLICATE_DEVICE');
    const oneGpuEightTimes = Array.from({ length: 8 }, () => bwItems[3] as EvidenceItem);
    expect(await codeOf(() => verifyEvidenceSet(oneGpuEightTimes, setCtx, bwBinding))).toBe('ERR_EVIDENCE_DUPLICATE_DEVICE');
  });

  it('gives each GPU a distinct deviceId: SHA-256 of its device identity (BROM) certificate key, lowercase hex', async () => {
    const verified = await verifyEvidenceSet(bwItems, setCtx, bwBinding);
    const ids = verified.map((v) => (v.claims as NvidiaGpuClaims).deviceId);
    expect(new Set(ids).size).toBe(8);
    expect(ids.every((id) => /^[0-9a-f]{64}$/.test(id))).toBe(true);
  });
});

describe('the real H200 8-GPU set sent to NRAS', () => {
  const H = 'h200-8gpu-595.71.05-nras-nonce-mismatch';
  const request = JSON.parse(nvText(`${H}/nras_request.json`)) as { nonce: string; evidence_list: { certificate: string; evidence: string }[] };

  it('all eight reports are genuine, but signed a nonce other than the one sent to NRAS', () => {
    expect(Buffer.from(request.evidence_list[0]?.evidence as string, 'base64')).toEqual(Buffer.from(readVector('nvidia', `${H}/gpu0_attestation_report.bin`)));
    const signed = new Set<string>();
    for (const e of request.evidence_list) {
      const report = new Uint8Array(Buffer.from(e.evidence, 'base64'));
      const chain = Buffer.from(e.certificate, 'base64').toString('latin1');
      const v = verifyGpuReport(report, chain, ctx(vector(H).verification_time));
      signed.add(Buffer.from(v.report.nonce).toString('hex'));
      expect(() => verifyGpuReport(report, chain, ctx(vector(H).verification_time, {}, { expectedNonce: hex(request.nonce) }))).toThrowError(
        expect.objectContaining({ code: 'ERR_EVIDENCE_NONCE_MISMATCH' }),
      );
    }
    expect([...signed]).toEqual([(vector(H).reports?.[0]?.request.nonce as string)]);
  });
});

describe('summarizeGpus', () => {
  const base: NvidiaGpuClaims = {
    tee: 'nvidia-gpu', debug: false, anchor: { source: 'vendor', name: 'x', spki: 'a' }, simulated: false, revocationChecked: true, arch: 'hopper', nonce: 'n',
    driverVersion: '550.90.07', vbiosVersion: '96.00.9f.00.01', measurements: { matched: 33, total: 33, mismatchedIndices: [] },
    rim: { driver: 'd', vbios: 'v' }, revocation: 'checked', source: 'local', deviceType: 'gpu', chip: 'GH100', ccMode: true,
    featureFlag: 'unreported', ueid: '1', deviceId: 'id1', hwmodel: 'GH100 A01 GSP BROM', revocationCoverage: { checked: 9, required: 9 },
  };
  const gpu = (n: number, over: Partial<NvidiaGpuClaims> = {}): NvidiaGpuClaims => ({ ...base, ueid: String(n), deviceId: `id${n}`, ...over });

  it('is false on every "all" question when there is no GPU', () => {
    expect(summarizeGpus([])).toMatchObject({ gpuCount: 0, allCcMode: false, sameDriver: false, sameVbios: false, allMeasurementsMatched: false, allRevocationChecked: false });
  });

  it('notices mixed drivers and VBIOSes, debug GPUs and unchecked revocation', () => {
    const s = summarizeGpus([gpu(1), gpu(2, { driverVersion: '550.144.03' }), gpu(3, { vbiosVersion: '96.00.5e.00.01', debug: true }), gpu(4, { revocation: 'not-checked' })]);
    expect(s).toMatchObject({ gpuCount: 4, sameDriver: false, sameVbios: false, allCcMode: false, allRevocationChecked: false, allMeasurementsMatched: true });
    expect(s.driverVersions).toEqual(['550.144.03', '550.90.07']);
  });

  it('counts NVSwitches apart and expands NRAS results into their devices', () => {
    const nras = gpu(10, { source: 'nras', deviceId: '', measurements: { matched: 0, total: 0, mismatchedIndices: [] } });
    const devices = [nras, gpu(11, { source: 'nras', deviceId: '', measurements: { matched: 0, total: 0, mismatchedIndices: [] } })];
    const item = { ...nras, devices };
    expect(expandNvidiaClaims([item, gpu(1)]).map((c) => c.ueid)).toEqual(['10', '11', '1']);
    const s = summarizeGpus([item, gpu(1), gpu(2, { deviceType: 'nvswitch', driverVersion: '' })]);
    expect(s).toMatchObject({ gpuCount: 3, switchCount: 1, allMeasurementsMatched: true, sameDriver: true });
  });

  it('does not count a GPU with unmatched or zero measurements as matched', () => {
    expect(summarizeGpus([gpu(1, { measurements: { matched: 0, total: 0, mismatchedIndices: [] } })]).allMeasurementsMatched).toBe(false);
    expect(summarizeGpus([gpu(1, { measurements: { matched: 32, total: 33, mismatchedIndices: [9] } })]).allMeasurementsMatched).toBe(false);
  });
});

describe('eight synthetic GPUs (what the simulator serves)', () => {
  it('one synthetic GPU sent eight times is refused, however the items are ordered', async () => {
    const binding = new Uint8Array(randomBytes(64));
    const ev = await mintNvidiaGpuEvidence({ gpus: 2, nonce: binding.subarray(0, 32), now: new Date('2026-01-01Z') });
    const c = { collateral: { ...emptyCollateral(), rims: ev.rims }, anchors: createTrustAnchors(ev.anchorsDer), now: new Date('2026-02-01Z'), memo: new LruMemo(), revocation: 'optional' as const };
    const [a, b] = ev.items as [EvidenceItem, EvidenceItem];
    expect(await codeOf(() => verifyEvidenceSet(Array.from({ length: 8 }, () => a), c, binding))).toBe('ERR_EVIDENCE_DUPLICATE_DEVICE');
    expect(await codeOf(() => verifyEvidenceSet([a, b, a], c, binding))).toBe('ERR_EVIDENCE_DUPLICATE_DEVICE');
    expect(await verifyEvidenceSet([a, b], c, binding)).toHaveLength(2);
  });

  it('verify as a set and summarize as 8 matched GPUs under a test root', async () => {
    const binding = new Uint8Array(randomBytes(64));
    const ev = await mintNvidiaGpuEvidence({ gpus: 8, nonce: binding.subarray(0, 32), now: new Date('2026-01-01Z') });
    const c = { collateral: { ...emptyCollateral(), rims: ev.rims }, anchors: createTrustAnchors(ev.anchorsDer), now: new Date('2026-02-01Z'), memo: new LruMemo(), revocation: 'optional' as const };
    const verified = await verifyEvidenceSet(ev.items, c, binding);
    const summary = summarizeGpus(verified.map((v) => v.claims as NvidiaGpuClaims));
    expect(summary).toMatchObject({ gpuCount: 8, duplicateCount: 0, allMeasurementsMatched: true, sameDriver: true, sameVbios: true, allCcMode: true });
    expect(verified.every((v) => (v.claims as NvidiaGpuClaims).anchor.name === 'SIMULATED NVIDIA Device Identity CA (SIMULATED NVIDIA)')).toBe(true);
  });
});
