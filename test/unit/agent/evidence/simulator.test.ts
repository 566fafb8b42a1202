// The TEE simulator: its evidence decodes from the wire form and VERIFIES with the real verifiers, against
// the dev CA's roots as extra anchors and the collateral `dev ca` wrote, and only so.
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeEvidenceItem } from '../../../../src/evidence/wire.js';
import { verifyEvidenceSet } from '../../../../src/evidence/verify.js';
import { vendorAnchors } from '../../../../src/evidence/anchors.js';
import { LruMemo } from '../../../../src/evidence/memo.js';
import type { SnpClaims } from '../../../../src/evidence/snp/claims.js';
import type { NvidiaGpuClaims } from '../../../../src/evidence/nvidia/claims.js';
import type { TdxClaims } from '../../../../src/evidence/dcap/claims.js';
import {
  createSimulatedGpuProvider,
  createSimulatedSnpProvider,
  createSimulatedTdxProvider,
  createSimulatorProvider,
  SIMULATED_DEFAULTS,
} from '../../../../src/dev/simulator-provider.js';
import type { WireEvidence } from '../../../../src/agent/evidence/provider.js';
import { CREATED, createDevCaFixture, type DevCaFixture } from './dev-ca-fixture.js';

const AT = new Date(CREATED.getTime() + 3600_000);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function bindFor(nonce: Uint8Array, thumbprint: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha512').update(nonce).update(thumbprint).digest());
}

let fx: DevCaFixture;
let bind: Uint8Array;
const memo = new LruMemo(1000);

beforeAll(async () => {
  fx = await createDevCaFixture();
  bind = bindFor(randomBytes(32), randomBytes(32));
});
afterAll(() => fx.cleanup());

async function verify(wire: WireEvidence[], anchors = fx.anchors, at = AT) {
  const items = wire.map((w, i) => decodeEvidenceItem(JSON.parse(JSON.stringify(w)), i));
  return verifyEvidenceSet(items, { anchors, collateral: fx.collateral, now: at, memo }, bind);
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

describe.each([
  ['snp', 0],
  ['tdx', 0],
  ['snp', 2],
  ['tdx', 8],
] as const)('--simulate %s --gpus %d', (tee, gpus) => {
  it('verifies with the dev roots as extra anchors and the dev collateral, and says SIMULATED', async () => {
    const provider = createSimulatorProvider({ tee, gpus, ca: fx.ca });
    const wire = await provider.collect(bind);
    expect(wire.map((w) => w.type)).toEqual([tee, ...Array<string>(gpus).fill('nvidia-gpu')]);
    const verified = await verify(wire);
    expect(verified).toHaveLength(1 + gpus);
    for (const v of verified) {
      expect(v.claims.anchor.source).toBe('extra');
      expect(v.claims.anchor.name).toContain('SIMULATED');
      expect(v.claims.debug).toBe(false);
    }
    const cpu = verified[0]!.claims as SnpClaims | TdxClaims;
    expect(cpu.tee).toBe(tee);
    expect(cpu.reportData).toBe(hex(bind));
    if (tee === 'snp') {
      const snp = cpu as SnpClaims;
      expect(snp.anchor.name).toBe('ARK-Milan (keyward SIMULATED)');
      expect(snp).toMatchObject({ product: 'Milan', reportVersion: 3, signer: 'vcek', measurement: hex(SIMULATED_DEFAULTS.snpMeasurement), chipId: hex(fx.ca.amd.chipId) });
    } else {
      const tdx = cpu as TdxClaims;
      expect(tdx.anchor.name).toBe('Intel SGX Root CA (keyward SIMULATED)');
      expect(tdx).toMatchObject({ quoteVersion: 4, mrTd: hex(SIMULATED_DEFAULTS.tdxMrTd), tcbStatus: 'UpToDate', rtmr: SIMULATED_DEFAULTS.tdxRtmr.map(hex) });
    }
    for (const v of verified.slice(1)) {
      const gpu = v.claims as NvidiaGpuClaims;
      expect(gpu).toMatchObject({ tee: 'nvidia-gpu', arch: 'hopper', nonce: hex(bind.subarray(0, 32)), revocation: 'checked' });
      expect(gpu.measurements.mismatchedIndices).toEqual([]);
      expect(gpu.measurements.matched).toBeGreaterThan(0);
      expect(gpu.anchor.name).toBe('keyward SIMULATED NVIDIA Device Identity CA (keyward SIMULATED NVIDIA)');
    }
    // Distinct GPUs: each has its own device identity.
    expect(new Set(verified.slice(1).map((v) => (v.claims as NvidiaGpuClaims).ueid)).size).toBe(gpus);
  });

  it('is refused with the vendor anchors only (ERR_CHAIN_UNTRUSTED_ROOT)', async () => {
    const wire = await createSimulatorProvider({ tee, gpus, ca: fx.ca }).collect(bind);
    expect(await codeOf(verify(wire, vendorAnchors()))).toBe('ERR_CHAIN_UNTRUSTED_ROOT');
  });
});

describe('simulated evidence fields', () => {
  it('binds REPORT_DATA to the bind given and nothing else (another bind → ERR_EVIDENCE_NONCE_MISMATCH)', async () => {
    const wire = await createSimulatedSnpProvider(fx.ca).collect(bindFor(randomBytes(32), randomBytes(32)));
    expect(await codeOf(verify(wire))).toBe('ERR_EVIDENCE_NONCE_MISMATCH');
    const gpu = await createSimulatedGpuProvider(fx.ca, 1).collect(bindFor(randomBytes(32), randomBytes(32)));
    expect(await codeOf(verify(gpu))).toBe('ERR_EVIDENCE_NONCE_MISMATCH');
  });

  it('takes the SNP measurement, host data and debug from the options', async () => {
    const measurement = new Uint8Array(48).fill(0x42);
    const hostData = new Uint8Array(32).fill(0x07);
    const [v] = await verify(await createSimulatedSnpProvider(fx.ca, { measurement, hostData, debug: true, guestSvn: 3 }).collect(bind));
    expect(v!.claims).toMatchObject({ measurement: hex(measurement), hostData: hex(hostData), debug: true, guestSvn: 3, policy: { debug: true } });
  });

  it('takes the TDX MRTD, RTMRs and debug from the options', async () => {
    const mrTd = new Uint8Array(48).fill(0x11);
    const rtmr = [1, 2, 3, 4].map((b) => new Uint8Array(48).fill(b));
    const [v] = await verify(await createSimulatedTdxProvider(fx.ca, { mrTd, rtmr, debug: true }).collect(bind));
    expect(v!.claims).toMatchObject({ mrTd: hex(mrTd), rtmr: rtmr.map(hex), debug: true });
  });

  it('keeps each GPU identity across calls (the CA stores them)', async () => {
    const first = await createSimulatedGpuProvider(fx.ca, 2).collect(bind);
    const second = await createSimulatedGpuProvider(fx.ca, 2).collect(bind);
    expect(second.map((w) => (w as { certChain: string }).certChain)).toEqual(first.map((w) => (w as { certChain: string }).certChain));
  });

  it('refuses bad options with ERR_AGENT_OPTIONS_INVALID', async () => {
    const codes = [
      () => createSimulatedSnpProvider(fx.ca, { measurement: new Uint8Array(47) }),
      () => createSimulatedSnpProvider(fx.ca, { vmpl: 4 }),
      () => createSimulatedTdxProvider(fx.ca, { rtmr: [new Uint8Array(48)] }),
      () => createSimulatedGpuProvider(fx.ca, 0),
      () => createSimulatorProvider({ tee: 'snp', gpus: 33, ca: fx.ca }),
      () => createSimulatorProvider({ tee: 'sgx' as 'snp', ca: fx.ca }),
    ].map((make) => {
      try {
        make();
        return undefined;
      } catch (err) {
        return (err as { code?: string }).code;
      }
    });
    expect(codes).toEqual(Array(6).fill('ERR_AGENT_OPTIONS_INVALID'));
    expect(await codeOf(createSimulatedSnpProvider(fx.ca).collect(new Uint8Array(32)))).toBe('ERR_AGENT_OPTIONS_INVALID');
  });
});
