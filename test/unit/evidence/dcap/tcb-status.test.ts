import { describe, expect, it } from 'vitest';
import { EvidenceError } from '../../../../src/errors.js';
import { parseTcbInfoBody, type TcbInfo } from '../../../../src/evidence/dcap/tcb-info.js';
import { checkTdxModule, evaluateSgxTcb, evaluateTdxTcb, type TcbEvaluation } from '../../../../src/evidence/dcap/tcb-status.js';
import type { PckExtensions } from '../../../../src/evidence/dcap/pck.js';
import type { QeIdentityResult } from '../../../../src/evidence/dcap/qe-identity.js';
import { readTdReport, type TdReportFields } from '../../../../src/evidence/dcap/reports.js';
import { tcbInfoBody, type DevModuleIdentity, type DevTcbLevel } from '../../../../src/dev/dcap-collateral.js';
import { buildTdReport, type TdReportInput } from '../../../../src/dev/dcap-quote.js';
import { svn16 } from '../../../helpers/dcap-fixture.js';

const dates = { issueDate: new Date('2025-06-01T00:00:00Z'), nextUpdate: new Date('2025-07-01T00:00:00Z') };
const SGX_HI = svn16(5, 5, 2, 2, 4, 1, 0, 5);
const SGX_LO = svn16(4, 4, 2, 2, 4, 1, 0, 3);

function info(tee: 'sgx' | 'tdx', levels: DevTcbLevel[], moduleIdentities?: DevModuleIdentity[]): TcbInfo {
  return parseTcbInfoBody(tcbInfoBody({ tee, fmspc: '90C06F000000', ...dates, levels, ...(moduleIdentities ? { moduleIdentities } : {}) }));
}

function pck(components: number[], pceSvn = 13): PckExtensions {
  return {
    ppid: new Uint8Array(16),
    sgxTcbComponents: components,
    pceSvn,
    cpuSvn: Uint8Array.from(components),
    pceId: new Uint8Array(2),
    fmspc: Buffer.from('90C06F000000', 'hex'),
    sgxType: 0,
  };
}

function td(fields: TdReportInput, td15 = false): TdReportFields {
  return readTdReport(buildTdReport(fields, td15));
}

const qeOk: QeIdentityResult = { status: 'UpToDate', level: { isvSvn: 4, tcbDate: '2024-03-13T00:00:00Z', status: 'UpToDate', advisoryIds: [] } };
const qeOld: QeIdentityResult = { status: 'OutOfDate', level: { isvSvn: 2, tcbDate: '2023-02-15T00:00:00Z', status: 'OutOfDate', advisoryIds: ['INTEL-SA-00615'] } };
const qeRevoked: QeIdentityResult = { status: 'Revoked', level: { isvSvn: 1, tcbDate: '2019-01-01T00:00:00Z', status: 'Revoked', advisoryIds: [] } };
const qeUnsupported: QeIdentityResult = { status: 'NotSupported' };

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof EvidenceError) return err.code;
    throw err;
  }
  return 'ok';
}

describe('SGX TCB level matching and QE convergence', () => {
  const levels: DevTcbLevel[] = [
    // Served lowest first on purpose: QVL orders levels itself (highest TCB first).
    { sgx: SGX_LO, pceSvn: 11, status: 'OutOfDate', advisoryIds: ['INTEL-SA-00828', 'INTEL-SA-00615'] },
    { sgx: SGX_HI, pceSvn: 13, status: 'UpToDate' },
    { sgx: SGX_HI, pceSvn: 11, status: 'SWHardeningNeeded', advisoryIds: ['INTEL-SA-00615'] },
  ];

  it('takes the highest level the PCK meets, whatever the document order', () => {
    expect(evaluateSgxTcb(info('sgx', levels), pck(SGX_HI), qeOk).status).toBe('UpToDate');
    const lowPce = evaluateSgxTcb(info('sgx', levels), pck(SGX_HI, 12), qeOk);
    expect([lowPce.status, lowPce.advisoryIds]).toEqual(['SWHardeningNeeded', ['INTEL-SA-00615']]);
    const old = evaluateSgxTcb(info('sgx', levels), pck(svn16(4, 9, 9, 9, 9, 9, 9, 9)), qeOld);
    expect([old.status, old.advisoryIds, old.tcbDate]).toEqual(['OutOfDate', ['INTEL-SA-00615', 'INTEL-SA-00828'], '2024-03-13T00:00:00Z']);
  });

  it('refuses a platform below every level: ERR_DCAP_TCB_NOT_SUPPORTED', () => {
    expect(codeOf(() => evaluateSgxTcb(info('sgx', levels), pck(svn16(3, 9, 9, 9, 9, 9, 9, 9)), qeOk))).toBe('ERR_DCAP_TCB_NOT_SUPPORTED');
    expect(codeOf(() => evaluateSgxTcb(info('sgx', levels), pck(SGX_HI, 10), qeOk))).toBe('ERR_DCAP_TCB_NOT_SUPPORTED');
  });

  it.each([
    ['UpToDate', 'OutOfDate'],
    ['SWHardeningNeeded', 'OutOfDate'],
    ['ConfigurationNeeded', 'OutOfDateConfigurationNeeded'],
    ['ConfigurationAndSWHardeningNeeded', 'OutOfDateConfigurationNeeded'],
    ['OutOfDate', 'OutOfDate'],
    ['OutOfDateConfigurationNeeded', 'OutOfDateConfigurationNeeded'],
    ['Revoked', 'Revoked'],
  ])('a %s platform with an OutOfDate QE is %s', (platform, expected) => {
    const one = info('sgx', [{ sgx: SGX_LO, pceSvn: 11, status: platform }]);
    expect(evaluateSgxTcb(one, pck(SGX_HI), qeOld).status).toBe(expected);
    expect(evaluateSgxTcb(one, pck(SGX_HI), qeOk).status).toBe(platform);
    expect(evaluateSgxTcb(one, pck(SGX_HI), qeRevoked).status).toBe('Revoked');
    expect(codeOf(() => evaluateSgxTcb(one, pck(SGX_HI), qeUnsupported))).toBe('ERR_DCAP_TCB_NOT_SUPPORTED');
  });
});

describe('TDX TCB level matching', () => {
  const levels: DevTcbLevel[] = [
    { sgx: SGX_HI, pceSvn: 13, tdx: svn16(7, 9, 4), status: 'UpToDate' },
    { sgx: SGX_HI, pceSvn: 13, tdx: svn16(5, 0, 3), status: 'OutOfDate', advisoryIds: ['INTEL-SA-00960'] },
    { sgx: SGX_LO, pceSvn: 11, tdx: svn16(0, 0, 0), status: 'OutOfDate', advisoryIds: ['INTEL-SA-00828'] },
  ];
  const modules: DevModuleIdentity[] = [{ id: 'tdx_01', levels: [{ isvSvn: 2, status: 'UpToDate' }] }];

  it('skips TEE_TCB_SVN bytes 0 and 1 when the module version (byte 1) is non-zero', () => {
    const e = evaluateTdxTcb(info('tdx', levels, modules), pck(SGX_HI), td({ teeTcbSvn: Uint8Array.from(svn16(2, 1, 4)) }), qeOk);
    expect([e.status, e.tdxModule?.id]).toEqual(['UpToDate', 'tdx_01']);
  });

  it('compares all 16 bytes for a TDX 1.0 module (byte 1 zero), with no module status', () => {
    const e = evaluateTdxTcb(info('tdx', levels, modules), pck(SGX_HI), td({ teeTcbSvn: Uint8Array.from(svn16(6, 0, 4)) }), qeOk);
    expect([e.status, e.advisoryIds, e.tdxModule]).toEqual(['OutOfDate', ['INTEL-SA-00960'], undefined]);
  });

  it('falls to a lower level when only the SGX part of a higher one matches', () => {
    const e = evaluateTdxTcb(info('tdx', levels, modules), pck(SGX_HI), td({ teeTcbSvn: Uint8Array.from(svn16(2, 1, 3)) }), qeOk);
    expect([e.status, e.advisoryIds]).toEqual(['OutOfDate', ['INTEL-SA-00960']]);
  });

  it('refuses when no level matches TEE_TCB_SVN: ERR_DCAP_TCB_NOT_SUPPORTED', () => {
    const strict = info('tdx', [levels[0] as DevTcbLevel], modules);
    expect(codeOf(() => evaluateTdxTcb(strict, pck(SGX_HI), td({ teeTcbSvn: Uint8Array.from(svn16(2, 1, 3)) }), qeOk))).toBe('ERR_DCAP_TCB_NOT_SUPPORTED');
  });
});

describe('TDX module status and convergence', () => {
  const modules = (status: string): DevModuleIdentity[] => [
    { id: 'TDX_01', levels: [{ isvSvn: 6, status: 'UpToDate' }, { isvSvn: 3, status, advisoryIds: ['INTEL-SA-01036'] }] },
  ];
  const svn = { teeTcbSvn: Uint8Array.from(svn16(4, 1, 3)) };

  it.each([
    ['UpToDate', 'OutOfDate', 'OutOfDate'],
    ['SWHardeningNeeded', 'OutOfDate', 'OutOfDate'],
    ['ConfigurationNeeded', 'OutOfDate', 'OutOfDateConfigurationNeeded'],
    ['ConfigurationAndSWHardeningNeeded', 'OutOfDate', 'OutOfDateConfigurationNeeded'],
    ['ConfigurationNeeded', 'Revoked', 'Revoked'],
    ['SWHardeningNeeded', 'UpToDate', 'SWHardeningNeeded'],
  ])('a %s TDX level with a %s module is %s', (level, module, expected) => {
    const t = info('tdx', [{ sgx: SGX_HI, pceSvn: 13, tdx: svn16(0, 0, 3), status: level }], modules(module));
    const e = evaluateTdxTcb(t, pck(SGX_HI), td(svn), qeOk);
    expect([e.status, e.tdxModule?.status]).toEqual([expected, module]);
    expect(e.advisoryIds).toEqual(['INTEL-SA-01036']);
  });

  it('a revoked TDX TCB stays Revoked even when the QE is not supported (QVL returns before the QE)', () => {
    const t = info('tdx', [{ sgx: SGX_HI, pceSvn: 13, tdx: svn16(0, 0, 3), status: 'Revoked' }], modules('UpToDate'));
    const e = evaluateTdxTcb(t, pck(SGX_HI), td(svn), qeUnsupported);
    expect([e.status, e.qeStatus]).toEqual(['Revoked', 'NotSupported']);
  });

  it('a module SVN below every level, or no identity for the version, is refused', () => {
    const t = info('tdx', [{ sgx: SGX_HI, pceSvn: 13, tdx: svn16(0, 0, 3), status: 'UpToDate' }], modules('OutOfDate'));
    expect(codeOf(() => evaluateTdxTcb(t, pck(SGX_HI), td({ teeTcbSvn: Uint8Array.from(svn16(2, 1, 3)) }), qeOk))).toBe('ERR_DCAP_TCB_NOT_SUPPORTED');
    expect(codeOf(() => evaluateTdxTcb(t, pck(SGX_HI), td({ teeTcbSvn: Uint8Array.from(svn16(6, 4, 3)) }), qeOk))).toBe('ERR_DCAP_TDX_MODULE_MISMATCH');
  });
});

describe('the TDX module identity check (QVL 4.1.2.4.11)', () => {
  const t = info('tdx', [{ sgx: SGX_HI, pceSvn: 13, tdx: svn16(0, 0, 3), status: 'UpToDate' }], [{ id: 'TDX_01', levels: [{ isvSvn: 1, status: 'UpToDate' }] }]);
  const noIdentities = info('tdx', [{ sgx: SGX_HI, pceSvn: 13, tdx: svn16(0, 0, 3), status: 'UpToDate' }]);

  it('accepts Intel\'s module (zero MRSIGNERSEAM and SEAM attributes) for TDX 1.0 and for TDX_01', () => {
    expect(checkTdxModule(t, td({ teeTcbSvn: Uint8Array.from(svn16(3, 0, 3)) }))).toBeUndefined();
    expect(checkTdxModule(t, td({ teeTcbSvn: Uint8Array.from(svn16(3, 1, 3)) }))?.id).toBe('TDX_01');
  });

  it('refuses a module version the TCB Info has no identities for', () => {
    expect(codeOf(() => checkTdxModule(noIdentities, td({ teeTcbSvn: Uint8Array.from(svn16(3, 1, 3)) })))).toBe('ERR_DCAP_TDX_MODULE_MISMATCH');
    expect(codeOf(() => checkTdxModule(noIdentities, td({ teeTcbSvn: Uint8Array.from(svn16(3, 0, 3)), mrSignerSeam: new Uint8Array(48).fill(2) })))).toBe(
      'ERR_DCAP_TDX_MODULE_MISMATCH',
    );
  });
});

describe('TD relaunch (TD report 1.5)', () => {
  const modules: DevModuleIdentity[] = [
    { id: 'TDX_01', levels: [{ isvSvn: 7, status: 'UpToDate' }, { isvSvn: 6, status: 'OutOfDate' }] },
    { id: 'TDX_03', levels: [{ isvSvn: 2, status: 'UpToDate' }] },
  ];
  const relaunchInfo = (sgxStatus = 'UpToDate') =>
    info(
      'tdx',
      [
        { sgx: SGX_HI, pceSvn: 13, tdx: svn16(7, 1, 4), status: sgxStatus },
        { sgx: SGX_HI, pceSvn: 13, tdx: svn16(6, 1, 3), status: sgxStatus === 'UpToDate' ? 'OutOfDate' : 'OutOfDateConfigurationNeeded' },
      ],
      modules,
    );
  const current = Uint8Array.from(svn16(6, 1, 3));
  const evaluate = (svn2: number[], qe = qeOk, sgxStatus = 'UpToDate'): TcbEvaluation =>
    evaluateTdxTcb(relaunchInfo(sgxStatus), pck(SGX_HI), td({ teeTcbSvn: current, teeTcbSvn2: Uint8Array.from(svn2) }, true), qe);

  it('advises a relaunch when TEE_TCB_SVN2 already meets the newest level', () => {
    expect(evaluate(svn16(7, 1, 4)).status).toBe('TDRelaunchAdvised');
    expect(evaluate(svn16(2, 3, 4)).status).toBe('TDRelaunchAdvised');
    expect(evaluate(svn16(7, 0, 4)).status).toBe('TDRelaunchAdvised');
    expect(evaluate(svn16(7, 1, 4), qeOk, 'ConfigurationNeeded').status).toBe('TDRelaunchAdvisedConfigurationNeeded');
  });

  it('keeps OutOfDate when TEE_TCB_SVN2 is behind, or the QE is out of date', () => {
    expect(evaluate(svn16(6, 1, 4)).status).toBe('OutOfDate');
    expect(evaluate(svn16(7, 1, 3)).status).toBe('OutOfDate');
    expect(evaluate(svn16(7, 1, 4), qeOld).status).toBe('OutOfDate');
  });

  it('refuses TEE_TCB_SVN2 naming a module with no identity', () => {
    expect(codeOf(() => evaluate(svn16(7, 2, 4)))).toBe('ERR_DCAP_TDX_MODULE_MISMATCH');
  });
});
