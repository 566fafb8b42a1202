import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EvidenceError } from '../../../../src/errors.js';
import { parseTcbInfo, parseTcbInfoBody } from '../../../../src/evidence/dcap/tcb-info.js';
import { parseQeIdentity, parseQeIdentityBody } from '../../../../src/evidence/dcap/qe-identity.js';
import { SignedJsonError, splitSignedJson } from '../../../../src/evidence/dcap/signed-json.js';
import { qeIdentityBody, tcbInfoBody } from '../../../../src/dev/dcap-collateral.js';
import { collateralSet, intelManifest } from '../../../helpers/intel.js';
import { readVectorText } from '../../../helpers/vectors.js';
import { svn16 } from '../../../helpers/dcap-fixture.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof EvidenceError) return err.code;
    if (err instanceof SignedJsonError) return 'SignedJsonError';
    throw err;
  }
  return 'ok';
}

const dates = { issueDate: new Date('2025-06-01T00:00:00Z'), nextUpdate: new Date('2025-07-01T00:00:00Z') };
const tdxBody = (): Record<string, unknown> =>
  tcbInfoBody({ tee: 'tdx', fmspc: '90C06F000000', ...dates, levels: [{ sgx: svn16(1), pceSvn: 1, tdx: svn16(1), status: 'UpToDate' }] });

describe('real TCB Info and QE Identity documents', () => {
  const sets = Object.entries(intelManifest.collateral_sets) as [string, { dir: string; tee: string }][];

  it.each(sets)('%s parses with the manifest\'s facts', (name, set) => {
    const tcbText = readVectorText('intel', set.dir, 'tcb_info.json');
    const tcb = parseTcbInfo(tcbText);
    const facts = (intelManifest as unknown as { collateral_sets: Record<string, { tcb_info: Record<string, unknown>; qe_identity: Record<string, unknown> }> })
      .collateral_sets[name];
    expect(tcb.info.fmspc).toBe(String(facts?.tcb_info['fmspc']).toLowerCase());
    expect(tcb.info.version).toBe(facts?.tcb_info['version']);
    expect(tcb.info.tcbLevels.length).toBe(facts?.tcb_info['n_levels']);
    expect(tcb.info.issueDate.toISOString().replace('.000', '')).toBe(facts?.tcb_info['issueDate']);
    expect(tcb.info.tcbEvaluationDataNumber).toBe(facts?.tcb_info['tcbEvaluationDataNumber']);
    // The signed bytes are the inner object exactly as served.
    expect(tcbText.includes(Buffer.from(tcb.signedBytes).toString('utf8'))).toBe(true);
    expect(Buffer.from(tcb.signedBytes).toString('utf8').startsWith('{')).toBe(true);
    const qe = parseQeIdentity(readVectorText('intel', set.dir, 'qe_identity.json'));
    expect(qe.identity.id).toBe(facts?.qe_identity['id']);
    expect(qe.identity.isvProdId).toBe(facts?.qe_identity['isvprodid']);
    expect(Buffer.from(qe.identity.mrSigner).toString('hex').toUpperCase()).toBe(facts?.qe_identity['mrsigner']);
  });

  it('reads dcap-qvl\'s combined collateral (converted by recognize.ts) to the same signed bytes', () => {
    const bag = collateralSet('dcapqvl_tdx_B0C06F000000_2025-06');
    const parsed = bag.tcbInfos.map(parseTcbInfo);
    expect(parsed.length).toBe(2);
    expect(Buffer.from(parsed[0]?.signedBytes ?? []).equals(Buffer.from(parsed[1]?.signedBytes ?? []))).toBe(true);
  });
});

describe('signed JSON splitting', () => {
  it('slices the inner object verbatim, whitespace and escapes included', () => {
    const text = ' { "x" : 1 , "tcbInfo" :  {"a":"}\\"{","b":[1,{"c":"]"}]} ,\n"signature":"' + 'ab'.repeat(64) + '" } ';
    const split = splitSignedJson(text, ['tcbInfo']);
    expect(split.bodyText).toBe('{"a":"}\\"{","b":[1,{"c":"]"}]}');
    expect(split.body).toEqual({ a: '}"{', b: [1, { c: ']' }] });
    expect(split.signature.length).toBe(64);
  });

  it.each([
    ['not JSON', '{"tcbInfo":{}', 'SignedJsonError'],
    ['an array', '[1]', 'SignedJsonError'],
    ['no signature', '{"tcbInfo":{}}', 'SignedJsonError'],
    ['a short signature', '{"tcbInfo":{},"signature":"abcd"}', 'SignedJsonError'],
    ['a duplicated body', `{"tcbInfo":{},"tcbInfo":{},"signature":"${'00'.repeat(64)}"}`, 'SignedJsonError'],
    ['a non-object body', `{"tcbInfo":[],"signature":"${'00'.repeat(64)}"}`, 'SignedJsonError'],
  ])('refuses %s', (_, text, code) => {
    expect(codeOf(() => splitSignedJson(text, ['tcbInfo']))).toBe(code);
  });

  it('never throws anything but SignedJsonError on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        expect(['ok', 'SignedJsonError']).toContain(codeOf(() => splitSignedJson(text, ['tcbInfo'])));
      }),
      { numRuns: 300 },
    );
  });
});

describe('TCB Info validation (ERR_DCAP_TCB_INFO_INVALID)', () => {
  it('accepts the dev builder\'s TDX body', () => {
    expect(parseTcbInfoBody(tdxBody()).id).toBe('TDX');
  });

  it.each<[string, (b: Record<string, unknown>) => void]>([
    ['version 4', (b) => (b['version'] = 4)],
    ['id "XYZ"', (b) => (b['id'] = 'XYZ')],
    ['tcbType 1', (b) => (b['tcbType'] = 1)],
    ['a short FMSPC', (b) => (b['fmspc'] = '90C06F')],
    ['a date without time zone', (b) => (b['nextUpdate'] = '2025-07-01T00:00:00')],
    ['no tdxModule', (b) => delete b['tdxModule']],
    ['empty tcbLevels', (b) => (b['tcbLevels'] = [])],
    ['15 SGX components', (b) => ((b['tcbLevels'] as { tcb: { sgxtcbcomponents: unknown[] } }[])[0]?.tcb.sgxtcbcomponents.pop())],
    ['an SVN above 255', (b) => (((b['tcbLevels'] as { tcb: { tdxtcbcomponents: { svn: number }[] } }[])[0]?.tcb.tdxtcbcomponents[0] as { svn: number }).svn = 256)],
    ['an unknown status', (b) => ((b['tcbLevels'] as { tcbStatus: string }[])[0] as { tcbStatus: string }).tcbStatus = 'Fine'],
    ['advisoryIDs that are not strings', (b) => ((b['tcbLevels'] as Record<string, unknown>[])[0] as Record<string, unknown>)['advisoryIDs'] = [1]],
    ['duplicated levels', (b) => (b['tcbLevels'] = [...(b['tcbLevels'] as unknown[]), ...(b['tcbLevels'] as unknown[])])],
  ])('refuses %s', (_, edit) => {
    const body = tdxBody();
    edit(body);
    expect(codeOf(() => parseTcbInfoBody(body))).toBe('ERR_DCAP_TCB_INFO_INVALID');
  });

  it('refuses an SGX TCB Info that describes a TDX module', () => {
    const body = tcbInfoBody({ tee: 'sgx', fmspc: '90C06F000000', ...dates, levels: [{ sgx: svn16(1), pceSvn: 1, status: 'UpToDate' }] });
    body['tdxModule'] = tdxBody()['tdxModule'];
    expect(codeOf(() => parseTcbInfoBody(body))).toBe('ERR_DCAP_TCB_INFO_INVALID');
  });

  it('reads a v2 SGX TCB Info (sgxtcbcompNNsvn keys) as SGX', () => {
    const body = tcbInfoBody({ tee: 'sgx', version: 2, fmspc: '00606A000000', ...dates, levels: [{ sgx: svn16(14, 14, 3), pceSvn: 13, status: 'OutOfDate' }] });
    const parsed = parseTcbInfoBody(body);
    expect([parsed.id, parsed.version, parsed.tcbLevels[0]?.sgxComponents.slice(0, 3)]).toEqual(['SGX', 2, [14, 14, 3]]);
  });
});

describe('QE Identity validation (ERR_DCAP_QE_IDENTITY_INVALID)', () => {
  const body = (): Record<string, unknown> => qeIdentityBody({ id: 'TD_QE', ...dates });

  it.each<[string, (b: Record<string, unknown>) => void]>([
    ['version 1', (b) => (b['version'] = 1)],
    ['an unknown id', (b) => (b['id'] = 'QAE')],
    ['a short MRSIGNER', (b) => (b['mrsigner'] = 'DC9E')],
    ['a missing miscselectMask', (b) => delete b['miscselectMask']],
    ['no levels', (b) => (b['tcbLevels'] = [])],
    ['a level status QVL does not know', (b) => ((b['tcbLevels'] as { tcbStatus: string }[])[0] as { tcbStatus: string }).tcbStatus = 'SWHardeningNeeded'],
  ])('refuses %s', (_, edit) => {
    const b = body();
    edit(b);
    expect(codeOf(() => parseQeIdentityBody(b))).toBe('ERR_DCAP_QE_IDENTITY_INVALID');
  });

  it('accepts "qeIdentity" as the body key (older PCS) and refuses both keys at once', () => {
    const sig = '00'.repeat(64);
    const inner = JSON.stringify(body());
    expect(parseQeIdentity(`{"qeIdentity":${inner},"signature":"${sig}"}`).identity.id).toBe('TD_QE');
    expect(codeOf(() => parseQeIdentity(`{"qeIdentity":${inner},"enclaveIdentity":${inner},"signature":"${sig}"}`))).toBe('ERR_DCAP_QE_IDENTITY_INVALID');
  });
});
