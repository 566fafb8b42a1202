// The COSE_Sign1 envelope of a Nitro attestation document (RFC 9052 §4.2, §4.4; AWS attestation_process §3.1).
//
//   [d2]  84  <protected: bstr {1: -35}>  <unprotected: {}>  <payload: bstr>  <signature: bstr(96)>
//
// Only ES384 (COSE alg -35, ECDSA P-384 with SHA-384, signature raw r‖s) is accepted.
import { EvidenceError } from '../../errors.js';
import { byteStringHead, decodeStrictCbor } from './cbor.js';

export interface CoseSign1 {
  /** True when the envelope carried CBOR tag 18 (allowed by RFC 9052; NSM sends it untagged). */
  readonly tagged: boolean;
  /** The protected header bucket exactly as received: the signature covers these bytes, not a re-encoding. */
  readonly protectedHeader: Uint8Array;
  readonly payload: Uint8Array;
  /** ES384 signature, raw r‖s (48 + 48 bytes, big-endian). */
  readonly signature: Uint8Array;
}

/** COSE algorithm identifier of ES384 (RFC 9053 §2.1). */
export const COSE_ALG_ES384 = -35;
const COSE_HEADER_ALG = 1;
const COSE_SIGN1_TAG_BYTE = 0xd2;
const ES384_SIGNATURE_BYTES = 96;
/** AWS attestation_process §3.1: the payload is `bstr .size (1..16384)`. */
export const MAX_PAYLOAD_BYTES = 16_384;
/** The payload limit plus room for the envelope (tag, heads, protected header, signature). */
export const MAX_DOCUMENT_BYTES = MAX_PAYLOAD_BYTES + 1024;

function malformed(message: string): never {
  throw new EvidenceError('ERR_NITRO_DOCUMENT_MALFORMED', message);
}

function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

/** Decodes the envelope. Checks its shape; the algorithm is checked by checkProtectedHeader. */
export function decodeCoseSign1(document: Uint8Array): CoseSign1 {
  if (document.length === 0) malformed('The Nitro attestation document is empty.');
  if (document.length > MAX_DOCUMENT_BYTES) malformed(`The Nitro attestation document exceeds ${MAX_DOCUMENT_BYTES} bytes.`);
  // Tag 18 is accepted only in its preferred one-byte form, and only around the whole envelope.
  const tagged = document[0] === COSE_SIGN1_TAG_BYTE;
  const body = tagged ? document.subarray(1) : document;
  const decoded = decodeStrictCbor(body, {
    maxDepth: 2,
    code: 'ERR_NITRO_DOCUMENT_MALFORMED',
    what: 'The COSE_Sign1 envelope',
  });
  if (!Array.isArray(decoded) || decoded.length !== 4) malformed('The document is not a COSE_Sign1 array of four items.');
  const [protectedHeader, unprotected, payload, signature] = decoded as unknown[];
  if (!isBytes(protectedHeader)) malformed('The COSE protected header is not a byte string.');
  // Why: nothing in the unsigned bucket is authenticated, and NSM leaves it empty. Refusing content
  // there keeps an attacker from riding unsigned parameters (kid, x5chain, a second alg) along with a
  // genuine document to whoever reads the stored evidence later.
  if (!(unprotected instanceof Map) || unprotected.size !== 0) malformed('The COSE unprotected header must be an empty map.');
  // A nil payload would be a detached COSE_Sign1: the document would not be in the evidence at all.
  if (!isBytes(payload) || payload.length === 0) malformed('The COSE payload is missing.');
  if (payload.length > MAX_PAYLOAD_BYTES) malformed(`The COSE payload exceeds ${MAX_PAYLOAD_BYTES} bytes.`);
  // ES384 signatures are raw r‖s of 96 bytes; a DER-encoded ECDSA signature is refused, not converted.
  if (!isBytes(signature) || signature.length !== ES384_SIGNATURE_BYTES) {
    malformed(`The COSE signature must be a ${ES384_SIGNATURE_BYTES}-byte ES384 signature (raw r‖s).`);
  }
  return { tagged, protectedHeader, payload, signature };
}

/** The protected header must decode to exactly {1: -35}: ES384 and no other (possibly critical) parameter. */
export function checkProtectedHeader(cose: CoseSign1): void {
  if (cose.protectedHeader.length === 0) {
    throw new EvidenceError('ERR_NITRO_ALGORITHM_UNSUPPORTED', 'The COSE protected header is empty; ES384 is required.');
  }
  const header = decodeStrictCbor(cose.protectedHeader, {
    maxDepth: 1,
    code: 'ERR_NITRO_DOCUMENT_MALFORMED',
    what: 'The COSE protected header',
  });
  if (!(header instanceof Map)) malformed('The COSE protected header is not a map.');
  if (header.size !== 1 || header.get(COSE_HEADER_ALG) !== COSE_ALG_ES384) {
    throw new EvidenceError(
      'ERR_NITRO_ALGORITHM_UNSUPPORTED',
      'The COSE protected header must be exactly {1: -35} (ES384); other algorithms and parameters are not supported.',
    );
  }
}

/** "Signature1" as a CBOR text string, then an empty external_aad (RFC 9052 §4.4). */
const SIG_STRUCTURE_CONTEXT = Uint8Array.of(0x6a, ...new TextEncoder().encode('Signature1'));
const EMPTY_EXTERNAL_AAD = Uint8Array.of(0x40);

/** Sig_structure = ["Signature1", body_protected, external_aad = h'', payload], CBOR-encoded (RFC 9052 §4.4). */
export function sigStructure(cose: Pick<CoseSign1, 'protectedHeader' | 'payload'>): Uint8Array {
  return new Uint8Array(
    Buffer.concat([
      Uint8Array.of(0x84),
      SIG_STRUCTURE_CONTEXT,
      byteStringHead(cose.protectedHeader.length),
      cose.protectedHeader,
      EMPTY_EXTERNAL_AAD,
      byteStringHead(cose.payload.length),
      cose.payload,
    ]),
  );
}
