import { beforeAll, describe, expect, it } from 'vitest';
import { readAmdExtensions, vekHwIdMatches, vekTcbMatches } from '../../../../src/evidence/snp/vek.js';
import { parseSnpReport } from '../../../../src/evidence/snp/report.js';
import { parseCertificate, parseCertificates, verifyChain } from '../../../../src/evidence/pki.js';
import { vendorAnchors } from '../../../../src/evidence/anchors.js';
import { createAmdLookalikePki, issueVcek, type AmdLookalikePki } from '../../../../src/dev/snp.js';
import { x509 } from '../../../../src/dev/pki.js';
import { readVector } from '../../../helpers/vectors.js';
import { codeOfSync, manifest, pemFile, reportOf } from './helpers.js';

describe('AMD extensions of every real VCEK and VLEK', () => {
  for (const v of manifest.vectors.filter((x) => x.vek)) {
    it(`${v.id}: equal the manifest and match the report`, () => {
      const ext = readAmdExtensions(parseCertificate(readVector('snp', v.vek as string)));
      const expected = v.vek_extensions as unknown as {
        structVersion: number;
        productName: string;
        tcb: Record<string, number>;
        hwID: string | null;
        cspID: string | null;
      };
      expect(ext).toBeDefined();
      expect(ext?.kind).toBe(v.signer.toLowerCase());
      expect(ext?.structVersion).toBe(expected.structVersion);
      expect(ext?.productName).toBe(expected.productName);
      expect(ext?.product).toBe(v.product);
      expect(ext?.tcb).toEqual(expected.tcb);
      expect(ext?.reservedSpls.every((s) => s === 0)).toBe(true);
      expect(ext?.hwId ? Buffer.from(ext.hwId).toString('hex') : null).toBe(expected.hwID);
      expect(ext?.cspId ?? null).toBe(expected.cspID);
      const report = parseSnpReport(reportOf(v));
      expect(vekTcbMatches(ext!, v.product, report.reportedTcb)).toBe(true);
      if (v.signer === 'VCEK') expect(vekHwIdMatches(ext!, v.product, report.chipId)).toBe(true);
    });
  }

  it('the Turin VCEK without a report: structVersion 1, 8-byte hwID, fmcSPL; its chain verifies', () => {
    const extra = manifest.extra_certs[0] as (typeof manifest.extra_certs)[number];
    const cert = parseCertificate(readVector('snp', extra.file));
    const ext = readAmdExtensions(cert);
    expect(ext).toMatchObject({ kind: 'vcek', structVersion: 1, productName: 'Turin', tcb: { fmc: 0, bootloader: 0, tee: 0, snp: 0, microcode: 9 } });
    expect(Buffer.from(ext?.hwId ?? []).toString('hex')).toBe('1e550a8ee5cf9f4d');
    const chain = verifyChain(cert, parseCertificates(pemFile('amd/turin/cert_chain_vcek.pem')), {
      anchors: vendorAnchors(),
      role: 'amd-ark',
      now: new Date(extra.verification_time),
    });
    expect(chain.anchor.product).toBe('Turin');
  });

  it('an AMD intermediate has no productName: not a signing certificate', () => {
    expect(readAmdExtensions(parseCertificates(pemFile('amd/milan/ask.pem'))[0]!)).toBeUndefined();
  });
});

describe('malformed AMD extensions (ERR_CHAIN_MALFORMED)', () => {
  let pki: AmdLookalikePki;
  const nb = new Date('2024-01-01T00:00:00Z');
  const na = new Date('2030-01-01T00:00:00Z');
  const tcb = { bootloader: 1, tee: 2, snp: 3, microcode: 200 };
  const chipId = new Uint8Array(64).fill(7);

  beforeAll(async () => {
    pki = await createAmdLookalikePki({ product: 'Genoa', algorithm: 'rsa-pss-2048', notBefore: nb, notAfter: na });
  }, 60_000);

  /** A VCEK re-encoded with one AMD extension replaced (or removed when `value` is undefined). */
  async function withExtension(oid: string, value: Uint8Array | undefined, critical = false): Promise<Uint8Array> {
    const good = await issueVcek(pki, { chipId, tcb, notBefore: nb, notAfter: na });
    const extensions = good.cert.extensions.filter((e) => e.type !== oid);
    if (value) extensions.push(new x509.Extension(oid, critical, value));
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: '00',
      subject: good.cert.subject,
      issuer: pki.ask.cert.subject,
      notBefore: nb,
      notAfter: na,
      publicKey: good.keys.publicKey,
      signingKey: pki.ask.keys.privateKey,
      signingAlgorithm: { name: 'RSA-PSS', saltLength: 48, hash: 'SHA-384' } as never,
      extensions,
    });
    return new Uint8Array(cert.rawData);
  }

  const read = (der: Uint8Array) => codeOfSync(() => readAmdExtensions(parseCertificate(der)));

  it('a minted VCEK looks like AMD\'s: serial 0, the SPLs as DER INTEGERs (0xdb → 02 02 00 db)', async () => {
    const good = await issueVcek(pki, { chipId, tcb, notBefore: nb, notAfter: na });
    expect(parseCertificate(good.der).serial).toBe('0');
    const ucode = good.cert.extensions.find((e) => e.type === '1.3.6.1.4.1.3704.1.3.8');
    expect(Buffer.from(ucode?.value ?? new ArrayBuffer(0)).toString('hex')).toBe('020200c8');
    expect(readAmdExtensions(parseCertificate(good.der))).toMatchObject({ kind: 'vcek', product: 'Genoa', tcb });
  });

  it('a missing SPL or structVersion, an SPL out of range or not minimally encoded', async () => {
    expect(read(await withExtension('1.3.6.1.4.1.3704.1.3.3', undefined))).toBe('ERR_CHAIN_MALFORMED');
    expect(read(await withExtension('1.3.6.1.4.1.3704.1.1', undefined))).toBe('ERR_CHAIN_MALFORMED');
    expect(read(await withExtension('1.3.6.1.4.1.3704.1.3.1', new Uint8Array([0x02, 0x02, 0x01, 0x00])))).toBe('ERR_CHAIN_MALFORMED');
    expect(read(await withExtension('1.3.6.1.4.1.3704.1.3.1', new Uint8Array([0x02, 0x02, 0x00, 0x05])))).toBe('ERR_CHAIN_MALFORMED');
    expect(read(await withExtension('1.3.6.1.4.1.3704.1.3.1', new Uint8Array([0x04, 0x01, 0x05])))).toBe('ERR_CHAIN_MALFORMED');
  });

  it('both hwID and cspID, a non-IA5 productName, an unknown critical extension', async () => {
    expect(read(await withExtension('1.3.6.1.4.1.3704.1.5', new Uint8Array([0x16, 0x01, 0x41])))).toBe('ERR_CHAIN_MALFORMED');
    expect(read(await withExtension('1.3.6.1.4.1.3704.1.2', new Uint8Array([0x0c, 0x05, 0x47, 0x65, 0x6e, 0x6f, 0x61])))).toBe('ERR_CHAIN_MALFORMED');
    expect(read(await withExtension('1.3.6.1.4.1.3704.1.99', new Uint8Array([0x05, 0x00]), true))).toBe('ERR_CHAIN_MALFORMED');
  });
});
