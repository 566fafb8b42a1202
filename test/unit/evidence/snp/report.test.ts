import { describe, expect, it } from 'vitest';
import { decodeGuestPolicy, decodePlatformInfo, parseSnpReport, reportProduct } from '../../../../src/evidence/snp/report.js';
import { decodeTcb, encodeTcb, productFromCertName, productFromCpuid, tcbHex, tcbReservedNonZero } from '../../../../src/evidence/snp/tcb.js';
import { buildSnpReport } from '../../../../src/dev/snp.js';
import { codeOfSync, manifest, reportOf, tcbOf, vector } from './helpers.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('parseSnpReport on every report in the manifest', () => {
  for (const v of manifest.vectors) {
    it(`${v.id}: fields equal the manifest`, () => {
      const r = parseSnpReport(reportOf(v));
      const f = v.fields;
      expect(r.version).toBe(v.report_version);
      expect(r.guestSvn).toBe(f.guest_svn);
      expect(r.policy).toBe(BigInt(f.policy_hex));
      expect(hex(r.familyId)).toBe(f.family_id);
      expect(hex(r.imageId)).toBe(f.image_id);
      expect(r.vmpl).toBe(f.vmpl);
      expect(r.signatureAlgo).toBe(1);
      expect(r.platformInfo).toBe(BigInt(f.platform_info_hex));
      expect(r.signingKey).toBe(f.signer_info.signing_key_name.toLowerCase());
      expect(r.authorKeyEn).toBe(f.signer_info.author_key_en === 1);
      expect(r.maskChipKey).toBe(f.signer_info.mask_chip_key === 1);
      expect(hex(r.reportData)).toBe(f.report_data);
      expect(hex(r.measurement)).toBe(f.measurement);
      expect(hex(r.hostData)).toBe(f.host_data);
      expect(hex(r.idKeyDigest)).toBe(f.id_key_digest);
      expect(hex(r.authorKeyDigest)).toBe(f.author_key_digest);
      expect(hex(r.reportId)).toBe(f.report_id);
      expect(hex(r.reportIdMa)).toBe(f.report_id_ma);
      expect(hex(r.chipId)).toBe(f.chip_id);
      expect(r.currentVersion).toEqual({ major: f.current_major, minor: f.current_minor, build: f.current_build });
      expect(r.committedVersion).toEqual({ major: f.committed_major, minor: f.committed_minor, build: f.committed_build });
      for (const [raw, expected] of [
        [r.currentTcb, f.current_tcb],
        [r.reportedTcb, f.reported_tcb],
        [r.committedTcb, f.committed_tcb],
        [r.launchTcb, f.launch_tcb],
      ] as const) {
        expect(tcbHex(raw)).toBe(expected.raw_hex);
        expect(decodeTcb(raw, v.product)).toEqual(tcbOf(expected));
        expect(tcbReservedNonZero(raw, v.product)).toBe(false);
      }
      if (v.report_version >= 3) {
        expect(r.cpuid).toEqual({ family: f.cpuid_fam_id, model: f.cpuid_mod_id, stepping: f.cpuid_step });
        expect(reportProduct(r)).toBe(v.product);
      } else {
        expect(r.cpuid).toBeUndefined();
        expect(reportProduct(r)).toBeUndefined();
      }
      expect(r.launchMitVector === undefined).toBe(v.report_version < 5);
      const sigR = hex(r.signatureP1363.subarray(0, 48));
      expect(sigR).toBe((v.fields as unknown as { sig_r_be48: string }).sig_r_be48);
      expect(hex(r.signatureP1363.subarray(48))).toBe((v.fields as unknown as { sig_s_be48: string }).sig_s_be48);
    });
  }

  it('decodes the guest policy and platform info bits', () => {
    expect(decodeGuestPolicy(0xb0000n)).toMatchObject({ debug: true, smt: true, migrateMa: false, abiMajor: 0, abiMinor: 0 });
    expect(decodeGuestPolicy(0x3001fn)).toMatchObject({ debug: false, abiMinor: 31 });
    expect(decodeGuestPolicy((1n << 17n) | (1n << 18n) | (1n << 20n) | (1n << 25n) | 0x0102n)).toMatchObject({
      migrateMa: true,
      singleSocket: true,
      pageSwapDisable: true,
      abiMajor: 1,
      abiMinor: 2,
    });
    expect(decodePlatformInfo(0x67n)).toEqual({
      smtEn: true,
      tsmeEn: true,
      eccEn: true,
      raplDis: false,
      ciphertextHidingEn: false,
      aliasCheckComplete: true,
      tioEn: false,
      raw: '0000000000000067',
    });
  });
});

describe('parseSnpReport refuses', () => {
  const v3 = reportOf(vector('milan-v3-vcek-oak-oc'));
  const withU32 = (offset: number, value: number): Uint8Array => {
    const copy = new Uint8Array(v3);
    new DataView(copy.buffer).setUint32(offset, value, true);
    return copy;
  };
  const withU64 = (offset: number, value: bigint): Uint8Array => {
    const copy = new Uint8Array(v3);
    new DataView(copy.buffer).setBigUint64(offset, value, true);
    return copy;
  };
  const code = (bytes: Uint8Array) => codeOfSync(() => parseSnpReport(bytes));

  it('any size but 1184 (ERR_SNP_REPORT_MALFORMED)', () => {
    for (const n of [0, 1, 0x2a0, 1183, 1185, 2600]) expect(code(new Uint8Array(n))).toBe('ERR_SNP_REPORT_MALFORMED');
  });

  it('versions other than 2 to 5 (ERR_SNP_REPORT_VERSION_UNSUPPORTED)', () => {
    for (const version of [0, 1, 6, 7, 0x100, 0xffffffff]) expect(code(withU32(0, version))).toBe('ERR_SNP_REPORT_VERSION_UNSUPPORTED');
  });

  it('signature algorithms other than 1 (ERR_SNP_SIGNATURE_ALGORITHM_UNSUPPORTED)', () => {
    for (const algo of [0, 2, 3, 0xffffffff]) expect(code(withU32(0x34, algo))).toBe('ERR_SNP_SIGNATURE_ALGORITHM_UNSUPPORTED');
  });

  it('VMPL above 3 (ERR_SNP_REPORT_MALFORMED)', () => {
    expect(code(withU32(0x30, 3))).toBeUndefined();
    expect(code(withU32(0x30, 4))).toBe('ERR_SNP_REPORT_MALFORMED');
  });

  it('policy bit 17 clear or any of bits 63:26 set (ERR_SNP_RESERVED_NONZERO)', () => {
    expect(code(withU64(0x08, 0x10000n))).toBe('ERR_SNP_RESERVED_NONZERO');
    expect(code(withU64(0x08, 0x30000n | (1n << 26n)))).toBe('ERR_SNP_RESERVED_NONZERO');
    expect(code(withU64(0x08, 0x30000n | (1n << 63n)))).toBe('ERR_SNP_RESERVED_NONZERO');
    expect(code(withU64(0x08, 0x30000n | (1n << 25n)))).toBeUndefined();
  });

  it('reserved SIGNING_KEY values 2-6 and signer-info bits 31:5 (ERR_SNP_RESERVED_NONZERO)', () => {
    for (const key of [2, 3, 4, 5, 6]) expect(code(withU32(0x48, key << 2))).toBe('ERR_SNP_RESERVED_NONZERO');
    expect(code(withU32(0x48, 1 << 5))).toBe('ERR_SNP_RESERVED_NONZERO');
    expect(parseSnpReport(withU32(0x48, 7 << 2)).signingKey).toBe('none');
  });

  it('a non-zero byte in each reserved range, per version (ERR_SNP_RESERVED_NONZERO)', () => {
    const cases: [number, number[], number[]][] = [
      // version, offsets that must be zero, offsets that carry data
      [2, [0x04c, 0x188, 0x18a, 0x18b, 0x19f, 0x1eb, 0x1ef, 0x1f8, 0x207, 0x208, 0x29f], [0x1a0, 0x1e8, 0x1f0]],
      [3, [0x04c, 0x18b, 0x19f, 0x1eb, 0x1ef, 0x1f8, 0x207, 0x29f], [0x188, 0x18a]],
      [5, [0x04c, 0x18b, 0x1eb, 0x1ef, 0x208, 0x29f], [0x188, 0x1f8, 0x207]],
    ];
    for (const [version, reserved, data] of cases) {
      const base = buildSnpReport({ version, product: 'Milan' });
      for (const offset of reserved) {
        const copy = new Uint8Array(base);
        copy[offset] = 0x80;
        expect(code(copy), `v${version} 0x${offset.toString(16)}`).toBe('ERR_SNP_RESERVED_NONZERO');
      }
      for (const offset of data) {
        const copy = new Uint8Array(base);
        copy[offset] = 0x80;
        expect(code(copy), `v${version} 0x${offset.toString(16)}`).toBeUndefined();
      }
    }
  });

  it('non-zero signature padding: high bytes of R and S and the tail (ERR_SNP_RESERVED_NONZERO)', () => {
    for (const offset of [0x2d0, 0x2e7, 0x318, 0x32f, 0x330, 0x49f]) {
      const copy = new Uint8Array(v3);
      copy[offset] = 1;
      expect(code(copy)).toBe('ERR_SNP_RESERVED_NONZERO');
    }
  });

  it('does not refuse unknown PLATFORM_INFO bits (Turin sets bit 6; new firmware adds bits)', () => {
    expect(parseSnpReport(withU64(0x40, 0xffn | (1n << 40n))).platformInfo).toBe(0xffn | (1n << 40n));
  });

  it('keeps its own copy of the input', () => {
    const input = new Uint8Array(v3);
    const parsed = parseSnpReport(input);
    input[0x50] = (input[0x50] as number) ^ 0xff;
    expect(parsed.reportData[0]).toBe(v3[0x50]);
  });
});

describe('product and TCB helpers', () => {
  it('maps CPUID family/model to products (Siena → Genoa; Venice unknown)', () => {
    expect(productFromCpuid(0x19, 0x01)).toBe('Milan');
    expect(productFromCpuid(0x19, 0x0f)).toBe('Milan');
    expect(productFromCpuid(0x19, 0x11)).toBe('Genoa');
    expect(productFromCpuid(0x19, 0xa0)).toBe('Genoa');
    expect(productFromCpuid(0x19, 0x20)).toBeUndefined();
    expect(productFromCpuid(0x1a, 0x02)).toBe('Turin');
    expect(productFromCpuid(0x1a, 0x11)).toBe('Turin');
    expect(productFromCpuid(0x1a, 0x50)).toBeUndefined();
    expect(productFromCpuid(0x17, 0x01)).toBeUndefined();
  });

  it('maps VCEK product names (stepping suffix ignored)', () => {
    expect(productFromCertName('Milan-B0')).toBe('Milan');
    expect(productFromCertName('Milan')).toBe('Milan');
    expect(productFromCertName('Genoa')).toBe('Genoa');
    expect(productFromCertName('Siena')).toBe('Genoa');
    expect(productFromCertName('Turin')).toBe('Turin');
    expect(productFromCertName('Venice')).toBeUndefined();
    expect(productFromCertName('milan')).toBeUndefined();
  });

  it('decodes the TCB examples of test/vectors/snp/FACTS.md §3 with the right layout, and round-trips', () => {
    const le = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex').reverse());
    expect(decodeTcb(le('db18000000000004'), 'Milan')).toEqual({ bootloader: 4, tee: 0, snp: 24, microcode: 219 });
    expect(decodeTcb(le('5200000004010101'), 'Turin')).toEqual({ fmc: 1, bootloader: 1, tee: 1, snp: 4, microcode: 82 });
    expect(tcbHex(encodeTcb({ fmc: 1, bootloader: 1, tee: 1, snp: 4, microcode: 82 }, 'Turin') as Uint8Array)).toBe('5200000004010101');
    expect(encodeTcb({ bootloader: 1, tee: 1, snp: 4, microcode: 82 }, 'Turin')).toBeUndefined();
    expect(encodeTcb({ bootloader: 1, tee: 1, snp: 4, microcode: 82, fmc: 0 }, 'Genoa')).toBeUndefined();
    expect(encodeTcb({ bootloader: 256, tee: 1, snp: 4, microcode: 82 }, 'Milan')).toBeUndefined();
    expect(tcbReservedNonZero(le('5200000004010101'), 'Milan')).toBe(true);
    expect(tcbReservedNonZero(le('db18000000000004'), 'Turin')).toBe(true);
  });
});
