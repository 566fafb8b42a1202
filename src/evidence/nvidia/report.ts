// Verifies one NVIDIA attestation report without reference values: SPDM structure, the device chain to
// the pinned NVIDIA Device Identity CA, the ECDSA P-384 report signature, the FWID binding and the nonce.
import { verify as cryptoVerify } from 'node:crypto';
import { EvidenceError } from '../../errors.js';
import { constantTimeEqual, toHex } from '../../encoding.js';
import { commonNameOf, type Certificate, type VerifiedChain } from '../pki.js';
import { verifyChainWithCollateral } from './chain-pool.js';
import type { VerificationMemo, VerifyContext } from '../types.js';
import { deviceIdOf, identifyDevice, leafFwid, parseDeviceChain, ueidOf, type NvidiaDevice } from './device.js';
import { readOpaqueInfo, type OpaqueInfo } from './opaque.js';
import { parseSpdmReport, type SpdmMeasurementReport } from './spdm.js';
import type { RimRequirement } from './rim-select.js';

export interface VerifiedGpuReport {
  readonly report: SpdmMeasurementReport;
  readonly device: NvidiaDevice;
  readonly chain: VerifiedChain;
  readonly info: OpaqueInfo;
  readonly ueid: string;
  readonly deviceId: string;
  readonly hwmodel: string;
}

/** NVSwitch LS10 RIM ids use fixed board values (as nvtrust and NVIDIA's SDK do). */
const LS10_BOARD = '5612_0002_890';

function verifyReportSignature(report: SpdmMeasurementReport, leaf: Certificate): void {
  let ok = false;
  try {
    ok = cryptoVerify('sha384', report.signedBytes, { key: leaf.x509.publicKey, dsaEncoding: 'ieee-p1363' }, report.signature);
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new EvidenceError('ERR_NVIDIA_REPORT_SIGNATURE_INVALID', `The attestation report's signature does not verify with "${commonNameOf(leaf.subject)}".`);
  }
}

/** When the report carries an FWID (driver 550+), the attestation certificate must vouch for the same one. */
function checkFwid(info: OpaqueInfo, leaf: Certificate, memo?: VerificationMemo): void {
  if (!info.fwid) return;
  const fromCert = leafFwid(leaf, memo);
  if (!fromCert || !constantTimeEqual(fromCert, info.fwid)) {
    throw new EvidenceError('ERR_NVIDIA_FWID_MISMATCH', "The report's FWID does not match the one in the attestation certificate.");
  }
}

function checkNonce(report: SpdmMeasurementReport, expected: Uint8Array | undefined): void {
  if (expected && !constantTimeEqual(report.nonce, expected)) {
    throw new EvidenceError('ERR_EVIDENCE_NONCE_MISMATCH', 'The GPU signed a different nonce than the one expected.');
  }
}

/** Verifies a report and its chain at `ctx.now`; RIMs and revocation are the caller's next steps. */
export function verifyGpuReport(reportBytes: Uint8Array, certChain: string, ctx: VerifyContext): VerifiedGpuReport {
  const report = parseSpdmReport(reportBytes);
  const certs = parseDeviceChain(certChain, ctx.memo);
  const leaf = certs[0];
  if (!leaf) throw new EvidenceError('ERR_CHAIN_MALFORMED', 'The device certificate chain is empty.');
  const device = identifyDevice(leaf);
  const opts = { anchors: ctx.anchors, role: 'nvidia-device-identity' as const, now: ctx.now, maxLength: 5, ...(ctx.memo ? { memo: ctx.memo } : {}) };
  const chain = verifyChainWithCollateral(leaf, certs, opts, ctx);
  verifyReportSignature(report, leaf);
  const info = readOpaqueInfo(report.opaque, device.deviceType === 'nvswitch');
  checkFwid(info, leaf, ctx.memo);
  checkNonce(report, ctx.expectedNonce);
  return {
    report,
    device,
    chain,
    info,
    ueid: ueidOf(leaf),
    deviceId: deviceIdOf(chain.path),
    hwmodel: commonNameOf((chain.path[1] ?? leaf).subject),
  };
}

function requireField(value: string | undefined, what: string): string {
  if (!value) throw new EvidenceError('ERR_NVIDIA_REPORT_MALFORMED', `The GPU report has no ${what} field.`);
  return value;
}

/** The RIMs a device needs, with the ids NVIDIA's RIM service files them under (nvtrust's rules). */
export function rimRequirementsOf(device: NvidiaDevice, info: OpaqueInfo): RimRequirement[] {
  if (device.deviceType === 'nvswitch') {
    return [{ role: 'vbios', product: device.chip, version: info.vbiosVersion, id: `NV_SWITCH_BIOS_${LS10_BOARD}_${info.vbiosRimDigits}` }];
  }
  const driver = requireField(info.driverVersion, 'DRIVER_VERSION');
  const product = device.arch === 'blackwell' ? (info.chipInfo ?? device.chip) : device.chip;
  const driverId = device.arch === 'blackwell' ? `NV_GPU_CC_DRIVER_${product}_${driver}` : `NV_GPU_DRIVER_${product}_${driver}`;
  const board = [requireField(info.project, 'PROJECT'), requireField(info.projectSku, 'PROJECT_SKU'), requireField(info.chipSku, 'CHIP_SKU')];
  return [
    { role: 'driver', product, version: driver, id: driverId },
    { role: 'vbios', product, version: info.vbiosVersion, id: `NV_GPU_VBIOS_${board.join('_')}_${info.vbiosRimDigits}` },
  ];
}

/**
 * The RIM ids a report needs, read without verifying anything: for the collateral fetcher, which must
 * know what to download from rim.attestation.nvidia.com before verification can run.
 */
export function nvidiaRimIds(reportBytes: Uint8Array, certChain: string): { driver?: string; vbios: string } {
  const report = parseSpdmReport(reportBytes);
  const leaf = parseDeviceChain(certChain)[0];
  if (!leaf) throw new EvidenceError('ERR_CHAIN_MALFORMED', 'The device certificate chain is empty.');
  const device = identifyDevice(leaf);
  const requirements = rimRequirementsOf(device, readOpaqueInfo(report.opaque, device.deviceType === 'nvswitch'));
  const driver = requirements.find((r) => r.role === 'driver');
  const vbios = requirements.find((r) => r.role === 'vbios') as RimRequirement;
  return { ...(driver ? { driver: driver.id } : {}), vbios: vbios.id };
}

export function nonceHex(report: SpdmMeasurementReport): string {
  return toHex(report.nonce);
}
