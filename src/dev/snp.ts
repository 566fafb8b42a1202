// Synthetic SEV-SNP evidence for tests and the TEE simulator: a look-alike AMD PKI (ARK, ASK, ASVK; VCEK and
// VLEK with AMD's extensions, VCEK spec #57230), reports of any version and fields (ABI spec #56860), signing,
// and certificate tables. Nothing minted here is trusted unless its ARK is configured as an extra anchor.
import { sign as cryptoSign, webcrypto, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate as AsnCertificate } from '@peculiar/asn1-x509';
import type { SnpProduct } from '../evidence/types.js';
import type { SnpTcb } from '../evidence/snp/claims.js';
import { OFFSET, REPORT_SIZE, SIGNED_LENGTH, SIZE } from '../evidence/snp/layout.js';
import { encodeTcb, tcbStructVersion } from '../evidence/snp/tcb.js';
import { AMD_VEK_OIDS } from '../evidence/snp/vek.js';
import { SNP_CERT_TABLE_GUIDS, guidToBytes, type SnpCertTableKind } from '../evidence/snp/cert-table.js';
import { createSelfSignedRoot, devPrivateKeyObject, generateDevKeyPair, x509, type DevCertificate, type DevKeyPair } from './pki.js';

export interface AmdNameOptions {
  /** O= of every certificate (AMD: "Advanced Micro Devices"); a simulator should say SIMULATED here. */
  readonly organization?: string;
  /** OU= of every certificate (AMD: "Engineering"). */
  readonly organizationalUnit?: string;
}

export interface AmdPkiOptions extends AmdNameOptions {
  readonly product?: SnpProduct;
  /** AMD uses RSA-4096; 2048 is faster to generate for tests. */
  readonly algorithm?: 'rsa-pss-4096' | 'rsa-pss-2048';
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export interface AmdLookalikePki {
  readonly product: SnpProduct;
  readonly names: Required<AmdNameOptions>;
  readonly ark: DevCertificate;
  readonly ask: DevCertificate;
  readonly asvk: DevCertificate;
}

type Algorithm = Parameters<typeof x509.X509CertificateGenerator.create>[0]['signingAlgorithm'];

const PRODUCT_SERIAL: Record<SnpProduct, number> = { Milan: 1, Genoa: 2, Turin: 3 };

/** An attribute value as a DER UTF8String in RFC 4514 "#hex" form, so names encode exactly as AMD's do. */
function utf8(value: string): string {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > 127) throw new RangeError('name attribute too long');
  return `#0c${bytes.length.toString(16).padStart(2, '0')}${bytes.toString('hex')}`;
}

/**
 * AMD's DN layout and encoding: OU, C, L, ST, O, CN; C a PrintableString, the rest UTF8Strings. The CN
 * carries the role and product ("ARK-Milan", "SEV-Milan", "SEV-VLEK-Milan", "SEV-VCEK").
 */
export function amdDistinguishedName(commonName: string, names: Required<AmdNameOptions>): string {
  return `OU=${utf8(names.organizationalUnit)}, C=US, L=${utf8('Santa Clara')}, ST=${utf8('CA')}, O=${utf8(names.organization)}, CN=${utf8(commonName)}`;
}

const PSS_SHA384 = { name: 'RSA-PSS', saltLength: 48, hash: 'SHA-384' };

interface AmdIssueOptions {
  readonly subject: string;
  readonly keys: DevKeyPair;
  readonly serialNumber?: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly extensions: readonly x509.Extension[];
}

/** Issues under `issuer` naming it by the DN it was created with (so issuer and subject DER match exactly). */
async function issueUnder(issuer: DevCertificate, opts: AmdIssueOptions): Promise<DevCertificate> {
  const cert = await x509.X509CertificateGenerator.create({
    ...(opts.serialNumber ? { serialNumber: opts.serialNumber } : {}),
    subject: opts.subject,
    issuer: issuer.subject,
    notBefore: opts.notBefore,
    notAfter: opts.notAfter,
    publicKey: opts.keys.publicKey,
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: PSS_SHA384 as Algorithm,
    extensions: [...opts.extensions],
  });
  return { der: new Uint8Array(cert.rawData), pem: cert.toString('pem'), keys: opts.keys, subject: opts.subject, cert };
}

/** Mints ARK-<P> (self-signed), SEV-<P> (ASK) and SEV-VLEK-<P> (ASVK), RSASSA-PSS SHA-384 as AMD's. */
export async function createAmdLookalikePki(opts: AmdPkiOptions): Promise<AmdLookalikePki> {
  const product = opts.product ?? 'Milan';
  const algorithm = opts.algorithm ?? 'rsa-pss-4096';
  const names = {
    organization: opts.organization ?? 'Advanced Micro Devices',
    organizationalUnit: opts.organizationalUnit ?? 'Engineering',
  };
  const serial = PRODUCT_SERIAL[product];
  const validity = { notBefore: opts.notBefore, notAfter: opts.notAfter };
  const [arkKeys, askKeys, asvkKeys] = await Promise.all([
    generateDevKeyPair(algorithm),
    generateDevKeyPair(algorithm),
    generateDevKeyPair(algorithm),
  ]);
  // As AMD's: the ARK may sign certificates and CRLs; ASK and ASVK certificates only, with path length 0;
  // subject key identifiers on all three, the ARK's key identifier on ASK, ASVK and the ARK's CRLs.
  const ski = (keys: DevKeyPair) => x509.SubjectKeyIdentifierExtension.create(keys.publicKey);
  const aki = await x509.AuthorityKeyIdentifierExtension.create(arkKeys.publicKey);
  const intermediate = async (keys: DevKeyPair) => [
    await ski(keys),
    aki,
    new x509.BasicConstraintsExtension(true, 0, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
  ];
  const ark = await createSelfSignedRoot({
    subject: amdDistinguishedName(`ARK-${product}`, names),
    keys: arkKeys,
    serialNumber: `0${serial}0000`,
    extensions: [await ski(arkKeys)],
    ...validity,
  });
  const ask = await issueUnder(ark, {
    subject: amdDistinguishedName(`SEV-${product}`, names),
    keys: askKeys,
    serialNumber: `0${serial}0001`,
    extensions: await intermediate(askKeys),
    ...validity,
  });
  const asvk = await issueUnder(ark, {
    subject: amdDistinguishedName(`SEV-VLEK-${product}`, names),
    keys: asvkKeys,
    serialNumber: `0${serial}0101`,
    extensions: await intermediate(asvkKeys),
    ...validity,
  });
  return { product, names, ark, ask, asvk };
}

export interface ArkCrlOptions {
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  /** Serial numbers (hex) of revoked ASKs/ASVKs, e.g. "010001". */
  readonly revokedSerials?: readonly string[];
  readonly crlNumber?: number;
}

/** A CRL issued by the look-alike ARK as AMD's are: RSASSA-PSS, authorityKeyIdentifier and cRLNumber. */
export async function createArkCrl(pki: AmdLookalikePki, opts: ArkCrlOptions): Promise<Uint8Array> {
  const crl = await x509.X509CrlGenerator.create({
    // The ARK's name exactly as its certificate encodes it (UTF8String values): a CRL whose issuer only
    // reads the same, re-encoded from text, names another issuer and is never applied.
    issuer: pki.ark.cert.subjectName,
    thisUpdate: opts.thisUpdate,
    nextUpdate: opts.nextUpdate,
    entries: (opts.revokedSerials ?? []).map((serialNumber) => ({ serialNumber, revocationDate: opts.thisUpdate })),
    signingKey: pki.ark.keys.privateKey,
    signingAlgorithm: PSS_SHA384 as Algorithm,
    extensions: [
      await x509.AuthorityKeyIdentifierExtension.create(pki.ark.keys.publicKey),
      new x509.Extension('2.5.29.20', false, derInteger(opts.crlNumber ?? 1)),
    ],
  });
  return new Uint8Array(crl.rawData);
}

function derInteger(value: number): Uint8Array {
  return value < 0x80 ? new Uint8Array([0x02, 0x01, value]) : new Uint8Array([0x02, 0x02, 0x00, value]);
}

function derIa5String(text: string): Uint8Array {
  const bytes = Buffer.from(text, 'latin1');
  return new Uint8Array([0x16, bytes.length, ...bytes]);
}

export interface SigningKeyOptions {
  readonly tcb: SnpTcb;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Defaults to the PKI's product ("Milan-B0" is what real Milan VCEKs say). */
  readonly productName?: string;
  /** Overrides structVersion (default: 0 for Milan/Genoa, 1 for Turin). */
  readonly structVersion?: number;
  /** An existing P-384 key pair (e.g. to re-issue for the same key); generated when absent. */
  readonly keys?: DevKeyPair;
}

function amdExtensions(pki: AmdLookalikePki, opts: SigningKeyOptions): x509.Extension[] {
  const ext = (oid: string, value: Uint8Array): x509.Extension => new x509.Extension(oid, false, value);
  const list = [
    ext(AMD_VEK_OIDS.structVersion, derInteger(opts.structVersion ?? tcbStructVersion(pki.product))),
    ext(AMD_VEK_OIDS.productName, derIa5String(opts.productName ?? pki.product)),
  ];
  if (opts.tcb.fmc !== undefined) list.push(ext(AMD_VEK_OIDS.fmcSpl, derInteger(opts.tcb.fmc)));
  list.push(
    ext(AMD_VEK_OIDS.blSpl, derInteger(opts.tcb.bootloader)),
    ext(AMD_VEK_OIDS.teeSpl, derInteger(opts.tcb.tee)),
    ext(AMD_VEK_OIDS.snpSpl, derInteger(opts.tcb.snp)),
  );
  const reserved = pki.product === 'Turin' ? [AMD_VEK_OIDS.spl5, AMD_VEK_OIDS.spl6, AMD_VEK_OIDS.spl7] : [AMD_VEK_OIDS.spl4, AMD_VEK_OIDS.spl5, AMD_VEK_OIDS.spl6, AMD_VEK_OIDS.spl7];
  for (const oid of reserved) list.push(ext(oid, derInteger(0)));
  list.push(ext(AMD_VEK_OIDS.ucodeSpl, derInteger(opts.tcb.microcode)));
  return list;
}

async function issueSigningKey(
  issuer: DevCertificate,
  commonName: string,
  pki: AmdLookalikePki,
  opts: SigningKeyOptions,
  identity: x509.Extension,
): Promise<DevCertificate> {
  const keys = opts.keys ?? (await generateDevKeyPair('p384'));
  const subject = amdDistinguishedName(commonName, pki.names);
  // Like AMD's VCEKs and VLEKs: no key usage or basic constraints, AMD extensions only, serial number 0.
  const generated = await issueUnder(issuer, {
    subject,
    keys,
    notBefore: opts.notBefore,
    notAfter: opts.notAfter,
    extensions: [...amdExtensions(pki, opts), identity],
  });
  const cert = new x509.X509Certificate(await resignWithSerialZero(generated.der, issuer));
  return { der: new Uint8Array(cert.rawData), pem: cert.toString('pem'), keys, subject, cert };
}

/** The generator refuses serial 0 (it substitutes a random one), so set it in the TBS and sign again. */
async function resignWithSerialZero(der: Uint8Array, issuer: DevCertificate): Promise<Uint8Array> {
  const cert = AsnConvert.parse(der, AsnCertificate);
  cert.tbsCertificate.serialNumber = new Uint8Array([0]).buffer;
  const tbs = AsnConvert.serialize(cert.tbsCertificate);
  cert.signatureValue = await webcrypto.subtle.sign(PSS_SHA384, issuer.keys.privateKey, tbs);
  return new Uint8Array(AsnConvert.serialize(cert));
}

/** A VCEK for `chipId` (64 bytes; on Turin the 8-byte hwID is used) and TCB, issued by the ASK. */
export async function issueVcek(pki: AmdLookalikePki, opts: SigningKeyOptions & { readonly chipId: Uint8Array }): Promise<DevCertificate> {
  const hwId = pki.product === 'Turin' ? opts.chipId.subarray(0, 8) : opts.chipId;
  return issueSigningKey(pki.ask, 'SEV-VCEK', pki, opts, new x509.Extension(AMD_VEK_OIDS.hwId, false, hwId));
}

/** A VLEK for a cloud provider (cspId, e.g. "CN=cc-us-east-2.amazonaws.com") and TCB, issued by the ASVK. */
export async function issueVlek(pki: AmdLookalikePki, opts: SigningKeyOptions & { readonly cspId: string }): Promise<DevCertificate> {
  return issueSigningKey(pki.asvk, 'SEV-VLEK', pki, opts, new x509.Extension(AMD_VEK_OIDS.cspId, false, derIa5String(opts.cspId)));
}

export interface SnpReportSpec {
  readonly product?: SnpProduct;
  readonly version?: number;
  readonly guestSvn?: number;
  readonly policy?: bigint;
  readonly familyId?: Uint8Array;
  readonly imageId?: Uint8Array;
  readonly vmpl?: number;
  readonly signatureAlgo?: number;
  readonly reportedTcb?: SnpTcb;
  readonly currentTcb?: SnpTcb;
  readonly committedTcb?: SnpTcb;
  readonly launchTcb?: SnpTcb;
  readonly platformInfo?: bigint;
  readonly authorKeyEn?: boolean;
  readonly maskChipKey?: boolean;
  readonly signingKey?: 'vcek' | 'vlek' | 'none';
  readonly reportData?: Uint8Array;
  readonly measurement?: Uint8Array;
  readonly hostData?: Uint8Array;
  readonly idKeyDigest?: Uint8Array;
  readonly authorKeyDigest?: Uint8Array;
  readonly reportId?: Uint8Array;
  readonly reportIdMa?: Uint8Array;
  /** v3+; defaults to a CPU of the product. */
  readonly cpuid?: { readonly family: number; readonly model: number; readonly stepping: number };
  /** 64 bytes, or 8 on Turin (zero-padded). */
  readonly chipId?: Uint8Array;
  readonly currentVersion?: { readonly major: number; readonly minor: number; readonly build: number };
  readonly committedVersion?: { readonly major: number; readonly minor: number; readonly build: number };
  readonly launchMitVector?: bigint;
  readonly currentMitVector?: bigint;
}

export const DEFAULT_TCB: Record<SnpProduct, SnpTcb> = {
  Milan: { bootloader: 4, tee: 0, snp: 24, microcode: 219 },
  Genoa: { bootloader: 10, tee: 0, snp: 25, microcode: 84 },
  Turin: { bootloader: 1, tee: 1, snp: 4, microcode: 82, fmc: 1 },
};

const DEFAULT_CPUID: Record<SnpProduct, { family: number; model: number; stepping: number }> = {
  Milan: { family: 0x19, model: 0x01, stepping: 0x01 },
  Genoa: { family: 0x19, model: 0x11, stepping: 0x01 },
  Turin: { family: 0x1a, model: 0x02, stepping: 0x01 },
};

function put(report: Uint8Array, offset: number, value: Uint8Array | undefined, size: number): void {
  if (value === undefined) return;
  if (value.length > size) throw new RangeError(`field at 0x${offset.toString(16)} takes at most ${size} bytes`);
  report.set(value, offset);
}

function tcbBytes(tcb: SnpTcb, product: SnpProduct): Uint8Array {
  const bytes = encodeTcb(tcb, product);
  if (!bytes) throw new RangeError(`TCB ${JSON.stringify(tcb)} does not fit ${product}'s layout`);
  return bytes;
}

function putHeader(report: Uint8Array, view: DataView, spec: SnpReportSpec, product: SnpProduct, version: number): void {
  const signingKey = { vcek: 0, vlek: 1, none: 7 }[spec.signingKey ?? 'vcek'];
  view.setUint32(OFFSET.VERSION, version, true);
  view.setUint32(OFFSET.GUEST_SVN, spec.guestSvn ?? 0, true);
  view.setBigUint64(OFFSET.POLICY, spec.policy ?? 0x30000n, true);
  view.setUint32(OFFSET.VMPL, spec.vmpl ?? 0, true);
  view.setUint32(OFFSET.SIGNATURE_ALGO, spec.signatureAlgo ?? 1, true);
  view.setBigUint64(OFFSET.PLATFORM_INFO, spec.platformInfo ?? 0x25n, true);
  view.setUint32(OFFSET.SIGNER_INFO, (spec.authorKeyEn ? 1 : 0) | (spec.maskChipKey ? 2 : 0) | (signingKey << 2), true);
  const reported = spec.reportedTcb ?? DEFAULT_TCB[product];
  report.set(tcbBytes(spec.currentTcb ?? reported, product), OFFSET.CURRENT_TCB);
  report.set(tcbBytes(reported, product), OFFSET.REPORTED_TCB);
  report.set(tcbBytes(spec.committedTcb ?? reported, product), OFFSET.COMMITTED_TCB);
  report.set(tcbBytes(spec.launchTcb ?? reported, product), OFFSET.LAUNCH_TCB);
}

/** Builds an unsigned report (signature field zero) for any version 2-5 and any field values. */
export function buildSnpReport(spec: SnpReportSpec = {}): Uint8Array {
  const product = spec.product ?? 'Milan';
  const version = spec.version ?? (product === 'Turin' ? 5 : 3);
  const report = new Uint8Array(REPORT_SIZE);
  const view = new DataView(report.buffer);
  putHeader(report, view, spec, product, version);
  put(report, OFFSET.FAMILY_ID, spec.familyId, SIZE.FAMILY_ID);
  put(report, OFFSET.IMAGE_ID, spec.imageId, SIZE.IMAGE_ID);
  put(report, OFFSET.REPORT_DATA, spec.reportData, SIZE.REPORT_DATA);
  put(report, OFFSET.MEASUREMENT, spec.measurement, SIZE.MEASUREMENT);
  put(report, OFFSET.HOST_DATA, spec.hostData, SIZE.HOST_DATA);
  put(report, OFFSET.ID_KEY_DIGEST, spec.idKeyDigest, SIZE.ID_KEY_DIGEST);
  put(report, OFFSET.AUTHOR_KEY_DIGEST, spec.authorKeyDigest, SIZE.AUTHOR_KEY_DIGEST);
  put(report, OFFSET.REPORT_ID, spec.reportId, SIZE.REPORT_ID);
  put(report, OFFSET.REPORT_ID_MA, spec.reportIdMa ?? new Uint8Array(SIZE.REPORT_ID_MA).fill(0xff), SIZE.REPORT_ID_MA);
  put(report, OFFSET.CHIP_ID, spec.chipId, SIZE.CHIP_ID);
  if (version >= 3) {
    const cpuid = spec.cpuid ?? DEFAULT_CPUID[product];
    report.set([cpuid.family, cpuid.model, cpuid.stepping], OFFSET.CPUID_FAM_ID);
  }
  const current = spec.currentVersion ?? { major: 1, minor: 55, build: 29 };
  const committed = spec.committedVersion ?? current;
  report.set([current.build, current.minor, current.major], OFFSET.CURRENT_BUILD);
  report.set([committed.build, committed.minor, committed.major], OFFSET.COMMITTED_BUILD);
  if (version >= 5) {
    view.setBigUint64(OFFSET.LAUNCH_MIT_VECTOR, spec.launchMitVector ?? 0n, true);
    view.setBigUint64(OFFSET.CURRENT_MIT_VECTOR, spec.currentMitVector ?? 0n, true);
  }
  return report;
}

/** Returns a copy of `report` signed with a P-384 key: ECDSA SHA-384 over [0x000, 0x2A0), r and s little-endian. */
export function signSnpReport(report: Uint8Array, key: DevKeyPair | KeyObject): Uint8Array {
  const privateKey = 'privateKey' in key ? devPrivateKeyObject(key) : key;
  const signed = new Uint8Array(report);
  const sig = cryptoSign('sha384', signed.subarray(0, SIGNED_LENGTH), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  signed.fill(0, OFFSET.SIGNATURE_R, REPORT_SIZE);
  for (let i = 0; i < SIZE.P384_SCALAR; i++) {
    signed[OFFSET.SIGNATURE_R + i] = sig[SIZE.P384_SCALAR - 1 - i] as number;
    signed[OFFSET.SIGNATURE_S + i] = sig[2 * SIZE.P384_SCALAR - 1 - i] as number;
  }
  return signed;
}

export interface CertTableEntrySpec {
  /** A known kind, or a GUID string for any other entry. */
  readonly kind: Exclude<SnpCertTableKind, 'unknown'> | string;
  readonly data: Uint8Array;
}

/** Packs entries into a GHCB certificate table: the entries, a zero terminator, then each blob in order. */
export function buildSnpCertTable(entries: readonly CertTableEntrySpec[]): Uint8Array {
  const headerSize = (entries.length + 1) * 24;
  const total = headerSize + entries.reduce((n, e) => n + e.data.length, 0);
  const table = new Uint8Array(total);
  const view = new DataView(table.buffer);
  let offset = headerSize;
  entries.forEach((entry, i) => {
    const guid = SNP_CERT_TABLE_GUIDS[entry.kind as keyof typeof SNP_CERT_TABLE_GUIDS] ?? entry.kind;
    table.set(guidToBytes(guid), i * 24);
    view.setUint32(i * 24 + 16, offset, true);
    view.setUint32(i * 24 + 20, entry.data.length, true);
    table.set(entry.data, offset);
    offset += entry.data.length;
  });
  return table;
}
