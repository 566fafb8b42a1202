// A look-alike Intel SGX/TDX provisioning PKI for tests and the TEE simulator: "Intel SGX Root CA", a PCK
// Platform or Processor CA, PCK leaves with the SGX extension (Intel SGX PCK Certificate and CRL Profile
// §3.5), "Intel SGX TCB Signing", CRLs, and signed TCB Info / QE Identity documents (PCS API v4 shape).
// Nothing minted here is trusted unless its root is configured as an extra anchor.
import { sign as cryptoSign } from 'node:crypto';
import type { Collateral } from '../evidence/types.js';
import { createCrl, createSelfSignedRoot, devPrivateKeyObject, generateDevKeyPair, issueCertificate, x509, type DevCertificate } from './pki.js';

export const SGX_EXTENSION_OID = '1.2.840.113741.1.13.1';

/** Values of the PCK certificate's SGX extension. */
export interface PckValues {
  readonly ppid: Uint8Array;
  /** 16 SGX TCB component SVNs (0..255). */
  readonly sgxTcbComponents: readonly number[];
  readonly pceSvn: number;
  /** 16 bytes; defaults to the component SVNs. */
  readonly cpuSvn: Uint8Array;
  /** Hex, 2 bytes. */
  readonly pceId: string;
  /** Hex, 6 bytes. */
  readonly fmspc: string;
  readonly sgxType: number;
}

/**
 * Common names of the look-alike PKI. The verifier applies Intel's name rules, so a label may be added but
 * the phrases must stay: "SGX Root CA", "CA", "SGX PCK Certificate", "SGX TCB Signing".
 */
export interface DcapPkiNames {
  readonly root: string;
  readonly pckCa: string;
  readonly pck: string;
  readonly tcbSigning: string;
  /** O= of every certificate (Intel: "Intel Corporation"); a simulator says SIMULATED here. */
  readonly organization?: string;
}

export interface DcapTestPkiOptions {
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Which PCK CA issues the leaf: Intel uses both ("platform" for multi-package servers). */
  readonly caKind?: 'platform' | 'processor';
  readonly names?: Partial<DcapPkiNames>;
  readonly pck?: Partial<PckValues>;
}

export interface DcapTestPki {
  readonly root: DevCertificate;
  readonly pckCa: DevCertificate;
  readonly pck: DevCertificate;
  readonly tcbSigning: DevCertificate;
  readonly pckValues: PckValues;
  readonly names: DcapPkiNames;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

const INTEL_ORGANIZATION = 'Intel Corporation';

export function defaultPkiNames(caKind: 'platform' | 'processor' = 'platform'): DcapPkiNames {
  return {
    root: 'Intel SGX Root CA',
    pckCa: caKind === 'platform' ? 'Intel SGX PCK Platform CA' : 'Intel SGX PCK Processor CA',
    pck: 'Intel SGX PCK Certificate',
    tcbSigning: 'Intel SGX TCB Signing',
  };
}

export function defaultPckValues(overrides: Partial<PckValues> = {}): PckValues {
  const components = overrides.sgxTcbComponents ?? [3, 3, 2, 2, 4, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0];
  return {
    ppid: overrides.ppid ?? new Uint8Array(16).fill(0x5a),
    sgxTcbComponents: components,
    pceSvn: overrides.pceSvn ?? 13,
    cpuSvn: overrides.cpuSvn ?? Uint8Array.from(components),
    pceId: overrides.pceId ?? '0000',
    fmspc: overrides.fmspc ?? '90C06F000000',
    sgxType: overrides.sgxType ?? 1,
  };
}

// --- a tiny DER encoder for the SGX extension ------------------------------------------------------------

function derLength(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

function tlv(tag: number, value: Uint8Array | number[]): number[] {
  const v = Array.from(value);
  return [tag, ...derLength(v.length), ...v];
}

function oid(dotted: string): number[] {
  const arcs = dotted.split('.').map(Number);
  const out = [40 * (arcs[0] as number) + (arcs[1] as number)];
  for (const arc of arcs.slice(2)) {
    const chunk: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, out);
}

function integer(n: number, tag = 0x02): number[] {
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  if (bytes.length === 0 || (bytes[0] as number) & 0x80) bytes.unshift(0);
  return tlv(tag, bytes);
}

function pair(id: string, value: number[]): number[] {
  return tlv(0x30, [...oid(id), ...value]);
}

/** DER of the SGX extension value: SEQUENCE of (OID, value) for PPID, TCB, PCE-ID, FMSPC, SGX Type. */
export function encodeSgxExtension(values: PckValues): Uint8Array {
  const tcb: number[] = [];
  values.sgxTcbComponents.forEach((svn, i) => tcb.push(...pair(`${SGX_EXTENSION_OID}.2.${i + 1}`, integer(svn))));
  tcb.push(...pair(`${SGX_EXTENSION_OID}.2.17`, integer(values.pceSvn)));
  tcb.push(...pair(`${SGX_EXTENSION_OID}.2.18`, tlv(0x04, values.cpuSvn)));
  const body = [
    ...pair(`${SGX_EXTENSION_OID}.1`, tlv(0x04, values.ppid)),
    ...pair(`${SGX_EXTENSION_OID}.2`, tlv(0x30, tcb)),
    ...pair(`${SGX_EXTENSION_OID}.3`, tlv(0x04, Buffer.from(values.pceId, 'hex'))),
    ...pair(`${SGX_EXTENSION_OID}.4`, tlv(0x04, Buffer.from(values.fmspc, 'hex'))),
    ...pair(`${SGX_EXTENSION_OID}.5`, integer(values.sgxType, 0x0a)),
  ];
  return Uint8Array.from(tlv(0x30, body));
}

// --- the PKI -------------------------------------------------------------------------------------------

function dn(cn: string, organization = INTEL_ORGANIZATION): string {
  return `CN=${cn}, O=${organization}, L=Santa Clara, ST=CA, C=US`;
}

/** Issues a PCK leaf (a new platform) under the PKI's PCK CA. */
export async function issuePckCertificate(pki: Pick<DcapTestPki, 'pckCa' | 'names' | 'notBefore' | 'notAfter'>, values: PckValues): Promise<DevCertificate> {
  return issueCertificate(pki.pckCa, {
    subject: dn(pki.names.pck, pki.names.organization),
    keys: await generateDevKeyPair('p256'),
    notBefore: pki.notBefore,
    notAfter: pki.notAfter,
    extensions: [new x509.Extension(SGX_EXTENSION_OID, false, encodeSgxExtension(values))],
  });
}

export async function createDcapTestPki(opts: DcapTestPkiOptions): Promise<DcapTestPki> {
  const names = { ...defaultPkiNames(opts.caKind), ...opts.names };
  const { notBefore, notAfter } = opts;
  const o = names.organization;
  const root = await createSelfSignedRoot({ subject: dn(names.root, o), keys: await generateDevKeyPair('p256'), notBefore, notAfter });
  const pckCa = await issueCertificate(root, { subject: dn(names.pckCa, o), keys: await generateDevKeyPair('p256'), notBefore, notAfter, ca: true });
  const tcbSigning = await issueCertificate(root, { subject: dn(names.tcbSigning, o), keys: await generateDevKeyPair('p256'), notBefore, notAfter });
  const pckValues = defaultPckValues(opts.pck);
  const pck = await issuePckCertificate({ pckCa, names, notBefore, notAfter }, pckValues);
  return { root, pckCa, pck, tcbSigning, pckValues, names, notBefore, notAfter };
}

/** The certification data type 5 text: PCK leaf, PCK CA, root (PEM), as the QE embeds it. */
export function pckChainPem(pki: Pick<DcapTestPki, 'pckCa' | 'root'>, leaf: DevCertificate): string {
  return [leaf.pem, pki.pckCa.pem, pki.root.pem].map((p) => `${p.trim()}\n`).join('');
}

export interface DcapCrlOptions {
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  /** Serial numbers (hex) the PCK CA revokes (PCK leaves). */
  readonly revokedPcks?: readonly string[];
  /** Serial numbers (hex) the root revokes (PCK CAs, TCB Signing). */
  readonly revokedByRoot?: readonly string[];
}

export async function createDcapCrls(pki: DcapTestPki, opts: DcapCrlOptions): Promise<{ rootCrl: Uint8Array; pckCrl: Uint8Array }> {
  const window = { thisUpdate: opts.thisUpdate, nextUpdate: opts.nextUpdate };
  return {
    rootCrl: await createCrl(pki.root, { ...window, revokedSerials: opts.revokedByRoot ?? [] }),
    pckCrl: await createCrl(pki.pckCa, { ...window, revokedSerials: opts.revokedPcks ?? [] }),
  };
}

function signJson(pki: Pick<DcapTestPki, 'tcbSigning'>, key: 'tcbInfo' | 'enclaveIdentity', body: unknown): string {
  const text = JSON.stringify(body);
  const signature = cryptoSign('sha256', Buffer.from(text, 'utf8'), {
    key: devPrivateKeyObject(pki.tcbSigning.keys),
    dsaEncoding: 'ieee-p1363',
  });
  return `{"${key}":${text},"signature":"${signature.toString('hex')}"}`;
}

/** A PCS-shaped TCB Info document signed by the PKI's TCB Signing key. */
export function signTcbInfo(pki: Pick<DcapTestPki, 'tcbSigning'>, body: unknown): string {
  return signJson(pki, 'tcbInfo', body);
}

/** A PCS-shaped Enclave Identity document signed by the PKI's TCB Signing key. */
export function signQeIdentity(pki: Pick<DcapTestPki, 'tcbSigning'>, body: unknown): string {
  return signJson(pki, 'enclaveIdentity', body);
}

export interface DcapCollateralParts {
  readonly tcbInfo: string;
  readonly qeIdentity: string;
  readonly rootCrl: Uint8Array;
  readonly pckCrl: Uint8Array;
}

/** A Collateral bag as the PCS client would assemble it: issuer chains, CRLs, TCB Info, QE Identity. */
export function dcapCollateral(pki: DcapTestPki, parts: DcapCollateralParts): Collateral {
  return {
    certificates: [pki.pckCa.der, pki.root.der, pki.tcbSigning.der],
    crls: [parts.pckCrl, parts.rootCrl],
    ocspResponses: [],
    tcbInfos: [parts.tcbInfo],
    qeIdentities: [parts.qeIdentity],
    rims: [],
    jwks: [],
  };
}
