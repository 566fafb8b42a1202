import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EvidenceError } from '../../../../src/errors.js';
import { randomBytes } from 'node:crypto';
import { readVector } from '../../../helpers/vectors.js';
import { verifyGpuReport, nvidiaRimIds } from '../../../../src/evidence/nvidia/report.js';
import { leafFwid } from '../../../../src/evidence/nvidia/device.js';
import { createTrustAnchors, vendorAnchors } from '../../../../src/evidence/anchors.js';
import { parseCertificates } from '../../../../src/evidence/pki.js';
import { LruMemo } from '../../../../src/evidence/memo.js';
import { buildSpdmReportBody, createNvidiaDevPki, gpuOpaqueFields, mintDevGpu, signSpdmReport, type NvidiaDevPki } from '../../../../src/dev/nvidia.js';
import { devGpuFirmware, mintGpuReport } from '../../../../src/dev/nvidia-evidence.js';
import { createSelfSignedRoot, devPrivateKeyObject, generateDevKeyPair, issueCertificate } from '../../../../src/dev/pki.js';
import { allReports, ctx, flipBit, hex, nvText, syncCodeOf, vector } from './fixtures.js';

const HOPPER = 'hopper-550.90.07-e2e';
const report550 = readVector('nvidia', `${HOPPER}/attestation_report.bin`);
const chain550 = nvText(`${HOPPER}/device_cert_chain.pem`);
const nonce550 = hex(vector(HOPPER).nonce as string);
const AT = '2025-10-24T12:00:00Z';

describe('verifyGpuReport on every real report', () => {
  for (const [label, reportPath, chainPath, expected] of allReports()) {
    it(`${label}: signature, chain to the pinned root, FWID and nonce`, () => {
      const v = verifyGpuReport(readVector('nvidia', reportPath), nvText(chainPath), ctx('2026-06-29T02:08:03Z', {}, { expectedNonce: hex(expected.request.nonce) }));
      expect(v.chain.anchor).toMatchObject({ name: 'NVIDIA Device Identity CA', source: 'vendor' });
      expect(v.chain.path.map((c) => c.serial)).toEqual(expected.cert_chain.certs.map((c) => c.serial.replace(/^0x/, '')));
      expect(v.ueid).toBe(BigInt(expected.cert_chain.certs[0]?.serial as string).toString(10));
      expect(v.hwmodel).toBe(/CN=([^,]+)/.exec(expected.cert_chain.certs[1]?.subject as string)?.[1]);
      const certFwid = leafFwid(v.chain.path[0] as never);
      expect(certFwid && Buffer.from(certFwid).toString('hex')).toBe(expected.fwid_check.cert_fwid);
      expect(nvidiaRimIds(readVector('nvidia', reportPath), nvText(chainPath))).toEqual(
        label.startsWith('nvswitch') ? { vbios: 'NV_SWITCH_BIOS_5612_0002_890_9610550001' } : expectedIds(expected.derived_rim_ids),
      );
    });
  }

  function expectedIds(ids: { driver: string; vbios: string }): { driver: string; vbios: string } {
    // The manifest cannot derive the opaque-v0 Blackwell driver id; keyward uses the chip of the certificate.
    return { driver: ids.driver.replace('<CHIP_INFO missing>', 'GB100'), vbios: ids.vbios };
  }

  it('the NRAS tokens for the same reports name the same device (ueid)', () => {
    const v = verifyGpuReport(report550, chain550, ctx(AT));
    expect(v.ueid).toBe(JSON.parse(nvText(`${HOPPER}/nras_claims_decoded.json`))['GPU-0'].ueid);
    expect(v.device).toEqual({ chip: 'GH100', arch: 'hopper', deviceType: 'gpu' });
  });

  it('identifies Blackwell and NVSwitch devices', () => {
    const bw = verifyGpuReport(readVector('nvidia', 'blackwell-575.32-sdk-sample/attestation_report.bin'), nvText('blackwell-575.32-sdk-sample/device_cert_chain.pem'), ctx(AT));
    expect(bw.device).toEqual({ chip: 'GB100', arch: 'blackwell', deviceType: 'gpu' });
    const sw = verifyGpuReport(readVector('nvidia', 'nvswitch-ls10-96.10.55.00.01-e2e/attestation_report.bin'), nvText('nvswitch-ls10-96.10.55.00.01-e2e/device_cert_chain.pem'), ctx(AT));
    expect(sw.device).toEqual({ chip: 'LS10', arch: 'hopper', deviceType: 'nvswitch' });
    expect(sw.info.vbiosVersion).toBe('96.10.55.00.01');
  });
});

describe('verifyGpuReport refuses', () => {
  it('the report whose signature does not verify (negatives vector)', () => {
    const bad = readVector('nvidia', 'hopper-535.86.09-negatives/attestation_report_invalid_signature.bin');
    expect(syncCodeOf(() => verifyGpuReport(bad, nvText('hopper-535.86.09-negatives/device_cert_chain.pem'), ctx('2024-06-01Z')))).toBe(
      'ERR_NVIDIA_REPORT_SIGNATURE_INVALID',
    );
  });

  it('a flipped bit anywhere in the signed bytes or in the signature', () => {
    for (const offset of [0x04, 0x40, 1000, 3600, report550.length - 200, report550.length - 97, report550.length - 96, report550.length - 1]) {
      const code = syncCodeOf(() => verifyGpuReport(flipBit(report550, offset, 3), chain550, ctx(AT)));
      expect([offset, code]).toEqual([offset, 'ERR_NVIDIA_REPORT_SIGNATURE_INVALID']);
    }
  });

  it('another GPU\'s certificate chain', () => {
    expect(syncCodeOf(() => verifyGpuReport(report550, nvText('hopper-535.86.09-negatives/device_cert_chain.pem'), ctx(AT)))).toBe(
      'ERR_NVIDIA_REPORT_SIGNATURE_INVALID',
    );
  });

  it('a nonce other than the expected one', () => {
    expect(syncCodeOf(() => verifyGpuReport(report550, chain550, ctx(AT, {}, { expectedNonce: flipBit(nonce550, 31) })))).toBe(
      'ERR_EVIDENCE_NONCE_MISMATCH',
    );
    expect(syncCodeOf(() => verifyGpuReport(report550, chain550, ctx(AT, {}, { expectedNonce: nonce550.subarray(0, 16) })))).toBe(
      'ERR_EVIDENCE_NONCE_MISMATCH',
    );
  });

  it('a chain with a tampered certificate, a missing root, or a missing intermediate', () => {
    const pems = chain550.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) as string[];
    const certs = parseCertificates(chain550);
    const der = new Uint8Array(certs[2]?.der as Uint8Array);
    der[der.length - 10] = (der[der.length - 10] as number) ^ 0x01;
    const tampered = [pems[0], pems[1], toPem(der), pems[3], pems[4]].join('\n');
    expect(syncCodeOf(() => verifyGpuReport(report550, tampered, ctx(AT)))).toBe('ERR_CHAIN_SIGNATURE_INVALID');
    expect(syncCodeOf(() => verifyGpuReport(report550, pems.slice(0, 4).join('\n'), ctx(AT)))).toBe('ERR_CHAIN_INCOMPLETE');
    expect(syncCodeOf(() => verifyGpuReport(report550, [pems[0], pems[1], pems[3], pems[4]].join('\n'), ctx(AT)))).toBe('ERR_CHAIN_INCOMPLETE');
    expect(syncCodeOf(() => verifyGpuReport(report550, [...pems, pems[4]].join('\n'), ctx(AT)))).toBe('ERR_CHAIN_MALFORMED');
  });

  it('completes a chain from collateral certificates only when the evidence lacks one', () => {
    const pems = chain550.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) as string[];
    const withoutIca = [pems[0], pems[1], pems[3], pems[4]].join('\n');
    const ica = parseCertificates(pems[2] as string)[0]?.der as Uint8Array;
    const v = verifyGpuReport(report550, withoutIca, ctx(AT, { certificates: [ica] }));
    expect(v.chain.path.length).toBe(5);
  });

  it('a time before the device certificates were issued', () => {
    expect(syncCodeOf(() => verifyGpuReport(report550, chain550, ctx('2019-01-01Z')))).toBe('ERR_CHAIN_NOT_YET_VALID');
  });

  it('the real chain pinned for the wrong role', () => {
    const anchors = vendorAnchors();
    const wrongRole = { all: anchors.all, lookup: (spki: string) => anchors.lookup(spki, 'nvidia-corim-root') };
    expect(syncCodeOf(() => verifyGpuReport(report550, chain550, ctx(AT, {}, {}, wrongRole)))).toBe('ERR_CHAIN_UNTRUSTED_ROOT');
  });
});

function toPem(der: Uint8Array): string {
  return `-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----`;
}

describe('verifyGpuReport properties', () => {
  const certs = parseCertificates(chain550);

  it('byte edits in any chain certificate or in the report only ever produce a typed error', () => {
    fc.assert(
      fc.property(fc.nat(4), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean(), (which, offset, value, inReport) => {
        let report = report550;
        let chain = chain550;
        if (inReport) {
          report = new Uint8Array(report550);
          report[offset % report.length] = value;
        } else {
          const ders = certs.map((c) => new Uint8Array(c.der));
          const der = ders[which] as Uint8Array;
          der[offset % der.length] = value;
          chain = ders.map(toPem).join('\n');
        }
        try {
          verifyGpuReport(report, chain, ctx(AT));
        } catch (err) {
          expect(err).toBeInstanceOf(EvidenceError);
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('verifyGpuReport with a test CA mimicking NVIDIA', () => {
  let pki: NvidiaDevPki;
  let bwPki: NvidiaDevPki;
  const nonce = randomBytes(32);
  const from = new Date('2025-01-01Z');
  const until = new Date('2030-01-01Z');

  beforeAll(async () => {
    pki = await createNvidiaDevPki({ notBefore: from, notAfter: until });
    bwPki = await createNvidiaDevPki({ notBefore: from, notAfter: until, chip: 'GB100' });
  });

  it('is untrusted with vendor anchors and trusted, marked extra, with the test root as extra anchor', async () => {
    const gpu = await mintDevGpu(pki);
    const report = mintGpuReport(gpu, devGpuFirmware(), nonce);
    expect(syncCodeOf(() => verifyGpuReport(report, gpu.certChain, ctx('2026-01-01Z', {}, { expectedNonce: nonce })))).toBe('ERR_CHAIN_UNTRUSTED_ROOT');
    const v = verifyGpuReport(report, gpu.certChain, ctx('2026-01-01Z', {}, { expectedNonce: nonce }, createTrustAnchors([pki.deviceRoot.der])));
    expect(v.chain.anchor.source).toBe('extra');
    expect(v.chain.anchor.name).toBe('SIMULATED NVIDIA Device Identity CA (SIMULATED NVIDIA)');
  });

  it('binds the FWID for Hopper and Blackwell (DICE TcbInfo) leaves', async () => {
    for (const [p, chip] of [[pki, 'GH100'], [bwPki, 'GB100']] as const) {
      const anchors = createTrustAnchors([p.deviceRoot.der]);
      const gpu = await mintDevGpu(p);
      const ok = mintGpuReport(gpu, devGpuFirmware(), nonce, { chip });
      expect(verifyGpuReport(ok, gpu.certChain, ctx('2026-01-01Z', {}, {}, anchors)).device.chip).toBe(chip);
      const otherFwid = { ...gpu, fwid: new Uint8Array(randomBytes(48)) };
      const bad = mintGpuReport(otherFwid, devGpuFirmware(), nonce, { chip });
      expect(syncCodeOf(() => verifyGpuReport(bad, gpu.certChain, ctx('2026-01-01Z', {}, {}, anchors)))).toBe('ERR_NVIDIA_FWID_MISMATCH');
    }
  });

  it('refuses certificates outside their validity', async () => {
    const gpu = await mintDevGpu(pki);
    const report = mintGpuReport(gpu, devGpuFirmware(), nonce);
    const anchors = createTrustAnchors([pki.deviceRoot.der]);
    expect(syncCodeOf(() => verifyGpuReport(report, gpu.certChain, ctx('2031-01-01Z', {}, {}, anchors)))).toBe('ERR_CHAIN_EXPIRED');
    expect(syncCodeOf(() => verifyGpuReport(report, gpu.certChain, ctx('2024-12-31Z', {}, {}, anchors)))).toBe('ERR_CHAIN_NOT_YET_VALID');
  });

  it('refuses an unknown device model and a non-P-384 attestation key', async () => {
    const anchors = createTrustAnchors([pki.deviceRoot.der]);
    const gpu = await mintDevGpu(pki);
    const o = 'O=SIMULATED NVIDIA Corporation';
    for (const [subject, alg] of [[`CN=GX999 A01 GSP FMC LF, ${o}`, 'p384'], [`CN=GH100 A01 GSP FMC LF, ${o}`, 'p256']] as const) {
      const leaf = await issueCertificate(gpu.brom, { subject, keys: await generateDevKeyPair(alg), notBefore: from, notAfter: until });
      const chain = [leaf.pem, ...gpu.certChain.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)!.slice(1)].join('\n');
      const report = mintGpuReport(gpu, devGpuFirmware(), nonce);
      expect(syncCodeOf(() => verifyGpuReport(report, chain, ctx('2026-01-01Z', {}, {}, anchors)))).toBe('ERR_NVIDIA_DEVICE_UNSUPPORTED');
    }
  });

  it('refuses a leaf that was not issued by a CA certificate', async () => {
    const root = await createSelfSignedRoot({ subject: 'CN=Fake NVIDIA Device Identity CA', keys: await generateDevKeyPair('p384'), notBefore: from, notAfter: until });
    const notCa = await issueCertificate(root, { subject: 'CN=GH100 A01 GSP BROM', keys: await generateDevKeyPair('p384'), notBefore: from, notAfter: until });
    const leafKeys = await generateDevKeyPair('p384');
    const leaf = await issueCertificate(notCa, { subject: 'CN=GH100 A01 GSP FMC LF', keys: leafKeys, notBefore: from, notAfter: until });
    const opaque = gpuOpaqueFields({ driverVersion: '550.90.07', vbiosVersion: '96.00.9f.00.01' });
    const report = signSpdmReport(buildSpdmReportBody({ nonce, measurements: devGpuFirmware().measurements, opaque }), devPrivateKeyObject(leafKeys));
    const chain = [leaf.pem, notCa.pem, root.pem].join('\n');
    expect(syncCodeOf(() => verifyGpuReport(report, chain, ctx('2026-01-01Z', {}, {}, createTrustAnchors([root.der]))))).toBe(
      'ERR_CHAIN_CONSTRAINT_VIOLATION',
    );
  });

  it('remembers chain parsing and signatures in the memo', () => {
    const memo = new LruMemo();
    verifyGpuReport(report550, chain550, ctx(AT, {}, { memo }));
    const misses = memo.misses;
    verifyGpuReport(report550, chain550, ctx(AT, {}, { memo }));
    expect(memo.misses).toBe(misses);
    expect(memo.hits).toBeGreaterThanOrEqual(5);
  });
});
