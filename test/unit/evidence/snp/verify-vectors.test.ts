import { describe, expect, it } from 'vitest';
import { verifySnpEvidence } from '../../../../src/evidence/snp/verify.js';
import { verifyEvidence } from '../../../../src/evidence/verify.js';
import { LruMemo } from '../../../../src/evidence/memo.js';
import { buildSnpCertTable } from '../../../../src/dev/snp.js';
import { parseCertificates } from '../../../../src/evidence/pki.js';
import type { SnpClaims } from '../../../../src/evidence/snp/claims.js';
import {
  NEGATIVE_ID,
  chainPemOf,
  codeOf,
  ctxAt,
  manifest,
  reportOf,
  tcbOf,
  vector,
  vekOf,
  verifiable,
  type ManifestVector,
} from './helpers.js';

const ARK_SPKI: Record<string, string> = {
  Milan: '9f056bee44377e29308cb5ffa895bdfb62d18881fa6bed8d6f075b0204089cb9',
  Genoa: '429a69c9422aa258ee4d8db5fcda9c6470ef15f8cd5a9cebd6cbc7d90b863831',
  Turin: '4f125410563a2ab9a50356f9243f6fe0b6f73de98603f53f90339c70e9d7ad08',
};

function expectClaimsMatchManifest(claims: SnpClaims, v: ManifestVector): void {
  const f = v.fields;
  expect(claims.tee).toBe('snp');
  expect(claims.product).toBe(v.product);
  expect(claims.reportVersion).toBe(v.report_version);
  expect(claims.signer).toBe(v.signer.toLowerCase());
  expect(claims.measurement).toBe(f.measurement);
  expect(claims.reportData).toBe(f.report_data);
  expect(claims.hostData).toBe(f.host_data);
  expect(claims.familyId).toBe(f.family_id);
  expect(claims.imageId).toBe(f.image_id);
  expect(claims.idKeyDigest).toBe(f.id_key_digest);
  expect(claims.authorKeyDigest).toBe(f.author_key_digest);
  expect(claims.chipId).toBe(f.chip_id);
  expect(claims.vmpl).toBe(f.vmpl);
  expect(claims.guestSvn).toBe(f.guest_svn);
  expect(claims.reportId).toBe(f.report_id);
  expect(claims.reportIdMa).toBe(f.report_id_ma);
  expect(claims.reportedTcb).toEqual(tcbOf(f.reported_tcb));
  expect(claims.currentTcb).toEqual(tcbOf(f.current_tcb));
  expect(claims.committedTcb).toEqual(tcbOf(f.committed_tcb));
  expect(claims.launchTcb).toEqual(tcbOf(f.launch_tcb));
  expect(claims.debug).toBe(f.policy['debug']);
  expect(claims.policy).toEqual({
    debug: f.policy['debug'],
    smt: f.policy['smt'],
    migrateMa: f.policy['migrate_ma'],
    singleSocket: f.policy['single_socket'],
    abiMajor: f.policy['abi_major'],
    abiMinor: f.policy['abi_minor'],
    cxlAllow: f.policy['cxl_allow'],
    memAes256Xts: f.policy['mem_aes_256_xts'],
    raplDis: f.policy['rapl_dis'],
    ciphertextHiding: f.policy['ciphertext_hiding'],
    pageSwapDisable: f.policy['page_swap_disable'],
  });
  expect(BigInt(`0x${claims.platformInfo.raw}`)).toBe(BigInt(f.platform_info_hex));
  expect(claims.platformInfo).toMatchObject({
    smtEn: f.platform_info['smt_en'],
    tsmeEn: f.platform_info['tsme_en'],
    eccEn: f.platform_info['ecc_en'],
    raplDis: f.platform_info['rapl_dis'],
    ciphertextHidingEn: f.platform_info['ciphertext_hiding_en'],
    aliasCheckComplete: f.platform_info['alias_check_complete'],
    tioEn: f.platform_info['tio_en'],
  });
  expect(claims.authorKeyEn).toBe(f.signer_info.author_key_en === 1);
  expect(claims.currentVersion).toBe(`${f.current_major}.${f.current_minor}.${f.current_build}`);
  expect(claims.committedVersion).toBe(`${f.committed_major}.${f.committed_minor}.${f.committed_build}`);
  if (f.cpuid_fam_id === null) expect(claims.cpuid).toBeUndefined();
  else expect(claims.cpuid).toEqual({ family: f.cpuid_fam_id, model: f.cpuid_mod_id, stepping: f.cpuid_step });
  if (v.report_version >= 5) {
    expect(BigInt(`0x${claims.launchMitVector}`)).toBe(BigInt(f.launch_mit_vector as string));
    expect(BigInt(`0x${claims.currentMitVector}`)).toBe(BigInt(f.current_mit_vector as string));
  } else {
    expect(claims.launchMitVector).toBeUndefined();
  }
  expect(claims.cspId).toBe(v.vek_extensions?.cspID ?? undefined);
  expect(claims.certProductName).toBe(v.vek_extensions?.productName);
  expect(claims.anchor).toEqual({ source: 'vendor', name: `AMD ARK-${v.product}`, spki: ARK_SPKI[v.product] });
}

describe('every verifiable vector in the manifest', () => {
  it('has the expected vectors (Milan v2/v3/v4, Genoa v3/v5, Turin v5; VCEK and VLEK)', () => {
    expect(verifiable.length).toBeGreaterThanOrEqual(15);
    expect(new Set(verifiable.map((v) => v.product))).toEqual(new Set(['Milan', 'Genoa', 'Turin']));
    expect(new Set(verifiable.map((v) => v.signer))).toEqual(new Set(['VCEK', 'VLEK']));
  });

  for (const v of verifiable) {
    it(`${v.id} verifies at ${v.verification_time} with the manifest's claims`, async () => {
      const result = await verifySnpEvidence(
        { type: 'snp', report: reportOf(v), certs: [vekOf(v), chainPemOf(v)] },
        ctxAt(v.verification_time as string),
      );
      expectClaimsMatchManifest(result.claims, v);
      expect(result.digest).toMatch(/^[0-9a-f]{64}$/);
      expect(result.validUntil.getTime()).toBeLessThanOrEqual(new Date(v.vek_not_after as string).getTime());
      expect(result.validFrom.getTime()).toBeGreaterThanOrEqual(new Date(v.vek_not_before as string).getTime());
    });
  }

  it('verifies through the evidence registry as type "snp"', async () => {
    const v = vector('milan-v3-vcek-oak-cb');
    const result = await verifyEvidence({ type: 'snp', report: reportOf(v), certs: [vekOf(v), chainPemOf(v)] }, ctxAt(v.verification_time as string));
    expect(result.claims.tee).toBe('snp');
  });
});

describe('certificate sources', () => {
  const v = vector('genoa-v5-vcek-oak');
  const at = v.verification_time as string;

  it('takes the whole chain from collateral when the evidence carries no certificates', async () => {
    const certificates = [vekOf(v), ...parseCertificates(chainPemOf(v)).map((c) => c.der)];
    const result = await verifySnpEvidence({ type: 'snp', report: reportOf(v), certs: [] }, ctxAt(at, { collateral: { certificates } }));
    expect(result.claims.product).toBe('Genoa');
  });

  it('accepts a GUID certificate table holding DER and PEM certificates', async () => {
    const [ask, ark] = parseCertificates(chainPemOf(v));
    const table = buildSnpCertTable([
      { kind: 'ark', data: new Uint8Array(Buffer.from(ark?.x509.toString() as string)) },
      { kind: 'ask', data: ask?.der as Uint8Array },
      { kind: 'vcek', data: vekOf(v) },
    ]);
    const result = await verifySnpEvidence({ type: 'snp', report: reportOf(v), certs: [table] }, ctxAt(at));
    expect(result.claims.chipId).toBe(v.fields.chip_id);
  });

  it('accepts each certificate singly as DER', async () => {
    const certs = [vekOf(v), ...parseCertificates(chainPemOf(v)).map((c) => c.der)];
    const result = await verifySnpEvidence({ type: 'snp', report: reportOf(v), certs }, ctxAt(at));
    expect(result.claims.measurement).toBe(v.fields.measurement);
  });

  it('is ERR_COLLATERAL_MISSING without any VCEK, and ERR_CHAIN_INCOMPLETE without the ASK', async () => {
    expect(await codeOf(() => verifySnpEvidence({ type: 'snp', report: reportOf(v), certs: [chainPemOf(v)] }, ctxAt(at)))).toBe(
      'ERR_COLLATERAL_MISSING',
    );
    const arkOnly = parseCertificates(chainPemOf(v)).filter((c) => c.selfSigned).map((c) => c.der);
    expect(await codeOf(() => verifySnpEvidence({ type: 'snp', report: reportOf(v), certs: [vekOf(v), ...arkOnly] }, ctxAt(at)))).toBe(
      'ERR_CHAIN_INCOMPLETE',
    );
  });
});

describe('vectors that must be refused', () => {
  it('refuses the report whose bundled VLEK does not match (ERR_SNP_SIGNATURE_INVALID)', async () => {
    const v = vector(NEGATIVE_ID);
    const code = await codeOf(() =>
      verifySnpEvidence({ type: 'snp', report: reportOf(v), certs: [vekOf(v), chainPemOf(v)] }, ctxAt(v.verification_time as string)),
    );
    expect(code).toBe('ERR_SNP_SIGNATURE_INVALID');
  });

  it('refuses the parse-only v4 report for which no VCEK exists (ERR_COLLATERAL_MISSING)', async () => {
    const parseOnly = manifest.vectors.filter((v) => !v.vek);
    expect(parseOnly.map((v) => v.id)).toEqual(['milan-v4-vcek-gce-openpcc']);
    const v = parseOnly[0] as ManifestVector;
    const code = await codeOf(() => verifySnpEvidence({ type: 'snp', report: reportOf(v), certs: [chainPemOf(v)] }, ctxAt('2025-06-01T00:00:00Z')));
    expect(code).toBe('ERR_COLLATERAL_MISSING');
  });

  it('refuses the v4 report with every other vector\'s VCEK held as collateral (ERR_COLLATERAL_MISSING)', async () => {
    const v = vector('milan-v4-vcek-gce-openpcc');
    const certificates = verifiable.map(vekOf);
    const code = await codeOf(() =>
      verifySnpEvidence({ type: 'snp', report: reportOf(v), certs: [chainPemOf(v)] }, ctxAt('2025-06-01T00:00:00Z', { collateral: { certificates } })),
    );
    expect(code).toBe('ERR_COLLATERAL_MISSING');
  });
});

describe('nonce binding and memoization', () => {
  const v = vector('milan-v2-vcek-gosevguest');
  const item = { type: 'snp' as const, report: reportOf(v), certs: [vekOf(v), chainPemOf(v)] };
  const at = v.verification_time as string;

  it('accepts REPORT_DATA equal to the expected nonce and refuses any other', async () => {
    const nonce = new Uint8Array(Buffer.from(v.fields.report_data, 'hex'));
    await expect(verifySnpEvidence(item, ctxAt(at, { expectedNonce: nonce }))).resolves.toMatchObject({ claims: { debug: true } });
    const other = new Uint8Array(nonce);
    other[63] = 1;
    expect(await codeOf(() => verifySnpEvidence(item, ctxAt(at, { expectedNonce: other })))).toBe('ERR_EVIDENCE_NONCE_MISMATCH');
    expect(await codeOf(() => verifySnpEvidence(item, ctxAt(at, { expectedNonce: nonce.subarray(0, 32) })))).toBe('ERR_EVIDENCE_NONCE_MISMATCH');
  });

  it('pays no signature check for an identical report and chain the second time, but still checks time', async () => {
    const memo = new LruMemo();
    await verifySnpEvidence(item, ctxAt(at, { memo }));
    const misses = memo.misses;
    await verifySnpEvidence(item, ctxAt(at, { memo }));
    expect(memo.misses).toBe(misses);
    expect(await codeOf(() => verifySnpEvidence(item, ctxAt('2030-01-01T00:00:00Z', { memo })))).toBe('ERR_CHAIN_EXPIRED');
  });
});
