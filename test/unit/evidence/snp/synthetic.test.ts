import { beforeAll, describe, expect, it } from 'vitest';
import { verifySnpEvidenceSync, type SnpEvidenceItem } from '../../../../src/evidence/snp/verify.js';
import { createTrustAnchors, vendorAnchors } from '../../../../src/evidence/anchors.js';
import { createCrl, createSelfSignedRoot, generateDevKeyPair, issueCertificate, x509, type DevCertificate } from '../../../../src/dev/pki.js';
import {
  buildSnpReport,
  createAmdLookalikePki,
  createArkCrl,
  issueVcek,
  issueVlek,
  signSnpReport,
  type AmdLookalikePki,
  type SnpReportSpec,
} from '../../../../src/dev/snp.js';
import type { TrustAnchors } from '../../../../src/evidence/types.js';
import { parseCertificate } from '../../../../src/evidence/pki.js';
import { crlIssuedBy } from '../../../../src/evidence/crl.js';
import { readVector } from '../../../helpers/vectors.js';
import { codeOfSync, ctxAt } from './helpers.js';

const nb = new Date('2024-01-01T00:00:00Z');
const na = new Date('2031-01-01T00:00:00Z');
const at = '2025-06-01T00:00:00Z';
const chipId = new Uint8Array(64).map((_, i) => (i * 7 + 3) & 0xff);
const turinChip = new Uint8Array(64);
turinChip.set([0x3b, 0x42, 0x09, 0x2f, 0x69, 0xc6, 0x56, 0xd3]);
const milanTcb = { bootloader: 4, tee: 0, snp: 24, microcode: 219 };
const turinTcb = { bootloader: 1, tee: 0, snp: 2, microcode: 71, fmc: 3 };

let milan: AmdLookalikePki;
let vcek: DevCertificate;
let vlek: DevCertificate;
let turin: AmdLookalikePki;
let turinVcek: DevCertificate;
let milanAnchors: TrustAnchors;
let turinAnchors: TrustAnchors;

beforeAll(async () => {
  // Exactly AMD's shape: RSA-4096 RSASSA-PSS ARK-Milan, SEV-Milan and SEV-VLEK-Milan, P-384 VCEK/VLEK with AMD's OIDs.
  [milan, turin] = await Promise.all([
    createAmdLookalikePki({ product: 'Milan', notBefore: nb, notAfter: na }),
    createAmdLookalikePki({ product: 'Turin', algorithm: 'rsa-pss-2048', notBefore: nb, notAfter: na, organization: 'SIMULATED' }),
  ]);
  [vcek, vlek, turinVcek] = await Promise.all([
    issueVcek(milan, { chipId, tcb: milanTcb, productName: 'Milan-B0', notBefore: nb, notAfter: na }),
    issueVlek(milan, { cspId: 'CN=cc-test.example', tcb: milanTcb, notBefore: nb, notAfter: new Date('2025-12-31T00:00:00Z') }),
    issueVcek(turin, { chipId: turinChip, tcb: turinTcb, notBefore: nb, notAfter: na }),
  ]);
  milanAnchors = createTrustAnchors([milan.ark.der]);
  turinAnchors = createTrustAnchors([turin.ark.der]);
}, 120_000);

function milanItem(spec: SnpReportSpec = {}, signer: DevCertificate = vcek, certs?: Uint8Array[]): SnpEvidenceItem {
  const report = signSnpReport(buildSnpReport({ product: 'Milan', chipId, reportedTcb: milanTcb, ...spec }), signer.keys);
  const intermediate = signer === vlek ? milan.asvk : milan.ask;
  return { type: 'snp', report, certs: certs ?? [signer.der, intermediate.der, milan.ark.der] };
}

function turinItem(spec: SnpReportSpec = {}): SnpEvidenceItem {
  const report = signSnpReport(buildSnpReport({ product: 'Turin', chipId: turinChip, reportedTcb: turinTcb, ...spec }), turinVcek.keys);
  return { type: 'snp', report, certs: [turinVcek.der, turin.ask.der, turin.ark.der] };
}

const verifyMilan = (item: SnpEvidenceItem, extra: Parameters<typeof ctxAt>[1] = {}) =>
  verifySnpEvidenceSync(item, ctxAt(at, { anchors: milanAnchors, ...extra }));
const codeMilan = (item: SnpEvidenceItem, extra: Parameters<typeof ctxAt>[1] = {}) => codeOfSync(() => verifyMilan(item, extra));

describe('a forged chain that mimics AMD exactly', () => {
  it('is ERR_CHAIN_UNTRUSTED_ROOT with the vendor anchors, even though the report is perfect', () => {
    expect(codeOfSync(() => verifySnpEvidenceSync(milanItem(), ctxAt(at, { anchors: vendorAnchors() })))).toBe('ERR_CHAIN_UNTRUSTED_ROOT');
    expect(milan.ark.keys.algorithm).toBe('rsa-pss-4096');
  });

  it('verifies with anchor.source "extra" when its ARK is configured as an extra anchor', () => {
    const result = verifyMilan(milanItem({ reportData: new Uint8Array(64).fill(0xab), policy: 0x30000n, vmpl: 2 }));
    expect(result.claims.anchor).toMatchObject({ source: 'extra', name: 'ARK-Milan (Advanced Micro Devices)' });
    expect(result.claims).toMatchObject({ product: 'Milan', signer: 'vcek', vmpl: 2, debug: false, reportVersion: 3 });
    expect(result.claims.reportData).toBe('ab'.repeat(64));
    expect(result.claims.reportedTcb).toEqual(milanTcb);
    expect(result.claims.chipId).toBe(Buffer.from(chipId).toString('hex'));
    expect(result.validUntil.toISOString()).toBe(na.toISOString());
  });

  it('is still untrusted when the forged ARK is sent with the evidence but a different extra anchor is configured', () => {
    expect(codeMilan(milanItem(), { anchors: turinAnchors })).toBe('ERR_CHAIN_UNTRUSTED_ROOT');
  });

  it('verifies report versions 2, 3, 4 and 5', () => {
    for (const version of [2, 3, 4, 5]) {
      const result = verifyMilan(milanItem({ version, launchMitVector: version >= 5 ? 0x11n : undefined }));
      expect(result.claims.reportVersion).toBe(version);
      expect(result.claims.cpuid === undefined).toBe(version === 2);
      expect(result.claims.launchMitVector).toBe(version >= 5 ? '0000000000000011' : undefined);
    }
  });

  it('reports DEBUG from the guest policy', () => {
    expect(verifyMilan(milanItem({ policy: 0xb0000n })).claims.debug).toBe(true);
  });
});

describe('VLEK', () => {
  it('verifies ARK → ASVK → VLEK and surfaces the CSP id', () => {
    const result = verifyMilan(milanItem({ signingKey: 'vlek', chipId: new Uint8Array(64) }, vlek));
    expect(result.claims).toMatchObject({ signer: 'vlek', cspId: 'CN=cc-test.example', certProductName: 'Milan' });
    expect(result.validUntil.toISOString()).toBe('2025-12-31T00:00:00.000Z');
  });

  it('refuses a VLEK-signed report that names a VCEK (ERR_SNP_SIGNER_MISMATCH)', () => {
    expect(codeMilan(milanItem({ signingKey: 'vcek' }, vlek))).toBe('ERR_SNP_SIGNER_MISMATCH');
  });

  it('refuses a VCEK issued by the ASVK (ERR_SNP_SIGNER_MISMATCH)', async () => {
    const rogue = await issueVcek({ ...milan, ask: milan.asvk }, { chipId, tcb: milanTcb, notBefore: nb, notAfter: na });
    const item = milanItem({}, rogue, [rogue.der, milan.asvk.der, milan.ark.der]);
    expect(codeMilan(item)).toBe('ERR_SNP_SIGNER_MISMATCH');
  });
});

describe('Turin (TCB layout with FMC, 8-byte hwID)', () => {
  it('verifies with the Turin TCB decoding and the 8-byte chip id', () => {
    const result = verifySnpEvidenceSync(turinItem(), ctxAt(at, { anchors: turinAnchors }));
    expect(result.claims.product).toBe('Turin');
    expect(result.claims.reportedTcb).toEqual(turinTcb);
    expect(result.claims.anchor.name).toBe('ARK-Turin (SIMULATED)');
  });

  it('decodes a v2 report (no CPUID) with the layout of the product its chain names', () => {
    const result = verifySnpEvidenceSync(turinItem({ version: 2 }), ctxAt(at, { anchors: turinAnchors }));
    expect(result.claims.reportedTcb).toEqual(turinTcb);
    expect(result.claims.cpuid).toBeUndefined();
  });

  it('refuses a non-zero CHIP_ID byte past the first eight (ERR_SNP_CHIP_ID_MISMATCH)', () => {
    const chip = new Uint8Array(turinChip);
    chip[8] = 1;
    expect(codeOfSync(() => verifySnpEvidenceSync(turinItem({ chipId: chip }), ctxAt(at, { anchors: turinAnchors })))).toBe(
      'ERR_SNP_CHIP_ID_MISMATCH',
    );
  });

  it('refuses a report whose FMC differs from the VCEK fmcSPL (ERR_SNP_TCB_MISMATCH)', () => {
    const item = turinItem({ reportedTcb: { ...turinTcb, fmc: 4 } });
    expect(codeOfSync(() => verifySnpEvidenceSync(item, ctxAt(at, { anchors: turinAnchors })))).toBe('ERR_SNP_TCB_MISMATCH');
  });

  it('refuses a Turin report whose CPUID says Milan (ERR_SNP_PRODUCT_MISMATCH)', () => {
    const item = turinItem({ cpuid: { family: 0x19, model: 0x01, stepping: 1 } });
    expect(codeOfSync(() => verifySnpEvidenceSync(item, ctxAt(at, { anchors: turinAnchors })))).toBe('ERR_SNP_PRODUCT_MISMATCH');
  });
});

describe('report and certificate edge cases', () => {
  it('refuses a CPUID of another product or an unknown CPU (ERR_SNP_PRODUCT_MISMATCH)', () => {
    expect(codeMilan(milanItem({ cpuid: { family: 0x19, model: 0x11, stepping: 1 } }))).toBe('ERR_SNP_PRODUCT_MISMATCH');
    expect(codeMilan(milanItem({ cpuid: { family: 0x1a, model: 0x50, stepping: 0 } }))).toBe('ERR_SNP_PRODUCT_MISMATCH');
    expect(codeMilan(milanItem({ cpuid: { family: 0, model: 0, stepping: 0 } }))).toBe('ERR_SNP_PRODUCT_MISMATCH');
  });

  it('refuses non-zero reserved bytes of CURRENT, COMMITTED or LAUNCH TCB in a signed report (ERR_SNP_RESERVED_NONZERO)', () => {
    for (const offset of [0x03a, 0x1e3, 0x1f5]) {
      const unsigned = buildSnpReport({ product: 'Milan', chipId, reportedTcb: milanTcb });
      unsigned[offset] = 1;
      const item = { type: 'snp' as const, report: signSnpReport(unsigned, vcek.keys), certs: [vcek.der, milan.ask.der, milan.ark.der] };
      expect(codeMilan(item)).toBe('ERR_SNP_RESERVED_NONZERO');
    }
  });

  it('refuses an unsigned report and one with MASK_CHIP_KEY (ERR_SNP_SIGNATURE_INVALID)', () => {
    expect(codeMilan(milanItem({ signingKey: 'none' }))).toBe('ERR_SNP_SIGNATURE_INVALID');
    expect(codeMilan(milanItem({ maskChipKey: true }))).toBe('ERR_SNP_SIGNATURE_INVALID');
  });

  it('refuses a VCEK report with an all-zero (masked) CHIP_ID (ERR_SNP_CHIP_ID_MISMATCH)', async () => {
    const zeroVcek = await issueVcek(milan, { chipId: new Uint8Array(64), tcb: milanTcb, notBefore: nb, notAfter: na });
    const item = milanItem({ chipId: new Uint8Array(64) }, zeroVcek);
    expect(codeMilan(item)).toBe('ERR_SNP_CHIP_ID_MISMATCH');
  });

  it('refuses a VCEK whose productName or structVersion does not fit the chain (ERR_SNP_PRODUCT_MISMATCH)', async () => {
    const genoaNamed = await issueVcek(milan, { chipId, tcb: milanTcb, productName: 'Genoa', notBefore: nb, notAfter: na });
    expect(codeMilan(milanItem({}, genoaNamed))).toBe('ERR_SNP_PRODUCT_MISMATCH');
    const wrongStruct = await issueVcek(milan, { chipId, tcb: milanTcb, structVersion: 1, notBefore: nb, notAfter: na });
    expect(codeMilan(milanItem({}, wrongStruct))).toBe('ERR_SNP_PRODUCT_MISMATCH');
    const unknown = await issueVcek(milan, { chipId, tcb: milanTcb, productName: 'Venice', notBefore: nb, notAfter: na });
    expect(codeMilan(milanItem({}, unknown))).toBe('ERR_SNP_PRODUCT_MISMATCH');
  });

  it('refuses an extra-anchor chain whose names are not ARK-<P> / SEV-<P> (ERR_SNP_PRODUCT_MISMATCH)', async () => {
    const keys = await generateDevKeyPair('rsa-pss-2048');
    const root = await createSelfSignedRoot({ subject: 'CN=ARK-Venice', keys, notBefore: nb, notAfter: na });
    const ask = await issueCertificate(root, { subject: 'CN=SEV-Venice', keys: await generateDevKeyPair('rsa-pss-2048'), ca: true, notBefore: nb, notAfter: na });
    const leaf = await issueVcek({ ...milan, ark: root, ask }, { chipId, tcb: milanTcb, notBefore: nb, notAfter: na });
    const item = milanItem({}, leaf, [leaf.der, ask.der, root.der]);
    expect(codeMilan(item, { anchors: createTrustAnchors([root.der]) })).toBe('ERR_SNP_PRODUCT_MISMATCH');
  });

  it('refuses a chain longer than ARK → ASK → VCEK (ERR_CHAIN_CONSTRAINT_VIOLATION)', async () => {
    const sub = await issueCertificate(milan.ask, { subject: 'CN=SEV-Milan, O=extra', keys: await generateDevKeyPair('rsa-pss-2048'), ca: true, notBefore: nb, notAfter: na });
    const leaf = await issueVcek({ ...milan, ask: sub }, { chipId, tcb: milanTcb, notBefore: nb, notAfter: na });
    expect(codeMilan(milanItem({}, leaf, [leaf.der, sub.der, milan.ask.der, milan.ark.der]))).toBe('ERR_CHAIN_CONSTRAINT_VIOLATION');
  });

  it('finds the VCEK in collateral when the evidence sends none', () => {
    const item = milanItem({}, vcek, []);
    const result = verifyMilan(item, { collateral: { certificates: [milan.ark.der, milan.ask.der, vlek.der, vcek.der] } });
    expect(result.claims.signer).toBe('vcek');
  });
});

describe('CRLs from a look-alike ARK', () => {
  it('a CRL that revokes the ASK: ERR_CHAIN_REVOKED', async () => {
    const crl = await createArkCrl(milan, { thisUpdate: nb, nextUpdate: na, revokedSerials: ['010001'], crlNumber: 6 });
    expect(codeMilan(milanItem(), { collateral: { crls: [crl] } })).toBe('ERR_CHAIN_REVOKED');
  });

  it('a CRL that revokes only the ASVK leaves VCEK chains alone and refuses VLEK chains', async () => {
    const crl = await createArkCrl(milan, { thisUpdate: nb, nextUpdate: na, revokedSerials: ['010101'] });
    expect(verifyMilan(milanItem(), { collateral: { crls: [crl] } }).validUntil.toISOString()).toBe(na.toISOString());
    expect(codeMilan(milanItem({ signingKey: 'vlek' }, vlek), { collateral: { crls: [crl] } })).toBe('ERR_CHAIN_REVOKED');
  });

  it('a stale CRL: ERR_CRL_STALE', async () => {
    const crl = await createArkCrl(milan, { thisUpdate: nb, nextUpdate: new Date('2025-01-01T00:00:00Z') });
    expect(codeMilan(milanItem(), { collateral: { crls: [crl] } })).toBe('ERR_CRL_STALE');
  });

  it('a CRL naming ARK-Milan and its key identifier but signed by another key: ERR_CRL_SIGNATURE_INVALID', async () => {
    const impostorKeys = await generateDevKeyPair('rsa-pss-2048');
    const forged = await x509.X509CrlGenerator.create({
      issuer: milan.ark.subject,
      thisUpdate: nb,
      nextUpdate: na,
      signingKey: impostorKeys.privateKey,
      signingAlgorithm: { name: 'RSA-PSS', saltLength: 48, hash: 'SHA-384' } as never,
      extensions: [await x509.AuthorityKeyIdentifierExtension.create(milan.ark.keys.publicKey)],
    });
    expect(codeMilan(milanItem(), { collateral: { crls: [new Uint8Array(forged.rawData)] } })).toBe('ERR_CRL_SIGNATURE_INVALID');
    // Without key identifiers the name alone decides, and the signature is checked just the same.
    const impostor = await createSelfSignedRoot({ subject: milan.ark.subject, keys: impostorKeys, notBefore: nb, notAfter: na });
    const bare = await x509.X509CrlGenerator.create({
      issuer: impostor.subject,
      thisUpdate: nb,
      nextUpdate: na,
      signingKey: impostorKeys.privateKey,
      signingAlgorithm: { name: 'RSA-PSS', saltLength: 48, hash: 'SHA-384' } as never,
    });
    expect(codeMilan(milanItem(), { collateral: { crls: [new Uint8Array(bare.rawData)] } })).toBe('ERR_CRL_SIGNATURE_INVALID');
  });

  it('a CRL of a look-alike root with the same name but another key identifier is not applied', async () => {
    const other = await createAmdLookalikePki({ product: 'Milan', algorithm: 'rsa-pss-2048', notBefore: nb, notAfter: na });
    const crl = await createArkCrl(other, { thisUpdate: nb, nextUpdate: na, revokedSerials: ['010001'] });
    expect(crlIssuedBy(crl, parseCertificate(milan.ark.der))).toBe(true);
    expect(verifyMilan(milanItem(), { collateral: { crls: [crl] } }).claims.product).toBe('Milan');
  });

  it('AMD\'s real Milan CRL next to a look-alike ARK-Milan of the same name is not applied (its AKI is another key)', () => {
    const real = readVector('snp', 'crl/milan_vcek_crl_2025-05-06.der');
    expect(crlIssuedBy(real, parseCertificate(milan.ark.der))).toBe(true);
    expect(verifyMilan(milanItem(), { collateral: { crls: [real] } }).validUntil.toISOString()).toBe(na.toISOString());
  });

  it('a CRL of another product (ARK-Turin) is not applied, even when it would revoke the serial', async () => {
    const crl = await createCrl(turin.ark, { thisUpdate: nb, nextUpdate: nb, revokedSerials: ['010001'] });
    expect(verifyMilan(milanItem(), { collateral: { crls: [crl] } }).claims.product).toBe('Milan');
  });
});
