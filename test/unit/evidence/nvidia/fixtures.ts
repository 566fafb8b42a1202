// Shared helpers for the NVIDIA tests: vector loading by manifest, contexts, error-code capture.
import { readManifest, readVector, readVectorText } from '../../../helpers/vectors.js';
import { emptyCollateral } from '../../../../src/collateral/recognize.js';
import { vendorAnchors } from '../../../../src/evidence/anchors.js';
import type { Collateral, EvidenceItem, TrustAnchors, VerifyContext } from '../../../../src/evidence/types.js';

export interface ManifestReport {
  readonly report_length: number;
  readonly request: { nonce: string; slot_id: number };
  readonly response: {
    number_of_blocks: number;
    measurement_record_length: number;
    responder_nonce: string;
    opaque_length: number;
    signature_hex: string;
  };
  readonly opaque_fields: Record<string, { type: number; size: number; hex: string; ascii?: string; formatted?: string; le_int?: number }>;
  readonly measurements_0based?: Record<string, string>;
  readonly nonzero_measurement_indices_0based: number[];
  readonly cert_chain: { certs: { subject: string; serial: string }[] };
  readonly fwid_check: { report_fwid: string | null; cert_fwid: string; match: boolean | string };
  readonly derived_rim_ids: { driver: string; vbios: string };
  readonly signature_check: { result: boolean; signed_length: number };
  readonly file?: string;
}

export interface ManifestVector {
  readonly id: string;
  readonly nonce?: string;
  readonly verification_time: string;
  readonly expected: Record<string, unknown>;
  readonly report?: ManifestReport;
  readonly reports?: ManifestReport[];
  readonly files?: { path: string; role: string }[];
  readonly [key: string]: unknown;
}

export interface NvidiaManifest {
  readonly vectors: ManifestVector[];
}

export const manifest = readManifest<NvidiaManifest>('nvidia');

export function vector(id: string): ManifestVector {
  const v = manifest.vectors.find((x) => x.id === id);
  if (!v) throw new Error(`no vector ${id}`);
  return v;
}

export const hex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'));

export function gpuItem(report: string, chain: string): Extract<EvidenceItem, { type: 'nvidia-gpu' }> {
  return { type: 'nvidia-gpu', report: readVector('nvidia', report), certChain: readVectorText('nvidia', chain) };
}

export function nvText(path: string): string {
  return readVectorText('nvidia', path);
}

/**
 * A verification context at `at`. Revocation is optional unless `more` asks for it: few vectors come with
 * OCSP answers, and the tests about revocation say `revocation: 'required'` (the verifiers' default).
 */
export function ctx(at: string | Date, extra: Partial<Collateral> = {}, more: Partial<VerifyContext> = {}, anchors: TrustAnchors = vendorAnchors()): VerifyContext {
  return { collateral: { ...emptyCollateral(), ...extra }, anchors, now: typeof at === 'string' ? new Date(at) : at, revocation: 'optional', ...more };
}

export function flipBit(bytes: Uint8Array, offset: number, bit = 0): Uint8Array {
  const copy = new Uint8Array(bytes);
  copy[offset] = (copy[offset] as number) ^ (1 << bit);
  return copy;
}

/** Every report vector: [label, report path, chain path, manifest report]. */
export function allReports(): [string, string, string, ManifestReport][] {
  const out: [string, string, string, ManifestReport][] = [];
  for (const v of manifest.vectors) {
    if (v.report) out.push([v.id, `${v.id}/attestation_report.bin`, `${v.id}/device_cert_chain.pem`, v.report]);
    (v.reports ?? []).forEach((r, i) => {
      const file = r.file ?? `gpu${i}_attestation_report.bin`;
      const chain = file.replace('attestation_report.bin', 'device_cert_chain.pem');
      out.push([`${v.id}#${i}`, `${v.id}/${file}`, `${v.id}/${chain}`, r]);
    });
  }
  return out;
}

export { evidenceCodeOf as codeOf, evidenceErrorOf as errorOf, evidenceCodeOfSync as syncCodeOf } from '../../../helpers/errors.js';
