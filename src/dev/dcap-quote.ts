// Mints look-alike Intel DCAP quotes (v3 SGX, v4 TDX/SGX, v5 with body types 1–3) for tests and the TEE
// simulator: a Quoting Enclave with its own attestation key and a QE report signed by a PCK key, and
// quotes signed by that attestation key. Layouts follow the DCAP quote format (see evidence/dcap/quote.ts).
import { createHash, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { freshKeyPair } from '../keys/key-pair.js';
import { INTEL_QE_MRSIGNER, INTEL_TD_QE_MRSIGNER } from './dcap-collateral.js';

const INTEL_QE_VENDOR_ID = Buffer.from('939a7233f79c4ca9940a0db3957f0607', 'hex');

/** Fields of an SGX enclave report (384 bytes); unset fields are zero. */
export interface SgxReportInput {
  readonly cpuSvn?: Uint8Array;
  readonly miscSelect?: number;
  readonly isvExtProdId?: Uint8Array;
  /** 16 bytes: flags u64 ‖ xfrm u64. */
  readonly attributes?: Uint8Array;
  readonly mrEnclave?: Uint8Array;
  readonly mrSigner?: Uint8Array;
  readonly configId?: Uint8Array;
  readonly isvProdId?: number;
  readonly isvSvn?: number;
  readonly configSvn?: number;
  readonly isvFamilyId?: Uint8Array;
  readonly reportData?: Uint8Array;
}

/** Fields of a TD report (584 bytes, or 648 with the 1.5 fields); unset fields take the defaults below. */
export interface TdReportInput {
  readonly teeTcbSvn?: Uint8Array;
  readonly mrSeam?: Uint8Array;
  readonly mrSignerSeam?: Uint8Array;
  readonly seamAttributes?: Uint8Array;
  readonly tdAttributes?: Uint8Array;
  readonly xfam?: Uint8Array;
  readonly mrTd?: Uint8Array;
  readonly mrConfigId?: Uint8Array;
  readonly mrOwner?: Uint8Array;
  readonly mrOwnerConfig?: Uint8Array;
  readonly rtmr?: readonly Uint8Array[];
  readonly reportData?: Uint8Array;
  readonly teeTcbSvn2?: Uint8Array;
  readonly mrServiceTd?: Uint8Array;
}

function put(target: Uint8Array, offset: number, value: Uint8Array | undefined, length: number): void {
  if (!value) return;
  if (value.length !== length) throw new Error(`field at 0x${offset.toString(16)} must be ${length} bytes`);
  target.set(value, offset);
}

export function buildSgxReport(f: SgxReportInput): Uint8Array {
  const out = new Uint8Array(0x180);
  const view = new DataView(out.buffer);
  put(out, 0x00, f.cpuSvn, 16);
  view.setUint32(0x10, f.miscSelect ?? 0, true);
  put(out, 0x20, f.isvExtProdId, 16);
  put(out, 0x30, f.attributes, 16);
  put(out, 0x40, f.mrEnclave, 32);
  put(out, 0x80, f.mrSigner, 32);
  put(out, 0xc0, f.configId, 64);
  view.setUint16(0x100, f.isvProdId ?? 0, true);
  view.setUint16(0x102, f.isvSvn ?? 0, true);
  view.setUint16(0x104, f.configSvn ?? 0, true);
  put(out, 0x130, f.isvFamilyId, 16);
  put(out, 0x140, f.reportData, 64);
  return out;
}

function filled(length: number, byte: number): Uint8Array {
  return new Uint8Array(length).fill(byte);
}

/** Defaults: module TDX_01 at SVN 6, SEPT_VE_DISABLE set, XFAM e7020600…, recognizable measurement bytes. */
export function buildTdReport(f: TdReportInput, td15 = false): Uint8Array {
  const out = new Uint8Array(td15 ? 0x288 : 0x248);
  put(out, 0x00, f.teeTcbSvn ?? Uint8Array.from([6, 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 16);
  put(out, 0x10, f.mrSeam ?? filled(48, 0x5e), 48);
  put(out, 0x40, f.mrSignerSeam, 48);
  put(out, 0x70, f.seamAttributes, 8);
  put(out, 0x78, f.tdAttributes ?? Uint8Array.from([0, 0, 0, 0x10, 0, 0, 0, 0]), 8);
  put(out, 0x80, f.xfam ?? Uint8Array.from([0xe7, 0x02, 0x06, 0, 0, 0, 0, 0]), 8);
  put(out, 0x88, f.mrTd ?? filled(48, 0x7d), 48);
  put(out, 0xb8, f.mrConfigId, 48);
  put(out, 0xe8, f.mrOwner, 48);
  put(out, 0x118, f.mrOwnerConfig, 48);
  (f.rtmr ?? []).forEach((r, i) => put(out, 0x148 + 0x30 * i, r, 48));
  put(out, 0x208, f.reportData, 64);
  if (td15) {
    put(out, 0x248, f.teeTcbSvn2 ?? f.teeTcbSvn ?? Uint8Array.from([6, 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 16);
    put(out, 0x258, f.mrServiceTd, 48);
  }
  return out;
}

export interface QuotingEnclaveOptions {
  readonly tee: 'sgx' | 'tdx';
  /** The PCK private key that signs the QE report. */
  readonly pckKey: KeyObject;
  /** Certification data type 5: the PCK chain PEM (leaf, CA, root). */
  readonly pckChainPem: string;
  /** The QE's own report; defaults to Intel's QE (SGX) or TD-QE (TDX) identity values. */
  readonly qeReport?: SgxReportInput;
  /** QE authentication data (32 bytes by default). */
  readonly authData?: Uint8Array;
  /** NUL-terminate the PEM chain, as most real quotes do. */
  readonly nulTerminate?: boolean;
}

export interface QuotingEnclave {
  readonly tee: 'sgx' | 'tdx';
  readonly attestationKey: KeyObject;
  /** Raw X‖Y. */
  readonly attestationPublicKey: Uint8Array;
  readonly qeReport: Uint8Array;
  readonly qeReportSignature: Uint8Array;
  readonly qeSvn: number;
  readonly authData: Uint8Array;
  readonly certData: Uint8Array;
}

function defaultQeReport(tee: 'sgx' | 'tdx'): SgxReportInput {
  const attributes = new Uint8Array(16);
  attributes.set([0x15, 0, 0, 0, 0, 0, 0, 0, 0xe7]);
  return {
    mrSigner: Buffer.from(tee === 'tdx' ? INTEL_TD_QE_MRSIGNER : INTEL_QE_MRSIGNER, 'hex'),
    isvProdId: tee === 'tdx' ? 2 : 1,
    isvSvn: tee === 'tdx' ? 4 : 8,
    attributes,
    mrEnclave: filled(32, 0xe5),
  };
}

/** A Quoting Enclave: a fresh attestation key and a QE report binding it, signed by the PCK key. */
export function createQuotingEnclave(opts: QuotingEnclaveOptions): QuotingEnclave {
  const { publicKey, privateKey } = freshKeyPair({ type: 'ec', namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const attestationPublicKey = new Uint8Array(Buffer.concat([Buffer.from(jwk.x as string, 'base64url'), Buffer.from(jwk.y as string, 'base64url')]));
  const authData = opts.authData ?? filled(32, 0xa5).map((b, i) => b ^ i);
  const binding = createHash('sha256').update(attestationPublicKey).update(authData).digest();
  const qeFields = { ...defaultQeReport(opts.tee), ...opts.qeReport };
  const qeReport = buildSgxReport({ ...qeFields, reportData: Buffer.concat([binding, Buffer.alloc(32)]) });
  const qeReportSignature = new Uint8Array(cryptoSign('sha256', qeReport, { key: opts.pckKey, dsaEncoding: 'ieee-p1363' }));
  const pem = opts.nulTerminate === false ? opts.pckChainPem : `${opts.pckChainPem}\0`;
  return {
    tee: opts.tee,
    attestationKey: privateKey,
    attestationPublicKey,
    qeReport,
    qeReportSignature,
    qeSvn: qeFields.isvSvn ?? 0,
    authData,
    certData: new Uint8Array(Buffer.from(pem, 'latin1')),
  };
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

function header(version: 3 | 4 | 5, tee: 'sgx' | 'tdx', qe: QuotingEnclave, pceSvn: number): Buffer {
  const userData = Buffer.alloc(20);
  createHash('sha256').update(qe.attestationPublicKey).digest().copy(userData, 0, 0, 16);
  return Buffer.concat([
    u16(version),
    u16(2),
    u32(tee === 'tdx' ? 0x81 : 0),
    u16(version === 3 ? qe.qeSvn : 0),
    u16(version === 3 ? pceSvn : 0),
    INTEL_QE_VENDOR_ID,
    userData,
  ]);
}

function qeCertification(qe: QuotingEnclave): Buffer {
  return Buffer.concat([qe.qeReport, qe.qeReportSignature, u16(qe.authData.length), qe.authData, u16(5), u32(qe.certData.length), qe.certData]);
}

export interface MintOptions {
  readonly version: 3 | 4 | 5;
  /** v5 body type: 1 SGX, 2 TD 1.0, 3 TD 1.5. */
  readonly bodyType?: 1 | 2 | 3;
  /** v3 header PCE SVN (informational). */
  readonly pceSvn?: number;
}

/** Assembles and signs a quote around an already-built body. */
export function mintQuote(qe: QuotingEnclave, body: Uint8Array, opts: MintOptions): Uint8Array {
  const descriptor = opts.version === 5 ? Buffer.concat([u16(opts.bodyType ?? (qe.tee === 'tdx' ? 2 : 1)), u32(body.length)]) : Buffer.alloc(0);
  const signed = Buffer.concat([header(opts.version, qe.tee, qe, opts.pceSvn ?? 13), descriptor, body]);
  const signature = cryptoSign('sha256', signed, { key: qe.attestationKey, dsaEncoding: 'ieee-p1363' });
  const certification = qeCertification(qe);
  const signatureData =
    opts.version === 3
      ? Buffer.concat([signature, qe.attestationPublicKey, certification])
      : Buffer.concat([signature, qe.attestationPublicKey, u16(6), u32(certification.length), certification]);
  return new Uint8Array(Buffer.concat([signed, u32(signatureData.length), signatureData]));
}

/** A TDX quote: v4 (TD report 1.0) by default, v5 with TD 1.0 or (td15) TD 1.5 bodies. */
export function mintTdxQuote(qe: QuotingEnclave, fields: TdReportInput = {}, opts: { version?: 4 | 5; td15?: boolean } = {}): Uint8Array {
  const td15 = opts.td15 ?? false;
  const version = td15 ? 5 : (opts.version ?? 4);
  return mintQuote(qe, buildTdReport(fields, td15), { version, bodyType: td15 ? 3 : 2 });
}

/** An SGX quote: v3 by default, or v4 / v5 (body type 1). */
export function mintSgxQuote(qe: QuotingEnclave, fields: SgxReportInput = {}, opts: { version?: 3 | 4 | 5; pceSvn?: number } = {}): Uint8Array {
  return mintQuote(qe, buildSgxReport(fields), { version: opts.version ?? 3, bodyType: 1, pceSvn: opts.pceSvn ?? 13 });
}
