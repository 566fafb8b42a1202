// Field layouts of the SGX enclave report (SGX SDM, REPORTBODY, 384 bytes) and the TDX TD report
// (TDX DCAP quote format, TD Quote Body 1.0: 584 bytes; 1.5: 648 bytes). Offsets are within the body.

export interface SgxReportFields {
  /** 0x00, 16 bytes. */
  readonly cpuSvn: Uint8Array;
  /** 0x10, u32. */
  readonly miscSelect: number;
  readonly miscSelectBytes: Uint8Array;
  /** 0x20, 16 bytes. */
  readonly isvExtProdId: Uint8Array;
  /** 0x30, 16 bytes: flags u64 ‖ xfrm u64. */
  readonly attributes: Uint8Array;
  /** 0x40, 32 bytes. */
  readonly mrEnclave: Uint8Array;
  /** 0x80, 32 bytes. */
  readonly mrSigner: Uint8Array;
  /** 0xC0, 64 bytes. */
  readonly configId: Uint8Array;
  /** 0x100, u16. */
  readonly isvProdId: number;
  /** 0x102, u16. */
  readonly isvSvn: number;
  /** 0x104, u16. */
  readonly configSvn: number;
  /** 0x130, 16 bytes. */
  readonly isvFamilyId: Uint8Array;
  /** 0x140, 64 bytes. */
  readonly reportData: Uint8Array;
}

export function readSgxReport(body: Uint8Array): SgxReportFields {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  return {
    cpuSvn: body.subarray(0x00, 0x10),
    miscSelect: view.getUint32(0x10, true),
    miscSelectBytes: body.subarray(0x10, 0x14),
    isvExtProdId: body.subarray(0x20, 0x30),
    attributes: body.subarray(0x30, 0x40),
    mrEnclave: body.subarray(0x40, 0x60),
    mrSigner: body.subarray(0x80, 0xa0),
    configId: body.subarray(0xc0, 0x100),
    isvProdId: view.getUint16(0x100, true),
    isvSvn: view.getUint16(0x102, true),
    configSvn: view.getUint16(0x104, true),
    isvFamilyId: body.subarray(0x130, 0x140),
    reportData: body.subarray(0x140, 0x180),
  };
}

/** SGX ATTRIBUTES.FLAGS bits (SGX SDM 38.7.1). */
export interface SgxAttributeFlags {
  readonly init: boolean;
  readonly debug: boolean;
  readonly mode64Bit: boolean;
  readonly provisionKey: boolean;
  readonly einitTokenKey: boolean;
  readonly kss: boolean;
}

export function sgxAttributeFlags(attributes: Uint8Array): SgxAttributeFlags {
  const b0 = attributes[0] ?? 0;
  return {
    init: (b0 & 0x01) !== 0,
    debug: (b0 & 0x02) !== 0,
    mode64Bit: (b0 & 0x04) !== 0,
    provisionKey: (b0 & 0x10) !== 0,
    einitTokenKey: (b0 & 0x20) !== 0,
    kss: (b0 & 0x80) !== 0,
  };
}

export interface TdReportFields {
  /** 0x00, 16 bytes: [0] TDX module SVN, [1] module major version, [2..] other components. */
  readonly teeTcbSvn: Uint8Array;
  /** 0x10, 48 bytes. */
  readonly mrSeam: Uint8Array;
  /** 0x40, 48 bytes (zero for Intel's module). */
  readonly mrSignerSeam: Uint8Array;
  /** 0x70, 8 bytes. */
  readonly seamAttributes: Uint8Array;
  /** 0x78, 8 bytes (u64). */
  readonly tdAttributes: Uint8Array;
  /** 0x80, 8 bytes. */
  readonly xfam: Uint8Array;
  /** 0x88, 48 bytes. */
  readonly mrTd: Uint8Array;
  /** 0xB8, 48 bytes. */
  readonly mrConfigId: Uint8Array;
  /** 0xE8, 48 bytes. */
  readonly mrOwner: Uint8Array;
  /** 0x118, 48 bytes. */
  readonly mrOwnerConfig: Uint8Array;
  /** 0x148, 0x178, 0x1A8, 0x1D8: 48 bytes each. */
  readonly rtmr: readonly Uint8Array[];
  /** 0x208, 64 bytes. */
  readonly reportData: Uint8Array;
  /** TD report 1.5 only: 0x248 (16 bytes) and 0x258 (48 bytes). */
  readonly teeTcbSvn2?: Uint8Array;
  readonly mrServiceTd?: Uint8Array;
}

export function readTdReport(body: Uint8Array): TdReportFields {
  const fields: TdReportFields = {
    teeTcbSvn: body.subarray(0x00, 0x10),
    mrSeam: body.subarray(0x10, 0x40),
    mrSignerSeam: body.subarray(0x40, 0x70),
    seamAttributes: body.subarray(0x70, 0x78),
    tdAttributes: body.subarray(0x78, 0x80),
    xfam: body.subarray(0x80, 0x88),
    mrTd: body.subarray(0x88, 0xb8),
    mrConfigId: body.subarray(0xb8, 0xe8),
    mrOwner: body.subarray(0xe8, 0x118),
    mrOwnerConfig: body.subarray(0x118, 0x148),
    rtmr: [body.subarray(0x148, 0x178), body.subarray(0x178, 0x1a8), body.subarray(0x1a8, 0x1d8), body.subarray(0x1d8, 0x208)],
    reportData: body.subarray(0x208, 0x248),
  };
  if (body.length < 0x288) return fields;
  return { ...fields, teeTcbSvn2: body.subarray(0x248, 0x258), mrServiceTd: body.subarray(0x258, 0x288) };
}

/** TD ATTRIBUTES bits (TDX module ABI, TDINFO_STRUCT.ATTRIBUTES, u64 little-endian). */
export interface TdAttributeBits {
  /** Bit 0: DEBUG. */
  readonly debug: boolean;
  /** Bits 0..7 (TUD, "TD under debug"): any set means the TD is not trustworthy. */
  readonly underDebug: boolean;
  /** Bit 28: SEPT_VE_DISABLE. */
  readonly septVeDisable: boolean;
  /** Bit 30: PKS. */
  readonly pks: boolean;
  /** Bit 31: KL (key locker). */
  readonly kl: boolean;
  /** Bit 63: PERFMON. */
  readonly perfmon: boolean;
}

export function tdAttributeBits(attributes: Uint8Array): TdAttributeBits {
  const b = (i: number): number => attributes[i] ?? 0;
  return {
    debug: (b(0) & 0x01) !== 0,
    underDebug: b(0) !== 0,
    septVeDisable: (b(3) & 0x10) !== 0,
    pks: (b(3) & 0x40) !== 0,
    kl: (b(3) & 0x80) !== 0,
    perfmon: (b(7) & 0x80) !== 0,
  };
}
