// The evidence interface every TEE verifier implements: (evidence, collateral, anchors, now) → claims.
//
// Verifiers are pure: no network, no database, no clock, no environment. Everything they need arrives
// in a VerifyContext; everything they conclude leaves as readonly claims or a thrown EvidenceError.
import type { JWK } from 'jose';
import type { Claims } from './claims.js';

export type EvidenceType = 'snp' | 'tdx' | 'sgx' | 'nvidia-gpu' | 'nvidia-nras' | 'nitro';

export const EVIDENCE_TYPES: readonly EvidenceType[] = ['snp', 'tdx', 'sgx', 'nvidia-gpu', 'nvidia-nras', 'nitro'];

/** One piece of evidence, decoded from its wire form (docs/design.md "Release protocol", step 3). */
export type EvidenceItem =
  | {
      readonly type: 'snp';
      /** The raw 1184-byte ATTESTATION_REPORT. */
      readonly report: Uint8Array;
      /** Certificates sent with the report: each DER, PEM (one or many), or an SNP GUID certificate table. */
      readonly certs: readonly Uint8Array[];
    }
  | { readonly type: 'tdx' | 'sgx'; readonly quote: Uint8Array }
  | {
      readonly type: 'nvidia-gpu';
      /** SPDM GET_MEASUREMENTS request ‖ response as the GPU returned it. */
      readonly report: Uint8Array;
      /** The device certificate chain, PEM (leaf first, as the driver returns it). */
      readonly certChain: string;
    }
  | { readonly type: 'nvidia-nras'; readonly token: string }
  | { readonly type: 'nitro'; readonly document: Uint8Array };

/** Which vendor root a pinned anchor stands for; `nvidia-nras-signer`: a key trusted to sign NRAS results. */
export type AnchorRole =
  | 'amd-ark'
  | 'intel-sgx-root'
  | 'nvidia-device-identity'
  | 'nvidia-corim-root'
  | 'nvidia-nras-signer'
  | 'aws-nitro-root';

/**
 * Where trust in an anchor comes from: `vendor`, pinned in keyward (docs/design.md "Evidence and claims"); `extra`, configured at
 * start (KEYWARD_EXTRA_ANCHORS); `uploaded`, collateral uploaded through the API that a platform admin
 * then trusted explicitly (POST /v1/collateral/{id}/trust).
 */
export type AnchorSource = 'vendor' | 'extra' | 'uploaded';

export type SnpProduct = 'Milan' | 'Genoa' | 'Turin';

export interface TrustAnchor {
  /** SHA-256 of the root's DER SubjectPublicKeyInfo, lowercase hex. */
  readonly spkiSha256: string;
  readonly name: string;
  readonly source: AnchorSource;
  /** The roles this anchor is trusted for. Extra roots are trusted for every role; uploaded ones only to sign NRAS results. */
  readonly roles: readonly AnchorRole[];
  /** For AMD ARKs pinned by keyward: the product the ARK belongs to. */
  readonly product?: SnpProduct;
  /** DER of the root certificate when keyward holds it (extra anchors); vendor roots arrive in chains. */
  readonly certificate?: Uint8Array;
  /** A trusted signing key itself (a JWK from a trusted JWKS), found by its `kid`. */
  readonly jwk?: JWK;
  /** A root of keyward's development CA (the TEE simulator): claims that rest on it say `simulated: true`. */
  readonly simulated?: boolean;
}

export interface TrustAnchors {
  /** The anchor with this SPKI hash that is trusted for `role`, or undefined. */
  lookup(spkiSha256: string, role: AnchorRole): TrustAnchor | undefined;
  /** Every anchor (for logging and chain building). */
  readonly all: readonly TrustAnchor[];
}

/**
 * Already-fetched collateral. Verifiers pick what they need and ignore the rest; anything they need and
 * do not find is ERR_COLLATERAL_MISSING. Items are raw, as vendors serve them, so signatures still hold.
 */
export interface Collateral {
  /** X.509 certificates, DER. */
  readonly certificates: readonly Uint8Array[];
  /** X.509 CRLs, DER. */
  readonly crls: readonly Uint8Array[];
  /** OCSP responses (OCSPResponse), DER. */
  readonly ocspResponses: readonly Uint8Array[];
  /** Intel TCB Info documents, the exact JSON text served (`{"tcbInfo":{...},"signature":"..."}`). */
  readonly tcbInfos: readonly string[];
  /** Intel QE / TD-QE identity documents, exact JSON text (`{"enclaveIdentity":{...},"signature":"..."}`). */
  readonly qeIdentities: readonly string[];
  /** NVIDIA reference integrity manifests (signed SWID tag XML text). */
  readonly rims: readonly string[];
  /** JSON Web Key Sets (e.g. the NRAS signing keys). */
  readonly jwks: readonly { readonly keys: readonly JWK[] }[];
}

/** Caches results of time-independent, pure computations (signature checks) across verifications. */
export interface VerificationMemo {
  /** Returns the remembered value for `key`, or computes, remembers and returns it. */
  remember<T>(key: string, compute: () => T): T;
}

export interface VerifyContext {
  readonly collateral: Collateral;
  readonly anchors: TrustAnchors;
  /** The instant at which certificates, CRLs and collateral must be valid. */
  readonly now: Date;
  /**
   * When set, the evidence's freshness field must equal these bytes exactly: REPORT_DATA (64 bytes)
   * for SNP/TDX/SGX, the SPDM request nonce (32 bytes) for NVIDIA GPUs and NRAS, `nonce` for Nitro.
   * Mismatch is ERR_EVIDENCE_NONCE_MISMATCH.
   */
  readonly expectedNonce?: Uint8Array;
  /** Optional cache of pure signature results; verifiers must be correct without it. */
  readonly memo?: VerificationMemo;
  /**
   * `required` (the default when absent): a certificate of the chain without a current revocation answer
   * (CRL, OCSP, or NRAS's statement) refuses the evidence. `optional`: it passes, and the claims say
   * `revocationChecked: false`. Answers that are given are always checked. See revocation.ts.
   */
  readonly revocation?: 'required' | 'optional';
  /**
   * The highest version of each collateral series accepted before (see floors.ts): collateral below its
   * floor is ERR_COLLATERAL_ROLLBACK. Absent: no floors (offline verification, a past instant).
   */
  readonly floors?: ReadonlyMap<string, number>;
}

/** A version of collateral a verdict relied on (a CRL's number, a TCB Info's evaluation data number). */
export interface CollateralVersion {
  readonly series: string;
  readonly number: number;
}

export interface VerifiedEvidence<C extends Claims = Claims> {
  readonly claims: C;
  /** SHA-256 of the evidence bytes as received (lowercase hex), for audit. */
  readonly digest: string;
  /** The window in which this verdict holds: the intersection of every certificate's and collateral's validity. */
  readonly validFrom: Date;
  readonly validUntil: Date;
  /** The versioned collateral the verdict relied on: the service raises its floors to these. */
  readonly collateralVersions?: readonly CollateralVersion[];
}

export type Verifier<I extends EvidenceItem = EvidenceItem, C extends Claims = Claims> = (
  item: I,
  ctx: VerifyContext,
) => Promise<VerifiedEvidence<C>>;
