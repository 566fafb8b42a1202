// The development CA (src/dev/ca*.ts): created once in the data dir and reused, keys PKCS#8 PEM 0600, every
// subject SIMULATED, concurrent creation settles on one CA, collateral renewed within a week of expiry.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDevCa } from '../../../../src/dev/ca.js';
import { COLLATERAL_LIFETIME_DAYS, devCaCollateral, writeDevCaBundle } from '../../../../src/dev/ca-collateral.js';
import { parseCertificate } from '../../../../src/evidence/pki.js';
import { decodeEvidenceItem } from '../../../../src/evidence/wire.js';
import { verifyEvidenceSet } from '../../../../src/evidence/verify.js';
import { addToCollateral, emptyCollateral, recognizeCollateral } from '../../../../src/collateral/recognize.js';
import { createSimulatorProvider } from '../../../../src/dev/simulator-provider.js';
import { CREATED, collateralFromDir, createDevCaFixture, type DevCaFixture } from './dev-ca-fixture.js';

const DAY = 24 * 3600 * 1000;
const later = (days: number): Date => new Date(CREATED.getTime() + days * DAY);

let fx: DevCaFixture;
beforeAll(async () => {
  fx = await createDevCaFixture();
});
afterAll(() => fx.cleanup());

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(dir, f)).isFile());
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

describe('the development CA on disk', () => {
  it('keeps private keys as PKCS#8 PEM readable by the owner only, in 0700 directories', () => {
    const keys = filesUnder(fx.ca.dir).filter((f) => f.endsWith('.key.pem'));
    expect(keys.length).toBe(15);
    for (const key of keys) {
      const path = join(fx.ca.dir, key);
      expect([key, statSync(path).mode & 0o777]).toEqual([key, 0o600]);
      expect(readFileSync(path, 'latin1')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    }
    expect(statSync(fx.ca.dir).mode & 0o777).toBe(0o700);
  });

  it('says SIMULATED in every certificate subject, keeping the names the verifiers need', () => {
    const certs = filesUnder(fx.ca.dir).filter((f) => f.endsWith('.pem') && !f.endsWith('.key.pem'));
    expect(certs.length).toBe(15);
    for (const file of certs) {
      const cert = parseCertificate(readFileSync(join(fx.ca.dir, file)));
      expect([file, cert.subject]).toEqual([file, expect.stringContaining('SIMULATED')]);
    }
    expect(fx.ca.roots.map((r) => r.cert.cert.subject)).toEqual([
      expect.stringMatching(/O=keyward SIMULATED, CN=ARK-Milan$/),
      'CN=Intel SGX Root CA, O=keyward SIMULATED, L=Santa Clara, ST=CA, C=US',
      'CN=keyward SIMULATED NVIDIA Device Identity CA, O=keyward SIMULATED NVIDIA',
      'CN=keyward SIMULATED NVIDIA CoRIM signing Root CA, O=keyward SIMULATED NVIDIA',
    ]);
  });

  it('is reused by the next open: same roots, chip, firmware and GPUs', async () => {
    const [gpu] = await fx.ca.gpus(1);
    const again = await openDevCa({ dataDir: fx.dataDir, now: later(3) });
    expect(again.roots.map((r) => r.cert.pem)).toEqual(fx.ca.roots.map((r) => r.cert.pem));
    expect(again.amd.vcek.pem).toBe(fx.ca.amd.vcek.pem);
    expect(Buffer.from(again.amd.chipId).equals(Buffer.from(fx.ca.amd.chipId))).toBe(true);
    expect(again.nvidia.firmware.measurements.map((m) => Buffer.from(m).toString('hex'))).toEqual(
      fx.ca.nvidia.firmware.measurements.map((m) => Buffer.from(m).toString('hex')),
    );
    expect((await again.gpus(1))[0]!.certChain).toBe(gpu!.certChain);
    expect(again.createdAt).toEqual(CREATED);
  });

  it('settles on one CA when two processes create it at once', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'keyward-devca-race-'));
    try {
      const [a, b] = await Promise.all([
        openDevCa({ dataDir, now: CREATED, amdKeyAlgorithm: 'rsa-pss-2048' }),
        openDevCa({ dataDir, now: CREATED, amdKeyAlgorithm: 'rsa-pss-2048' }),
      ]);
      expect(a.roots.map((r) => r.cert.pem)).toEqual(b.roots.map((r) => r.cert.pem));
      expect(readdirSync(dataDir)).toEqual(['dev-ca']);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('reports a damaged CA as ERR_AGENT_DEV_CA_INVALID', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'keyward-devca-bad-'));
    try {
      const ca = await openDevCa({ dataDir, now: CREATED, amdKeyAlgorithm: 'rsa-pss-2048' });
      const state = join(ca.dir, 'state.json');
      const original = readFileSync(state, 'utf8');
      writeFileSync(state, original.replace('"format": "keyward-dev-ca/1"', '"format": "other"'));
      expect(await codeOf(openDevCa({ dataDir, now: CREATED }))).toBe('ERR_AGENT_DEV_CA_INVALID');
      writeFileSync(state, '{');
      expect(await codeOf(openDevCa({ dataDir, now: CREATED }))).toBe('ERR_AGENT_DEV_CA_INVALID');
      writeFileSync(state, original);
      unlinkSync(join(ca.dir, 'intel', 'pck.key.pem'));
      expect(await codeOf(openDevCa({ dataDir, now: CREATED }))).toBe('ERR_AGENT_DEV_CA_INVALID');
      writeFileSync(join(ca.dir, 'intel', 'pck.key.pem'), readFileSync(join(ca.dir, 'intel', 'root.key.pem')));
      expect(await codeOf(openDevCa({ dataDir, now: CREATED }))).toBe('ERR_AGENT_DEV_CA_INVALID');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('the bundle and its collateral', () => {
  it('writes only the four roots to anchors/ and recognizable collateral to collateral/', () => {
    expect(readdirSync(fx.bundle.anchorsDir).sort()).toEqual([
      'amd-ark-milan.pem',
      'intel-sgx-root-ca.pem',
      'nvidia-corim-signing-root-ca.pem',
      'nvidia-device-identity-ca.pem',
    ]);
    const kinds = readdirSync(fx.bundle.collateralDir)
      .sort()
      .map((f) => [f, recognizeCollateral(new Uint8Array(readFileSync(join(fx.bundle.collateralDir, f))), f).map((i) => i.kind).join(',')]);
    expect(Object.fromEntries(kinds)).toEqual({
      'amd-ark-milan.crl.pem': 'crl',
      'amd-milan-cert-chain.pem': 'certificate,certificate',
      'intel-pck-ca-chain.pem': 'certificate,certificate',
      'intel-pck-ca.crl.pem': 'crl',
      'intel-root-ca.crl.pem': 'crl',
      'intel-tcb-signing-chain.pem': 'certificate,certificate',
      'intel-td-qe-identity.json': 'qe-identity',
      'intel-tdx-tcb-info.json': 'tcb-info',
      'nvidia-corim-signing-root-ca.crl.pem': 'crl',
      'nvidia-device-identity-ca.crl.pem': 'crl',
      'nvidia-identity.crl.pem': 'crl',
      'nvidia-provisioner.crl.pem': 'crl',
      'nvidia-reference-value-ca.crl.pem': 'crl',
      'nvidia-reference-value-l3.crl.pem': 'crl',
      'nvidia-rim-driver-550.90.07.xml': 'rim',
      'nvidia-rim-vbios-96.00.9f.00.01.xml': 'rim',
    });
    expect(fx.bundle.written.map((p) => relative(join(fx.root, 'out'), p))).toHaveLength(20);
  });

  it('lasts 90 days, is kept while more than a week remains, and is renewed after', async () => {
    const first = await devCaCollateral(fx.ca, later(1));
    expect(first.nextUpdate.getTime() - CREATED.getTime()).toBe(COLLATERAL_LIFETIME_DAYS * DAY);
    const kept = await devCaCollateral(fx.ca, later(82));
    expect(kept.issuedAt).toEqual(first.issuedAt);
    const renewed = await devCaCollateral(fx.ca, later(84));
    expect(renewed.issuedAt.getTime()).toBe(later(84).getTime() - 3600_000);
    expect(renewed.nextUpdate).toEqual(later(84 + COLLATERAL_LIFETIME_DAYS));
    // Persisted: the next call returns the renewed set.
    expect((await devCaCollateral(fx.ca, later(85))).issuedAt).toEqual(renewed.issuedAt);
  });

  it('verifies simulated evidence with renewed collateral, and stale collateral is refused', async () => {
    const bind = new Uint8Array(createHash('sha512').update(randomBytes(16)).digest());
    const wire = await createSimulatorProvider({ tee: 'tdx', gpus: 1, ca: fx.ca }).collect(bind);
    const items = wire.map((w) => decodeEvidenceItem(w));
    const at = later(100);
    const old = collateralFromDir(fx.bundle.collateralDir);
    expect(await codeOf(verifyEvidenceSet(items, { anchors: fx.anchors, collateral: old, now: at }, bind))).toBe('ERR_CRL_STALE');
    const fresh = await devCaCollateral(fx.ca, at);
    let bag = emptyCollateral();
    for (const f of fresh.files) bag = addToCollateral(bag, recognizeCollateral(f.data, f.name));
    expect(await verifyEvidenceSet(items, { anchors: fx.anchors, collateral: bag, now: at }, bind)).toHaveLength(2);
  });

  it('issues each CRL under the exact name of its issuer: the ARK CRL applies to the simulated SNP chain', async () => {
    const { createArkCrl } = await import('../../../../src/dev/snp.js');
    const { crlIssuedBy } = await import('../../../../src/evidence/crl.js');
    const ark = parseCertificate(fx.ca.amd.pki.ark.der);
    expect(fx.collateral.crls.filter((crl) => crlIssuedBy(crl, ark))).toHaveLength(1);
    const bind = new Uint8Array(64).fill(7);
    const items = (await createSimulatorProvider({ tee: 'snp', ca: fx.ca }).collect(bind)).map((w) => decodeEvidenceItem(w));
    const window = { thisUpdate: later(1), nextUpdate: later(30) };
    const revoking = await createArkCrl(fx.ca.amd.pki, { ...window, revokedSerials: [fx.ca.amd.pki.ask.cert.serialNumber] });
    const bag = { ...emptyCollateral(), crls: [revoking] };
    expect(await codeOf(verifyEvidenceSet(items, { anchors: fx.anchors, collateral: bag, now: later(2) }, bind))).toBe('ERR_CHAIN_REVOKED');
  });

  it('rewrites the bundle in place (same roots, current collateral)', async () => {
    const out = join(fx.root, 'out2');
    const a = await writeDevCaBundle(fx.ca, out, later(100));
    const b = await writeDevCaBundle(fx.ca, out, later(101));
    expect(b.written).toEqual(a.written);
    expect(b.collateral).toEqual(a.collateral);
  });
});
