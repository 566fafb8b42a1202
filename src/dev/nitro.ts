// Mints synthetic AWS Nitro Enclaves attestation documents (AWS attestation_process §2.2, §3.1): a look-alike
// AWS PKI (P-384 root "aws.nitro-enclaves" → regional → zonal → instance → leaf) and an ES384 COSE_Sign1
// builder. For tests and the simulator; nothing minted here is trusted unless its root is configured
// as an extra anchor.
import { createHash, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { Encoder } from 'cbor-x';
import { sigStructure } from '../evidence/nitro/cose.js';
import { createSelfSignedRoot, devPrivateKeyObject, generateDevKeyPair, issueCertificate, x509, type DevCertificate, type DevKeyPair } from './pki.js';

export interface NitroPkiSubjects {
  readonly root: string;
  readonly regional: string;
  readonly zonal: string;
  readonly instance: string;
}

export interface NitroTestPkiOptions {
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Default "us-east-1". */
  readonly region?: string;
  /** The parent EC2 instance, default "i-0123456789abcdef0". */
  readonly instanceId?: string;
  /** Override any subject; the defaults follow AWS's naming (test/vectors/nitro/FACTS.md §3). */
  readonly subjects?: Partial<NitroPkiSubjects>;
}

export interface NitroTestPki {
  readonly root: DevCertificate;
  readonly regional: DevCertificate;
  readonly zonal: DevCertificate;
  readonly instance: DevCertificate;
  /** The document's `cabundle`: root first, as AWS sends it. */
  readonly cabundle: readonly Uint8Array[];
  readonly region: string;
  readonly instanceId: string;
}

const CA_USAGE = x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign;
const AWS_HOST_PREFIX = 'C=US, ST=Washington, L=Seattle, O=Amazon, OU=AWS';

// Names as AWS encodes them, attributes in DER order (which differs between levels, as in real chains).
function defaultSubjects(region: string, instanceId: string): NitroPkiSubjects {
  return {
    root: 'C=US, O=Amazon, OU=AWS, CN=aws.nitro-enclaves',
    regional: `C=US, O=Amazon, OU=AWS, CN=0123456789abcdef.${region}.aws.nitro-enclaves`,
    zonal: `CN=fedcba9876543210.zonal.${region}.aws.nitro-enclaves, OU=AWS, O=Amazon, C=US, ST=WA, L=Seattle`,
    instance: `${AWS_HOST_PREFIX}, CN=${instanceId}.${region}.aws.nitro-enclaves`,
  };
}

/** A root and the three intermediates of the Nitro PKI, with AWS's pathLen constraints (2, 1, 0). */
export async function createNitroTestPki(opts: NitroTestPkiOptions): Promise<NitroTestPki> {
  const region = opts.region ?? 'us-east-1';
  const instanceId = opts.instanceId ?? 'i-0123456789abcdef0';
  const names = { ...defaultSubjects(region, instanceId), ...opts.subjects };
  const validity = { notBefore: opts.notBefore, notAfter: opts.notAfter };
  const root = await createSelfSignedRoot({ subject: names.root, keys: await generateDevKeyPair('p384'), ...validity, keyUsages: CA_USAGE });
  const regional = await issueCertificate(root, {
    subject: names.regional, keys: await generateDevKeyPair('p384'), ...validity, ca: true, pathLength: 2, keyUsages: CA_USAGE,
  });
  const zonal = await issueCertificate(regional, {
    subject: names.zonal, keys: await generateDevKeyPair('p384'), ...validity, ca: true, pathLength: 1, keyUsages: CA_USAGE,
  });
  const instance = await issueCertificate(zonal, {
    subject: names.instance, keys: await generateDevKeyPair('p384'), ...validity, ca: true, pathLength: 0,
    keyUsages: x509.KeyUsageFlags.keyCertSign,
  });
  return { root, regional, zonal, instance, cabundle: [root.der, regional.der, zonal.der, instance.der], region, instanceId };
}

export interface NitroLeafOptions {
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Default "0123456789abcdef". */
  readonly enclaveId?: string;
  readonly subject?: string;
  /** Default: a fresh P-384 key (ES384 needs P-384; other kinds exist for negative tests). */
  readonly keys?: DevKeyPair;
  readonly keyUsages?: number;
  /** Issue the leaf as a CA (negative tests only). */
  readonly ca?: boolean;
  /** The issuer, default the PKI's instance CA. */
  readonly issuer?: DevCertificate;
}

/** The document-signing certificate, "i-…-enc….<region>.aws" (AWS leaves live about 3 hours). */
export async function issueNitroLeaf(pki: NitroTestPki, opts: NitroLeafOptions): Promise<DevCertificate> {
  const enclaveId = opts.enclaveId ?? '0123456789abcdef';
  return issueCertificate(opts.issuer ?? pki.instance, {
    subject: opts.subject ?? `${AWS_HOST_PREFIX}, CN=${pki.instanceId}-enc${enclaveId}.${pki.region}.aws`,
    keys: opts.keys ?? (await generateDevKeyPair('p384')),
    notBefore: opts.notBefore,
    notAfter: opts.notAfter,
    ...(opts.ca === undefined ? {} : { ca: opts.ca }),
    ...(opts.keyUsages === undefined ? {} : { keyUsages: opts.keyUsages }),
  });
}

/** 16 PCRs of 48 bytes: PCR0–4 set to fixed look-alike measurements unless overridden, the rest zero. */
export function nitroPcrs(overrides: Readonly<Record<number, Uint8Array>> = {}): Map<number, Uint8Array> {
  const pcrs = new Map<number, Uint8Array>();
  for (let i = 0; i < 16; i++) {
    const measured = i <= 4 ? new Uint8Array(createHash('sha384').update(`keyward-dev-pcr${i}`).digest()) : new Uint8Array(48);
    pcrs.set(i, overrides[i] ?? measured);
  }
  return pcrs;
}

export interface NitroDocumentSpec {
  readonly timestamp: Date;
  readonly moduleId?: string;
  readonly digest?: string;
  readonly pcrs?: ReadonlyMap<number, Uint8Array>;
  /** undefined: the key is left out; null: encoded as CBOR null (as NSM does). */
  readonly publicKey?: Uint8Array | null;
  readonly userData?: Uint8Array | null;
  readonly nonce?: Uint8Array | null;
}

/** The payload map in NSM's key order; tests may edit it before encoding (encodeCbor). */
export function nitroPayloadFields(leaf: DevCertificate, cabundle: readonly Uint8Array[], spec: NitroDocumentSpec): Map<string, unknown> {
  const fields = new Map<string, unknown>([
    ['module_id', spec.moduleId ?? 'i-0123456789abcdef0-enc0123456789abcdef'],
    ['digest', spec.digest ?? 'SHA384'],
    // A bigint makes cbor-x write the 8-byte unsigned form NSM uses.
    ['timestamp', BigInt(spec.timestamp.getTime())],
    ['pcrs', spec.pcrs ?? nitroPcrs()],
    ['certificate', leaf.der],
    ['cabundle', [...cabundle]],
  ]);
  if (spec.publicKey !== undefined) fields.set('public_key', spec.publicKey);
  if (spec.userData !== undefined) fields.set('user_data', spec.userData);
  if (spec.nonce !== undefined) fields.set('nonce', spec.nonce);
  return fields;
}

const encoder = new Encoder({ useRecords: false, mapsAsObjects: false, tagUint8Array: false });

/** CBOR-encodes Maps, arrays, byte strings, text, integers (bigint for 8-byte) and null as NSM does. */
export function encodeCbor(value: unknown): Uint8Array {
  return new Uint8Array(encoder.encode(value));
}

/** The protected header NSM sends: {1: -35} (ES384). */
export const ES384_PROTECTED_HEADER = Uint8Array.of(0xa1, 0x01, 0x38, 0x22);

export interface CoseSign1Parts {
  readonly protectedHeader: Uint8Array;
  readonly payload: Uint8Array;
  readonly signature: Uint8Array;
  readonly unprotected?: ReadonlyMap<unknown, unknown>;
  /** Prefix CBOR tag 18 (NSM does not). */
  readonly tagged?: boolean;
}

/** Encodes [protected, unprotected, payload, signature], optionally tagged 18. */
export function assembleCoseSign1(parts: CoseSign1Parts): Uint8Array {
  const body = encodeCbor([parts.protectedHeader, parts.unprotected ?? new Map(), parts.payload, parts.signature]);
  return parts.tagged ? Uint8Array.of(0xd2, ...body) : body;
}

/** ES384 signature (raw r‖s) over the Sig_structure of `protectedHeader` and `payload` (RFC 9052 §4.4). */
export function signEs384(payload: Uint8Array, key: KeyObject, protectedHeader: Uint8Array = ES384_PROTECTED_HEADER): Uint8Array {
  return new Uint8Array(cryptoSign('sha384', sigStructure({ protectedHeader, payload }), { key, dsaEncoding: 'ieee-p1363' }));
}

/** A complete signed document from `leaf` with the PKI's cabundle. */
export function mintNitroDocument(pki: NitroTestPki, leaf: DevCertificate, spec: NitroDocumentSpec): Uint8Array {
  const payload = encodeCbor(nitroPayloadFields(leaf, pki.cabundle, spec));
  const signature = signEs384(payload, devPrivateKeyObject(leaf.keys));
  return assembleCoseSign1({ protectedHeader: ES384_PROTECTED_HEADER, payload, signature });
}
