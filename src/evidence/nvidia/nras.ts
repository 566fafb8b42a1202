// The `nvidia-nras` verifier: an NRAS detached EAT verified offline against JWKS collateral, with the
// overall token's `submods` digests checked against every device token (which nvtrust's SDK skips).
import { EvidenceError, type EvidenceErrorCode } from '../../errors.js';
import { toHex } from '../../encoding.js';
import type { AnchorClaim } from '../claims.js';
import { anchorFields } from '../anchors.js';
import { revocationUnavailable } from '../revocation.js';
import type { EvidenceItem, VerifiedEvidence, VerifyContext } from '../types.js';
import type { NvidiaGpuClaims } from './claims.js';
import { parseDetachedEat, sha256Hex, verifyNrasJwt } from './nras-token.js';
import { evidenceDigest } from './verify-gpu.js';
import { deviceIdFromUeid } from './device.js';
import { refuseDuplicateDevices } from './topology.js';
import type { JWTPayload } from 'jose';

type NrasItem = Extract<EvidenceItem, { type: 'nvidia-nras' }>;

const OVERALL_SUBJECT = 'NVIDIA-PLATFORM-ATTESTATION';
/** NRAS error code for "Nonce from request is not matching with evidence nonce". */
const NRAS_NONCE_NOT_MATCHING = 4010;

interface DeviceToken {
  readonly name: string;
  readonly payload: JWTPayload;
}

function fail(code: EvidenceErrorCode, message: string, extra?: Record<string, unknown>): never {
  throw new EvidenceError(code, message, extra ? { extra } : {});
}

function checkNonce(payload: JWTPayload, expected: Uint8Array | undefined): string {
  const nonce = payload['eat_nonce'];
  if (typeof nonce !== 'string' || !/^[0-9a-fA-F]{64}$/.test(nonce)) fail('ERR_NRAS_MALFORMED', 'The NRAS result has no 32-byte eat_nonce.');
  if (expected && nonce.toLowerCase() !== toHex(expected)) fail('ERR_EVIDENCE_NONCE_MISMATCH', 'The NRAS result is for a different nonce.');
  return nonce.toLowerCase();
}

/** `submods` must name exactly the device tokens, each by the SHA-256 of its compact JWT. */
function checkSubmods(overall: JWTPayload, devices: readonly (readonly [string, string])[]): void {
  const submods = overall['submods'];
  if (typeof submods !== 'object' || submods === null || Array.isArray(submods)) fail('ERR_NRAS_SUBMODS_MISMATCH', 'The overall NRAS token has no submods.');
  const entries = submods as Record<string, unknown>;
  if (Object.keys(entries).length !== devices.length) fail('ERR_NRAS_SUBMODS_MISMATCH', 'The overall NRAS token names another number of devices than the result holds.');
  for (const [name, jwt] of devices) {
    const entry = entries[name];
    const ok = Array.isArray(entry) && entry.length === 2 && entry[0] === 'DIGEST' && Array.isArray(entry[1]) &&
      entry[1].length === 2 && entry[1][0] === 'SHA-256' && typeof entry[1][1] === 'string' && entry[1][1].toLowerCase() === sha256Hex(jwt);
    if (!ok) fail('ERR_NRAS_SUBMODS_MISMATCH', `The device token ${name} is not the one the overall NRAS token vouches for.`);
  }
}

function nonceRefuted(d: DeviceToken): boolean {
  return d.payload['x-nvidia-gpu-attestation-report-nonce-match'] === false || d.payload['x-nvidia-switch-attestation-report-nonce-match'] === false;
}

/** NRAS answers failures with signed `false` results; a nonce problem is reported as such. */
function checkOverallResult(overall: JWTPayload, devices: readonly DeviceToken[]): void {
  if (overall['x-nvidia-overall-att-result'] === true) return;
  const details = devices.map((d) => d.payload['x-nvidia-error-details']).filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null);
  const nonceProblem = details.some((e) => e['code'] === NRAS_NONCE_NOT_MATCHING || e['message'] === 'NONCE_NOT_MATCHING') || devices.some(nonceRefuted);
  if (nonceProblem) fail('ERR_EVIDENCE_NONCE_MISMATCH', 'NRAS found that a device signed a different nonce than the one requested.');
  const codes = details.map((e) => (typeof e['message'] === 'string' ? e['message'] : String(e['code'] ?? 'unknown')).slice(0, 64));
  fail('ERR_NRAS_ATTESTATION_FAILED', 'NRAS reports that the attestation failed.', { nrasErrors: codes.slice(0, 16) });
}

function deviceKind(hwmodel: string): Pick<NvidiaGpuClaims, 'arch' | 'chip' | 'deviceType'> {
  const token = hwmodel.split(' ')[0] ?? '';
  if (token === 'LS_10') return { arch: 'hopper', chip: 'LS10', deviceType: 'nvswitch' };
  if (/^GH1\d\d$/.test(token)) return { arch: 'hopper', chip: token, deviceType: 'gpu' };
  if (/^GB[12]\d\d$/.test(token)) return { arch: 'blackwell', chip: token, deviceType: 'gpu' };
  return fail('ERR_NVIDIA_DEVICE_UNSUPPORTED', `NRAS names an unknown device model "${hwmodel.slice(0, 64)}".`);
}

/** v3+ tokens state each chain's OCSP status; v2 tokens say nothing about revocation. */
function revocationOf(payload: JWTPayload): Pick<NvidiaGpuClaims, 'revocation' | 'revocationCoverage'> {
  const chains = Object.entries(payload).filter(([k, v]) => k.endsWith('-cert-chain') && typeof v === 'object' && v !== null);
  let checked = 0;
  for (const [, value] of chains) {
    const status = (value as Record<string, unknown>)['x-nvidia-cert-ocsp-status'];
    if (status === 'revoked') throw new EvidenceError('ERR_CHAIN_REVOKED', 'NRAS reports a revoked certificate.');
    if (status === 'good') checked++;
  }
  const complete = chains.length > 0 && checked === chains.length;
  return { revocation: complete ? 'checked' : 'not-checked', revocationCoverage: { checked, required: chains.length } };
}

function str(payload: JWTPayload, key: string): string | undefined {
  const v = payload[key];
  return typeof v === 'string' ? v : undefined;
}

function deviceClaims(token: DeviceToken, nonce: string, anchor: { anchor: AnchorClaim; simulated: boolean }, ctx: VerifyContext): NvidiaGpuClaims {
  const p = token.payload;
  if ((p['eat_nonce'] !== undefined && String(p['eat_nonce']).toLowerCase() !== nonce) || nonceRefuted(token)) {
    fail('ERR_EVIDENCE_NONCE_MISMATCH', `${token.name} is for another nonce.`);
  }
  if (p['measres'] !== 'success') fail('ERR_NVIDIA_MEASUREMENT_MISMATCH', `NRAS reports that ${token.name}'s measurements do not match.`);
  const hwmodel = str(p, 'hwmodel') ?? fail('ERR_NRAS_MALFORMED', `${token.name} has no hwmodel.`);
  const kind = deviceKind(hwmodel);
  const isSwitch = kind.deviceType === 'nvswitch';
  const driver = isSwitch ? '' : (str(p, 'x-nvidia-gpu-driver-version') ?? fail('ERR_NRAS_MALFORMED', `${token.name} has no driver version.`));
  const vbios = str(p, isSwitch ? 'x-nvidia-switch-bios-version' : 'x-nvidia-gpu-vbios-version') ?? fail('ERR_NRAS_MALFORMED', `${token.name} has no VBIOS version.`);
  const debug = p['dbgstat'] !== 'disabled';
  // The UEID is the only device identity NRAS states: without it a repeated device could not be noticed.
  const ueid = str(p, 'ueid') ?? '';
  if (!/^\d{1,80}$/.test(ueid)) fail('ERR_NRAS_MALFORMED', `${token.name} has no decimal ueid.`);
  const revocation = revocationOf(p);
  // What NRAS said about OCSP is all there is: a result that says nothing cannot be completed later.
  const revocationChecked =
    revocation.revocation === 'checked' ||
    revocationUnavailable(ctx, `NRAS states no OCSP status for every certificate chain of ${token.name}.`, { mayComeLater: false });
  return {
    tee: 'nvidia-gpu',
    debug,
    ...anchor,
    ...kind,
    nonce,
    driverVersion: driver,
    vbiosVersion: vbios.toLowerCase(),
    measurements: { matched: 0, total: 0, mismatchedIndices: [] },
    rim: { driver: '', vbios: '' },
    ...revocation,
    revocationChecked,
    source: 'nras',
    ccMode: !debug && p['secboot'] === true,
    featureFlag: 'unreported',
    ueid,
    deviceId: deviceIdFromUeid(ueid),
    hwmodel,
  };
}

/**
 * Verifies an NRAS attestation result (`item.token`: the detached EAT JSON) at `ctx.now`. One item
 * holds N devices: the claims are the first device's, with `devices` listing all of them.
 */
export async function verifyNvidiaNrasEvidence(item: NrasItem, ctx: VerifyContext): Promise<VerifiedEvidence<NvidiaGpuClaims>> {
  const eat = parseDetachedEat(item.token);
  const overall = await verifyNrasJwt(eat.overall, ctx);
  if (overall.payload.sub !== OVERALL_SUBJECT) fail('ERR_NRAS_MALFORMED', `The overall NRAS token's subject is not ${OVERALL_SUBJECT}.`);
  const nonce = checkNonce(overall.payload, ctx.expectedNonce);
  checkSubmods(overall.payload, eat.devices);
  const verified = [];
  for (const [name, jwt] of eat.devices) verified.push({ name, ...(await verifyNrasJwt(jwt, ctx)) });
  checkOverallResult(overall.payload, verified);
  // The weakest signer decides: one token signed under a less trusted anchor labels the whole result.
  const anchor = anchorFields([overall, ...verified].map((t) => t.key.anchor));
  const devices = verified.map((d) => deviceClaims(d, nonce, anchor, ctx));
  refuseDuplicateDevices(devices);
  let from = overall.key.validFromMs;
  let until = overall.key.validUntilMs;
  for (const t of [overall, ...verified]) {
    from = Math.max(from, (t.payload.nbf ?? 0) * 1000, t.key.validFromMs);
    until = Math.min(until, (t.payload.exp ?? 0) * 1000, t.key.validUntilMs);
  }
  return {
    claims: { ...(devices[0] as NvidiaGpuClaims), devices },
    digest: evidenceDigest(item),
    validFrom: new Date(from),
    validUntil: new Date(until),
  };
}
