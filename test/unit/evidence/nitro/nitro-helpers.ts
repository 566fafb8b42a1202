// Shared helpers for the Nitro tests: the manifest's shape, vector loading, error-code capture.
import { Decoder } from 'cbor-x';
import { emptyCollateral } from '../../../../src/collateral/recognize.js';
import type { TrustAnchors, VerifyContext, VerificationMemo } from '../../../../src/evidence/types.js';
import { readManifest, readVector } from '../../../helpers/vectors.js';

export interface ManifestBytes {
  readonly hex: string;
  readonly length: number;
}

export interface ManifestVector {
  readonly id: string;
  readonly files: readonly { readonly path: string; readonly sha256: string; readonly bytes: number }[];
  readonly cose: { readonly sig_structure_sha256: string; readonly sig_structure_length: number; readonly signature_hex: string };
  readonly document: {
    readonly module_id: string;
    readonly digest: string;
    readonly timestamp_ms: number;
    readonly pcrs: Readonly<Record<string, string>>;
    readonly nonzero_pcrs: readonly number[];
    readonly public_key: ManifestBytes | null;
    readonly user_data: ManifestBytes | null;
    readonly nonce: ManifestBytes | null;
    readonly cabundle_length: number;
  };
  readonly cert_chain: {
    readonly chain: readonly { readonly subject: string; readonly not_before: string; readonly not_after: string }[];
    readonly common_validity_window: readonly [string, string];
  };
  readonly verification_time: string;
}

export interface NitroManifest {
  readonly root: { readonly file: string; readonly spki_sha256: string };
  readonly vectors: readonly ManifestVector[];
}

export const manifest = readManifest<NitroManifest>('nitro');

export function vectorDocument(vector: ManifestVector): Uint8Array {
  const file = vector.files[0];
  if (!file) throw new Error(`vector ${vector.id} lists no file`);
  return readVector('nitro', file.path);
}

export function contextAt(now: Date, anchors: TrustAnchors, extra: { expectedNonce?: Uint8Array; memo?: VerificationMemo } = {}): VerifyContext {
  return { collateral: emptyCollateral(), anchors, now, ...extra };
}

/** A copy of `bytes` with bit 0 of byte `index` flipped. */
export function flipByte(bytes: Uint8Array, index: number): Uint8Array {
  const copy = new Uint8Array(bytes);
  copy[index] = (copy[index] as number) ^ 0x01;
  return copy;
}

/** Decodes a COSE_Sign1 and its payload for tests that re-encode parts of a real document. */
const testDecoder = new Decoder({ mapsAsObjects: false, useRecords: false });
export function decodeForTest(document: Uint8Array): { parts: unknown[]; payload: Map<string, unknown> } {
  const parts = testDecoder.decode(Buffer.from(document)) as unknown[];
  const payload = testDecoder.decode(Buffer.from(parts[2] as Uint8Array)) as Map<string, unknown>;
  return { parts, payload };
}

export function indexOfBytes(haystack: Uint8Array, needle: Uint8Array): number {
  return Buffer.from(haystack).indexOf(Buffer.from(needle));
}

export { evidenceCodeOf as codeOfAsync, evidenceCodeOfSync as codeOf } from '../../../helpers/errors.js';
