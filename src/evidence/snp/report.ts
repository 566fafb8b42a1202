// Parses the 1184-byte SEV-SNP ATTESTATION_REPORT (ABI spec #56860, "ATTESTATION_REPORT Structure"), v2-v5.
//
// Structure only: size, version, signature algorithm, reserved bytes, guest policy and signer-info
// must-be bits. No signature or certificate is checked here (see verify.ts).
import { EvidenceError, type EvidenceErrorCode } from '../../errors.js';
import type { SnpPlatformInfo } from './claims.js';
import type { SnpProduct } from '../types.js';
import {
  MAX_REPORT_VERSION,
  MIN_REPORT_VERSION,
  OFFSET,
  POLICY_MBZ_MASK,
  POLICY_MUST_BE_ONE,
  REPORT_SIZE,
  SIGNATURE_PADDING,
  SIGNED_LENGTH,
  SIGNER_INFO_MBZ_MASK,
  SIGNING_KEY_NONE,
  SIGNING_KEY_VCEK,
  SIGNING_KEY_VLEK,
  SIG_ALGO_ECDSA_P384_SHA384,
  SIZE,
  reservedRanges,
} from './layout.js';
import { productFromCpuid } from './tcb.js';

export type SnpSigningKey = 'vcek' | 'vlek' | 'none';

export interface SnpFirmwareVersion {
  readonly major: number;
  readonly minor: number;
  readonly build: number;
}

export interface SnpCpuid {
  readonly family: number;
  readonly model: number;
  readonly stepping: number;
}

/** A structurally valid report. Byte fields are views into a private copy of the input. */
export interface SnpReport {
  /** The 1184 report bytes (a copy of the input). */
  readonly bytes: Uint8Array;
  readonly version: number;
  readonly guestSvn: number;
  readonly policy: bigint;
  readonly familyId: Uint8Array;
  readonly imageId: Uint8Array;
  readonly vmpl: number;
  readonly signatureAlgo: number;
  readonly currentTcb: Uint8Array;
  readonly platformInfo: bigint;
  readonly authorKeyEn: boolean;
  readonly maskChipKey: boolean;
  readonly signingKey: SnpSigningKey;
  readonly reportData: Uint8Array;
  readonly measurement: Uint8Array;
  readonly hostData: Uint8Array;
  readonly idKeyDigest: Uint8Array;
  readonly authorKeyDigest: Uint8Array;
  readonly reportId: Uint8Array;
  readonly reportIdMa: Uint8Array;
  readonly reportedTcb: Uint8Array;
  /** v3 and later only. */
  readonly cpuid?: SnpCpuid;
  readonly chipId: Uint8Array;
  readonly committedTcb: Uint8Array;
  readonly currentVersion: SnpFirmwareVersion;
  readonly committedVersion: SnpFirmwareVersion;
  readonly launchTcb: Uint8Array;
  /** v5 and later only. */
  readonly launchMitVector?: bigint;
  readonly currentMitVector?: bigint;
  /** Bytes [0x000, 0x2A0): what the signature covers. */
  readonly signedBytes: Uint8Array;
  /** R ‖ S, big-endian, 48 bytes each (IEEE P1363 form for P-384). */
  readonly signatureP1363: Uint8Array;
}

function fail(code: EvidenceErrorCode, message: string): never {
  throw new EvidenceError(code, message);
}

function hexOffset(offset: number): string {
  return `0x${offset.toString(16).toUpperCase().padStart(3, '0')}`;
}

function checkZero(bytes: Uint8Array, ranges: readonly (readonly [number, number])[], what: string): void {
  for (const [start, end] of ranges) {
    for (let i = start; i < end; i++) {
      if (bytes[i] !== 0) fail('ERR_SNP_RESERVED_NONZERO', `The report's ${what} byte at ${hexOffset(i)} must be zero.`);
    }
  }
}

/** Little-endian 72-byte signature component → big-endian 48-byte scalar. */
function scalarBigEndian(bytes: Uint8Array, offset: number): Uint8Array {
  const out = new Uint8Array(SIZE.P384_SCALAR);
  for (let i = 0; i < SIZE.P384_SCALAR; i++) out[i] = bytes[offset + SIZE.P384_SCALAR - 1 - i] as number;
  return out;
}

function signingKeyOf(signerInfo: number): SnpSigningKey {
  const key = (signerInfo >>> 2) & 0x7;
  if (key === SIGNING_KEY_VCEK) return 'vcek';
  if (key === SIGNING_KEY_VLEK) return 'vlek';
  if (key === SIGNING_KEY_NONE) return 'none';
  return fail('ERR_SNP_RESERVED_NONZERO', `The report's SIGNING_KEY value ${key} is reserved.`);
}

function checkHeader(bytes: Uint8Array, view: DataView): number {
  if (bytes.length !== REPORT_SIZE) {
    fail('ERR_SNP_REPORT_MALFORMED', `An SEV-SNP attestation report is ${REPORT_SIZE} bytes; got ${bytes.length}.`);
  }
  const version = view.getUint32(OFFSET.VERSION, true);
  if (version < MIN_REPORT_VERSION || version > MAX_REPORT_VERSION) {
    fail('ERR_SNP_REPORT_VERSION_UNSUPPORTED', `SEV-SNP report version ${version} is not supported (2 to 5 are).`);
  }
  const algo = view.getUint32(OFFSET.SIGNATURE_ALGO, true);
  if (algo !== SIG_ALGO_ECDSA_P384_SHA384) {
    fail('ERR_SNP_SIGNATURE_ALGORITHM_UNSUPPORTED', `SEV-SNP signature algorithm ${algo} is not supported (1 = ECDSA P-384 is).`);
  }
  return version;
}

function checkMustBeBits(view: DataView): void {
  const policy = view.getBigUint64(OFFSET.POLICY, true);
  // Firmware refuses to launch a guest whose policy breaks these rules, so a report showing them is not genuine.
  if ((policy & POLICY_MUST_BE_ONE) === 0n) fail('ERR_SNP_RESERVED_NONZERO', 'The guest policy\'s reserved bit 17 must be one.');
  if ((policy & POLICY_MBZ_MASK) !== 0n) fail('ERR_SNP_RESERVED_NONZERO', 'The guest policy\'s reserved bits 63:26 must be zero.');
  const signerInfo = view.getUint32(OFFSET.SIGNER_INFO, true);
  if ((signerInfo & SIGNER_INFO_MBZ_MASK) !== 0) fail('ERR_SNP_RESERVED_NONZERO', 'The report\'s signer-info bits 31:5 must be zero.');
  const vmpl = view.getUint32(OFFSET.VMPL, true);
  if (vmpl > 3) fail('ERR_SNP_REPORT_MALFORMED', `The report's VMPL ${vmpl} is out of range (0 to 3).`);
}

function firmwareVersion(bytes: Uint8Array, buildOffset: number): SnpFirmwareVersion {
  return { build: bytes[buildOffset] as number, minor: bytes[buildOffset + 1] as number, major: bytes[buildOffset + 2] as number };
}

/**
 * Parses and structurally validates an attestation report. Throws EvidenceError with
 * ERR_SNP_REPORT_MALFORMED (size, VMPL), ERR_SNP_REPORT_VERSION_UNSUPPORTED, ERR_SNP_SIGNATURE_ALGORITHM_UNSUPPORTED
 * or ERR_SNP_RESERVED_NONZERO (reserved bytes, signature padding, policy and signer-info must-be bits).
 */
export function parseSnpReport(input: Uint8Array): SnpReport {
  const bytes = new Uint8Array(input);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = checkHeader(bytes, view);
  checkZero(bytes, reservedRanges(version), 'reserved');
  checkZero(bytes, SIGNATURE_PADDING, 'signature padding');
  checkMustBeBits(view);
  const signerInfo = view.getUint32(OFFSET.SIGNER_INFO, true);
  const field = (offset: number, size: number): Uint8Array => bytes.subarray(offset, offset + size);
  const signature = new Uint8Array(2 * SIZE.P384_SCALAR);
  signature.set(scalarBigEndian(bytes, OFFSET.SIGNATURE_R), 0);
  signature.set(scalarBigEndian(bytes, OFFSET.SIGNATURE_S), SIZE.P384_SCALAR);
  return {
    bytes,
    version,
    guestSvn: view.getUint32(OFFSET.GUEST_SVN, true),
    policy: view.getBigUint64(OFFSET.POLICY, true),
    familyId: field(OFFSET.FAMILY_ID, SIZE.FAMILY_ID),
    imageId: field(OFFSET.IMAGE_ID, SIZE.IMAGE_ID),
    vmpl: view.getUint32(OFFSET.VMPL, true),
    signatureAlgo: view.getUint32(OFFSET.SIGNATURE_ALGO, true),
    currentTcb: field(OFFSET.CURRENT_TCB, SIZE.TCB),
    platformInfo: view.getBigUint64(OFFSET.PLATFORM_INFO, true),
    authorKeyEn: (signerInfo & 1) === 1,
    maskChipKey: (signerInfo & 2) === 2,
    signingKey: signingKeyOf(signerInfo),
    reportData: field(OFFSET.REPORT_DATA, SIZE.REPORT_DATA),
    measurement: field(OFFSET.MEASUREMENT, SIZE.MEASUREMENT),
    hostData: field(OFFSET.HOST_DATA, SIZE.HOST_DATA),
    idKeyDigest: field(OFFSET.ID_KEY_DIGEST, SIZE.ID_KEY_DIGEST),
    authorKeyDigest: field(OFFSET.AUTHOR_KEY_DIGEST, SIZE.AUTHOR_KEY_DIGEST),
    reportId: field(OFFSET.REPORT_ID, SIZE.REPORT_ID),
    reportIdMa: field(OFFSET.REPORT_ID_MA, SIZE.REPORT_ID_MA),
    reportedTcb: field(OFFSET.REPORTED_TCB, SIZE.TCB),
    ...(version >= 3
      ? {
          cpuid: {
            family: bytes[OFFSET.CPUID_FAM_ID] as number,
            model: bytes[OFFSET.CPUID_MOD_ID] as number,
            stepping: bytes[OFFSET.CPUID_STEP] as number,
          },
        }
      : {}),
    chipId: field(OFFSET.CHIP_ID, SIZE.CHIP_ID),
    committedTcb: field(OFFSET.COMMITTED_TCB, SIZE.TCB),
    currentVersion: firmwareVersion(bytes, OFFSET.CURRENT_BUILD),
    committedVersion: firmwareVersion(bytes, OFFSET.COMMITTED_BUILD),
    launchTcb: field(OFFSET.LAUNCH_TCB, SIZE.TCB),
    ...(version >= 5
      ? {
          launchMitVector: view.getBigUint64(OFFSET.LAUNCH_MIT_VECTOR, true),
          currentMitVector: view.getBigUint64(OFFSET.CURRENT_MIT_VECTOR, true),
        }
      : {}),
    signedBytes: bytes.subarray(0, SIGNED_LENGTH),
    signatureP1363: signature,
  };
}

/** The product the report names through its CPUID bytes (v3+), or undefined (v2, or an unknown CPU). */
export function reportProduct(report: SnpReport): SnpProduct | undefined {
  return report.cpuid ? productFromCpuid(report.cpuid.family, report.cpuid.model) : undefined;
}

export interface SnpPolicyBits {
  readonly abiMinor: number;
  readonly abiMajor: number;
  readonly smt: boolean;
  readonly migrateMa: boolean;
  readonly debug: boolean;
  readonly singleSocket: boolean;
  readonly cxlAllow: boolean;
  readonly memAes256Xts: boolean;
  readonly raplDis: boolean;
  readonly ciphertextHiding: boolean;
  readonly pageSwapDisable: boolean;
}

/** Decodes guest POLICY (ABI spec "Guest Policy Structure"). */
export function decodeGuestPolicy(policy: bigint): SnpPolicyBits {
  // Every named bit is below 32 (bits 63:26 are reserved), so the low word holds them all.
  const low = Number(policy & 0xffff_ffffn);
  const bit = (n: number): boolean => ((low >>> n) & 1) === 1;
  return {
    abiMinor: low & 0xff,
    abiMajor: (low >>> 8) & 0xff,
    smt: bit(16),
    migrateMa: bit(18),
    debug: bit(19),
    singleSocket: bit(20),
    cxlAllow: bit(21),
    memAes256Xts: bit(22),
    raplDis: bit(23),
    ciphertextHiding: bit(24),
    pageSwapDisable: bit(25),
  };
}


/**
 * Decodes PLATFORM_INFO. Unknown bits are reported in `raw`, never refused: the field describes the
 * host, and newer firmware sets bits older specs called reserved (bit 6 on Turin).
 */
export function decodePlatformInfo(info: bigint): SnpPlatformInfo {
  const low = Number(info & 0xffn);
  const bit = (n: number): boolean => ((low >>> n) & 1) === 1;
  return {
    smtEn: bit(0),
    tsmeEn: bit(1),
    eccEn: bit(2),
    raplDis: bit(3),
    ciphertextHidingEn: bit(4),
    aliasCheckComplete: bit(5),
    tioEn: bit(7),
    raw: info.toString(16).padStart(16, '0'),
  };
}
