// Parses Intel DCAP ECDSA quotes v3, v4 and v5 (Intel SGX/TDX DCAP Quote Generation Library and Quote
// Verification Library API, appendix "Quote Format"): header, body, signature data, certification data.
// Structure only; nothing here is trusted until verify-quote.ts has checked the signatures.
import { EvidenceError, type EvidenceErrorCode } from '../../errors.js';

export const HEADER_SIZE = 0x30;
export const SGX_REPORT_SIZE = 0x180;
export const TD_REPORT10_SIZE = 0x248;
export const TD_REPORT15_SIZE = 0x288;

export const TEE_TYPE_SGX = 0x00000000;
export const TEE_TYPE_TDX = 0x00000081;
/** Attestation key type 2: ECDSA-256 with P-256 (3, ECDSA-384, is reserved and refused). */
export const ATTESTATION_KEY_ECDSA_P256 = 2;
export const INTEL_QE_VENDOR_ID = '939a7233f79c4ca9940a0db3957f0607';

/** Certification data types (QE Certification Data): 5 = PCK chain (PEM), 6 = QE report certification data. */
export const CERT_DATA_PCK_CHAIN = 5;
export const CERT_DATA_QE_REPORT = 6;

export type DcapTee = 'sgx' | 'tdx';

/** v5 body descriptor types; v3/v4 bodies are implied by the header (SGX report, TD report 1.0). */
export type BodyKind = 'sgx' | 'td10' | 'td15';

export interface QuoteHeader {
  readonly version: 3 | 4 | 5;
  readonly attestationKeyType: number;
  readonly teeType: number;
  /** v3 only (informational): QE SVN and PCE SVN at 0x08/0x0A; zero in v4/v5. */
  readonly qeSvn: number;
  readonly pceSvn: number;
  readonly qeVendorId: Uint8Array;
  readonly userData: Uint8Array;
}

export interface DcapQuote {
  /** The quote bytes up to the declared end (trailing zero padding removed). */
  readonly bytes: Uint8Array;
  readonly header: QuoteHeader;
  readonly tee: DcapTee;
  readonly bodyKind: BodyKind;
  /** The enclave report (384 bytes) or TD report (584/648 bytes). */
  readonly body: Uint8Array;
  /** header ‖ [v5 body descriptor] ‖ body: the bytes the attestation key signed. */
  readonly signedRegion: Uint8Array;
  /** ECDSA P-256 signature, raw r‖s. */
  readonly signature: Uint8Array;
  /** The attestation public key, raw X‖Y. */
  readonly attestationKey: Uint8Array;
  /** The Quoting Enclave's report (384-byte SGX report), signed by the PCK key. */
  readonly qeReport: Uint8Array;
  readonly qeReportSignature: Uint8Array;
  readonly qeAuthData: Uint8Array;
  /** Certification data type 5: the PCK certificate chain, concatenated PEM (often NUL-terminated). */
  readonly pckChain: Uint8Array;
}

function fail(code: EvidenceErrorCode, message: string): never {
  throw new EvidenceError(code, message);
}

/** A bounds-checked little-endian reader over the quote; every overrun is ERR_DCAP_QUOTE_MALFORMED. */
class Reader {
  private readonly view: DataView;
  constructor(
    private readonly bytes: Uint8Array,
    public offset: number,
    private readonly end: number,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private need(n: number, what: string): void {
    if (this.offset + n > this.end) fail('ERR_DCAP_QUOTE_MALFORMED', `The quote is truncated in ${what}.`);
  }

  u16(what: string): number {
    this.need(2, what);
    const v = this.view.getUint16(this.offset, true);
    this.offset += 2;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return v;
  }

  take(n: number, what: string): Uint8Array {
    this.need(n, what);
    const out = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  get remaining(): number {
    return this.end - this.offset;
  }
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function parseHeader(bytes: Uint8Array): QuoteHeader {
  if (bytes.length < HEADER_SIZE) fail('ERR_DCAP_QUOTE_MALFORMED', 'The quote is shorter than its 48-byte header.');
  const r = new Reader(bytes, 0, HEADER_SIZE);
  const version = r.u16('the header');
  if (version !== 3 && version !== 4 && version !== 5) {
    fail('ERR_DCAP_QUOTE_VERSION_UNSUPPORTED', `Quote version ${version} is not supported (3, 4 and 5 are).`);
  }
  const attestationKeyType = r.u16('the header');
  if (attestationKeyType !== ATTESTATION_KEY_ECDSA_P256) {
    fail('ERR_DCAP_ATTESTATION_KEY_UNSUPPORTED', `Attestation key type ${attestationKeyType} is not supported (2, ECDSA P-256, is).`);
  }
  const teeType = r.u32('the header');
  const qeSvn = r.u16('the header');
  const pceSvn = r.u16('the header');
  const qeVendorId = r.take(16, 'the header');
  const userData = r.take(20, 'the header');
  if (hex(qeVendorId) !== INTEL_QE_VENDOR_ID) {
    fail('ERR_DCAP_QE_VENDOR_UNSUPPORTED', 'The quote was not produced by Intel\'s Quoting Enclave (unknown QE vendor ID).');
  }
  return { version, attestationKeyType, teeType, qeSvn, pceSvn, qeVendorId, userData };
}

const BODY_SIZES: Record<BodyKind, number> = { sgx: SGX_REPORT_SIZE, td10: TD_REPORT10_SIZE, td15: TD_REPORT15_SIZE };

/** Finds the body kind and its offset: v3/v4 from the TEE type, v5 from the body descriptor at 0x30. */
function locateBody(bytes: Uint8Array, header: QuoteHeader): { kind: BodyKind; offset: number } {
  if (header.teeType !== TEE_TYPE_SGX && header.teeType !== TEE_TYPE_TDX) {
    fail('ERR_DCAP_TEE_TYPE_UNSUPPORTED', `TEE type 0x${header.teeType.toString(16)} is not supported.`);
  }
  if (header.version === 3) {
    if (header.teeType !== TEE_TYPE_SGX) fail('ERR_DCAP_TEE_TYPE_UNSUPPORTED', 'A version 3 quote must come from SGX.');
    return { kind: 'sgx', offset: HEADER_SIZE };
  }
  if (header.version === 4) return { kind: header.teeType === TEE_TYPE_TDX ? 'td10' : 'sgx', offset: HEADER_SIZE };
  const r = new Reader(bytes, HEADER_SIZE, bytes.length);
  const type = r.u16('the body descriptor');
  const size = r.u32('the body descriptor');
  const kind: BodyKind | undefined = type === 1 ? 'sgx' : type === 2 ? 'td10' : type === 3 ? 'td15' : undefined;
  if (!kind) fail('ERR_DCAP_BODY_TYPE_UNSUPPORTED', `Quote body type ${type} is not supported (1 SGX, 2 TD 1.0, 3 TD 1.5 are).`);
  if (size !== BODY_SIZES[kind]) fail('ERR_DCAP_QUOTE_MALFORMED', `A body of type ${type} must be ${BODY_SIZES[kind]} bytes, not ${size}.`);
  const bodyIsTdx = kind !== 'sgx';
  if (bodyIsTdx !== (header.teeType === TEE_TYPE_TDX)) {
    fail('ERR_DCAP_TEE_TYPE_UNSUPPORTED', `Body type ${type} does not match the header's TEE type.`);
  }
  return { kind, offset: HEADER_SIZE + 6 };
}

interface QeCertification {
  readonly qeReport: Uint8Array;
  readonly qeReportSignature: Uint8Array;
  readonly qeAuthData: Uint8Array;
  readonly pckChain: Uint8Array;
}

function certTypeRefusal(type: number): never {
  const known: Record<number, string> = {
    1: 'a plaintext PPID',
    2: 'an RSA-2048-encrypted PPID',
    3: 'an RSA-3072-encrypted PPID',
    4: 'a bare PCK certificate',
    7: 'a platform manifest',
  };
  const what = known[type] ?? `unknown type ${type}`;
  fail('ERR_DCAP_CERT_DATA_UNSUPPORTED', `The quote's certification data is ${what}; only a PCK certificate chain (type 5) is accepted.`);
}

/** qe_report ‖ qe_report_sig ‖ u16 auth_len ‖ auth ‖ u16 cert_type (=5) ‖ u32 size ‖ PEM chain, consumed exactly. */
function parseQeCertification(r: Reader, what: string): QeCertification {
  const qeReport = r.take(SGX_REPORT_SIZE, what);
  const qeReportSignature = r.take(64, what);
  const authLength = r.u16(what);
  const qeAuthData = r.take(authLength, what);
  const certType = r.u16(what);
  if (certType !== CERT_DATA_PCK_CHAIN) certTypeRefusal(certType);
  const size = r.u32(what);
  const pckChain = r.take(size, what);
  if (r.remaining !== 0) fail('ERR_DCAP_QUOTE_MALFORMED', `The ${what} is longer than its declared parts.`);
  return { qeReport, qeReportSignature, qeAuthData, pckChain };
}

/**
 * Parses a quote. Every declared length must fit and be consumed exactly; bytes after the declared end
 * are tolerated only when all zero (sources pad quotes to fixed buffer sizes), anything else is refused.
 */
export function parseQuote(input: Uint8Array): DcapQuote {
  const header = parseHeader(input);
  const { kind, offset } = locateBody(input, header);
  const bodySize = BODY_SIZES[kind];
  const outer = new Reader(input, offset, input.length);
  const body = outer.take(bodySize, 'the quote body');
  const signedEnd = outer.offset;
  const sigDataLength = outer.u32('the signature data length');
  const sigEnd = outer.offset + sigDataLength;
  if (sigEnd > input.length) fail('ERR_DCAP_QUOTE_MALFORMED', 'The quote is shorter than its declared signature data.');
  for (let i = sigEnd; i < input.length; i++) {
    if (input[i] !== 0) fail('ERR_DCAP_QUOTE_MALFORMED', 'The quote has non-zero bytes after its declared end.');
  }
  const r = new Reader(input, outer.offset, sigEnd);
  const signature = r.take(64, 'the quote signature');
  const attestationKey = r.take(64, 'the attestation key');
  let cert: QeCertification;
  if (header.version === 3) {
    cert = parseQeCertification(r, 'signature data');
  } else {
    const type = r.u16('the certification data');
    if (type !== CERT_DATA_QE_REPORT) {
      if (type === CERT_DATA_PCK_CHAIN) fail('ERR_DCAP_CERT_DATA_UNSUPPORTED', 'Version 4 and 5 quotes must carry QE report certification data (type 6).');
      certTypeRefusal(type);
    }
    const size = r.u32('the certification data');
    if (size !== r.remaining) fail('ERR_DCAP_QUOTE_MALFORMED', 'The certification data size does not match the signature data length.');
    cert = parseQeCertification(new Reader(input, r.offset, sigEnd), 'QE report certification data');
  }
  return {
    bytes: input.subarray(0, sigEnd),
    header,
    tee: header.teeType === TEE_TYPE_TDX ? 'tdx' : 'sgx',
    bodyKind: kind,
    body,
    signedRegion: input.subarray(0, signedEnd),
    signature,
    attestationKey,
    ...cert,
  };
}
