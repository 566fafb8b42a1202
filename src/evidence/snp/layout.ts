// Byte layout of the SEV-SNP ATTESTATION_REPORT (ABI spec #56860, "ATTESTATION_REPORT Structure"), versions 2-5.
// Shared by the parser and by the development report builder so both read the same table.

export const REPORT_SIZE = 0x4a0;
/** The signature covers bytes [0x000, 0x2A0). */
export const SIGNED_LENGTH = 0x2a0;
export const MIN_REPORT_VERSION = 2;
export const MAX_REPORT_VERSION = 5;
/** SIGNATURE_ALGO 1: ECDSA P-384 with SHA-384. */
export const SIG_ALGO_ECDSA_P384_SHA384 = 1;

export const OFFSET = {
  VERSION: 0x000,
  GUEST_SVN: 0x004,
  POLICY: 0x008,
  FAMILY_ID: 0x010,
  IMAGE_ID: 0x020,
  VMPL: 0x030,
  SIGNATURE_ALGO: 0x034,
  CURRENT_TCB: 0x038,
  PLATFORM_INFO: 0x040,
  SIGNER_INFO: 0x048,
  REPORT_DATA: 0x050,
  MEASUREMENT: 0x090,
  HOST_DATA: 0x0c0,
  ID_KEY_DIGEST: 0x0e0,
  AUTHOR_KEY_DIGEST: 0x110,
  REPORT_ID: 0x140,
  REPORT_ID_MA: 0x160,
  REPORTED_TCB: 0x180,
  CPUID_FAM_ID: 0x188,
  CPUID_MOD_ID: 0x189,
  CPUID_STEP: 0x18a,
  CHIP_ID: 0x1a0,
  COMMITTED_TCB: 0x1e0,
  CURRENT_BUILD: 0x1e8,
  CURRENT_MINOR: 0x1e9,
  CURRENT_MAJOR: 0x1ea,
  COMMITTED_BUILD: 0x1ec,
  COMMITTED_MINOR: 0x1ed,
  COMMITTED_MAJOR: 0x1ee,
  LAUNCH_TCB: 0x1f0,
  LAUNCH_MIT_VECTOR: 0x1f8,
  CURRENT_MIT_VECTOR: 0x200,
  SIGNATURE_R: 0x2a0,
  SIGNATURE_S: 0x2e8,
} as const;

export const SIZE = {
  FAMILY_ID: 16,
  IMAGE_ID: 16,
  TCB: 8,
  REPORT_DATA: 64,
  MEASUREMENT: 48,
  HOST_DATA: 32,
  ID_KEY_DIGEST: 48,
  AUTHOR_KEY_DIGEST: 48,
  REPORT_ID: 32,
  REPORT_ID_MA: 32,
  CHIP_ID: 64,
  /** R and S are 72-byte little-endian fields; P-384 uses the low 48 bytes of each. */
  SIGNATURE_COMPONENT: 72,
  P384_SCALAR: 48,
} as const;

/** [start, end) byte ranges that must be zero in a report of the given version. */
export function reservedRanges(version: number): readonly (readonly [number, number])[] {
  return [
    [0x04c, 0x050],
    // v2 has no CPUID bytes: 0x188..0x1A0 is reserved in full.
    version >= 3 ? [0x18b, 0x1a0] : [0x188, 0x1a0],
    [0x1eb, 0x1ec],
    [0x1ef, 0x1f0],
    // LAUNCH_MIT_VECTOR and CURRENT_MIT_VECTOR exist from v5 on.
    version >= 5 ? [0x208, 0x2a0] : [0x1f8, 0x2a0],
  ];
}

/** Zero padding inside the 512-byte SIGNATURE field: the high bytes of R and S, then the tail. */
export const SIGNATURE_PADDING: readonly (readonly [number, number])[] = [
  [OFFSET.SIGNATURE_R + SIZE.P384_SCALAR, OFFSET.SIGNATURE_S],
  [OFFSET.SIGNATURE_S + SIZE.P384_SCALAR, OFFSET.SIGNATURE_S + SIZE.SIGNATURE_COMPONENT],
  [OFFSET.SIGNATURE_S + SIZE.SIGNATURE_COMPONENT, REPORT_SIZE],
];

/** Guest POLICY: bit 17 is reserved and must be one; bits 63:26 must be zero. */
export const POLICY_MUST_BE_ONE = 1n << 17n;
export const POLICY_MBZ_MASK = ~((1n << 26n) - 1n) & 0xffff_ffff_ffff_ffffn;

/** Signer info at 0x048: bit 0 AUTHOR_KEY_EN, bit 1 MASK_CHIP_KEY, bits 4:2 SIGNING_KEY, 31:5 zero. */
export const SIGNER_INFO_MBZ_MASK = 0xffff_ffe0;
export const SIGNING_KEY_VCEK = 0;
export const SIGNING_KEY_VLEK = 1;
export const SIGNING_KEY_NONE = 7;
