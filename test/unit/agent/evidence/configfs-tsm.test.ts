// The configfs-tsm provider against a fake of the kernel's report files (test/fakes/configfs-tsm.ts) whose
// "firmware" is the simulator, so the evidence it returns also verifies; and against real directories for
// the "not a confidential VM" cases.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConfigfsTsmProvider } from '../../../../src/agent/evidence/configfs-tsm.js';
import { createSimulatedSnpProvider, createSimulatedTdxProvider } from '../../../../src/dev/simulator-provider.js';
import type { EvidenceProvider } from '../../../../src/agent/evidence/provider.js';
import { buildSnpCertTable } from '../../../../src/dev/snp.js';
import { decodeEvidenceItem } from '../../../../src/evidence/wire.js';
import { verifyEvidenceSet } from '../../../../src/evidence/verify.js';
import { FakeTsmKernel } from '../../../fakes/configfs-tsm.js';
import { CREATED, createDevCaFixture, type DevCaFixture } from './dev-ca-fixture.js';

const ROOT = '/sys/kernel/config/tsm/report';
const AT = new Date(CREATED.getTime() + 3600_000);
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

let fx: DevCaFixture;
let snpFirmware: EvidenceProvider;
let tdxFirmware: EvidenceProvider;
let certTable: Uint8Array;
let bind: Uint8Array;

beforeAll(async () => {
  fx = await createDevCaFixture();
  snpFirmware = createSimulatedSnpProvider(fx.ca);
  tdxFirmware = createSimulatedTdxProvider(fx.ca);
  const { vcek, pki } = fx.ca.amd;
  certTable = buildSnpCertTable([
    { kind: 'vcek', data: vcek.der },
    { kind: 'ask', data: pki.ask.der },
    { kind: 'ark', data: pki.ark.der },
  ]);
  bind = new Uint8Array(createHash('sha512').update(randomBytes(64)).digest());
});
afterAll(() => fx.cleanup());

/** The "firmware": a report (SNP) or quote (TDX) over inblob, from the simulator. */
async function firmware(provider: EvidenceProvider, inblob: Uint8Array): Promise<Uint8Array> {
  const [item] = await provider.collect(inblob);
  const raw = item as { report?: string; quote?: string };
  return new Uint8Array(Buffer.from(raw.report ?? raw.quote ?? '', 'base64'));
}

function snpKernel(extra: { auxblob?: Uint8Array; pad?: Uint8Array } = {}): FakeTsmKernel {
  return new FakeTsmKernel({
    root: ROOT,
    provider: 'sev_guest',
    outblob: async (inblob) => Buffer.concat([await firmware(snpFirmware, inblob), extra.pad ?? new Uint8Array(0)]),
    ...(extra.auxblob ? { auxblob: extra.auxblob } : {}),
  });
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

describe('configfs-tsm on an SEV-SNP guest', () => {
  it('writes inblob = bind, returns the report with the auxblob certificates, removes its entry, and verifies', async () => {
    const kernel = snpKernel({ auxblob: certTable });
    const wire = await createConfigfsTsmProvider({ root: ROOT, fs: kernel }).collect(bind);
    expect(wire).toHaveLength(1);
    const item = wire[0] as { type: string; report: string; certs: string[] };
    expect(item.type).toBe('snp');
    expect(Buffer.from(item.report, 'base64').length).toBe(0x4a0);
    expect(item.certs).toEqual([fx.ca.amd.vcek.der, fx.ca.amd.pki.ask.der, fx.ca.amd.pki.ark.der].map(b64));
    expect(kernel.writes).toEqual([{ file: 'inblob', data: bind }]);
    expect(kernel.entries.size).toBe(0);
    expect(kernel.log.map((l) => l.split(' ')[0])).toEqual(['mkdir', 'rmdir']);
    const verified = await verifyEvidenceSet([decodeEvidenceItem(item)], { anchors: fx.anchors, collateral: fx.collateral, now: AT }, bind);
    expect(verified[0]!.claims).toMatchObject({ tee: 'snp', reportData: Buffer.from(bind).toString('hex') });
  });

  it('sends no certificates when there is no auxblob', async () => {
    const [item] = await createConfigfsTsmProvider({ root: ROOT, fs: snpKernel() }).collect(bind);
    expect((item as { certs?: readonly string[] }).certs).toEqual([]);
  });

  it('trims zero padding after the report, and refuses anything else in outblob (ERR_AGENT_EVIDENCE_FAILED)', async () => {
    const [padded] = await createConfigfsTsmProvider({ root: ROOT, fs: snpKernel({ pad: new Uint8Array(4000 - 0x4a0) }) }).collect(bind);
    expect(Buffer.from((padded as { report: string }).report, 'base64').length).toBe(0x4a0);
    const trailing = snpKernel({ pad: Uint8Array.of(0, 0, 1) });
    expect(await codeOf(createConfigfsTsmProvider({ root: ROOT, fs: trailing }).collect(bind))).toBe('ERR_AGENT_EVIDENCE_FAILED');
    const short = new FakeTsmKernel({ root: ROOT, provider: 'sev_guest', outblob: () => new Uint8Array(100) });
    expect(await codeOf(createConfigfsTsmProvider({ root: ROOT, fs: short }).collect(bind))).toBe('ERR_AGENT_EVIDENCE_FAILED');
    expect(short.entries.size).toBe(0);
  });

  it('refuses a malformed auxblob (ERR_AGENT_EVIDENCE_FAILED)', async () => {
    const kernel = snpKernel({ auxblob: certTable.subarray(0, 30) });
    expect(await codeOf(createConfigfsTsmProvider({ root: ROOT, fs: kernel }).collect(bind))).toBe('ERR_AGENT_EVIDENCE_FAILED');
  });

  it('writes privlevel first when asked, and counts it in the generation check', async () => {
    let seen = -1;
    const kernel = new FakeTsmKernel({
      root: ROOT,
      provider: 'sev_guest',
      outblob: (inblob, privlevel) => ((seen = privlevel), firmware(snpFirmware, inblob)),
    });
    await createConfigfsTsmProvider({ root: ROOT, fs: kernel, privilegeLevel: 2 }).collect(bind);
    expect(kernel.writes.map((w) => w.file)).toEqual(['privlevel', 'inblob']);
    expect(seen).toBe(2);
    expect(() => createConfigfsTsmProvider({ privilegeLevel: 4 })).toThrow(expect.objectContaining({ code: 'ERR_AGENT_OPTIONS_INVALID' }));
  });
});

describe('configfs-tsm on a TDX guest', () => {
  it('returns the quote from outblob (no auxblob read) and it verifies', async () => {
    const kernel = new FakeTsmKernel({ root: ROOT, provider: 'tdx_guest', outblob: (inblob) => firmware(tdxFirmware, inblob), auxblob: certTable });
    const wire = await createConfigfsTsmProvider({ root: ROOT, fs: kernel }).collect(bind);
    expect(wire.map((w) => w.type)).toEqual(['tdx']);
    expect(Object.keys(wire[0]!)).toEqual(['type', 'quote']);
    const verified = await verifyEvidenceSet([decodeEvidenceItem(wire[0])], { anchors: fx.anchors, collateral: fx.collateral, now: AT }, bind);
    expect(verified[0]!.claims).toMatchObject({ tee: 'tdx', reportData: Buffer.from(bind).toString('hex') });
  });
});

describe('configfs-tsm faults', () => {
  it('is ERR_AGENT_TSM_UNAVAILABLE when the report directory does not exist (real file system)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyward-tsm-'));
    try {
      const err = await createConfigfsTsmProvider({ root: join(dir, 'tsm', 'report') }).collect(bind).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'ERR_AGENT_TSM_UNAVAILABLE' });
      expect((err as Error).message).toContain('not an SEV-SNP or TDX confidential VM');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is ERR_AGENT_TSM_UNAVAILABLE in a plain directory (not configfs: no provider file), and cleans up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyward-tsm-'));
    try {
      expect(await codeOf(createConfigfsTsmProvider({ root: dir }).collect(bind))).toBe('ERR_AGENT_TSM_UNAVAILABLE');
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is ERR_AGENT_TSM_UNAVAILABLE when creating the entry is not permitted', async () => {
    const kernel = snpKernel();
    kernel.mkdirError = 'EACCES';
    const err = await createConfigfsTsmProvider({ root: ROOT, fs: kernel }).collect(bind).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_AGENT_TSM_UNAVAILABLE' });
    expect((err as Error).message).toContain('permission denied');
  });

  it('retries when another writer bumps the generation, then succeeds', async () => {
    const kernel = snpKernel({ auxblob: certTable });
    kernel.interfere = 1;
    const wire = await createConfigfsTsmProvider({ root: ROOT, fs: kernel }).collect(bind);
    expect(wire).toHaveLength(1);
    expect(kernel.log.filter((l) => l.startsWith('mkdir'))).toHaveLength(2);
    expect(kernel.entries.size).toBe(0);
  });

  it('is ERR_AGENT_TSM_BUSY when the generation keeps changing, after the configured attempts', async () => {
    const kernel = snpKernel();
    kernel.interfere = 100;
    expect(await codeOf(createConfigfsTsmProvider({ root: ROOT, fs: kernel, attempts: 4 }).collect(bind))).toBe('ERR_AGENT_TSM_BUSY');
    expect(kernel.log.filter((l) => l.startsWith('mkdir'))).toHaveLength(4);
    expect(kernel.entries.size).toBe(0);
  });

  it('retries an EBUSY outblob read, and reports ERR_AGENT_TSM_BUSY when it persists', async () => {
    const kernel = snpKernel();
    kernel.busyReads = 2;
    expect(await createConfigfsTsmProvider({ root: ROOT, fs: kernel }).collect(bind)).toHaveLength(1);
    kernel.busyReads = 3;
    expect(await codeOf(createConfigfsTsmProvider({ root: ROOT, fs: kernel }).collect(bind))).toBe('ERR_AGENT_TSM_BUSY');
  });

  it('refuses an unknown TSM provider and a failed inblob write (ERR_AGENT_EVIDENCE_FAILED), removing the entry', async () => {
    const cca = new FakeTsmKernel({ root: ROOT, provider: 'arm_cca_guest', outblob: () => new Uint8Array(10) });
    expect(await codeOf(createConfigfsTsmProvider({ root: ROOT, fs: cca }).collect(bind))).toBe('ERR_AGENT_EVIDENCE_FAILED');
    expect(cca.entries.size).toBe(0);
    const refusing = snpKernel();
    refusing.inblobError = 'EINVAL';
    expect(await codeOf(createConfigfsTsmProvider({ root: ROOT, fs: refusing }).collect(bind))).toBe('ERR_AGENT_EVIDENCE_FAILED');
    expect(refusing.entries.size).toBe(0);
  });

  it('refuses a binding that is not 64 bytes (ERR_AGENT_OPTIONS_INVALID) before touching the kernel', async () => {
    const kernel = snpKernel();
    expect(await codeOf(createConfigfsTsmProvider({ root: ROOT, fs: kernel }).collect(bind.subarray(0, 32)))).toBe('ERR_AGENT_OPTIONS_INVALID');
    expect(kernel.log).toEqual([]);
  });
});
