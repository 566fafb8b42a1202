// Synthetic NVIDIA GPU evidence for tests and the simulator: a look-alike device PKI (P-384, five-level
// chains with the FWID extension), SPDM 1.1 GET_MEASUREMENTS reports signed like a GPU, and device
// minting. Nothing here is trusted unless its roots are configured as extra anchors.
import { randomBytes, sign as cryptoSign, webcrypto, type KeyObject } from 'node:crypto';
import { createSelfSignedRoot, devPrivateKeyObject, generateDevKeyPair, issueCertificate, x509, type DevCertificate } from './pki.js';
import { derOctetString, derOid, derSequence, derSmallInteger, derTlv } from './der.js';
import { OpaqueType } from '../evidence/nvidia/opaque.js';

export interface NvidiaDevPkiOptions {
  /** Prefix for every name, so nothing minted here passes for NVIDIA's (default "SIMULATED"). */
  readonly label?: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly chip?: 'GH100' | 'GB100';
}

export interface NvidiaDevPki {
  readonly label: string;
  readonly chip: 'GH100' | 'GB100';
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly deviceRoot: DevCertificate;
  readonly identity: DevCertificate;
  readonly provisioner: DevCertificate;
}

export interface DevGpu {
  readonly brom: DevCertificate;
  readonly leaf: DevCertificate;
  /** Leaf, BROM, provisioner, identity, root: as the driver returns it. */
  readonly certChain: string;
  readonly attestationKey: KeyObject;
  readonly fwid: Uint8Array;
}

/** A five-level NVIDIA-like device PKI: root → identity → provisioner ICA (per-GPU certificates come later). */
export async function createNvidiaDevPki(opts: NvidiaDevPkiOptions): Promise<NvidiaDevPki> {
  const label = opts.label ?? 'SIMULATED';
  const chip = opts.chip ?? 'GH100';
  const validity = { notBefore: opts.notBefore, notAfter: opts.notAfter };
  const deviceRoot = await createSelfSignedRoot({
    subject: `CN=${label} NVIDIA Device Identity CA, O=${label} NVIDIA`,
    keys: await generateDevKeyPair('p384'),
    ...validity,
  });
  const identity = await issueCertificate(deviceRoot, {
    subject: `CN=${label} NVIDIA ${chip} Identity, O=${label} NVIDIA Corporation`,
    keys: await generateDevKeyPair('p384'),
    ca: true,
    ...validity,
  });
  const provisioner = await issueCertificate(identity, {
    subject: `CN=${label} NVIDIA ${chip} Provisioner ICA 1, O=${label} NVIDIA Corporation`,
    keys: await generateDevKeyPair('p384'),
    ca: true,
    ...validity,
  });
  return { label, chip, notBefore: opts.notBefore, notAfter: opts.notAfter, deviceRoot, identity, provisioner };
}

const SHA384_OID = '2.16.840.1.101.3.4.2.2';

/** The leaf extension binding the FWID: Hopper's 2.23.133.5.4.1 or Blackwell's DICE TcbInfo 2.23.133.5.4.1.1. */
export function fwidExtension(chip: 'GH100' | 'GB100', fwid: Uint8Array, spki: Uint8Array): x509.Extension {
  const fwidDer = derSequence(derOid(SHA384_OID), derOctetString(fwid));
  if (chip === 'GH100') {
    return new x509.Extension('2.23.133.5.4.1', false, derSequence(derSmallInteger(1), spki, fwidDer));
  }
  const tcbInfo = derSequence(
    derTlv(0x80, Buffer.from('NVIDIA')),
    derTlv(0x81, Buffer.from('GB100 A01 GSP')),
    derTlv(0xa6, fwidDer),
  );
  return new x509.Extension('2.23.133.5.4.1.1', false, tcbInfo);
}

/** Mints one GPU: its device identity (BROM) certificate and its attestation (FMC LF) leaf. */
export async function mintDevGpu(pki: NvidiaDevPki, fwid: Uint8Array = randomBytes(48)): Promise<DevGpu> {
  const validity = { notBefore: pki.notBefore, notAfter: pki.notAfter };
  const o = `O=${pki.label} NVIDIA Corporation`;
  const brom = await issueCertificate(pki.provisioner, {
    subject: `CN=${pki.chip} A01 GSP BROM, ${o}`,
    keys: await generateDevKeyPair('p384'),
    ca: true,
    ...validity,
  });
  const leafKeys = await generateDevKeyPair('p384');
  const spki = new Uint8Array(await webcrypto.subtle.exportKey('spki', brom.keys.publicKey));
  const leaf = await issueCertificate(brom, {
    subject: `CN=${pki.chip} A01 GSP FMC LF, ${o}`,
    keys: leafKeys,
    extensions: [fwidExtension(pki.chip, fwid, spki)],
    ...validity,
  });
  const certChain = [leaf, brom, pki.provisioner, pki.identity, pki.deviceRoot].map((c) => c.pem).join('\n');
  return { brom, leaf, certChain, attestationKey: devPrivateKeyObject(leafKeys), fwid };
}

export interface SpdmReportOptions {
  /** The requester nonce (32 bytes) the verifier issued. */
  readonly nonce: Uint8Array;
  /** Measurement values (48 bytes each) for SPDM blocks 1..N. */
  readonly measurements: readonly Uint8Array[];
  /** Opaque TLVs in order. */
  readonly opaque: readonly (readonly [number, Uint8Array])[];
  readonly responderNonce?: Uint8Array;
}

function le16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
}

/** GET_MEASUREMENTS request ‖ MEASUREMENTS response, without the trailing signature. */
export function buildSpdmReportBody(opts: SpdmReportOptions): Uint8Array {
  const request = Buffer.concat([Buffer.from([0x11, 0xe0, 0x01, 0xff]), Buffer.from(opts.nonce), Buffer.from([0x00])]);
  const record = Buffer.concat(
    opts.measurements.map((value, i) => Buffer.concat([Buffer.from([i + 1, 0x01]), le16(value.length + 3), Buffer.from([0x01]), le16(value.length), Buffer.from(value)])),
  );
  const opaque = Buffer.concat(opts.opaque.map(([type, value]) => Buffer.concat([le16(type), le16(value.length), Buffer.from(value)])));
  const header = Buffer.from([0x11, 0x60, 0x00, 0x00, opts.measurements.length, record.length & 0xff, (record.length >> 8) & 0xff, record.length >> 16]);
  const responderNonce = Buffer.from(opts.responderNonce ?? randomBytes(32));
  return new Uint8Array(Buffer.concat([request, header, record, responderNonce, le16(opaque.length), opaque]));
}

/** Appends the GPU's ECDSA P-384 signature (raw r ‖ s) over everything before it. */
export function signSpdmReport(body: Uint8Array, attestationKey: KeyObject): Uint8Array {
  const signature = cryptoSign('sha384', body, { key: attestationKey, dsaEncoding: 'ieee-p1363' });
  return new Uint8Array(Buffer.concat([body, signature]));
}

export interface GpuOpaqueOptions {
  readonly driverVersion: string;
  /** Dotted VBIOS version as shown ("96.00.9f.00.01"). */
  readonly vbiosVersion: string;
  readonly project?: string;
  readonly projectSku?: string;
  readonly chipSku?: string;
  readonly fwid?: Uint8Array;
  readonly chipInfo?: string;
  /** FEATURE_FLAG value (0 SPT, 1 MPT, 2 PPCIe). */
  readonly featureFlag?: number;
}

const asciiz = (text: string): Uint8Array => new Uint8Array(Buffer.from(`${text}\0`, 'latin1'));

/** VBIOS_VERSION bytes b0..b7 for a version shown as b3.b2.b1.b0.b4. */
export function gpuVbiosBytes(version: string): Uint8Array {
  const [b3, b2, b1, b0, b4] = version.split('.').map((h) => parseInt(h, 16));
  return Uint8Array.of(b0 ?? 0, b1 ?? 0, b2 ?? 0, b3 ?? 0, b4 ?? 0, 0, 0, 0);
}

/** The opaque fields a Hopper/Blackwell GPU reports, in NVIDIA's order. */
export function gpuOpaqueFields(opts: GpuOpaqueOptions): [number, Uint8Array][] {
  const fields: [number, Uint8Array][] = [
    [OpaqueType.VBIOS_VERSION, gpuVbiosBytes(opts.vbiosVersion)],
    [OpaqueType.CHIP_SKU, asciiz(opts.chipSku ?? '882')],
    [OpaqueType.PROJECT, asciiz(opts.project ?? '1010')],
    [OpaqueType.PROJECT_SKU, asciiz(opts.projectSku ?? '0200')],
    [OpaqueType.DRIVER_VERSION, asciiz(opts.driverVersion)],
    [OpaqueType.NVDEC0_STATUS, Uint8Array.of(0x55)],
  ];
  if (opts.fwid) fields.push([OpaqueType.FWID, opts.fwid]);
  if (opts.chipInfo) fields.push([OpaqueType.CHIP_INFO, asciiz(opts.chipInfo)]);
  if (opts.featureFlag !== undefined) fields.push([OpaqueType.FEATURE_FLAG, Uint8Array.of(opts.featureFlag, 0)]);
  return fields;
}
