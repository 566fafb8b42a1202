// AMD's X.509 extensions on VCEK and VLEK certificates (VCEK spec #57230, OIDs 1.3.6.1.4.1.3704.1.*):
// structVersion, productName, the TCB SPLs, hwID (VCEK) and cspID (VLEK); and how they must match a report.
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate as AsnCertificate } from '@peculiar/asn1-x509';
import { EvidenceError } from '../../errors.js';
import type { Certificate } from '../pki.js';
import type { SnpProduct } from '../types.js';
import type { SnpTcb } from './claims.js';
import { encodeTcb, productFromCertName, tcbStructVersion } from './tcb.js';

const AMD = '1.3.6.1.4.1.3704.1';
const OID = {
  structVersion: `${AMD}.1`,
  productName: `${AMD}.2`,
  blSpl: `${AMD}.3.1`,
  teeSpl: `${AMD}.3.2`,
  snpSpl: `${AMD}.3.3`,
  spl4: `${AMD}.3.4`,
  spl5: `${AMD}.3.5`,
  spl6: `${AMD}.3.6`,
  spl7: `${AMD}.3.7`,
  ucodeSpl: `${AMD}.3.8`,
  fmcSpl: `${AMD}.3.9`,
  hwId: `${AMD}.4`,
  cspId: `${AMD}.5`,
} as const;
export const AMD_VEK_OIDS = OID;

/** Standard extensions a leaf may mark critical; any other critical extension is refused (RFC 5280 §4.2). */
const UNDERSTOOD_CRITICAL = new Set(['2.5.29.15', '2.5.29.19', '2.5.29.37']);

export interface AmdVekExtensions {
  readonly kind: 'vcek' | 'vlek';
  readonly structVersion: number;
  readonly productName: string;
  /** The product the productName maps to (Siena → Genoa), or undefined when unknown. */
  readonly product: SnpProduct | undefined;
  /** TCB components from the SPL extensions (fmc only when fmcSPL is present). */
  readonly tcb: SnpTcb;
  /** spl_4..spl_7 as present; reserved TCB bytes, so they must be zero to match a report. */
  readonly reservedSpls: readonly number[];
  readonly hwId?: Uint8Array;
  readonly cspId?: string;
}

function malformed(message: string): never {
  throw new EvidenceError('ERR_CHAIN_MALFORMED', `SEV-SNP signing certificate: ${message}`);
}

/** DER INTEGER in 0..255, minimally encoded (SPLs and structVersion). */
function readSmallInteger(value: Uint8Array, name: string): number {
  const ok =
    value[0] === 0x02 &&
    ((value.length === 3 && value[1] === 1 && (value[2] as number) < 0x80) ||
      (value.length === 4 && value[1] === 2 && value[2] === 0 && (value[3] as number) >= 0x80));
  if (!ok) malformed(`${name} is not a DER INTEGER in 0..255.`);
  return value[value.length - 1] as number;
}

/** DER IA5String of printable ASCII. */
function readIa5String(value: Uint8Array, name: string): string {
  if (value[0] !== 0x16 || value[1] === undefined || value[1] >= 0x80 || value.length !== value[1] + 2) {
    malformed(`${name} is not a short DER IA5String.`);
  }
  const text = Buffer.from(value.subarray(2)).toString('latin1');
  if (!/^[\x20-\x7e]*$/.test(text)) malformed(`${name} holds non-printable characters.`);
  return text;
}

function extensionMap(cert: Certificate): Map<string, Uint8Array> {
  let parsed: AsnCertificate;
  try {
    parsed = AsnConvert.parse(cert.der, AsnCertificate);
  } catch (cause) {
    throw new EvidenceError('ERR_CHAIN_MALFORMED', 'A certificate could not be parsed.', { cause });
  }
  const map = new Map<string, Uint8Array>();
  for (const ext of parsed.tbsCertificate.extensions ?? []) {
    if (map.has(ext.extnID)) malformed(`extension ${ext.extnID} appears twice.`);
    if (ext.critical && !UNDERSTOOD_CRITICAL.has(ext.extnID)) malformed(`critical extension ${ext.extnID} is not understood.`);
    map.set(ext.extnID, new Uint8Array(ext.extnValue.buffer));
  }
  return map;
}

function readTcb(map: Map<string, Uint8Array>): { tcb: SnpTcb; reservedSpls: number[] } {
  const spl = (oid: string, name: string): number => {
    const value = map.get(oid);
    if (!value) malformed(`${name} is missing.`);
    return readSmallInteger(value, name);
  };
  const fmc = map.has(OID.fmcSpl) ? spl(OID.fmcSpl, 'fmcSPL') : undefined;
  const tcb: SnpTcb = {
    bootloader: spl(OID.blSpl, 'blSPL'),
    tee: spl(OID.teeSpl, 'teeSPL'),
    snp: spl(OID.snpSpl, 'snpSPL'),
    microcode: spl(OID.ucodeSpl, 'ucodeSPL'),
    ...(fmc === undefined ? {} : { fmc }),
  };
  const reservedSpls = [OID.spl4, OID.spl5, OID.spl6, OID.spl7]
    .filter((oid) => map.has(oid))
    .map((oid) => readSmallInteger(map.get(oid) as Uint8Array, `SPL ${oid}`));
  return { tcb, reservedSpls };
}

/**
 * Reads AMD's extensions from a VCEK or VLEK. Returns undefined for a certificate without a productName
 * extension (not an SEV-SNP signing certificate). Throws ERR_CHAIN_MALFORMED when the extensions are
 * present but broken: missing SPLs, bad encodings, both or neither of hwID and cspID.
 */
export function readAmdExtensions(cert: Certificate): AmdVekExtensions | undefined {
  const map = extensionMap(cert);
  const nameValue = map.get(OID.productName);
  if (!nameValue) return undefined;
  const productName = readIa5String(nameValue, 'productName');
  const structValue = map.get(OID.structVersion);
  if (!structValue) malformed('structVersion is missing.');
  const structVersion = readSmallInteger(structValue, 'structVersion');
  const hwId = map.get(OID.hwId);
  const cspValue = map.get(OID.cspId);
  if ((hwId === undefined) === (cspValue === undefined)) malformed('exactly one of hwID (VCEK) and cspID (VLEK) must be present.');
  const { tcb, reservedSpls } = readTcb(map);
  return {
    kind: hwId ? 'vcek' : 'vlek',
    structVersion,
    productName,
    product: productFromCertName(productName),
    tcb,
    reservedSpls,
    ...(hwId ? { hwId } : {}),
    ...(cspValue ? { cspId: readIa5String(cspValue, 'cspID') } : {}),
  };
}

/** True when the certificate's TCB, encoded with the product's layout, equals the report's 8 TCB bytes. */
export function vekTcbMatches(ext: AmdVekExtensions, product: SnpProduct, reportedTcb: Uint8Array): boolean {
  if (ext.reservedSpls.some((v) => v !== 0)) return false;
  const encoded = encodeTcb(ext.tcb, product);
  return encoded !== undefined && Buffer.from(encoded).equals(Buffer.from(reportedTcb));
}

/**
 * True when a VCEK's hwID names the report's CHIP_ID: all 64 bytes on Milan/Genoa; on Turin the 8-byte
 * hwID is CHIP_ID[0..8) and the remaining 56 bytes must be zero. An all-zero CHIP_ID (MASK_CHIP_ID) never matches.
 */
export function vekHwIdMatches(ext: AmdVekExtensions, product: SnpProduct, chipId: Uint8Array): boolean {
  const hwId = ext.hwId;
  if (!hwId || chipId.every((b) => b === 0)) return false;
  const idLength = tcbStructVersion(product) === 1 ? 8 : 64;
  if (hwId.length !== idLength) return false;
  if (!chipId.subarray(idLength).every((b) => b === 0)) return false;
  return Buffer.from(hwId).equals(Buffer.from(chipId.subarray(0, idLength)));
}
