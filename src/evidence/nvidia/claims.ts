// Normalized claims of a verified NVIDIA GPU attestation (docs/design.md "Claims reference", nvidia-gpu).
import type { AnchorClaim, CommonClaims } from '../claims.js';

export interface NvidiaGpuClaims extends CommonClaims {
  readonly tee: 'nvidia-gpu';
  /** NVSwitch LS10 (Hopper-generation NVLink switch, chained through "NVIDIA GH100 Identity") is `hopper`. */
  readonly arch: 'hopper' | 'blackwell';
  /** The nonce the device signed (SPDM request nonce), or NRAS's `eat_nonce`; lowercase hex. */
  readonly nonce: string;
  /** DRIVER_VERSION; empty on NVSwitches, which run no GPU driver. */
  readonly driverVersion: string;
  /** VBIOS (switch BIOS) version, lowercase dotted hex pairs as the RIM's colloquialVersion spells it. */
  readonly vbiosVersion: string;
  /**
   * Golden measurements compared. Accepted local evidence always has matched == total (a mismatch is
   * ERR_NVIDIA_MEASUREMENT_MISMATCH). NRAS reports no counts: 0/0 with `source` "nras" (NRAS said "success").
   */
  readonly measurements: {
    readonly matched: number;
    readonly total: number;
    readonly mismatchedIndices: readonly number[];
  };
  /** RIM ids as NVIDIA's RIM service names them; `driver` is empty on NVSwitches; both empty for NRAS. */
  readonly rim: { readonly driver: string; readonly vbios: string };
  /** "checked" only when every certificate that needs it had a verified, current OCSP/CRL answer. */
  readonly revocation: 'checked' | 'not-checked';

  // --- added by keyward (beyond the core GPU claims) -----------------------------------------------
  /** Who compared the measurements: keyward itself ("local") or NVIDIA's NRAS ("nras"). */
  readonly source: 'local' | 'nras';
  readonly deviceType: 'gpu' | 'nvswitch';
  /** Chip name as RIMs use it: "GH100", "GB100", "LS10". */
  readonly chip: string;
  /**
   * Production confidential-computing mode: measurements matched CC reference values (local), or NRAS
   * reported measres "success", secboot true and dbgstat "disabled".
   */
  readonly ccMode: boolean;
  /** FEATURE_FLAG (Blackwell+): single-GPU passthrough, multi-GPU passthrough, protected PCIe. */
  readonly featureFlag: 'spt' | 'mpt' | 'ppcie' | 'unreported' | 'unknown';
  /** Decimal serial number of the attestation leaf certificate (NRAS's `ueid`). */
  readonly ueid: string;
  /**
   * A stable identity of the device, lowercase hex: SHA-256 of the device identity (BROM) certificate's
   * public key for local evidence; the UEID in hex for NRAS results (which carry no certificate). No
   * attestation holds two claims with the same deviceId or the same ueid (ERR_EVIDENCE_DUPLICATE_DEVICE).
   */
  readonly deviceId: string;
  /** CN of the device identity certificate (NRAS's `hwmodel`), e.g. "GH100 A01 GSP BROM". */
  readonly hwmodel: string;
  /** How many of the certificates that need a revocation answer had one. */
  readonly revocationCoverage: { readonly checked: number; readonly required: number };
  /** The root the RIM signing chains ended at (absent for NRAS). `anchor` is the weaker of device and RIM roots. */
  readonly rimAnchor?: AnchorClaim;
  /** NRAS only: the claims of every device in the result, this one (the first) included. */
  readonly devices?: readonly NvidiaGpuClaims[];
}
