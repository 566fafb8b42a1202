import { describe, expect, it } from 'vitest';
import { verifySnpEvidenceSync } from '../../../../src/evidence/snp/verify.js';
import { tcbReservedNonZero } from '../../../../src/evidence/snp/tcb.js';
import { reservedRanges } from '../../../../src/evidence/snp/layout.js';
import { parseCertificates } from '../../../../src/evidence/pki.js';
import { LruMemo } from '../../../../src/evidence/memo.js';
import { readVector } from '../../../helpers/vectors.js';
import {
  chainPemOf,
  codeOfSync,
  ctxAt,
  flipBit,
  manifest,
  pemFile,
  reportOf,
  vector,
  vekOf,
  type ManifestVector,
} from './helpers.js';

/** The code a single flipped bit must produce, from the report layout (ABI spec table) and check order. */
function expectedCodeForFlip(v: ManifestVector, report: Uint8Array, offset: number, bit: number): string {
  const version = v.report_version;
  const vcek = v.signer === 'VCEK';
  const inRange = (start: number, end: number): boolean => offset >= start && offset < end;
  const tcbByte = (start: number): boolean => inRange(start, start + 8);
  const tcbCode = (start: number): string => {
    const raw = new Uint8Array(8);
    raw[offset - start] = 1;
    return tcbReservedNonZero(raw, v.product) ? 'ERR_SNP_RESERVED_NONZERO' : 'ERR_SNP_SIGNATURE_INVALID';
  };
  if (inRange(0x000, 0x004)) {
    const flipped = version ^ (offset === 0 ? 1 << bit : 0x100);
    if (offset !== 0 || flipped < 2 || flipped > 5) return 'ERR_SNP_REPORT_VERSION_UNSUPPORTED';
    // Read as another version, bytes that version reserves (v2: CPUID; v4: the mitigation vectors) must be zero.
    const clean = reservedRanges(flipped).every(([start, end]) => report.subarray(start, end).every((b) => b === 0));
    return clean ? 'ERR_SNP_SIGNATURE_INVALID' : 'ERR_SNP_RESERVED_NONZERO';
  }
  if (inRange(0x008, 0x010)) {
    const policyBit = (offset - 0x008) * 8 + bit;
    return policyBit === 17 || policyBit >= 26 ? 'ERR_SNP_RESERVED_NONZERO' : 'ERR_SNP_SIGNATURE_INVALID';
  }
  if (inRange(0x030, 0x034)) return offset === 0x030 && bit < 2 ? 'ERR_SNP_SIGNATURE_INVALID' : 'ERR_SNP_REPORT_MALFORMED';
  if (inRange(0x034, 0x038)) return 'ERR_SNP_SIGNATURE_ALGORITHM_UNSUPPORTED';
  if (tcbByte(0x038)) return tcbCode(0x038);
  if (inRange(0x048, 0x04c)) {
    const signerBit = (offset - 0x048) * 8 + bit;
    if (signerBit === 0) return 'ERR_SNP_SIGNATURE_INVALID';
    if (signerBit === 1) return 'ERR_SNP_SIGNATURE_INVALID'; // MASK_CHIP_KEY: the report carries no signature
    if (signerBit === 2) return 'ERR_SNP_SIGNER_MISMATCH'; // VCEK ↔ VLEK
    return 'ERR_SNP_RESERVED_NONZERO';
  }
  if (inRange(0x04c, 0x050)) return 'ERR_SNP_RESERVED_NONZERO';
  if (tcbByte(0x180)) return 'ERR_SNP_TCB_MISMATCH';
  if (inRange(0x188, 0x18b)) return version >= 3 ? 'ERR_SNP_SIGNATURE_INVALID' : 'ERR_SNP_RESERVED_NONZERO';
  if (inRange(0x18b, 0x1a0)) return 'ERR_SNP_RESERVED_NONZERO';
  if (inRange(0x1a0, 0x1e0)) return vcek ? 'ERR_SNP_CHIP_ID_MISMATCH' : 'ERR_SNP_SIGNATURE_INVALID';
  if (tcbByte(0x1e0)) return tcbCode(0x1e0);
  if (offset === 0x1eb || offset === 0x1ef) return 'ERR_SNP_RESERVED_NONZERO';
  if (tcbByte(0x1f0)) return tcbCode(0x1f0);
  if (inRange(0x1f8, 0x208)) return version >= 5 ? 'ERR_SNP_SIGNATURE_INVALID' : 'ERR_SNP_RESERVED_NONZERO';
  if (inRange(0x208, 0x2a0)) return 'ERR_SNP_RESERVED_NONZERO';
  if (inRange(0x2a0, 0x2d0) || inRange(0x2e8, 0x318)) return 'ERR_SNP_SIGNATURE_INVALID';
  if (inRange(0x2a0, 0x4a0)) return 'ERR_SNP_RESERVED_NONZERO';
  return 'ERR_SNP_SIGNATURE_INVALID';
}

/** Shared across flips: certificate parses and chain signatures are remembered, report signatures differ anyway. */
const memo = new LruMemo();

function verifyReport(v: ManifestVector, report: Uint8Array, certs = [vekOf(v), chainPemOf(v)]): string | undefined {
  return codeOfSync(() => verifySnpEvidenceSync({ type: 'snp', report, certs }, ctxAt(v.verification_time as string, { memo })));
}

describe('single bit flips anywhere in the report', () => {
  const full = vector('milan-v3-vcek-oak-cb');

  it(`${full.id}: every byte, one bit each, gets the code its field demands`, () => {
    const report = reportOf(full);
    const mismatches: string[] = [];
    const seen = new Map<string, number>();
    const positions: [number, number][] = [];
    for (let offset = 0; offset < report.length; offset++) positions.push([offset, offset % 8]);
    for (const base of [0x000, 0x008, 0x00a, 0x030, 0x048, 0x180, 0x1e0]) {
      for (let bit = 0; bit < 8; bit++) positions.push([base, bit]);
    }
    for (const [offset, bit] of positions) {
      const expected = expectedCodeForFlip(full, report, offset, bit);
      const actual = verifyReport(full, flipBit(report, offset, bit));
      seen.set(expected, (seen.get(expected) ?? 0) + 1);
      if (actual !== expected) mismatches.push(`0x${offset.toString(16)} bit ${bit}: ${actual} ≠ ${expected}`);
    }
    expect(mismatches).toEqual([]);
    expect([...seen.keys()].sort()).toEqual([
      'ERR_SNP_CHIP_ID_MISMATCH',
      'ERR_SNP_REPORT_MALFORMED',
      'ERR_SNP_REPORT_VERSION_UNSUPPORTED',
      'ERR_SNP_RESERVED_NONZERO',
      'ERR_SNP_SIGNATURE_ALGORITHM_UNSUPPORTED',
      'ERR_SNP_SIGNATURE_INVALID',
      'ERR_SNP_SIGNER_MISMATCH',
      'ERR_SNP_TCB_MISMATCH',
    ]);
  });

  for (const id of ['milan-v2-vlek-aws-constellation-2023', 'milan-v2-vcek-gosevguest', 'genoa-v5-vcek-oak', 'turin-v5-vcek-oak']) {
    it(`${id}: sampled bytes and every bit of each header field`, () => {
      const v = vector(id);
      const report = reportOf(v);
      const mismatches: string[] = [];
      const positions: [number, number][] = [];
      for (let offset = 0; offset < report.length; offset += 7) positions.push([offset, (offset >> 3) % 8]);
      for (const base of [0x000, 0x008, 0x030, 0x048, 0x180, 0x1e0, 0x1f0]) {
        for (let bit = 0; bit < 8; bit++) positions.push([base, bit], [base + 2, bit]);
      }
      for (const [offset, bit] of positions) {
        const expected = expectedCodeForFlip(v, report, offset, bit);
        const actual = verifyReport(v, flipBit(report, offset, bit));
        if (actual !== expected) mismatches.push(`0x${offset.toString(16)} bit ${bit}: ${actual} ≠ ${expected}`);
      }
      expect(mismatches).toEqual([]);
    });
  }

  it('flips every bit of the DEBUG and MIGRATE_MA policy bits and the REPORT_DATA: ERR_SNP_SIGNATURE_INVALID', () => {
    const v = vector('milan-v2-vcek-gosevguest');
    const report = reportOf(v);
    expect(verifyReport(v, flipBit(report, 0x00a, 3))).toBe('ERR_SNP_SIGNATURE_INVALID');
    expect(verifyReport(v, flipBit(report, 0x00a, 2))).toBe('ERR_SNP_SIGNATURE_INVALID');
    for (let bit = 0; bit < 8; bit++) expect(verifyReport(v, flipBit(report, 0x050, bit))).toBe('ERR_SNP_SIGNATURE_INVALID');
  });
});

describe('report size', () => {
  const v = vector('milan-v3-vcek-oak-oc');
  const report = reportOf(v);
  it.each([
    ['truncated by one byte', report.subarray(0, 1183)],
    ['cut to the signed area', report.subarray(0, 0x2a0)],
    ['empty', new Uint8Array(0)],
    ['extended by one zero byte', new Uint8Array([...report, 0])],
    ['extended by 20 bytes (Constellation attestation.bin)', new Uint8Array([...report, ...new Uint8Array(20)])],
  ])('%s → ERR_SNP_REPORT_MALFORMED', (_name, bytes) => {
    expect(verifyReport(v, bytes)).toBe('ERR_SNP_REPORT_MALFORMED');
  });
});

describe('swapped and foreign certificates', () => {
  const milan = vector('milan-v3-vcek-oak-cb');
  const genoa = vector('genoa-v5-vcek-oak');
  const vlek = vector('milan-v3-vlek-aws-trustee');

  it('an ASK of another product: ERR_CHAIN_INCOMPLETE', () => {
    expect(verifyReport(milan, reportOf(milan), [vekOf(milan), chainPemOf(genoa)])).toBe('ERR_CHAIN_INCOMPLETE');
    expect(verifyReport(genoa, reportOf(genoa), [vekOf(genoa), chainPemOf(milan)])).toBe('ERR_CHAIN_INCOMPLETE');
  });

  it('the ASVK in place of the ASK (and the reverse): ERR_CHAIN_INCOMPLETE', () => {
    expect(verifyReport(milan, reportOf(milan), [vekOf(milan), pemFile('amd/milan/cert_chain_vlek.pem')])).toBe('ERR_CHAIN_INCOMPLETE');
    expect(verifyReport(vlek, reportOf(vlek), [vekOf(vlek), pemFile('amd/milan/cert_chain_vcek.pem')])).toBe('ERR_CHAIN_INCOMPLETE');
  });

  it('an ARK of another product: ERR_CHAIN_SIGNATURE_INVALID or ERR_CHAIN_INCOMPLETE, never accepted', () => {
    const ask = pemFile('amd/milan/ask.pem');
    const genoaArk = pemFile('amd/genoa/ark.pem');
    expect(verifyReport(milan, reportOf(milan), [vekOf(milan), ask, genoaArk])).toBe('ERR_CHAIN_INCOMPLETE');
  });

  it('a VCEK from another vector: ERR_SNP_CHIP_ID_MISMATCH', () => {
    for (const other of ['milan-v3-vcek-oak-oc', 'milan-v2-vcek-virteesev', 'genoa-v5-vcek-oak', 'turin-v5-vcek-oak']) {
      expect(verifyReport(milan, reportOf(milan), [vekOf(vector(other)), chainPemOf(milan)])).toBe('ERR_SNP_CHIP_ID_MISMATCH');
    }
  });

  it('a VLEK of another TCB: ERR_SNP_TCB_MISMATCH; a VLEK for a VCEK report and the reverse: ERR_SNP_SIGNER_MISMATCH', () => {
    const older = vector('milan-v2-vlek-aws-constellation-2023');
    expect(verifyReport(vlek, reportOf(vlek), [vekOf(older), chainPemOf(vlek)])).toBe('ERR_SNP_TCB_MISMATCH');
    expect(verifyReport(vlek, reportOf(vlek), [vekOf(milan), chainPemOf(vlek)])).toBe('ERR_SNP_SIGNER_MISMATCH');
    expect(verifyReport(milan, reportOf(milan), [vekOf(vlek), chainPemOf(vlek)])).toBe('ERR_SNP_SIGNER_MISMATCH');
  });

  it('a VLEK of the same TCB but another key (the other 2024 AWS VLEK): ERR_SNP_SIGNATURE_INVALID', () => {
    const sibling = vector('milan-v3-vlek-aws-constellation-2024');
    expect(verifyReport(vlek, reportOf(vlek), [vekOf(sibling), chainPemOf(vlek)])).toBe('ERR_SNP_SIGNATURE_INVALID');
  });

  it('the right VLEK found among several of the same TCB, some with other keys', () => {
    const sibling = vector('milan-v3-vlek-aws-constellation-2024');
    const result = verifySnpEvidenceSync(
      { type: 'snp', report: reportOf(vlek), certs: [vekOf(sibling), vekOf(vlek), chainPemOf(vlek)] },
      ctxAt(vlek.verification_time as string),
    );
    expect(result.claims.cspId).toBe('CN=cc-us-east-2.amazonaws.com');
    expect(result.claims.signer).toBe('vlek');
  });

  it('a certificate that is not X.509: ERR_CHAIN_MALFORMED', () => {
    const junk = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]);
    expect(verifyReport(milan, reportOf(milan), [junk, chainPemOf(milan)])).toBe('ERR_CHAIN_MALFORMED');
    const pemNoCert = new Uint8Array(Buffer.from('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'));
    expect(verifyReport(milan, reportOf(milan), [pemNoCert])).toBe('ERR_CHAIN_MALFORMED');
  });
});

describe('validity at now', () => {
  const v = vector('turin-v5-vcek-oak');
  const item = { type: 'snp' as const, report: reportOf(v), certs: [vekOf(v), chainPemOf(v)] };
  const at = (iso: string): string | undefined => codeOfSync(() => verifySnpEvidenceSync(item, ctxAt(iso)));

  it('before the VCEK notBefore: ERR_CHAIN_NOT_YET_VALID', () => {
    expect(at('2025-07-17T17:04:45Z')).toBe('ERR_CHAIN_NOT_YET_VALID');
    expect(at('2020-01-01T00:00:00Z')).toBe('ERR_CHAIN_NOT_YET_VALID');
  });

  it('after the VCEK notAfter: ERR_CHAIN_EXPIRED; at the edges: verifies', () => {
    expect(at('2032-07-17T17:04:47Z')).toBe('ERR_CHAIN_EXPIRED');
    expect(at('2025-07-17T17:04:46Z')).toBeUndefined();
    expect(at('2032-07-17T17:04:46Z')).toBeUndefined();
  });

  it('a VLEK a year after issue: ERR_CHAIN_EXPIRED', () => {
    const vl = vector('milan-v3-vlek-aws-trustee');
    const code = codeOfSync(() =>
      verifySnpEvidenceSync({ type: 'snp', report: reportOf(vl), certs: [vekOf(vl), chainPemOf(vl)] }, ctxAt('2025-12-11T00:00:00Z')),
    );
    expect(code).toBe('ERR_CHAIN_EXPIRED');
  });
});

describe('real AMD CRLs', () => {
  const milanCrl = readVector('snp', 'crl/milan_vcek_crl_2025-05-06.der');
  const genoaCrl = readVector('snp', 'crl/genoa_vcek_crl_2024-10-23.der');
  const milan = vector('milan-v3-vcek-oak-cb');
  const genoa = vector('genoa-v3-vcek-azure-trustee');
  const run = (v: ManifestVector, at: string, crls: Uint8Array[]) =>
    verifySnpEvidenceSync({ type: 'snp', report: reportOf(v), certs: [vekOf(v), chainPemOf(v)] }, ctxAt(at, { collateral: { crls } }));

  it('the Milan CRL verifies against the ARK, lists nothing, and bounds validUntil', () => {
    const result = run(milan, '2025-06-01T00:00:00Z', [milanCrl]);
    expect(result.validUntil.toISOString()).toBe('2026-05-12T00:00:00.000Z');
    expect(result.validFrom.toISOString()).toBe('2025-05-06T12:39:06.000Z');
  });

  it('the Genoa CRL (revoking only the retired ASK 0x20001) lets the current ASK 0x20002 through', () => {
    expect(parseCertificates(chainPemOf(genoa))[0]?.serial).toBe('20002');
    expect(run(genoa, genoa.verification_time as string, [genoaCrl, milanCrl]).claims.product).toBe('Genoa');
  });

  it('a stale CRL: ERR_CRL_STALE; a CRL not yet valid: ERR_CRL_NOT_YET_VALID', () => {
    expect(codeOfSync(() => run(milan, '2026-06-01T00:00:00Z', [milanCrl]))).toBe('ERR_CRL_STALE');
    expect(codeOfSync(() => run(milan, '2025-03-01T00:00:00Z', [milanCrl]))).toBe('ERR_CRL_NOT_YET_VALID');
  });

  it('a CRL of another product is not applied (even when stale)', () => {
    expect(run(milan, '2026-01-01T00:00:00Z', [genoaCrl]).claims.product).toBe('Milan');
  });

  it('the VLEK chain is checked against the same ARK-issued CRL', () => {
    const vl = vector('milan-v3-vlek-aws-constellation-2024');
    expect(codeOfSync(() => run(vl, vl.verification_time as string, [milanCrl]))).toBe('ERR_CRL_NOT_YET_VALID');
  });

  it('revocation required (the default): without a CRL of its ARK the report is refused, ERR_COLLATERAL_MISSING', () => {
    const item = { type: 'snp' as const, report: reportOf(milan), certs: [vekOf(milan), chainPemOf(milan)] };
    const { revocation: _optional, ...byDefault } = ctxAt('2025-06-01T00:00:00Z');
    expect(codeOfSync(() => verifySnpEvidenceSync(item, byDefault))).toBe('ERR_COLLATERAL_MISSING');
    const required = (crls: Uint8Array[], at = '2025-06-01T00:00:00Z') => ctxAt(at, { collateral: { crls }, revocation: 'required' });
    expect(codeOfSync(() => verifySnpEvidenceSync(item, required([genoaCrl], '2026-01-01T00:00:00Z')))).toBe('ERR_COLLATERAL_MISSING');
    expect(verifySnpEvidenceSync(item, required([milanCrl])).claims.revocationChecked).toBe(true);
  });

  it('revocation optional: no CRL passes with revocationChecked false; a CRL that is given is still checked', () => {
    expect(run(milan, '2025-06-01T00:00:00Z', []).claims.revocationChecked).toBe(false);
    expect(run(milan, '2025-06-01T00:00:00Z', [milanCrl]).claims.revocationChecked).toBe(true);
    expect(codeOfSync(() => run(milan, '2026-06-01T00:00:00Z', [milanCrl]))).toBe('ERR_CRL_STALE');
  });

  it('reports the CRL number it relied on; below an accepted floor it is ERR_COLLATERAL_ROLLBACK', () => {
    const result = run(milan, '2025-06-01T00:00:00Z', [milanCrl]);
    const ark = parseCertificates(chainPemOf(milan)).find((c) => c.selfSigned);
    expect(result.collateralVersions).toEqual([{ series: `crl:${ark?.spkiSha256}`, number: 6 }]);
    const item = { type: 'snp' as const, report: reportOf(milan), certs: [vekOf(milan), chainPemOf(milan)] };
    const floors = new Map([[`crl:${ark?.spkiSha256}`, 7]]);
    expect(codeOfSync(() => verifySnpEvidenceSync(item, { ...ctxAt('2025-06-01T00:00:00Z', { collateral: { crls: [milanCrl] } }), floors }))).toBe('ERR_COLLATERAL_ROLLBACK');
    expect(verifySnpEvidenceSync(item, { ...ctxAt('2025-06-01T00:00:00Z', { collateral: { crls: [milanCrl] } }), floors: new Map([[`crl:${ark?.spkiSha256}`, 6]]) }).claims.product).toBe('Milan');
  });

  it('every CRL in the manifest is one of these two', () => {
    expect(manifest.crls.map((c) => c.file_der).sort()).toEqual(['crl/genoa_vcek_crl_2024-10-23.der', 'crl/milan_vcek_crl_2025-05-06.der']);
  });
});
