import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EvidenceError } from '../../../../src/errors.js';
import { vendorAnchors } from '../../../../src/evidence/anchors.js';
import { LruMemo } from '../../../../src/evidence/memo.js';
import { verifyEvidence } from '../../../../src/evidence/verify.js';
import type { SgxClaims, TdxClaims } from '../../../../src/evidence/dcap/claims.js';
import { collateralSet, intelManifest, intelQuote, type IntelEvaluation, type IntelQuote } from '../../../helpers/intel.js';

const anchors = vendorAnchors();

async function verifyVector(q: IntelQuote, e: IntelEvaluation, memo = new LruMemo()) {
  const type = q.tee_type === 'TDX' ? ('tdx' as const) : ('sgx' as const);
  return verifyEvidence({ type, quote: intelQuote(q) }, { collateral: collateralSet(e.collateral_set), anchors, now: new Date(e.verification_time), memo });
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    if (err instanceof EvidenceError) return err.code;
    throw err;
  }
  return undefined;
}

const cases = intelManifest.quotes.flatMap((q) => q.evaluations.map((e) => [`${q.id} @ ${e.collateral_set}`, q, e] as const));

describe('real Intel quotes under their collateral (manifest)', () => {
  it('covers every manifest quote', () => {
    expect(intelManifest.quotes.length).toBe(18);
    expect(cases.length).toBe(21);
  });

  it.each(cases.filter(([, , e]) => e.expected.tcb_status === 'TCB_NOT_SUPPORTED'))('%s is refused: no matching TCB level', async (_, q, e) => {
    expect(await codeOf(verifyVector(q, e))).toBe('ERR_DCAP_TCB_NOT_SUPPORTED');
  });

  it.each(cases.filter(([, , e]) => e.expected.tcb_status !== 'TCB_NOT_SUPPORTED'))('%s gives the manifest status and claims', async (_, q, e) => {
    const result = await verifyVector(q, e);
    const claims = result.claims as TdxClaims | SgxClaims;
    const now = new Date(e.verification_time);
    expect(claims.tcbStatus).toBe(e.expected.tcb_status);
    expect(claims.advisoryIds).toEqual([...(e.expected.advisory_ids ?? [])].sort());
    expect(claims.fmspc).toBe(q.pck.fmspc.toLowerCase());
    expect(claims.pceId).toBe(q.pck.pceid);
    expect(claims.pceSvn).toBe(q.pck.pcesvn);
    expect(claims.cpuSvn).toBe(q.pck.cpusvn);
    expect(claims.qeTcbStatus).toBe(e.expected.qe_identity.status);
    expect(claims.qeSvn).toBe(q.qe_report.isvsvn);
    expect(claims.tcbDate).toBe((e.expected.tdx_tcb_level ?? e.expected.sgx_tcb_level)?.tcbDate);
    expect(claims.quoteVersion).toBe(q.quote_version);
    expect(claims.anchor).toEqual({
      source: 'vendor',
      name: 'Intel SGX Root CA',
      spki: 'a0af031289f5d5d4132f9186068a7fc13628633ba235777472e29b6b6c67a49e',
    });
    expect(result.digest).toBe(q.sha256);
    expect(result.digest).toBe(createHash('sha256').update(intelQuote(q)).digest('hex'));
    expect(result.validFrom.getTime()).toBeLessThanOrEqual(now.getTime());
    expect(result.validUntil.getTime()).toBeGreaterThanOrEqual(now.getTime());
    if (claims.tee === 'tdx') {
      const td = q.td_report as Record<string, string>;
      const attrs = q.td_attributes_decoded as Record<string, boolean>;
      expect(claims.mrTd).toBe(td['mrtd']);
      expect(claims.rtmr).toEqual([td['rtmr0'], td['rtmr1'], td['rtmr2'], td['rtmr3']]);
      expect(claims.mrSeam).toBe(td['mrseam']);
      expect(claims.mrSignerSeam).toBe(td['mrsignerseam']);
      expect(claims.mrConfigId).toBe(td['mrconfigid']);
      expect(claims.mrOwner).toBe(td['mrowner']);
      expect(claims.mrOwnerConfig).toBe(td['mrownerconfig']);
      expect(claims.xfam).toBe(td['xfam']);
      expect(claims.teeTcbSvn).toBe(td['tee_tcb_svn']);
      expect(claims.seamAttributes).toBe(td['seam_attributes']);
      expect(claims.reportData).toBe(td['report_data']);
      expect(claims.teeTcbSvn2).toBe(td['tee_tcb_svn2'] ?? undefined);
      expect(claims.mrServiceTd).toBe(td['mrservicetd'] ?? undefined);
      expect(claims.tdAttributes).toEqual({
        debug: attrs['debug'],
        septVeDisable: attrs['sept_ve_disable'],
        pks: attrs['pks'],
        kl: attrs['kl'],
        perfmon: attrs['perfmon'],
      });
      expect(claims.debug).toBe(attrs['debug']);
      expect(claims.tdxModuleId).toBe(e.expected.tdx_module?.module_identity ?? undefined);
      expect(claims.tdxModuleTcbStatus).toBe(e.expected.tdx_module?.status ?? undefined);
    } else {
      const r = q.enclave_report as Record<string, string | number | boolean>;
      expect(claims.mrEnclave).toBe(r['mrenclave']);
      expect(claims.mrSigner).toBe(r['mrsigner']);
      expect(claims.isvProdId).toBe(r['isvprodid']);
      expect(claims.isvSvn).toBe(r['isvsvn']);
      expect(claims.reportData).toBe(r['report_data']);
      expect(claims.configSvn).toBe(r['configsvn']);
      expect(claims.configId).toBe(r['configid']);
      expect(claims.reportCpuSvn).toBe(r['cpusvn']);
      expect(claims.debug).toBe(r['debug']);
      expect(claims.attributes.debug).toBe(r['debug']);
      expect(claims.attributes.xfrm).toBe(String(r['attributes']).slice(16));
    }
  });

  it('reports the debug TD and the debug enclave as debug', async () => {
    const q4 = intelManifest.quotes.find((q) => q.id === 'tdx-v4-trustee-q4') as IntelQuote;
    const solana = intelManifest.quotes.find((q) => q.id === 'sgx-v3-automata-solana') as IntelQuote;
    expect((await verifyVector(q4, q4.evaluations[0] as IntelEvaluation)).claims.debug).toBe(true);
    expect((await verifyVector(solana, solana.evaluations[0] as IntelEvaluation)).claims.debug).toBe(true);
  });

  it('pays one ECDSA verification for a repeated quote once collateral and QE are remembered', async () => {
    const q = intelManifest.quotes.find((x) => x.id === 'tdx-v4-dcapqvl-sample') as IntelQuote;
    const e = q.evaluations[0] as IntelEvaluation;
    const memo = new LruMemo();
    await verifyVector(q, e, memo);
    const misses = memo.misses;
    await verifyVector(q, e, memo);
    expect(memo.misses).toBe(misses);
    expect(memo.hits).toBeGreaterThanOrEqual(3);
  });

  it('accepts the nonce that REPORT_DATA carries and refuses any other', async () => {
    const q = intelManifest.quotes.find((x) => x.id === 'tdx-v4-dcapqvl-sample') as IntelQuote;
    const e = q.evaluations[0] as IntelEvaluation;
    const reportData = Buffer.from((q.td_report as Record<string, string>)['report_data'] as string, 'hex');
    const ctx = { collateral: collateralSet(e.collateral_set), anchors, now: new Date(e.verification_time) };
    const ok = await verifyEvidence({ type: 'tdx', quote: intelQuote(q) }, { ...ctx, expectedNonce: new Uint8Array(reportData) });
    expect(ok.claims.tee).toBe('tdx');
    const wrong = new Uint8Array(reportData);
    wrong[63] = (wrong[63] as number) ^ 1;
    expect(await codeOf(verifyEvidence({ type: 'tdx', quote: intelQuote(q) }, { ...ctx, expectedNonce: wrong }))).toBe('ERR_EVIDENCE_NONCE_MISMATCH');
  });

  it('refuses a TDX quote sent as SGX evidence and the reverse', async () => {
    const tdx = intelManifest.quotes.find((x) => x.id === 'tdx-v4-dcapqvl-sample') as IntelQuote;
    const sgx = intelManifest.quotes.find((x) => x.id === 'sgx-v3-dcapqvl-sample') as IntelQuote;
    const ctx = (e: IntelEvaluation) => ({ collateral: collateralSet(e.collateral_set), anchors, now: new Date(e.verification_time) });
    expect(await codeOf(verifyEvidence({ type: 'sgx', quote: intelQuote(tdx) }, ctx(tdx.evaluations[0] as IntelEvaluation)))).toBe('ERR_DCAP_TEE_TYPE_MISMATCH');
    expect(await codeOf(verifyEvidence({ type: 'tdx', quote: intelQuote(sgx) }, ctx(sgx.evaluations[0] as IntelEvaluation)))).toBe('ERR_DCAP_TEE_TYPE_MISMATCH');
  });
});
