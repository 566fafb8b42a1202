import { describe, expect, it, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseCertificates, verifyChain, parseCertificate, type Certificate } from '../../../src/evidence/pki.js';
import { verifyCrl } from '../../../src/evidence/crl.js';
import { createTrustAnchors, vendorAnchors } from '../../../src/evidence/anchors.js';
import { createSelfSignedRoot, issueCertificate, generateDevKeyPair, createCrl, type DevCertificate } from '../../../src/dev/pki.js';
import { vectorPath, readVector } from '../../helpers/vectors.js';
import { LruMemo } from '../../../src/evidence/memo.js';
import { evidenceCodeOfSync as codeOf } from '../../helpers/errors.js';

describe('verifyChain on real AMD chains', () => {
  const chain = parseCertificates(readFileSync(vectorPath('snp/amd/milan/cert_chain_vcek.pem'), 'utf8'));
  const vcek = parseCertificate(readVector('snp/vek/milan-v2-vcek-gosevguest.vcek.der'));
  const at = new Date('2024-01-01T00:00:00Z');

  it('builds VCEK → ASK → ARK to the pinned Milan ARK', () => {
    const result = verifyChain(vcek, chain, { anchors: vendorAnchors(), role: 'amd-ark', now: at });
    expect(result.path.map((c) => c.subject.split('\n').pop())).toEqual(['CN=SEV-VCEK', 'CN=SEV-Milan', 'CN=ARK-Milan']);
    expect(result.anchor).toMatchObject({ name: 'AMD ARK-Milan', source: 'vendor', product: 'Milan' });
  });

  it('refuses the chain for another vendor role', () => {
    expect(codeOf(() => verifyChain(vcek, chain, { anchors: vendorAnchors(), role: 'intel-sgx-root', now: at }))).toBe(
      'ERR_CHAIN_UNTRUSTED_ROOT',
    );
  });

  it('refuses a chain missing the ASK', () => {
    const arkOnly = chain.filter((c) => c.selfSigned);
    expect(codeOf(() => verifyChain(vcek, arkOnly, { anchors: vendorAnchors(), role: 'amd-ark', now: at }))).toBe('ERR_CHAIN_INCOMPLETE');
  });

  it('refuses a Genoa ASK offered for a Milan VCEK', () => {
    const genoa = parseCertificates(readFileSync(vectorPath('snp/amd/genoa/cert_chain_vcek.pem'), 'utf8'));
    expect(codeOf(() => verifyChain(vcek, genoa, { anchors: vendorAnchors(), role: 'amd-ark', now: at }))).toBe('ERR_CHAIN_INCOMPLETE');
  });

  it('refuses before notBefore and after notAfter', () => {
    expect(codeOf(() => verifyChain(vcek, chain, { anchors: vendorAnchors(), role: 'amd-ark', now: new Date('2019-01-01Z') }))).toBe(
      'ERR_CHAIN_NOT_YET_VALID',
    );
    expect(codeOf(() => verifyChain(vcek, chain, { anchors: vendorAnchors(), role: 'amd-ark', now: new Date('2031-01-01Z') }))).toBe(
      'ERR_CHAIN_EXPIRED',
    );
  });

  it('remembers signature results in a memo', () => {
    const memo = new LruMemo();
    verifyChain(vcek, chain, { anchors: vendorAnchors(), role: 'amd-ark', now: at, memo });
    const misses = memo.misses;
    verifyChain(vcek, chain, { anchors: vendorAnchors(), role: 'amd-ark', now: at, memo });
    expect(memo.misses).toBe(misses);
    expect(memo.hits).toBeGreaterThanOrEqual(3);
  });

  it('verifies the real Genoa CRL against the ARK and sees the revoked old ASK', () => {
    const genoa = parseCertificates(readFileSync(vectorPath('snp/amd/genoa/cert_chain_vcek.pem'), 'utf8'));
    const ark = genoa.find((c) => c.selfSigned) as Certificate;
    const crl = verifyCrl(readVector('snp/crl/genoa_vcek_crl_2024-10-23.der'), ark, new Date('2025-01-01Z'));
    expect([...crl.revokedSerials]).toEqual(['20001']);
    expect(codeOf(() => verifyCrl(readVector('snp/crl/genoa_vcek_crl_2024-10-23.der'), ark, new Date('2026-01-01Z')))).toBe('ERR_CRL_STALE');
    const milanArk = parseCertificates(readFileSync(vectorPath('snp/amd/milan/ark.pem'), 'utf8'))[0] as Certificate;
    expect(codeOf(() => verifyCrl(readVector('snp/crl/genoa_vcek_crl_2024-10-23.der'), milanArk, new Date('2025-01-01Z')))).toBe(
      'ERR_CRL_INVALID',
    );
  });
});

describe('verifyChain on a look-alike test CA', () => {
  let root: DevCertificate;
  let ask: DevCertificate;
  let leaf: DevCertificate;
  const nb = new Date('2024-01-01Z');
  const na = new Date('2034-01-01Z');
  const at = new Date('2025-06-01Z');

  beforeAll(async () => {
    root = await createSelfSignedRoot({ subject: 'CN=ARK-Milan, O=Advanced Micro Devices', keys: await generateDevKeyPair('rsa-pss-2048'), notBefore: nb, notAfter: na, serialNumber: '010000' });
    ask = await issueCertificate(root, { subject: 'CN=SEV-Milan, O=Advanced Micro Devices', keys: await generateDevKeyPair('rsa-pss-2048'), notBefore: nb, notAfter: na, ca: true, serialNumber: '010001' });
    leaf = await issueCertificate(ask, { subject: 'CN=SEV-VCEK, O=Advanced Micro Devices', keys: await generateDevKeyPair('p384'), notBefore: nb, notAfter: na });
  }, 60_000);

  it('is an untrusted root unless configured as an extra anchor', () => {
    const pool = [parseCertificate(ask.der), parseCertificate(root.der)];
    expect(codeOf(() => verifyChain(parseCertificate(leaf.der), pool, { anchors: vendorAnchors(), role: 'amd-ark', now: at }))).toBe(
      'ERR_CHAIN_UNTRUSTED_ROOT',
    );
    const extra = createTrustAnchors([root.der]);
    const result = verifyChain(parseCertificate(leaf.der), [parseCertificate(ask.der)], { anchors: extra, role: 'amd-ark', now: at });
    expect(result.anchor.source).toBe('extra');
    expect(result.anchor.name).toBe('ARK-Milan (Advanced Micro Devices)');
  });

  it('names an extra anchor by CN and O, or by CN alone when it has no O', async () => {
    const bare = await createSelfSignedRoot({ subject: 'CN=Lab Root', keys: await generateDevKeyPair('p256'), notBefore: nb, notAfter: na });
    expect(createTrustAnchors([root.der, bare.der]).all.filter((a) => a.source === 'extra').map((a) => a.name)).toEqual([
      'ARK-Milan (Advanced Micro Devices)',
      'Lab Root',
    ]);
  });

  it('applies a CRL that revokes the ASK, and refuses a CRL signed by another key', async () => {
    const extra = createTrustAnchors([root.der]);
    const rootCert = parseCertificate(root.der);
    const crlDer = await createCrl(root, { thisUpdate: nb, nextUpdate: na, revokedSerials: ['010001'] });
    const crl = verifyCrl(crlDer, rootCert, at);
    expect(codeOf(() => verifyChain(parseCertificate(leaf.der), [parseCertificate(ask.der)], { anchors: extra, role: 'amd-ark', now: at, crls: [crl] }))).toBe(
      'ERR_CHAIN_REVOKED',
    );
    const impostor = await createSelfSignedRoot({ subject: 'CN=ARK-Milan, O=Advanced Micro Devices', keys: await generateDevKeyPair('rsa-pss-2048'), notBefore: nb, notAfter: na });
    const forged = await createCrl(impostor, { thisUpdate: nb, nextUpdate: na });
    expect(codeOf(() => verifyCrl(forged, rootCert, at))).toBe('ERR_CRL_SIGNATURE_INVALID');
    const stale = await createCrl(root, { thisUpdate: nb, nextUpdate: new Date('2025-01-01Z') });
    expect(codeOf(() => verifyCrl(stale, rootCert, at))).toBe('ERR_CRL_STALE');
  }, 60_000);

  it('refuses a leaf that signs another certificate (CA constraint)', async () => {
    const extra = createTrustAnchors([root.der]);
    const child = await issueCertificate(leaf, { subject: 'CN=child', keys: await generateDevKeyPair('p256'), notBefore: nb, notAfter: na });
    expect(
      codeOf(() => verifyChain(parseCertificate(child.der), [parseCertificate(leaf.der), parseCertificate(ask.der)], { anchors: extra, role: 'amd-ark', now: at })),
    ).toBe('ERR_CHAIN_CONSTRAINT_VIOLATION');
  });
});
