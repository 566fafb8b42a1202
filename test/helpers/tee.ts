// A test TEE: look-alike vendor PKIs (from src/dev) whose roots a test configures as extra anchors, and
// evidence bound to a nonce and TEE key exactly as a real workload would produce it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, type KeyObject } from 'node:crypto';
import { compactDecrypt } from 'jose';
import { createAmdLookalikePki, createArkCrl, issueVcek, buildSnpReport, signSnpReport, DEFAULT_TCB, type AmdLookalikePki } from '../../src/dev/snp.js';
import type { DevCertificate } from '../../src/dev/pki.js';
import { jwkThumbprint, type TeePublicJwk } from '../../src/keys/jwe.js';
import { freshKeyPair } from '../../src/keys/key-pair.js';
import type { SnpTcb } from '../../src/evidence/snp/claims.js';

export const MEASUREMENT = 'a1'.repeat(48);
export const CHIP_ID = new Uint8Array(64).fill(0x5a);

export interface TeeKeyPair {
  readonly publicJwk: TeePublicJwk;
  readonly privateKey: KeyObject;
  readonly thumbprint: Uint8Array;
}

export function teeKeyPair(kind: 'p384' | 'x25519' | 'rsa' = 'x25519'): TeeKeyPair {
  const pair = freshKeyPair(kind === 'p384' ? { type: 'ec', namedCurve: 'P-384' } : kind === 'rsa' ? { type: 'rsa', modulusLength: 3072 } : { type: 'x25519' });
  const jwk = pair.publicKey.export({ format: 'jwk' }) as Record<string, string>;
  const publicJwk = (kind === 'rsa' ? { kty: 'RSA', n: jwk['n'], e: jwk['e'] } : kind === 'p384' ? { kty: 'EC', crv: 'P-384', x: jwk['x'], y: jwk['y'] } : { kty: 'OKP', crv: 'X25519', x: jwk['x'] }) as TeePublicJwk;
  return { publicJwk, privateKey: pair.privateKey, thumbprint: jwkThumbprint(publicJwk) };
}

export function binding(nonceB64Url: string, tee: TeeKeyPair): Uint8Array {
  return new Uint8Array(createHash('sha512').update(Buffer.from(nonceB64Url, 'base64url')).update(tee.thumbprint).digest());
}

export async function openJwe(jwe: string, tee: TeeKeyPair): Promise<Uint8Array> {
  return (await compactDecrypt(jwe, tee.privateKey)).plaintext;
}

export interface SnpOptions {
  readonly measurement?: string;
  readonly debug?: boolean;
  readonly vmpl?: number;
  readonly tcb?: SnpTcb;
}

export interface TestSnpPlatform {
  readonly pki: AmdLookalikePki;
  readonly vcek: DevCertificate;
  /** A directory holding the look-alike ARK as PEM: point KEYWARD_EXTRA_ANCHORS at it. */
  readonly anchorsDir: string;
  /** A directory holding the ARK's CRL (valid as long as the certificates): KEYWARD_COLLATERAL_DIR. */
  readonly collateralDir: string;
  /** Both settings a server needs to accept this platform's evidence with revocation required. */
  readonly env: Readonly<Record<string, string>>;
  evidence(bind: Uint8Array, opts?: SnpOptions): Promise<{ type: 'snp'; report: string; certs: string[] }>;
}

export async function createTestSnpPlatform(now = new Date()): Promise<TestSnpPlatform> {
  const notBefore = new Date(now.getTime() - 24 * 3600 * 1000);
  const notAfter = new Date(now.getTime() + 365 * 24 * 3600 * 1000);
  const pki = await createAmdLookalikePki({ product: 'Milan', algorithm: 'rsa-pss-2048', notBefore, notAfter, organization: 'keyward TEST' });
  const vcek = await issueVcek(pki, { chipId: CHIP_ID, tcb: DEFAULT_TCB.Milan, notBefore, notAfter });
  // AMD issues one VCEK per TCB: a report at another TCB needs its own (same key, as on real hardware).
  const vceks = new Map<string, Promise<DevCertificate>>([[JSON.stringify(DEFAULT_TCB.Milan), Promise.resolve(vcek)]]);
  const vcekFor = (tcb: SnpTcb): Promise<DevCertificate> => {
    const key = JSON.stringify(tcb);
    let v = vceks.get(key);
    if (!v) {
      v = issueVcek(pki, { chipId: CHIP_ID, tcb, notBefore, notAfter, keys: vcek.keys });
      vceks.set(key, v);
    }
    return v;
  };
  const anchorsDir = mkdtempSync(join(tmpdir(), 'keyward-anchors-'));
  writeFileSync(join(anchorsDir, 'ark-milan.pem'), pki.ark.pem);
  const collateralDir = mkdtempSync(join(tmpdir(), 'keyward-collateral-'));
  writeFileSync(join(collateralDir, 'ark-milan.crl'), await createArkCrl(pki, { thisUpdate: notBefore, nextUpdate: notAfter }));
  return {
    pki,
    vcek,
    anchorsDir,
    collateralDir,
    env: { KEYWARD_EXTRA_ANCHORS: anchorsDir, KEYWARD_COLLATERAL_DIR: collateralDir },
    async evidence(bind, opts = {}) {
      const report = buildSnpReport({
        product: 'Milan',
        reportData: bind,
        measurement: Buffer.from(opts.measurement ?? MEASUREMENT, 'hex'),
        chipId: CHIP_ID,
        vmpl: opts.vmpl ?? 0,
        // 0x30000: SMT allowed, reserved bit 17; bit 19 is DEBUG.
        policy: opts.debug ? 0xb0000n : 0x30000n,
        ...(opts.tcb ? { reportedTcb: opts.tcb, currentTcb: opts.tcb, committedTcb: opts.tcb, launchTcb: opts.tcb } : {}),
      });
      const signing = await vcekFor(opts.tcb ?? DEFAULT_TCB.Milan);
      const signed = signSnpReport(report, signing.keys);
      return {
        type: 'snp',
        report: Buffer.from(signed).toString('base64'),
        certs: [signing.der, pki.ask.der, pki.ark.der].map((d) => Buffer.from(d).toString('base64')),
      };
    },
  };
}

/** The SNP production policy shape used by the release tests. */
export function snpPolicy(name: string, measurement = MEASUREMENT, minSnp = 20) {
  return {
    name,
    description: 'test SNP policy',
    rules: [
      { name: 'snp', expr: 'cpu.tee == "snp"' },
      { name: 'no-debug', expr: '!cpu.debug' },
      { name: 'vmpl0', expr: 'cpu.vmpl == 0' },
      { name: 'image', expr: 'cpu.measurement in refs.images' },
      { name: 'tcb', expr: 'cpu.reportedTcb.snp >= refs.minSnp' },
    ],
    refs: { images: [measurement], minSnp },
  };
}
