// Synthetic NVIDIA RIMs: a look-alike CoRIM signing PKI (root → Reference Value CA → L3 → L4 signer) and
// SWID tags signed as NVIDIA signs them (enveloped XML-DSig, C14N 1.1, SHA-384, ECDSA P-384 raw r‖s).
import { createSelfSignedRoot, devPrivateKeyObject, generateDevKeyPair, issueCertificate, type DevCertificate } from './pki.js';
import { ALG_C14N_11, ALG_ECDSA_SHA384, ALG_ENVELOPED, ALG_SHA384_MORE, createRimSignedXml } from '../evidence/nvidia/xmldsig.js';
import { RIM_HASH_NS, SWID_NS, TCG_RIM_NS } from '../evidence/nvidia/rim.js';

export interface NvidiaDevRimPki {
  readonly root: DevCertificate;
  readonly ca: DevCertificate;
  readonly l3: DevCertificate;
  readonly signer: DevCertificate;
}

export interface DevRimPkiOptions {
  readonly label?: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Validity of the L4 signer alone (NVIDIA's are about two years); defaults to the PKI's. */
  readonly signerNotBefore?: Date;
  readonly signerNotAfter?: Date;
}

export async function createNvidiaDevRimPki(opts: DevRimPkiOptions): Promise<NvidiaDevRimPki> {
  const label = opts.label ?? 'SIMULATED';
  const validity = { notBefore: opts.notBefore, notAfter: opts.notAfter };
  const root = await createSelfSignedRoot({ subject: `CN=${label} NVIDIA CoRIM signing Root CA, O=${label} NVIDIA`, keys: await generateDevKeyPair('p384'), ...validity });
  const ca = await issueCertificate(root, { subject: `CN=${label} NVIDIA Reference Value CA, O=${label} NVIDIA Corporation`, keys: await generateDevKeyPair('p384'), ca: true, ...validity });
  const l3 = await issueCertificate(ca, { subject: `CN=${label} NVIDIA Reference Value L3 001, O=${label} NVIDIA Corporation`, keys: await generateDevKeyPair('p384'), ca: true, ...validity });
  const signer = await issueCertificate(l3, {
    subject: `CN=${label} HCC RIM L4 Signer, O=${label} NVIDIA Corporation`,
    keys: await generateDevKeyPair('p384'),
    notBefore: opts.signerNotBefore ?? opts.notBefore,
    notAfter: opts.signerNotAfter ?? opts.notAfter,
  });
  return { root, ca, l3, signer };
}

export interface DevRimEntry {
  /** 0-based index (SPDM block Index − 1). */
  readonly index: number;
  readonly active: boolean;
  readonly alternatives: readonly Uint8Array[];
}

export interface DevRimOptions {
  readonly product: string;
  readonly edition?: 'GPU' | 'SWITCH';
  /** colloquialVersion: the driver version, or the VBIOS version (NVIDIA writes it upper-case). */
  readonly version: string;
  readonly entries: readonly DevRimEntry[];
  readonly signer: DevCertificate;
  /** Certificates placed in KeyInfo after the signer (NVIDIA includes L3, CA and root). */
  readonly chain: readonly DevCertificate[];
}

const escapeAttr = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');

function resourceXml(entry: DevRimEntry): string {
  const hashes = entry.alternatives.map((h, i) => `ns2:Hash${i}="${Buffer.from(h).toString('hex')}"`).join(' ');
  const size = entry.alternatives[0]?.length ?? 48;
  return `        <ns0:Resource type="Measurement" index="${entry.index}" active="${entry.active ? 'True' : 'False'}" alternatives="${entry.alternatives.length}" ${hashes} name="Measurement_${entry.index}" size="${size}"/>`;
}

/** The unsigned SWID tag, shaped like NVIDIA's. */
export function rimXml(opts: Omit<DevRimOptions, 'signer' | 'chain'>): string {
  const product = escapeAttr(opts.product);
  const version = escapeAttr(opts.version);
  return [
    `<SoftwareIdentity xmlns="${SWID_NS}" xmlns:ns0="${SWID_NS}" xmlns:ns2="${RIM_HASH_NS}" corpus="false" name="${product}" patch="false" supplemental="false" tagId="dev-${product}-${version}" version="1.0" tagVersion="0">`,
    `    <ns0:Entity name="NVIDIA Corporation" role="softwareCreator tagCreator"/>`,
    `    <ns0:Meta xmlns:ns1="${TCG_RIM_NS}" colloquialVersion="${version}" edition="${opts.edition ?? 'GPU'}" product="${product}" revision="r1" PayloadType="direct" ns1:BindingSpec="RIMIM" ns1:BindingSpecVersion="1.01" ns1:PlatformManufacturerId="5703" ns1:PlatformModel="${product}" ns1:FirmwareManufacturerId="5703"/>`,
    `    <ns0:Payload>`,
    ...opts.entries.map(resourceXml),
    `    </ns0:Payload>`,
    `</SoftwareIdentity>`,
  ].join('\n');
}

/** Signs a SWID tag with an enveloped signature whose KeyInfo carries the signer and its chain. */
export function signRimXml(xml: string, signer: DevCertificate, chain: readonly DevCertificate[]): string {
  const b64 = [signer, ...chain].map((c) => Buffer.from(c.der).toString('base64'));
  const sig = createRimSignedXml({
    privateKey: devPrivateKeyObject(signer.keys),
    signatureAlgorithm: ALG_ECDSA_SHA384,
    canonicalizationAlgorithm: ALG_C14N_11,
    getKeyInfoContent: (args) => {
      const p = args?.prefix ? `${args.prefix}:` : '';
      return `<${p}X509Data>${b64.map((c) => `<${p}X509Certificate>${c}</${p}X509Certificate>`).join('')}</${p}X509Data>`;
    },
  });
  sig.addReference({ xpath: '/*', transforms: [ALG_ENVELOPED, ALG_C14N_11], digestAlgorithm: ALG_SHA384_MORE, uri: '', isEmptyUri: true });
  sig.computeSignature(xml, { prefix: 'ds', location: { reference: '/*', action: 'append' } });
  return sig.getSignedXml();
}

export function mintRim(opts: DevRimOptions): string {
  return signRimXml(rimXml(opts), opts.signer, opts.chain);
}

/** 64 entries: the given indices active with their alternatives, the rest inactive zeros (as NVIDIA's RIMs). */
export function rimEntries(active: ReadonlyMap<number, readonly Uint8Array[]>, count = 64): DevRimEntry[] {
  return Array.from({ length: count }, (_, index) => {
    const alternatives = active.get(index);
    return alternatives ? { index, active: true, alternatives } : { index, active: false, alternatives: [new Uint8Array(48)] };
  });
}
