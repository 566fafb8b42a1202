import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EvidenceError } from '../../../../src/errors.js';
import { readdirSync } from 'node:fs';
import { readVector, vectorPath } from '../../../helpers/vectors.js';
import { checkRevocation, revocationChecks, type RevocationCheck } from '../../../../src/evidence/nvidia/revocation.js';
import { matchingStatuses, parseOcspResponse } from '../../../../src/evidence/nvidia/ocsp.js';
import { verifyGpuReport } from '../../../../src/evidence/nvidia/report.js';
import { inspectRim } from '../../../../src/evidence/nvidia/rim.js';
import { verifyRimChain } from '../../../../src/evidence/nvidia/rim-select.js';
import { verifyNvidiaGpuEvidence } from '../../../../src/evidence/nvidia/verify-gpu.js';
import { createTrustAnchors } from '../../../../src/evidence/anchors.js';
import { parseCertificate, type Certificate } from '../../../../src/evidence/pki.js';
import { LruMemo } from '../../../../src/evidence/memo.js';
import { emptyCollateral } from '../../../../src/collateral/recognize.js';
import { issueOcspResponder, mintOcspResponse } from '../../../../src/dev/ocsp.js';
import { createCrl, type DevCertificate } from '../../../../src/dev/pki.js';
import { mintNvidiaGpuEvidence, type DevNvidiaEvidence } from '../../../../src/dev/nvidia-evidence.js';
import { codeOf, ctx, flipBit, nvText, syncCodeOf, vector } from './fixtures.js';

const E2E = 'hopper-550.90.07-e2e';
const OCSP_DIR = `nvidia/${E2E}/ocsp`;
const ocspFiles = readdirSync(vectorPath(OCSP_DIR)).sort();
const ocsp = (name: string): Uint8Array => readVector(OCSP_DIR, name);
const GPU_TIME = (vector(E2E)['verification_times'] as Record<string, string>)['gpu_ocsp'] as string;
const RIM_TIME = (vector(E2E)['verification_times'] as Record<string, string>)['rim_ocsp'] as string;

function deviceChecks(at: string): RevocationCheck[] {
  const v = verifyGpuReport(readVector('nvidia', `${E2E}/attestation_report.bin`), nvText(`${E2E}/device_cert_chain.pem`), ctx(at));
  return revocationChecks(v.chain.path, false);
}

function rimChecks(file: string, at: string): RevocationCheck[] {
  return revocationChecks(verifyRimChain(inspectRim(nvText(`${E2E}/${file}`)), ctx(at)).path, true);
}

const DRIVER_RIM = 'driver_rim_NV_GPU_DRIVER_GH100_550.90.07.xml';
const VBIOS_RIM = 'vbios_rim_NV_GPU_VBIOS_1010_0200_882_96009F0001.xml';

describe('real NVIDIA OCSP responses', () => {
  it('each response matches the certificate the manifest names, by SHA-384 CertID', () => {
    const manifestOcsp = vector(E2E)['ocsp'] as { file: string; serial: string; cert_id_hash: string; cert_status: string }[];
    const all = [...deviceChecks(GPU_TIME), ...rimChecks(DRIVER_RIM, RIM_TIME), ...rimChecks(VBIOS_RIM, RIM_TIME)];
    for (const entry of manifestOcsp) {
      const parsed = parseOcspResponse(readVector('nvidia', entry.file));
      const matched = all.filter((c) => parsed && matchingStatuses(parsed, c.cert, c.issuer).length > 0);
      expect(matched.map((c) => `0x${c.cert.serial}`)).toContain(entry.serial);
      expect(parsed?.responses[0]?.hash).toBe(entry.cert_id_hash);
      expect(parsed?.responses[0]?.status).toBe(entry.cert_status.toLowerCase());
    }
  });

  it('cover BROM, provisioner and identity of the device chain at their time', () => {
    const gpu = ocspFiles.filter((f) => f.startsWith('gpu_')).map(ocsp);
    const coverage = checkRevocation(deviceChecks(GPU_TIME), { ...emptyCollateral(), ocspResponses: gpu }, new Date(GPU_TIME));
    expect(coverage).toMatchObject({ checked: 3, required: 3 });
    expect(new Date(coverage.validUntilMs).toISOString()).toBe('2025-08-22T06:47:07.000Z');
  });

  it('cover the L4 signers, L3 and L2 of both RIM chains at their time', () => {
    const rim = ocspFiles.filter((f) => f.includes('rim')).map(ocsp);
    const checks = [...rimChecks(DRIVER_RIM, RIM_TIME), ...rimChecks(VBIOS_RIM, RIM_TIME)];
    expect(checkRevocation(checks, { ...emptyCollateral(), ocspResponses: rim }, new Date(RIM_TIME))).toMatchObject({ checked: 6, required: 6 });
  });

  it('are stale after nextUpdate and not valid before thisUpdate', () => {
    const gpu = ocspFiles.filter((f) => f.startsWith('gpu_')).map(ocsp);
    expect(syncCodeOf(() => checkRevocation(deviceChecks(RIM_TIME), { ...emptyCollateral(), ocspResponses: gpu }, new Date(RIM_TIME)))).toBe('ERR_OCSP_STALE');
    expect(syncCodeOf(() => checkRevocation(deviceChecks(GPU_TIME), { ...emptyCollateral(), ocspResponses: gpu }, new Date('2025-08-21T00:00:00Z')))).toBe(
      'ERR_OCSP_NOT_YET_VALID',
    );
  });

  it('refuse a response with a flipped signature bit', () => {
    const der = ocsp('gpu_L4_GSP_BROM.ocsp.der');
    const signature = parseOcspResponse(der)?.signature as Uint8Array;
    const bad = flipBit(der, Buffer.from(der).indexOf(Buffer.from(signature)) + 20, 0);
    expect(syncCodeOf(() => checkRevocation(deviceChecks(GPU_TIME), { ...emptyCollateral(), ocspResponses: [bad] }, new Date(GPU_TIME)))).toBe(
      'ERR_OCSP_SIGNATURE_INVALID',
    );
    // producedAt one second earlier: still well-formed, no longer what the responder signed
    const producedAt = Buffer.from(der).indexOf(Buffer.from('20250821064707Z'));
    const retimed = new Uint8Array(der);
    retimed[producedAt + 13] = 0x36;
    expect(syncCodeOf(() => checkRevocation(deviceChecks(GPU_TIME), { ...emptyCollateral(), ocspResponses: [retimed] }, new Date(GPU_TIME)))).toBe(
      'ERR_OCSP_SIGNATURE_INVALID',
    );
  });

  it('ignore responses about other certificates (they leave revocation unchecked)', () => {
    const other = ocsp('rim_L2_Reference_Value_GH100_CA.ocsp.der');
    expect(checkRevocation(deviceChecks(GPU_TIME), { ...emptyCollateral(), ocspResponses: [other] }, new Date(GPU_TIME))).toMatchObject({ checked: 0, required: 3 });
  });

  it('match only the certificate their CertID names', () => {
    const [brom, provisioner] = deviceChecks(GPU_TIME) as [RevocationCheck, RevocationCheck];
    const forged: RevocationCheck = { cert: provisioner.cert, issuer: provisioner.issuer };
    const responseForBrom = ocsp('gpu_L4_GSP_BROM.ocsp.der');
    const parsed = parseOcspResponse(responseForBrom);
    expect(parsed && matchingStatuses(parsed, brom.cert, brom.issuer).length).toBe(1);
    expect(parsed && matchingStatuses(parsed, forged.cert, forged.issuer).length).toBe(0);
  });

  it('byte edits of a real response only ever produce a typed error', () => {
    const der = ocsp('gpu_L4_GSP_BROM.ocsp.der');
    const checks = deviceChecks(GPU_TIME);
    fc.assert(
      fc.property(fc.nat(der.length - 1), fc.integer({ min: 0, max: 255 }), (offset, value) => {
        const edited = new Uint8Array(der);
        edited[offset] = value;
        try {
          checkRevocation(checks, { ...emptyCollateral(), ocspResponses: [edited] }, new Date(GPU_TIME));
        } catch (err) {
          expect(err).toBeInstanceOf(EvidenceError);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('an unparseable response is refused', () => {
    expect(syncCodeOf(() => checkRevocation(deviceChecks(GPU_TIME), { ...emptyCollateral(), ocspResponses: [Uint8Array.of(0x30, 0x03, 1, 2, 3)] }, new Date(GPU_TIME)))).toBe(
      'ERR_OCSP_INVALID',
    );
  });
});

describe('synthetic OCSP and CRLs on a test PKI', () => {
  let ev: DevNvidiaEvidence;
  const at = new Date('2026-02-01Z');
  const from = new Date('2026-01-01Z');
  const until = new Date('2030-01-01Z');
  let responders: Map<DevCertificate, DevCertificate>;

  beforeAll(async () => {
    ev = await mintNvidiaGpuEvidence({ gpus: 1, nonce: new Uint8Array(32), now: from });
    responders = new Map();
    for (const ca of [ev.pki.provisioner, ev.pki.identity, ev.pki.deviceRoot, ev.rimPki.l3, ev.rimPki.ca, ev.rimPki.root]) {
      responders.set(ca, await issueOcspResponder(ca, { notBefore: from, notAfter: until }));
    }
  });

  function pairs(): [DevCertificate, DevCertificate][] {
    const gpu = ev.gpus[0];
    return [
      [gpu!.brom, ev.pki.provisioner],
      [ev.pki.provisioner, ev.pki.identity],
      [ev.pki.identity, ev.pki.deviceRoot],
      [ev.rimPki.signer, ev.rimPki.l3],
      [ev.rimPki.l3, ev.rimPki.ca],
      [ev.rimPki.ca, ev.rimPki.root],
    ];
  }

  function responses(status: (cert: DevCertificate) => 'good' | 'revoked' | 'unknown' = () => 'good'): Uint8Array[] {
    return pairs().map(([cert, issuer]) =>
      mintOcspResponse({ cert, issuer, responder: responders.get(issuer) as DevCertificate, status: status(cert), thisUpdate: new Date('2026-01-31Z'), nextUpdate: new Date('2026-02-02Z') }),
    );
  }

  const verifyWith = (ocspResponses: Uint8Array[], crls: Uint8Array[] = [], now = at, revocation: 'required' | 'optional' = 'optional') =>
    verifyNvidiaGpuEvidence(ev.items[0]!, ctx(now, { rims: ev.rims, ocspResponses, crls }, { memo: new LruMemo(), revocation }, createTrustAnchors(ev.anchorsDer)));

  it('every required certificate answered good: revocation "checked"', async () => {
    const result = await verifyWith(responses());
    expect(result.claims.revocation).toBe('checked');
    expect(result.claims.revocationCoverage).toEqual({ checked: 9, required: 9 });
    expect(result.validUntil.toISOString()).toBe('2026-02-02T00:00:00.000Z');
  });

  it('no OCSP: "not-checked" and coverage 0/9', async () => {
    const result = await verifyWith([]);
    expect(result.claims.revocation).toBe('not-checked');
    expect(result.claims.revocationChecked).toBe(false);
    expect(result.claims.revocationCoverage).toEqual({ checked: 0, required: 9 });
  });

  it('revocation required: any certificate without a current answer is ERR_COLLATERAL_MISSING; full coverage passes', async () => {
    expect(await codeOf(() => verifyWith([], [], at, 'required'))).toBe('ERR_COLLATERAL_MISSING');
    expect(await codeOf(() => verifyWith(responses().slice(1), [], at, 'required'))).toBe('ERR_COLLATERAL_MISSING');
    const full = await verifyWith(responses(), [], at, 'required');
    expect([full.claims.revocation, full.claims.revocationChecked]).toEqual(['checked', true]);
  });

  it('a revoked BROM or RIM signer is refused', async () => {
    expect(await codeOf(() => verifyWith(responses((c) => (c === ev.gpus[0]!.brom ? 'revoked' : 'good'))))).toBe('ERR_CHAIN_REVOKED');
    expect(await codeOf(() => verifyWith(responses((c) => (c === ev.rimPki.signer ? 'revoked' : 'good'))))).toBe('ERR_CHAIN_REVOKED');
  });

  it('a validly signed "revoked" is final even outside its window', async () => {
    const old = mintOcspResponse({ cert: ev.gpus[0]!.brom, issuer: ev.pki.provisioner, responder: responders.get(ev.pki.provisioner)!, status: 'revoked', thisUpdate: new Date('2026-01-02Z'), nextUpdate: new Date('2026-01-03Z') });
    expect(await codeOf(() => verifyWith([old]))).toBe('ERR_CHAIN_REVOKED');
  });

  it('"unknown" status, a missing nextUpdate and a responder the issuer did not authorize are refused', async () => {
    expect(await codeOf(() => verifyWith(responses((c) => (c === ev.pki.identity ? 'unknown' : 'good'))))).toBe('ERR_OCSP_STATUS_UNKNOWN');
    const noNext = mintOcspResponse({ cert: ev.gpus[0]!.brom, issuer: ev.pki.provisioner, responder: responders.get(ev.pki.provisioner)!, status: 'good', thisUpdate: new Date('2026-01-31Z') });
    expect(await codeOf(() => verifyWith([noNext]))).toBe('ERR_OCSP_INVALID');
    const stranger = mintOcspResponse({ cert: ev.gpus[0]!.brom, issuer: ev.pki.provisioner, responder: responders.get(ev.rimPki.l3)!, status: 'good', thisUpdate: new Date('2026-01-31Z'), nextUpdate: new Date('2026-02-02Z') });
    expect(await codeOf(() => verifyWith([stranger]))).toBe('ERR_OCSP_RESPONDER_UNTRUSTED');
  });

  it('the issuer itself may sign, and SHA-1 CertIDs match too', async () => {
    const own = mintOcspResponse({ cert: ev.gpus[0]!.brom, issuer: ev.pki.provisioner, responder: ev.pki.provisioner, status: 'good', thisUpdate: new Date('2026-01-31Z'), nextUpdate: new Date('2026-02-02Z'), hash: 'sha1' });
    expect((await verifyWith([own])).claims.revocationCoverage).toEqual({ checked: 1, required: 9 });
  });

  it('a fresh answer wins over a stale one for the same certificate', async () => {
    const stale = mintOcspResponse({ cert: ev.gpus[0]!.brom, issuer: ev.pki.provisioner, responder: responders.get(ev.pki.provisioner)!, status: 'good', thisUpdate: new Date('2026-01-02Z'), nextUpdate: new Date('2026-01-03Z') });
    expect(await codeOf(() => verifyWith([stale]))).toBe('ERR_OCSP_STALE');
    expect((await verifyWith([stale, ...responses()])).claims.revocation).toBe('checked');
  });

  it('CRLs from the issuers count as revocation answers and can revoke', async () => {
    const crl = (issuer: DevCertificate, revoked: string[] = []) => createCrl(issuer, { thisUpdate: new Date('2026-01-31Z'), nextUpdate: new Date('2026-02-10Z'), revokedSerials: revoked });
    const good = await Promise.all([ev.pki.provisioner, ev.pki.identity, ev.pki.deviceRoot].map((i) => crl(i)));
    expect((await verifyWith([], good)).claims.revocationCoverage).toEqual({ checked: 3, required: 9 });
    const serial = parseCertificate(ev.gpus[0]!.brom.der).serial;
    expect(await codeOf(async () => verifyWith([], [await crl(ev.pki.provisioner, [serial])]))).toBe('ERR_CHAIN_REVOKED');
    expect(await codeOf(() => verifyWith([], good, new Date('2026-03-01Z')))).toBe('ERR_CRL_STALE');
  });

  it('matches certificates only through their own issuer', () => {
    const der = responses()[0] as Uint8Array;
    const parsed = parseOcspResponse(der);
    const brom = parseCertificate(ev.gpus[0]!.brom.der);
    const provisioner = parseCertificate(ev.pki.provisioner.der);
    const identity: Certificate = parseCertificate(ev.pki.identity.der);
    expect(parsed && matchingStatuses(parsed, brom, provisioner).length).toBe(1);
    expect(parsed && matchingStatuses(parsed, brom, identity).length).toBe(0);
  });
});
