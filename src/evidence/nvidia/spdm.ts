// Parses the NVIDIA attestation report: SPDM 1.1 GET_MEASUREMENTS request ‖ MEASUREMENTS response
// (DMTF DSP0274 1.1 §10.11), its DMTF measurement blocks and NVIDIA's opaque-data TLV list. Structure only.
import { EvidenceError } from '../../errors.js';

/** SPDMVersion byte this parser understands; 1.2+ changes the signed message (prefixed hash), so refuse it. */
export const SPDM_VERSION_1_1 = 0x11;
const GET_MEASUREMENTS = 0xe0;
const MEASUREMENTS = 0x60;
/** Request: SPDMVersion ‖ code ‖ Param1 ‖ Param2 ‖ Nonce[32] ‖ SlotIDParam. */
export const REQUEST_LENGTH = 0x25;
export const NONCE_LENGTH = 32;
/** ECDSA P-384 signature, raw r ‖ s. */
export const SIGNATURE_LENGTH = 96;
/** Param1 bit 0: the requester asked for a signature. */
const PARAM1_SIGNATURE_REQUESTED = 0x01;
/** Param2 0xFF: all measurement blocks. */
const PARAM2_ALL_BLOCKS = 0xff;
/** MeasurementSpecification bit 0: the block is in DMTF measurement format. */
const MEASUREMENT_SPEC_DMTF = 0x01;

export interface SpdmMeasurementBlock {
  /** SPDM Index, 1-based (RIM index + 1). */
  readonly index: number;
  /** DMTFSpecMeasurementValueType (bit 7: raw bit stream, bits 6..0: what was measured). */
  readonly valueType: number;
  readonly value: Uint8Array;
}

export interface SpdmMeasurementReport {
  readonly requestVersion: number;
  readonly responseVersion: number;
  /** The requester's nonce, report[0x04..0x24): the freshness value a verifier issued. */
  readonly nonce: Uint8Array;
  readonly slotId: number;
  readonly blocks: readonly SpdmMeasurementBlock[];
  /** The GPU's own random nonce in the response (not the verifier's). */
  readonly responderNonce: Uint8Array;
  /** NVIDIA opaque data: type → value (each type at most once). */
  readonly opaque: ReadonlyMap<number, Uint8Array>;
  /** The bytes the signature covers: the whole report minus its trailing signature. */
  readonly signedBytes: Uint8Array;
  readonly signature: Uint8Array;
}

function malformed(message: string): never {
  throw new EvidenceError('ERR_NVIDIA_REPORT_MALFORMED', message);
}

function u16(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] as number) | ((bytes[offset + 1] as number) << 8);
}

function u24(bytes: Uint8Array, offset: number): number {
  return u16(bytes, offset) | ((bytes[offset + 2] as number) << 16);
}

function need(bytes: Uint8Array, offset: number, length: number, what: string): void {
  if (offset + length > bytes.length) malformed(`The attestation report ends inside ${what}.`);
}

function checkVersion(version: number, what: string): void {
  if (version !== SPDM_VERSION_1_1) {
    throw new EvidenceError(
      'ERR_NVIDIA_SPDM_VERSION_UNSUPPORTED',
      `The SPDM ${what} has version 0x${version.toString(16).padStart(2, '0')}; only SPDM 1.1 (0x11) is supported.`,
    );
  }
}

/** Parses the measurement record (L1 bytes of DMTF blocks): Index ‖ Spec ‖ Size(LE16) ‖ Type ‖ ValueSize(LE16) ‖ Value. */
export function parseMeasurementRecord(record: Uint8Array, count: number): SpdmMeasurementBlock[] {
  const blocks: SpdmMeasurementBlock[] = [];
  const seen = new Set<number>();
  let offset = 0;
  while (offset < record.length) {
    need(record, offset, 4, 'a measurement block header');
    const index = record[offset] as number;
    const spec = record[offset + 1] as number;
    const size = u16(record, offset + 2);
    need(record, offset + 4, size, `measurement block ${index}`);
    if (index === 0x00 || index === 0xff) malformed(`Measurement block index ${index} is reserved.`);
    if (seen.has(index)) malformed(`Measurement block ${index} appears twice.`);
    seen.add(index);
    if (spec !== MEASUREMENT_SPEC_DMTF) malformed(`Measurement block ${index} is not in DMTF format.`);
    if (size < 3) malformed(`Measurement block ${index} is too short.`);
    const valueType = record[offset + 4] as number;
    const valueSize = u16(record, offset + 5);
    if (valueSize + 3 !== size) malformed(`Measurement block ${index} has inconsistent sizes.`);
    blocks.push({ index, valueType, value: record.subarray(offset + 7, offset + 4 + size) });
    offset += 4 + size;
  }
  if (blocks.length !== count) malformed(`The response announces ${count} measurement blocks but holds ${blocks.length}.`);
  return blocks;
}

/** Parses NVIDIA's opaque data: a list of type(LE16) ‖ length(LE16) ‖ value that must fill it exactly. */
export function parseOpaqueData(opaque: Uint8Array): Map<number, Uint8Array> {
  const fields = new Map<number, Uint8Array>();
  let offset = 0;
  while (offset < opaque.length) {
    need(opaque, offset, 4, 'an opaque field header');
    const type = u16(opaque, offset);
    const length = u16(opaque, offset + 2);
    need(opaque, offset + 4, length, `opaque field ${type}`);
    // A repeated field would leave two readings of the same fact; refuse the ambiguity.
    if (fields.has(type)) malformed(`Opaque field ${type} appears twice.`);
    fields.set(type, opaque.subarray(offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  return fields;
}

function parseRequest(report: Uint8Array): { version: number; nonce: Uint8Array; slotId: number } {
  need(report, 0, REQUEST_LENGTH, 'the GET_MEASUREMENTS request');
  const version = report[0x00] as number;
  checkVersion(version, 'request');
  if (report[0x01] !== GET_MEASUREMENTS) malformed('The report does not start with a GET_MEASUREMENTS request.');
  if (report[0x02] !== PARAM1_SIGNATURE_REQUESTED) malformed('The GET_MEASUREMENTS request did not ask for a signature.');
  if (report[0x03] !== PARAM2_ALL_BLOCKS) malformed('The GET_MEASUREMENTS request did not ask for all measurement blocks.');
  const slotId = report[0x24] as number;
  if (slotId > 7) malformed(`The request names certificate slot ${slotId}; SPDM slots are 0..7.`);
  return { version, nonce: report.subarray(0x04, 0x04 + NONCE_LENGTH), slotId };
}

/**
 * Parses a report (request ‖ response) with strict lengths: every length field must account for the
 * bytes exactly, and the report ends with the 96-byte signature.
 */
export function parseSpdmReport(report: Uint8Array): SpdmMeasurementReport {
  const request = parseRequest(report);
  const r = report.subarray(REQUEST_LENGTH);
  need(r, 0, 8, 'the MEASUREMENTS response header');
  const responseVersion = r[0x00] as number;
  checkVersion(responseVersion, 'response');
  if (r[0x01] !== MEASUREMENTS) malformed('The request is not followed by a MEASUREMENTS response.');
  if (((r[0x03] as number) & 0x0f) !== request.slotId) malformed('The response names another certificate slot than the request.');
  const count = r[0x04] as number;
  const recordLength = u24(r, 0x05);
  need(r, 0x08, recordLength, 'the measurement record');
  const blocks = parseMeasurementRecord(r.subarray(0x08, 0x08 + recordLength), count);
  let offset = 0x08 + recordLength;
  need(r, offset, NONCE_LENGTH + 2, 'the responder nonce and opaque length');
  const responderNonce = r.subarray(offset, offset + NONCE_LENGTH);
  const opaqueLength = u16(r, offset + NONCE_LENGTH);
  offset += NONCE_LENGTH + 2;
  need(r, offset, opaqueLength, 'the opaque data');
  const opaque = parseOpaqueData(r.subarray(offset, offset + opaqueLength));
  offset += opaqueLength;
  if (r.length - offset !== SIGNATURE_LENGTH) {
    malformed(`The report must end with a ${SIGNATURE_LENGTH}-byte signature; ${r.length - offset} bytes remain.`);
  }
  const signatureStart = REQUEST_LENGTH + offset;
  return {
    requestVersion: request.version,
    responseVersion,
    nonce: request.nonce,
    slotId: request.slotId,
    blocks,
    responderNonce,
    opaque,
    signedBytes: report.subarray(0, signatureStart),
    signature: report.subarray(signatureStart),
  };
}
