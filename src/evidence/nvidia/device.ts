// The NVIDIA device certificate chain: which device it names (chip, GPU or NVSwitch), the FWID bound
// into the attestation leaf (Hopper 2.23.133.5.4.1, Blackwell DICE TcbInfo 2.23.133.5.4.1.1), identities.
import { createHash } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate as AsnCertificate } from '@peculiar/asn1-x509';
import { EvidenceError } from '../../errors.js';
import { commonNameOf, parseCertificates, type Certificate } from '../pki.js';
import type { VerificationMemo } from '../types.js';
import { readChildren, readSingle } from './der.js';

export type NvidiaArch = 'hopper' | 'blackwell';
export type NvidiaDeviceType = 'gpu' | 'nvswitch';

export interface NvidiaDevice {
  /** The chip as NVIDIA's RIMs name it ("GH100", "GB100", "LS10"). */
  readonly chip: string;
  readonly arch: NvidiaArch;
  readonly deviceType: NvidiaDeviceType;
}

/** Hopper: SEQUENCE { INTEGER, SubjectPublicKeyInfo, SEQUENCE { sha384, OCTET STRING(48) } }. */
const OID_FWID_HOPPER = '2.23.133.5.4.1';
/** Blackwell: a DICE TcbInfo whose fwids[0].digest is the FWID. */
const OID_FWID_DICE_TCB_INFO = '2.23.133.5.4.1.1';
const SHA384_OID_DER = '608648016503040202';
const TAG_SEQUENCE = 0x30;
const TAG_OID = 0x06;
const TAG_OCTET_STRING = 0x04;
/** DiceTcbInfo fwids: [6] IMPLICIT SEQUENCE OF FWID (constructed). */
const TAG_TCB_INFO_FWIDS = 0xa6;

/** CN of the attestation leaf: "<chip> A01 GSP FMC LF" (GPUs) or "LS_10 A01 FSP FMC LF" (NVSwitch). */
const LEAF_CN_RE = /(?:^|\s)(GH1\d\d|GB[12]\d\d|LS_10) A\d\d [GF]SP FMC LF$/;

function unsupported(message: string): never {
  throw new EvidenceError('ERR_NVIDIA_DEVICE_UNSUPPORTED', message);
}

/** Parses the PEM chain (leaf first); remembered by content so repeated evidence skips X.509 parsing. */
export function parseDeviceChain(pem: string, memo?: VerificationMemo): readonly Certificate[] {
  const key = `nvidia-device-chain:${createHash('sha256').update(pem).digest('hex')}`;
  const certs = memo ? memo.remember(key, () => parseCertificates(pem)) : parseCertificates(pem);
  // nvtrust accepts exactly 5; more than that is never a genuine NVIDIA chain.
  if (certs.length > 5) throw new EvidenceError('ERR_CHAIN_MALFORMED', 'An NVIDIA device chain holds at most 5 certificates.');
  return certs;
}

/** Which NVIDIA device the attestation leaf belongs to; unknown chips are refused (fail closed). */
export function identifyDevice(leaf: Certificate): NvidiaDevice {
  const match = LEAF_CN_RE.exec(commonNameOf(leaf.subject));
  if (!match) unsupported(`"${commonNameOf(leaf.subject)}" is not a known NVIDIA attestation certificate.`);
  const details = leaf.x509.publicKey.asymmetricKeyDetails;
  if (leaf.x509.publicKey.asymmetricKeyType !== 'ec' || details?.namedCurve !== 'secp384r1') {
    unsupported('The attestation key is not an ECDSA P-384 key.');
  }
  const token = match[1] as string;
  if (token === 'LS_10') return { chip: 'LS10', arch: 'hopper', deviceType: 'nvswitch' };
  return { chip: token, arch: token.startsWith('GH') ? 'hopper' : 'blackwell', deviceType: 'gpu' };
}

function fwidMismatch(message: string): never {
  throw new EvidenceError('ERR_NVIDIA_FWID_MISMATCH', message);
}

function digestOfFwid(fwid: Uint8Array): Uint8Array {
  const [oid, digest, ...rest] = readChildren(fwid);
  if (!oid || !digest || rest.length > 0 || oid.tag !== TAG_OID || digest.tag !== TAG_OCTET_STRING) {
    fwidMismatch('The FWID is not { hashAlgorithm, digest }.');
  }
  if (Buffer.from(oid.value).toString('hex') !== SHA384_OID_DER || digest.value.length !== 48) {
    fwidMismatch('The FWID is not a SHA-384 digest.');
  }
  return digest.value;
}

function hopperFwid(extnValue: Uint8Array): Uint8Array {
  const outer = readSingle(extnValue);
  const last = outer.tag === TAG_SEQUENCE ? readChildren(outer.value).at(-1) : undefined;
  if (!last || last.tag !== TAG_SEQUENCE) fwidMismatch('The Hopper FWID extension does not end with an FWID.');
  return digestOfFwid(last.value);
}

function diceFwid(extnValue: Uint8Array): Uint8Array {
  const outer = readSingle(extnValue);
  if (outer.tag !== TAG_SEQUENCE) fwidMismatch('The DICE TcbInfo is not a SEQUENCE.');
  const fwids = readChildren(outer.value).find((el) => el.tag === TAG_TCB_INFO_FWIDS);
  const first = fwids ? readChildren(fwids.value)[0] : undefined;
  if (!first || first.tag !== TAG_SEQUENCE) fwidMismatch('The DICE TcbInfo carries no FWID.');
  return digestOfFwid(first.value);
}

/** The FWID the leaf certificate vouches for, or undefined when it carries neither extension. */
export function leafFwid(leaf: Certificate, memo?: VerificationMemo): Uint8Array | undefined {
  return memo ? memo.remember(`nvidia-fwid:${leaf.sha256}`, () => readLeafFwid(leaf)) : readLeafFwid(leaf);
}

function readLeafFwid(leaf: Certificate): Uint8Array | undefined {
  let extensions;
  try {
    extensions = AsnConvert.parse(leaf.der, AsnCertificate).tbsCertificate.extensions ?? [];
  } catch (cause) {
    throw new EvidenceError('ERR_CHAIN_MALFORMED', 'The attestation certificate could not be decoded.', { cause });
  }
  const found = extensions.filter((e) => e.extnID === OID_FWID_HOPPER || e.extnID === OID_FWID_DICE_TCB_INFO);
  if (found.length > 1) fwidMismatch('The attestation certificate carries more than one FWID extension.');
  const ext = found[0];
  if (!ext) return undefined;
  const value = new Uint8Array(ext.extnValue.buffer);
  return ext.extnID === OID_FWID_HOPPER ? hopperFwid(value) : diceFwid(value);
}

/** NRAS's `ueid`: the decimal serial number of the attestation leaf. */
export function ueidOf(leaf: Certificate): string {
  return BigInt(`0x${leaf.serial}`).toString(10);
}

/**
 * A stable per-device identity: SHA-256 of the device identity (BROM) certificate's public key. NVIDIA
 * provisions that key into the chip, so two reports with the same deviceId come from one device.
 */
export function deviceIdOf(path: readonly Certificate[]): string {
  return (path[1] ?? path[0] as Certificate).spkiSha256;
}

/**
 * The deviceId of a device known only by its UEID (NRAS results carry no certificate): the UEID, a
 * decimal number, in lowercase hex. Duplicate detection compares UEIDs as well, so one GPU sent once
 * as a report and once through NRAS is still one device.
 */
export function deviceIdFromUeid(ueid: string): string {
  return BigInt(ueid).toString(16);
}
