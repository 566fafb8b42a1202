// A development CA in a temp data dir (RSA-2048 AMD keys: faster), its `dev ca --out` bundle, and the
// trust anchors and collateral a server would load from that bundle (read back from the files, by content).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDevCa, type DevCa } from '../../../../src/dev/ca.js';
import { writeDevCaBundle, type DevCaBundle } from '../../../../src/dev/ca-collateral.js';
import { createTrustAnchors } from '../../../../src/evidence/anchors.js';
import { parseCertificates } from '../../../../src/evidence/pki.js';
import { addToCollateral, emptyCollateral, recognizeCollateral } from '../../../../src/collateral/recognize.js';
import type { Collateral, TrustAnchors } from '../../../../src/evidence/types.js';

export const CREATED = new Date('2025-06-01T00:00:00Z');

export interface DevCaFixture {
  readonly root: string;
  readonly dataDir: string;
  readonly ca: DevCa;
  readonly bundle: DevCaBundle;
  readonly anchors: TrustAnchors;
  readonly collateral: Collateral;
  cleanup(): void;
}

export function anchorsFromDir(dir: string): TrustAnchors {
  const ders = readdirSync(dir)
    .sort()
    .flatMap((f) => parseCertificates(new Uint8Array(readFileSync(join(dir, f)))).map((c) => c.der));
  return createTrustAnchors(ders);
}

export function collateralFromDir(dir: string): Collateral {
  let bag = emptyCollateral();
  for (const f of readdirSync(dir).sort()) bag = addToCollateral(bag, recognizeCollateral(new Uint8Array(readFileSync(join(dir, f))), f));
  return bag;
}

export async function createDevCaFixture(now = CREATED): Promise<DevCaFixture> {
  const root = mkdtempSync(join(tmpdir(), 'keyward-devca-'));
  const dataDir = join(root, 'data');
  const ca = await openDevCa({ dataDir, now, amdKeyAlgorithm: 'rsa-pss-2048' });
  const bundle = await writeDevCaBundle(ca, join(root, 'out'), now);
  return {
    root,
    dataDir,
    ca,
    bundle,
    anchors: anchorsFromDir(bundle.anchorsDir),
    collateral: collateralFromDir(bundle.collateralDir),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}
