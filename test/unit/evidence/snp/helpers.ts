// Shared helpers for the SEV-SNP tests: the manifest's shape, vector loading, contexts and error codes.
import { emptyCollateral } from '../../../../src/collateral/recognize.js';
import { vendorAnchors } from '../../../../src/evidence/anchors.js';
import type { Collateral, TrustAnchors, VerifyContext } from '../../../../src/evidence/types.js';
import { readManifest, readVector, readVectorText } from '../../../helpers/vectors.js';

export interface ManifestTcb {
  bootloader: number;
  tee: number;
  snp: number;
  microcode: number;
  fmc?: number;
  raw_hex: string;
}

export interface ManifestVector {
  id: string;
  report: string;
  product: 'Milan' | 'Genoa' | 'Turin';
  report_version: number;
  signer: 'VCEK' | 'VLEK';
  vek: string | null;
  intermediate?: string;
  root?: string;
  signature_verifies: boolean | null;
  chain_verifies: boolean | null;
  verification_time: string | null;
  vek_not_before?: string;
  vek_not_after?: string;
  vek_extensions?: { productName: string; cspID: string | null; hwID: string | null };
  fields: {
    guest_svn: number;
    policy_hex: string;
    policy: Record<string, boolean | number>;
    family_id: string;
    image_id: string;
    vmpl: number;
    current_tcb: ManifestTcb;
    reported_tcb: ManifestTcb;
    committed_tcb: ManifestTcb;
    launch_tcb: ManifestTcb;
    platform_info_hex: string;
    platform_info: Record<string, boolean | string>;
    signer_info: { author_key_en: number; mask_chip_key: number; signing_key_name: string };
    report_data: string;
    measurement: string;
    host_data: string;
    id_key_digest: string;
    author_key_digest: string;
    report_id: string;
    report_id_ma: string;
    cpuid_fam_id: number | null;
    cpuid_mod_id: number | null;
    cpuid_step: number | null;
    chip_id: string;
    current_build: number;
    current_minor: number;
    current_major: number;
    committed_build: number;
    committed_minor: number;
    committed_major: number;
    launch_mit_vector?: string;
    current_mit_vector?: string;
  };
}

export interface ManifestCrl {
  file_der: string;
  product: string;
  this_update: string;
  next_update: string;
  revoked_serials: string[];
}

export interface SnpManifest {
  amd_roots: Record<string, { ark: string; ask: string; asvk: string; cert_chain_vcek: string; cert_chain_vlek: string }>;
  crls: ManifestCrl[];
  vectors: ManifestVector[];
  extra_certs: { file: string; product: string; verification_time: string }[];
}

export const manifest = readManifest<SnpManifest>('snp');
export const NEGATIVE_ID = 'NEG-milan-v2-vlek-mismatched-vlek';

/** Vectors with a report, a signing certificate and a verification time, expected to verify. */
export const verifiable = manifest.vectors.filter((v) => v.vek && v.signature_verifies === true && v.verification_time);

export function vector(id: string): ManifestVector {
  const found = manifest.vectors.find((v) => v.id === id);
  if (!found) throw new Error(`no vector ${id}`);
  return found;
}

export function reportOf(v: ManifestVector): Uint8Array {
  return readVector('snp', v.report);
}

export function vekOf(v: ManifestVector): Uint8Array {
  return readVector('snp', v.vek as string);
}

/** AMD's cert_chain bundle (PEM: ASK or ASVK, then ARK) for a vector's product and signer. */
export function chainPemOf(v: ManifestVector): Uint8Array {
  const roots = manifest.amd_roots[v.product];
  if (!roots) throw new Error(`no roots for ${v.product}`);
  return new Uint8Array(Buffer.from(readVectorText('snp', v.signer === 'VLEK' ? roots.cert_chain_vlek : roots.cert_chain_vcek)));
}

export function pemFile(path: string): Uint8Array {
  return new Uint8Array(Buffer.from(readVectorText('snp', path)));
}

/**
 * A verification context at `at`. Revocation is optional unless asked for: the vectors outlive every CRL,
 * and the tests that are about revocation say `revocation: 'required'` (the verifiers' default).
 */
export function ctxAt(
  at: string | Date,
  opts: { collateral?: Partial<Collateral>; anchors?: TrustAnchors; expectedNonce?: Uint8Array; memo?: VerifyContext['memo']; revocation?: 'required' | 'optional' } = {},
): VerifyContext {
  return {
    collateral: { ...emptyCollateral(), ...opts.collateral },
    anchors: opts.anchors ?? vendorAnchors(),
    now: typeof at === 'string' ? new Date(at) : at,
    revocation: opts.revocation ?? 'optional',
    ...(opts.expectedNonce ? { expectedNonce: opts.expectedNonce } : {}),
    ...(opts.memo ? { memo: opts.memo } : {}),
  };
}

export function tcbOf(t: ManifestTcb): Record<string, number> {
  const { raw_hex: _raw, ...rest } = t;
  return rest;
}

export function flipBit(bytes: Uint8Array, offset: number, bit = 0): Uint8Array {
  const copy = new Uint8Array(bytes);
  copy[offset] = (copy[offset] as number) ^ (1 << bit);
  return copy;
}

export { evidenceCodeOf as codeOf, evidenceCodeOfSync as codeOfSync } from '../../../helpers/errors.js';
