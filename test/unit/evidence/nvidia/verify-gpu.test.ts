import { beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { readVector, vectorPath } from '../../../helpers/vectors.js';
import { verifyNvidiaGpuEvidence } from '../../../../src/evidence/nvidia/verify-gpu.js';
import { verifyEvidence } from '../../../../src/evidence/verify.js';
import { parseSpdmReport } from '../../../../src/evidence/nvidia/spdm.js';
import { createTrustAnchors } from '../../../../src/evidence/anchors.js';
import { LruMemo } from '../../../../src/evidence/memo.js';
import { createNvidiaDevRimPki, mintRim, rimEntries, type NvidiaDevRimPki } from '../../../../src/dev/nvidia-rim.js';
import { devGpuFirmware, mintFirmwareRims, mintGpuReport, mintNvidiaGpuEvidence, type DevNvidiaEvidence } from '../../../../src/dev/nvidia-evidence.js';
import { mintDevGpu } from '../../../../src/dev/nvidia.js';
import { codeOf, ctx, errorOf, gpuItem, hex, nvText, vector } from './fixtures.js';

const E2E = 'hopper-550.90.07-e2e';
const e2e = vector(E2E);
const e2eItem = gpuItem(`${E2E}/attestation_report.bin`, `${E2E}/device_cert_chain.pem`);
const e2eRims = [nvText(`${E2E}/driver_rim_NV_GPU_DRIVER_GH100_550.90.07.xml`), nvText(`${E2E}/vbios_rim_NV_GPU_VBIOS_1010_0200_882_96009F0001.xml`)];

describe('nvidia-gpu on the H100 550.90.07 end-to-end vector', () => {
  it('verifies at its time with the manifest values: 33/33 measurements', async () => {
    const expected = e2e.expected as Record<string, string>;
    const result = await verifyEvidence(e2eItem, ctx(e2e.verification_time, { rims: e2eRims }, { expectedNonce: hex(e2e.nonce as string) }));
    expect(result.claims).toMatchObject({
      tee: 'nvidia-gpu',
      arch: 'hopper',
      debug: false,
      nonce: e2e.nonce,
      driverVersion: expected['driver_version'],
      vbiosVersion: expected['vbios_version'],
      measurements: { matched: 33, total: 33, mismatchedIndices: [] },
      rim: { driver: expected['driver_rim_id'], vbios: expected['vbios_rim_id'] },
      revocation: 'not-checked',
      revocationCoverage: { checked: 0, required: 9 },
      source: 'local',
      deviceType: 'gpu',
      chip: 'GH100',
      ccMode: true,
      featureFlag: 'unreported',
      hwmodel: 'GH100 A01 GSP BROM',
      anchor: { source: 'vendor', name: 'NVIDIA Device Identity CA', spki: 'a90c4eb5acfd3e3d03a25db6a26b84f720ad0503196c627c21ddd48dd85b06a4' },
      rimAnchor: { source: 'vendor', name: 'NVIDIA CoRIM signing Root CA', spki: 'dec1dc316477aa851eebdf51327ae9f864bc8d89254657ed1e7eb9168af1e1a3' },
    });
    expect(result.validFrom.toISOString()).toBe('2024-06-01T02:08:29.000Z');
    expect(result.validUntil.toISOString()).toBe('2026-02-22T23:17:58.000Z');
    expect(result.digest).toBe(createHash('sha256').update(e2eItem.report).update(e2eItem.certChain).digest('hex'));
  });

  it('counts the real OCSP answers in the revocation coverage', async () => {
    const dir = `nvidia/${E2E}/ocsp`;
    const files = readdirSync(vectorPath(dir));
    const times = e2e['verification_times'] as Record<string, string>;
    const gpu = files.filter((f) => f.startsWith('gpu')).map((f) => readVector(dir, f));
    const rim = files.filter((f) => f.includes('rim')).map((f) => readVector(dir, f));
    const atGpu = await verifyNvidiaGpuEvidence(e2eItem, ctx(times['gpu_ocsp'] as string, { rims: e2eRims, ocspResponses: gpu }));
    expect(atGpu.claims.revocationCoverage).toEqual({ checked: 3, required: 9 });
    expect(atGpu.validUntil.toISOString()).toBe('2025-08-22T06:47:07.000Z');
    const atRim = await verifyNvidiaGpuEvidence(e2eItem, ctx(times['rim_ocsp'] as string, { rims: e2eRims, ocspResponses: rim }));
    expect(atRim.claims.revocationCoverage).toEqual({ checked: 6, required: 9 });
    expect(atRim.claims.revocation).toBe('not-checked');
  });

  it('needs both RIMs: a missing one is ERR_COLLATERAL_MISSING naming its id', async () => {
    const none = await errorOf(() => verifyNvidiaGpuEvidence(e2eItem, ctx(e2e.verification_time)));
    expect([none.code, none.status, none.extra]).toEqual(['ERR_COLLATERAL_MISSING', 503, { rimId: 'NV_GPU_DRIVER_GH100_550.90.07' }]);
    const noVbios = await errorOf(() => verifyNvidiaGpuEvidence(e2eItem, ctx(e2e.verification_time, { rims: [e2eRims[0] as string] })));
    expect([noVbios.code, noVbios.extra]).toEqual(['ERR_COLLATERAL_MISSING', { rimId: 'NV_GPU_VBIOS_1010_0200_882_96009F0001' }]);
  });

  it('refuses a wrong nonce, RIMs of another version, and a time after the VBIOS RIM signer expired', async () => {
    expect(await codeOf(() => verifyNvidiaGpuEvidence(e2eItem, ctx(e2e.verification_time, { rims: e2eRims }, { expectedNonce: randomBytes(32) })))).toBe(
      'ERR_EVIDENCE_NONCE_MISMATCH',
    );
    const otherDriver = nvText('rim-signature-only/driver_rim_NV_GPU_DRIVER_GH100_550.144.03.xml');
    expect(await codeOf(() => verifyNvidiaGpuEvidence(e2eItem, ctx(e2e.verification_time, { rims: [otherDriver, e2eRims[1] as string] })))).toBe(
      'ERR_COLLATERAL_MISSING',
    );
    expect(await codeOf(() => verifyNvidiaGpuEvidence(e2eItem, ctx('2026-03-01Z', { rims: e2eRims })))).toBe('ERR_CHAIN_EXPIRED');
  });

  it('costs no new signature checks when the memo is warm', async () => {
    const memo = new LruMemo();
    const c = ctx(e2e.verification_time, { rims: e2eRims }, { memo });
    await verifyNvidiaGpuEvidence(e2eItem, c);
    const misses = memo.misses;
    await verifyNvidiaGpuEvidence(e2eItem, c);
    expect(memo.misses).toBe(misses);
  });
});

describe('nvidia-gpu on the H100 535.86.09 negatives', () => {
  const NEG = 'hopper-535.86.09-negatives';
  const neg = vector(NEG);
  const item = gpuItem(`${NEG}/attestation_report.bin`, `${NEG}/device_cert_chain.pem`);
  const prodVbios = nvText(`${NEG}/vbios_rim_1010_0200_882_96005E0001_PROD.swidtag`);
  const idx9Vbios = nvText(`${NEG}/vbios_rim_measurement_mismatch_idx9.xml`);
  const tampered = nvText(`${NEG}/driver_rim_535.86.09_tampered.xml`);
  let devRims: NvidiaDevRimPki;
  let syntheticDriver: string;

  beforeAll(async () => {
    devRims = await createNvidiaDevRimPki({ notBefore: new Date('2020-01-01Z'), notAfter: new Date('2030-01-01Z') });
    // No genuine 535.86.09 driver RIM exists in the vectors: vouch for the report's driver measurements
    // with a RIM from a test CoRIM root (an extra anchor), so the VBIOS comparison can run on real data.
    const blocks = parseSpdmReport(item.report).blocks;
    const driverActive = [7, ...Array.from({ length: 20 }, (_, i) => 21 + i)];
    const entries = rimEntries(new Map(driverActive.map((i) => [i, [blocks[i]?.value as Uint8Array]])));
    syntheticDriver = mintRim({ product: 'GH100', version: '535.86.09', entries, signer: devRims.signer, chain: [devRims.l3, devRims.ca, devRims.root] });
  });

  it('the tampered driver RIM: refused by its chain at the vector time (chain is checked first, as xmlsec1 does)', async () => {
    expect(await codeOf(() => verifyNvidiaGpuEvidence(item, ctx(neg.verification_time, { rims: [tampered, prodVbios] })))).toBe('ERR_CHAIN_NOT_YET_VALID');
  });

  it('the tampered driver RIM: refused on its digest once its signer is valid', async () => {
    expect(await codeOf(() => verifyNvidiaGpuEvidence(item, ctx('2025-10-24T12:00:00Z', { rims: [tampered, idx9Vbios] })))).toBe('ERR_RIM_DIGEST_MISMATCH');
  });

  it('the validly signed VBIOS RIM that disagrees at index 9: ERR_NVIDIA_MEASUREMENT_MISMATCH [9]', async () => {
    const anchors = createTrustAnchors([devRims.root.der]);
    const err = await errorOf(() => verifyNvidiaGpuEvidence(item, ctx(neg.verification_time, { rims: [syntheticDriver, idx9Vbios] }, {}, anchors)));
    expect([err.code, err.extra]).toEqual(['ERR_NVIDIA_MEASUREMENT_MISMATCH', { mismatchedIndices: [9], matched: 32, total: 33 }]);
  });

  it('the genuine VBIOS RIM matches; a test-root RIM makes the whole claim "extra"', async () => {
    const anchors = createTrustAnchors([devRims.root.der]);
    const result = await verifyNvidiaGpuEvidence(item, ctx(neg.verification_time, { rims: [syntheticDriver, prodVbios] }, { expectedNonce: hex(neg.nonce as string) }, anchors));
    expect(result.claims.measurements).toEqual({ matched: 33, total: 33, mismatchedIndices: [] });
    expect(result.claims.anchor.source).toBe('extra');
    expect(result.claims.rimAnchor?.source).toBe('extra');
    expect(result.claims.rim).toEqual({ driver: 'NV_GPU_DRIVER_GH100_535.86.09', vbios: 'NV_GPU_VBIOS_1010_0200_882_96005E0001' });
    expect(await codeOf(() => verifyNvidiaGpuEvidence(item, ctx(neg.verification_time, { rims: [syntheticDriver, prodVbios] })))).toBe('ERR_CHAIN_UNTRUSTED_ROOT');
  });

  it('the report with a bad signature is refused before any RIM work', async () => {
    const bad = gpuItem(`${NEG}/attestation_report_invalid_signature.bin`, `${NEG}/device_cert_chain.pem`);
    expect(await codeOf(() => verifyNvidiaGpuEvidence(bad, ctx(neg.verification_time, { rims: [tampered, prodVbios] })))).toBe(
      'ERR_NVIDIA_REPORT_SIGNATURE_INVALID',
    );
  });
});

describe('nvidia-gpu on the other real devices', () => {
  it('NVSwitch LS10 with its switch BIOS RIM: 31/31', async () => {
    const SW = 'nvswitch-ls10-96.10.55.00.01-e2e';
    const sw = vector(SW);
    const item = gpuItem(`${SW}/attestation_report.bin`, `${SW}/device_cert_chain.pem`);
    const rim = nvText(`${SW}/switch_bios_rim_NV_SWITCH_BIOS_5612_0002_890_9610550001.xml`);
    const result = await verifyNvidiaGpuEvidence(item, ctx(sw.verification_time, { rims: [rim] }, { expectedNonce: hex(sw.nonce as string) }));
    expect(result.claims).toMatchObject({
      deviceType: 'nvswitch',
      chip: 'LS10',
      arch: 'hopper',
      driverVersion: '',
      vbiosVersion: (sw.expected as Record<string, string>)['bios_version_ascii'],
      measurements: { matched: 31, total: 31, mismatchedIndices: [] },
      rim: { driver: '', vbios: 'NV_SWITCH_BIOS_5612_0002_890_9610550001' },
      hwmodel: 'LS_10 A01 FSP BROM',
      revocationCoverage: { checked: 0, required: 6 },
    });
  });

  it('Blackwell and H200 reports verify up to the RIM step and then need their RIMs', async () => {
    const cases: [string, string, string, string][] = [
      ['blackwell-575.32-sdk-sample/attestation_report.bin', 'blackwell-575.32-sdk-sample/device_cert_chain.pem', '2025-06-01Z', 'NV_GPU_CC_DRIVER_GB100_575.32'],
      ['blackwell-8gpu-590.48.01-mpt/gpu5_attestation_report.bin', 'blackwell-8gpu-590.48.01-mpt/gpu5_device_cert_chain.pem', '2026-01-01Z', 'NV_GPU_CC_DRIVER_GB100_590.48.01'],
      ['h200-595.71.05-nras-e2e/attestation_report.bin', 'h200-595.71.05-nras-e2e/device_cert_chain.pem', '2026-06-29T02:08:03Z', 'NV_GPU_DRIVER_GH100_595.71.05'],
    ];
    for (const [report, chain, at, rimId] of cases) {
      const err = await errorOf(() => verifyNvidiaGpuEvidence(gpuItem(report, chain), ctx(at, { rims: e2eRims })));
      expect([err.code, err.extra]).toEqual(['ERR_COLLATERAL_MISSING', { rimId }]);
    }
  });
});

describe('nvidia-gpu with a test PKI (synthetic GPUs and RIMs)', () => {
  let ev: DevNvidiaEvidence;
  const nonce = new Uint8Array(randomBytes(32));
  const AT = '2026-02-01Z';
  const verify = (item: DevNvidiaEvidence['items'][number], rims: string[], more = {}) =>
    verifyNvidiaGpuEvidence(item, ctx(AT, { rims }, { expectedNonce: nonce, ...more }, createTrustAnchors(ev.anchorsDer)));

  beforeAll(async () => {
    ev = await mintNvidiaGpuEvidence({ gpus: 1, nonce, now: new Date('2026-01-01Z') });
  });

  it('verifies, labelled with the test roots', async () => {
    const result = await verify(ev.items[0]!, ev.rims);
    expect(result.claims.measurements).toEqual({ matched: 33, total: 33, mismatchedIndices: [] });
    expect(result.claims.anchor).toMatchObject({ source: 'extra', name: 'SIMULATED NVIDIA Device Identity CA (SIMULATED NVIDIA)' });
  });

  it('accepts any listed alternative and refuses a value outside them', async () => {
    const gpu = ev.gpus[0]!;
    const alt = new Uint8Array(randomBytes(48));
    const fw = ev.firmware;
    const rims = [
      mintRim({ product: 'GH100', version: fw.driverVersion, entries: rimEntries(new Map(fw.driverActive.map((i) => [i, i === 23 ? [fw.measurements[i]!, alt] : [fw.measurements[i]!]]))), signer: ev.rimPki.signer, chain: [ev.rimPki.l3, ev.rimPki.ca, ev.rimPki.root] }),
      ev.rims[1]!,
    ];
    const withAlt = { type: 'nvidia-gpu' as const, report: mintGpuReport(gpu, fw, nonce, { overrides: new Map([[23, alt]]) }), certChain: gpu.certChain };
    expect((await verify(withAlt, rims)).claims.measurements.matched).toBe(33);
    const wrong = { type: 'nvidia-gpu' as const, report: mintGpuReport(gpu, fw, nonce, { overrides: new Map([[23, new Uint8Array(48)], [2, new Uint8Array(48)]]) }), certChain: gpu.certChain };
    const err = await errorOf(() => verify(wrong, rims));
    expect([err.code, err.extra]).toEqual(['ERR_NVIDIA_MEASUREMENT_MISMATCH', { mismatchedIndices: [2, 23], matched: 31, total: 33 }]);
  });

  it('does not compare inactive indices', async () => {
    const gpu = ev.gpus[0]!;
    const item = { type: 'nvidia-gpu' as const, report: mintGpuReport(gpu, ev.firmware, nonce, { overrides: new Map([[50, new Uint8Array(48).fill(9)]]) }), certChain: gpu.certChain };
    expect((await verify(item, ev.rims)).claims.measurements).toEqual({ matched: 33, total: 33, mismatchedIndices: [] });
  });

  it('refuses an index active in both RIMs, and RIMs with nothing active', async () => {
    const fw = devGpuFirmware({ driverActive: [7, 21], vbiosActive: [0, 7] });
    const gpu = await mintDevGpu(ev.pki);
    const item = { type: 'nvidia-gpu' as const, report: mintGpuReport(gpu, fw, nonce), certChain: gpu.certChain };
    const conflict = mintFirmwareRims(ev.rimPki, fw, 'GH100');
    expect(await codeOf(() => verify(item, [conflict.driver, conflict.vbios]))).toBe('ERR_RIM_INDEX_CONFLICT');
    const empty = mintFirmwareRims(ev.rimPki, { ...fw, driverActive: [], vbiosActive: [] }, 'GH100');
    expect(await codeOf(() => verify(item, [empty.driver, empty.vbios]))).toBe('ERR_NVIDIA_MEASUREMENT_MISMATCH');
  });

  it('ignores RIMs for another chip with the same versions', async () => {
    const blackwellRims = mintFirmwareRims(ev.rimPki, ev.firmware, 'GB100');
    expect(await codeOf(() => verify(ev.items[0]!, [blackwellRims.driver, blackwellRims.vbios]))).toBe('ERR_COLLATERAL_MISSING');
  });

  it('uses the newest valid copy when several RIMs match', async () => {
    const expired = await createNvidiaDevRimPki({ notBefore: new Date('2025-01-01Z'), notAfter: new Date('2030-01-01Z'), signerNotAfter: new Date('2026-01-15Z') });
    const anchors = createTrustAnchors([...ev.anchorsDer, expired.root.der]);
    const old = mintFirmwareRims(expired, ev.firmware, 'GH100');
    const result = await verifyNvidiaGpuEvidence(ev.items[0]!, ctx(AT, { rims: [old.driver, old.vbios, ...ev.rims] }, {}, anchors));
    expect(result.claims.measurements.matched).toBe(33);
    expect(await codeOf(() => verifyNvidiaGpuEvidence(ev.items[0]!, ctx(AT, { rims: [old.driver, old.vbios] }, {}, anchors)))).toBe('ERR_CHAIN_EXPIRED');
  });

  it('refuses a report signed over another nonce than expected', async () => {
    expect(await codeOf(() => verify(ev.items[0]!, ev.rims, { expectedNonce: new Uint8Array(32) }))).toBe('ERR_EVIDENCE_NONCE_MISMATCH');
  });
});
