import { beforeAll, describe, expect, it } from 'vitest';
import { EvidenceError } from '../../../../src/errors.js';
import { createTrustAnchors, vendorAnchors } from '../../../../src/evidence/anchors.js';
import { verifyEvidence } from '../../../../src/evidence/verify.js';
import { LruMemo } from '../../../../src/evidence/memo.js';
import { parseCrl } from '../../../../src/evidence/crl.js';
import type { SgxClaims, TdxClaims } from '../../../../src/evidence/dcap/claims.js';
import type { VerifyContext } from '../../../../src/evidence/types.js';
import { createDcapCrls, createDcapTestPki, issuePckCertificate, defaultPckValues, pckChainPem, signQeIdentity, signTcbInfo } from '../../../../src/dev/dcap.js';
import { qeIdentityBody, tcbInfoBody } from '../../../../src/dev/dcap-collateral.js';
import { createQuotingEnclave, mintSgxQuote, mintTdxQuote } from '../../../../src/dev/dcap-quote.js';
import { createCrl, devPrivateKeyObject, issueCertificate, generateDevKeyPair } from '../../../../src/dev/pki.js';
import {
  createDcapFixture,
  DEFAULT_MODULES,
  DEFAULT_TDX_LEVELS,
  ISSUE,
  NEXT,
  NOT_AFTER,
  NOT_BEFORE,
  NOW,
  type DcapFixture,
} from '../../../helpers/dcap-fixture.js';
import { collateralSet } from '../../../helpers/intel.js';

let f: DcapFixture;
beforeAll(async () => {
  f = await createDcapFixture();
});

/** Whether two CRLs name the same issuer (the PCK CRL of the bag and a fresh one from the same CA). */
function sameIssuer(a: Uint8Array, b: Uint8Array): boolean {
  return parseCrl(a).issuerDer === parseCrl(b).issuerDer;
}

async function outcome(type: 'tdx' | 'sgx', quote: Uint8Array, ctx: VerifyContext): Promise<string> {
  try {
    const r = await verifyEvidence({ type, quote }, ctx);
    return (r.claims as TdxClaims | SgxClaims).tcbStatus;
  } catch (err) {
    if (err instanceof EvidenceError) return err.code;
    throw err;
  }
}

describe('a look-alike Intel PKI (test CA)', () => {
  it('is not trusted unless its root is an extra anchor', async () => {
    expect(await outcome('tdx', mintTdxQuote(f.tdxQe), f.ctx('tdx', { anchors: vendorAnchors() }))).toBe('ERR_CHAIN_UNTRUSTED_ROOT');
  });

  it('verifies with the root as an extra anchor, and says so in the claims', async () => {
    const r = await verifyEvidence({ type: 'tdx', quote: mintTdxQuote(f.tdxQe, { reportData: new Uint8Array(64).fill(7) }) }, f.ctx('tdx'));
    const c = r.claims as TdxClaims;
    expect(c.anchor.source).toBe('extra');
    expect(c.anchor.name).toBe('Intel SGX Root CA (Intel Corporation)');
    expect(c.tcbStatus).toBe('UpToDate');
    expect(c.tdxModuleId).toBe('TDX_01');
    expect(c.reportData).toBe('07'.repeat(64));
    expect(c.fmspc).toBe('90c06f000000');
    expect(r.validFrom).toEqual(ISSUE);
    expect(r.validUntil).toEqual(NEXT);
  });

  it('verifies SGX quotes v3, v4 and v5 (body type 1)', async () => {
    for (const version of [3, 4, 5] as const) {
      const r = await verifyEvidence({ type: 'sgx', quote: mintSgxQuote(f.sgxQe, { isvSvn: 9, isvProdId: 4 }, { version }) }, f.ctx('sgx'));
      const c = r.claims as SgxClaims;
      expect([c.quoteVersion, c.isvSvn, c.isvProdId, c.tcbStatus]).toEqual([version, 9, 4, 'SWHardeningNeeded']);
      expect(c.advisoryIds).toEqual(['INTEL-SA-00615']);
    }
  });

  it('verifies TDX quotes v5 with TD 1.0 and TD 1.5 bodies', async () => {
    const v5 = (await verifyEvidence({ type: 'tdx', quote: mintTdxQuote(f.tdxQe, {}, { version: 5 }) }, f.ctx('tdx'))).claims as TdxClaims;
    expect([v5.quoteVersion, v5.teeTcbSvn2]).toEqual([5, undefined]);
    const td15 = mintTdxQuote(f.tdxQe, { mrServiceTd: new Uint8Array(48).fill(1) }, { td15: true });
    const c = (await verifyEvidence({ type: 'tdx', quote: td15 }, f.ctx('tdx'))).claims as TdxClaims;
    expect([c.quoteVersion, c.mrServiceTd, c.teeTcbSvn2]).toEqual([5, '01'.repeat(48), '06010300000000000000000000000000']);
  });

  it('reports debug TDs and enclaves', async () => {
    const debugTd = mintTdxQuote(f.tdxQe, { tdAttributes: Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0]) });
    const c = (await verifyEvidence({ type: 'tdx', quote: debugTd }, f.ctx('tdx'))).claims as TdxClaims;
    expect([c.debug, c.tdAttributes.debug, c.tdAttributes.septVeDisable]).toEqual([true, true, false]);
    const attributes = new Uint8Array(16);
    attributes[0] = 0x07;
    const s = (await verifyEvidence({ type: 'sgx', quote: mintSgxQuote(f.sgxQe, { attributes }) }, f.ctx('sgx'))).claims as SgxClaims;
    expect([s.debug, s.attributes.debug, s.attributes.mode64Bit]).toEqual([true, true, true]);
  });

  it('accepts a PEM chain without the NUL terminator and a quote that carries only the leaf', async () => {
    const pckKey = devPrivateKeyObject(f.pki.pck.keys);
    const plain = createQuotingEnclave({ tee: 'tdx', pckKey, pckChainPem: pckChainPem(f.pki, f.pki.pck), nulTerminate: false });
    expect(await outcome('tdx', mintTdxQuote(plain), f.ctx('tdx'))).toBe('UpToDate');
    const leafOnly = createQuotingEnclave({ tee: 'tdx', pckKey, pckChainPem: f.pki.pck.pem });
    expect(await outcome('tdx', mintTdxQuote(leafOnly), f.ctx('tdx'))).toBe('UpToDate');
  });
});

describe('revocation with test-CA CRLs', () => {
  it('a PCK CRL listing the PCK → ERR_CHAIN_REVOKED', async () => {
    const { pckCrl } = await createDcapCrls(f.pki, { thisUpdate: ISSUE, nextUpdate: NEXT, revokedPcks: [f.pki.pck.cert.serialNumber] });
    expect(await outcome('tdx', mintTdxQuote(f.tdxQe), f.ctx('tdx', { collateral: f.collateral('tdx', { pckCrl }) }))).toBe('ERR_CHAIN_REVOKED');
  });

  it('a Root CA CRL listing the PCK CA → ERR_CHAIN_REVOKED', async () => {
    const { rootCrl } = await createDcapCrls(f.pki, { thisUpdate: ISSUE, nextUpdate: NEXT, revokedByRoot: [f.pki.pckCa.cert.serialNumber] });
    expect(await outcome('sgx', mintSgxQuote(f.sgxQe), f.ctx('sgx', { collateral: f.collateral('sgx', { rootCrl }) }))).toBe('ERR_CHAIN_REVOKED');
  });

  it('a Root CA CRL listing the TCB Signing certificate → ERR_CHAIN_REVOKED', async () => {
    const { rootCrl } = await createDcapCrls(f.pki, { thisUpdate: ISSUE, nextUpdate: NEXT, revokedByRoot: [f.pki.tcbSigning.cert.serialNumber] });
    expect(await outcome('tdx', mintTdxQuote(f.tdxQe), f.ctx('tdx', { collateral: f.collateral('tdx', { rootCrl }) }))).toBe('ERR_CHAIN_REVOKED');
  });

  it('without the PCK CRL: ERR_COLLATERAL_MISSING when revocation is required, revocationChecked false when optional', async () => {
    const bag = f.collateral('tdx');
    const { pckCrl } = await createDcapCrls(f.pki, { thisUpdate: ISSUE, nextUpdate: NEXT });
    const withoutPckCrl = { ...bag, crls: bag.crls.filter((c) => !sameIssuer(c, pckCrl)) };
    expect(withoutPckCrl.crls.length).toBe(bag.crls.length - 1);
    const quote = mintTdxQuote(f.tdxQe);
    expect(await outcome('tdx', quote, f.ctx('tdx', { collateral: withoutPckCrl }))).toBe('ERR_COLLATERAL_MISSING');
    const optional = await verifyEvidence({ type: 'tdx', quote }, f.ctx('tdx', { collateral: withoutPckCrl, revocation: 'optional' }));
    expect((optional.claims as TdxClaims).revocationChecked).toBe(false);
    expect(((await verifyEvidence({ type: 'tdx', quote }, f.ctx('tdx'))).claims as TdxClaims).revocationChecked).toBe(true);
  });

  it('reports the TCB Info, QE Identity and CRL versions relied on; below a floor: ERR_COLLATERAL_ROLLBACK', async () => {
    const quote = mintTdxQuote(f.tdxQe);
    const result = await verifyEvidence({ type: 'tdx', quote }, f.ctx('tdx'));
    const fmspc = (result.claims as TdxClaims).fmspc;
    const versions = new Map((result.collateralVersions ?? []).map((v) => [v.series, v.number]));
    expect(versions.get(`tcb-info:TDX:${fmspc}`)).toBe((result.claims as TdxClaims).tcbEvaluationDataNumber);
    expect(versions.has('qe-identity:TD_QE')).toBe(true);
    const floors = new Map([[`tcb-info:TDX:${fmspc}`, (result.claims as TdxClaims).tcbEvaluationDataNumber + 1]]);
    expect(await outcome('tdx', quote, f.ctx('tdx', { floors }))).toBe('ERR_COLLATERAL_ROLLBACK');
    expect(await outcome('tdx', quote, f.ctx('tdx', { floors: new Map([['qe-identity:TD_QE', 999]]) }))).toBe('ERR_COLLATERAL_ROLLBACK');
    expect(await outcome('tdx', quote, f.ctx('tdx', { floors: new Map([[`tcb-info:TDX:${fmspc}`, 1]]) }))).toBe('UpToDate');
  });

  it('applies each bag\'s own CRLs even when one memo serves both bags', async () => {
    const { pckCrl } = await createDcapCrls(f.pki, { thisUpdate: ISSUE, nextUpdate: NEXT, revokedPcks: [f.pki.pck.cert.serialNumber] });
    const memo = new LruMemo();
    const quote = mintTdxQuote(f.tdxQe);
    expect(await outcome('tdx', quote, f.ctx('tdx', { memo }))).toBe('UpToDate');
    expect(await outcome('tdx', quote, f.ctx('tdx', { memo, collateral: f.collateral('tdx', { pckCrl }) }))).toBe('ERR_CHAIN_REVOKED');
    expect(await outcome('tdx', quote, f.ctx('tdx', { memo }))).toBe('UpToDate');
  });

  it('notices a bag whose CRL array was changed in place', async () => {
    const { pckCrl } = await createDcapCrls(f.pki, { thisUpdate: ISSUE, nextUpdate: NEXT, revokedPcks: [f.pki.pck.cert.serialNumber] });
    const bag = f.collateral('tdx');
    const quote = mintTdxQuote(f.tdxQe);
    expect(await outcome('tdx', quote, f.ctx('tdx', { collateral: bag }))).toBe('UpToDate');
    (bag.crls as Uint8Array[])[0] = pckCrl;
    expect(await outcome('tdx', quote, f.ctx('tdx', { collateral: bag }))).toBe('ERR_CHAIN_REVOKED');
  });

  it('prefers the newest valid CRL when several are supplied', async () => {
    const { pckCrl: newer } = await createDcapCrls(f.pki, {
      thisUpdate: new Date('2025-06-10T00:00:00Z'),
      nextUpdate: NEXT,
      revokedPcks: [f.pki.pck.cert.serialNumber],
    });
    const bag = f.collateral('tdx');
    expect(await outcome('tdx', mintTdxQuote(f.tdxQe), f.ctx('tdx', { collateral: { ...bag, crls: [...bag.crls, newer] } }))).toBe('ERR_CHAIN_REVOKED');
  });

  it('a CRL signed by another key is not accepted for the PCK CA', async () => {
    const impostor = await issueCertificate(f.pki.root, { subject: f.pki.pckCa.subject, keys: await generateDevKeyPair('p256'), notBefore: NOT_BEFORE, notAfter: NOT_AFTER, ca: true });
    const forged = await createCrl(impostor, { thisUpdate: ISSUE, nextUpdate: NEXT });
    const bag = f.collateral('tdx');
    const crls = [forged, ...bag.crls.slice(1)];
    expect(await outcome('tdx', mintTdxQuote(f.tdxQe), f.ctx('tdx', { collateral: { ...bag, crls } }))).toBe('ERR_CRL_SIGNATURE_INVALID');
  });
});

describe('collateral from the wrong signer or time', () => {
  it('Intel-signed collateral for a test-CA quote → ERR_CHAIN_UNTRUSTED_ROOT (one root for quote and collateral)', async () => {
    const intel = collateralSet('dcapqvl_tdx_90C06F000000_2026-02');
    const crls = await createDcapCrls(f.pki, { thisUpdate: new Date('2026-03-01T00:00:00Z'), nextUpdate: new Date('2026-04-01T00:00:00Z') });
    const own = f.collateral('tdx', crls);
    const certificates = [...own.certificates.filter((c) => c !== f.pki.tcbSigning.der), ...intel.certificates];
    const collateral = { ...own, certificates, tcbInfos: intel.tcbInfos, qeIdentities: intel.qeIdentities };
    const anchors = createTrustAnchors([f.pki.root.der]);
    expect(await outcome('tdx', mintTdxQuote(f.tdxQe), { collateral, anchors, now: new Date('2026-03-05T10:00:00Z') })).toBe('ERR_CHAIN_UNTRUSTED_ROOT');
  });

  it('a TCB Info signed by another PKI\'s TCB Signing key → ERR_DCAP_TCB_INFO_SIGNATURE_INVALID', async () => {
    const other = await createDcapTestPki({ notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
    const body = tcbInfoBody({ tee: 'tdx', fmspc: f.pki.pckValues.fmspc, issueDate: ISSUE, nextUpdate: NEXT, levels: DEFAULT_TDX_LEVELS, moduleIdentities: DEFAULT_MODULES });
    const collateral = f.collateral('tdx', { tcbInfo: signTcbInfo(other, body) });
    expect(await outcome('tdx', mintTdxQuote(f.tdxQe), f.ctx('tdx', { collateral }))).toBe('ERR_DCAP_TCB_INFO_SIGNATURE_INVALID');
  });

  it('a TCB Info past nextUpdate → ERR_COLLATERAL_STALE; a fresher one next to it wins', async () => {
    const stale = signTcbInfo(
      f.pki,
      tcbInfoBody({ tee: 'tdx', fmspc: f.pki.pckValues.fmspc, issueDate: ISSUE, nextUpdate: new Date('2025-06-10T00:00:00Z'), levels: DEFAULT_TDX_LEVELS, moduleIdentities: DEFAULT_MODULES }),
    );
    expect(await outcome('tdx', mintTdxQuote(f.tdxQe), f.ctx('tdx', { collateral: f.collateral('tdx', { tcbInfo: stale }) }))).toBe('ERR_COLLATERAL_STALE');
    const bag = f.collateral('tdx');
    expect(await outcome('tdx', mintTdxQuote(f.tdxQe), f.ctx('tdx', { collateral: { ...bag, tcbInfos: [stale, ...bag.tcbInfos] } }))).toBe('UpToDate');
  });

  it('picks the TCB Info with the highest tcbEvaluationDataNumber among fresh ones', async () => {
    const levels = DEFAULT_TDX_LEVELS.map((l, i) => (i === 0 ? { ...l, status: 'OutOfDate' } : l));
    const newer = signTcbInfo(
      f.pki,
      tcbInfoBody({ tee: 'tdx', fmspc: f.pki.pckValues.fmspc, issueDate: ISSUE, nextUpdate: NEXT, tcbEvaluationDataNumber: 18, levels, moduleIdentities: DEFAULT_MODULES }),
    );
    const bag = f.collateral('tdx');
    const r = await verifyEvidence({ type: 'tdx', quote: mintTdxQuote(f.tdxQe) }, f.ctx('tdx', { collateral: { ...bag, tcbInfos: [...bag.tcbInfos, newer] } }));
    expect([(r.claims as TdxClaims).tcbStatus, (r.claims as TdxClaims).tcbEvaluationDataNumber]).toEqual(['OutOfDate', 18]);
  });

  it('now past every collateral window → ERR_CRL_STALE (CRLs are checked with the chain)', async () => {
    expect(await outcome('tdx', mintTdxQuote(f.tdxQe), f.ctx('tdx', { now: new Date('2025-07-02T00:00:00Z') }))).toBe('ERR_CRL_STALE');
  });
});

describe('PCK certificates that do not look like Intel\'s', () => {
  it('a leaf without the SGX extension → ERR_DCAP_PCK_CERT_INVALID', async () => {
    const bare = await issueCertificate(f.pki.pckCa, { subject: 'CN=Intel SGX PCK Certificate, O=Intel Corporation', keys: await generateDevKeyPair('p256'), notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
    const qe = createQuotingEnclave({ tee: 'tdx', pckKey: devPrivateKeyObject(bare.keys), pckChainPem: pckChainPem(f.pki, bare) });
    expect(await outcome('tdx', mintTdxQuote(qe), f.ctx('tdx'))).toBe('ERR_DCAP_PCK_CERT_INVALID');
  });

  it('a leaf that is not named an SGX PCK Certificate → ERR_DCAP_PCK_CERT_INVALID', async () => {
    const pki = await createDcapTestPki({ notBefore: NOT_BEFORE, notAfter: NOT_AFTER, names: { pck: 'Some Attestation Key' } });
    const qe = createQuotingEnclave({ tee: 'tdx', pckKey: devPrivateKeyObject(pki.pck.keys), pckChainPem: pckChainPem(pki, pki.pck) });
    expect(await outcome('tdx', mintTdxQuote(qe), f.ctx('tdx', { anchors: createTrustAnchors([pki.root.der]) }))).toBe('ERR_DCAP_PCK_CERT_INVALID');
  });

  it('a platform whose FMSPC has no TCB Info → ERR_COLLATERAL_MISSING', async () => {
    const other = await issuePckCertificate(f.pki, defaultPckValues({ fmspc: '00A06D080000' }));
    const qe = createQuotingEnclave({ tee: 'tdx', pckKey: devPrivateKeyObject(other.keys), pckChainPem: pckChainPem(f.pki, other) });
    expect(await outcome('tdx', mintTdxQuote(qe), f.ctx('tdx'))).toBe('ERR_COLLATERAL_MISSING');
  });

  it('a signed quote from a Quoting Enclave whose QE report binds another key → ERR_DCAP_QE_REPORT_DATA_MISMATCH', async () => {
    const a = f.tdxQe;
    const b = createQuotingEnclave({ tee: 'tdx', pckKey: devPrivateKeyObject(f.pki.pck.keys), pckChainPem: pckChainPem(f.pki, f.pki.pck) });
    const spliced = { ...a, qeReport: b.qeReport, qeReportSignature: b.qeReportSignature };
    expect(await outcome('tdx', mintTdxQuote(spliced), f.ctx('tdx'))).toBe('ERR_DCAP_QE_REPORT_DATA_MISMATCH');
  });
});

describe('the QE Identity', () => {
  async function withIdentity(change: Parameters<typeof qeIdentityBody>[0] extends infer O ? Partial<O> : never): Promise<string> {
    const identity = signQeIdentity(f.pki, qeIdentityBody({ id: 'TD_QE', issueDate: ISSUE, nextUpdate: NEXT, ...change }));
    return outcome('tdx', mintTdxQuote(f.tdxQe), f.ctx('tdx', { collateral: f.collateral('tdx', { qeIdentity: identity }) }));
  }

  it.each([
    ['MRSIGNER', { mrSigner: '00'.repeat(32) }],
    ['ISVPRODID', { isvProdId: 1 }],
    ['ATTRIBUTES', { attributesMask: 'FFFFFFFFFFFFFFFF0000000000000000' }],
    ['MISCSELECT', { miscselect: '01000000' }],
  ])('a QE whose %s differs → ERR_DCAP_QE_IDENTITY_MISMATCH', async (_, change) => {
    expect(await withIdentity(change)).toBe('ERR_DCAP_QE_IDENTITY_MISMATCH');
  });

  it('grades the QE: OutOfDate pulls UpToDate down, Revoked wins, below every level is not supported', async () => {
    expect(await withIdentity({ levels: [{ isvSvn: 5, status: 'UpToDate' }, { isvSvn: 4, status: 'OutOfDate' }] })).toBe('OutOfDate');
    expect(await withIdentity({ levels: [{ isvSvn: 3, status: 'Revoked' }] })).toBe('Revoked');
    expect(await withIdentity({ levels: [{ isvSvn: 5, status: 'UpToDate' }] })).toBe('ERR_DCAP_TCB_NOT_SUPPORTED');
  });

  it('an SGX QE identity offered for a TDX quote → ERR_COLLATERAL_MISSING', async () => {
    const collateral = f.collateral('tdx', { qeIdentity: f.qeIdentity });
    expect(await outcome('tdx', mintTdxQuote(f.tdxQe), f.ctx('tdx', { collateral }))).toBe('ERR_COLLATERAL_MISSING');
  });
});

describe('the TDX module', () => {
  it.each([
    ['a module version with no identity (TDX_02)', { teeTcbSvn: Uint8Array.from([6, 2, 3, ...new Array(13).fill(0)]) }],
    ['a non-zero MRSIGNERSEAM', { mrSignerSeam: new Uint8Array(48).fill(1) }],
    ['non-zero SEAM attributes', { seamAttributes: Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0]) }],
  ])('%s → ERR_DCAP_TDX_MODULE_MISMATCH', async (_, fields) => {
    expect(await outcome('tdx', mintTdxQuote(f.tdxQe, fields), f.ctx('tdx'))).toBe('ERR_DCAP_TDX_MODULE_MISMATCH');
  });

  it('grades TDX_03 by its own identity and an old TDX_01 module as OutOfDate', async () => {
    const q6 = mintTdxQuote(f.tdxQe, { teeTcbSvn: Uint8Array.from([3, 3, 3, ...new Array(13).fill(0)]) });
    const c6 = (await verifyEvidence({ type: 'tdx', quote: q6 }, f.ctx('tdx'))).claims as TdxClaims;
    expect([c6.tcbStatus, c6.tdxModuleId, c6.tdxModuleTcbStatus]).toEqual(['UpToDate', 'TDX_03', 'UpToDate']);
    const old = mintTdxQuote(f.tdxQe, { teeTcbSvn: Uint8Array.from([2, 1, 3, ...new Array(13).fill(0)]) });
    const c = (await verifyEvidence({ type: 'tdx', quote: old }, f.ctx('tdx'))).claims as TdxClaims;
    expect([c.tcbStatus, c.tdxModuleTcbStatus, c.advisoryIds]).toEqual(['OutOfDate', 'OutOfDate', ['INTEL-SA-01036']]);
  });

  it('a module SVN below every module level → ERR_DCAP_TCB_NOT_SUPPORTED', async () => {
    const q = mintTdxQuote(f.tdxQe, { teeTcbSvn: Uint8Array.from([1, 1, 3, ...new Array(13).fill(0)]) });
    expect(await outcome('tdx', q, f.ctx('tdx'))).toBe('ERR_DCAP_TCB_NOT_SUPPORTED');
  });
});

describe('with the test PKI loaded once', () => {
  it('the fixture matches its defaults', () => {
    expect(NOW.getTime()).toBeGreaterThan(ISSUE.getTime());
    expect(f.pki.names.pckCa).toBe('Intel SGX PCK Platform CA');
    expect(f.pki.pckValues.fmspc).toBe('90C06F000000');
  });
});
