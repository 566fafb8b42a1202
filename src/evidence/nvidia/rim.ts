// NVIDIA reference integrity manifests: ISO/IEC 19770-2 SWID tags with TCG RIM attributes and an
// enveloped XML-DSig (W3C XMLDSig core §3.2 validation). Measurements are read only from the bytes the
// signature covers, so a wrapped or appended element can never be mistaken for reference values.
import { createHash } from 'node:crypto';
import { DOMParser, onWarningStopParsing, type Document, type Element } from '@xmldom/xmldom';
import { EvidenceError, type EvidenceErrorCode } from '../../errors.js';
import { parseCertificate, type Certificate } from '../pki.js';
import type { VerificationMemo } from '../types.js';
import {
  ALG_C14N_11,
  ALG_ECDSA_SHA384,
  ALG_ENVELOPED,
  ALG_SHA384_ENC,
  ALG_SHA384_MORE,
  XMLDSIG_NS,
  createRimSignedXml,
} from './xmldsig.js';

export const SWID_NS = 'http://standards.iso.org/iso/19770/-2/2015/schema.xsd';
export const RIM_HASH_NS = 'http://www.w3.org/2001/04/xmlenc#sha384';
export const TCG_RIM_NS = 'https://trustedcomputinggroup.org/resource/tcg-reference-integrity-manifest-rim-information-model/';
const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const MAX_RIM_CHARS = 1 << 20;
const MAX_ALTERNATIVES = 16;

export interface RimIdentity {
  /** Meta@product, e.g. "GH100", "GB100", "LS10". */
  readonly product: string;
  /** Meta@edition: "GPU" or "SWITCH". */
  readonly edition: string;
  /** Meta@colloquialVersion: the driver version, or the VBIOS version in upper-case hex. */
  readonly version: string;
  readonly tagId: string;
  /** Meta@FirmwareManufacturerId (TCG RIM), e.g. "5703". */
  readonly firmwareManufacturerId?: string;
}

export interface RimMeasurement {
  /** 0-based (SPDM block Index − 1). */
  readonly index: number;
  readonly active: boolean;
  readonly size: number;
  /** Accepted values, lowercase hex. */
  readonly alternatives: readonly string[];
}

export interface SignedRim {
  readonly identity: RimIdentity;
  readonly measurements: readonly RimMeasurement[];
}

/** What a RIM claims before its signature is checked: used to pick candidates and build the signer chain. */
export interface InspectedRim {
  readonly sha256: string;
  readonly identity: RimIdentity;
  /** KeyInfo certificates, the signer first. */
  readonly certificates: readonly Certificate[];
  readonly signer: Certificate;
}

function fail(code: EvidenceErrorCode, message: string, cause?: unknown): never {
  throw new EvidenceError(code, message, cause === undefined ? {} : { cause });
}

function malformed(message: string, cause?: unknown): never {
  fail('ERR_RIM_MALFORMED', `RIM: ${message}`, cause);
}

export function parseXmlStrict(text: string): Document {
  // No DTDs: entity tricks and external references have no place in a RIM.
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) malformed('document type declarations are not accepted.');
  try {
    return new DOMParser({ onError: onWarningStopParsing, locator: false }).parseFromString(text, 'text/xml');
  } catch (cause) {
    malformed('not well-formed XML.', cause);
  }
}

function elementChildren(parent: Element, ns: string, localName: string): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) {
    const el = n as Element;
    if (n.nodeType === 1 && el.namespaceURI === ns && el.localName === localName) out.push(el);
  }
  return out;
}

function onlyChild(parent: Element, ns: string, localName: string): Element {
  const found = elementChildren(parent, ns, localName);
  if (found.length !== 1) malformed(`expected exactly one ${localName} in ${parent.localName}.`);
  return found[0] as Element;
}

function rootOf(doc: Document): Element {
  const root = doc.documentElement;
  if (!root || root.namespaceURI !== SWID_NS || root.localName !== 'SoftwareIdentity') malformed('the root is not a SWID SoftwareIdentity.');
  return root;
}

/** Canonical XML 1.0 and 1.1 differ only on xml:* attributes; refusing them makes the two identical. */
function refuseXmlAttributes(root: Element): void {
  const all = root.getElementsByTagName('*');
  for (const el of [root, ...Array.from({ length: all.length }, (_, i) => all.item(i) as Element)]) {
    for (let i = 0; i < el.attributes.length; i++) {
      if (el.attributes.item(i)?.namespaceURI === XML_NS) malformed('xml:* attributes are not accepted.');
    }
  }
}

function algorithmOf(el: Element): string {
  return el.getAttribute('Algorithm') ?? '';
}

/** The one Signature, a child of the root, with exactly the algorithms and reference NVIDIA uses. */
function checkSignatureShape(root: Element): Element {
  const signatures = root.getElementsByTagNameNS(XMLDSIG_NS, 'Signature');
  const signature = signatures.item(0);
  if (signatures.length !== 1 || !signature || signature.parentNode !== root) {
    malformed('expected exactly one Signature, enveloped in the SoftwareIdentity.');
  }
  const signedInfo = onlyChild(signature, XMLDSIG_NS, 'SignedInfo');
  const c14n = algorithmOf(onlyChild(signedInfo, XMLDSIG_NS, 'CanonicalizationMethod'));
  const method = algorithmOf(onlyChild(signedInfo, XMLDSIG_NS, 'SignatureMethod'));
  if (c14n !== ALG_C14N_11) fail('ERR_RIM_ALGORITHM_UNSUPPORTED', `RIM: canonicalization "${c14n.slice(0, 80)}" is not accepted.`);
  if (method !== ALG_ECDSA_SHA384) fail('ERR_RIM_ALGORITHM_UNSUPPORTED', `RIM: signature method "${method.slice(0, 80)}" is not accepted.`);
  const reference = onlyChild(signedInfo, XMLDSIG_NS, 'Reference');
  // URI="" covers the whole document: nothing outside the signed content can be read as a RIM.
  if (reference.getAttribute('URI') !== '') malformed('the signature must reference the whole document (URI="").');
  const transforms = elementChildren(onlyChild(reference, XMLDSIG_NS, 'Transforms'), XMLDSIG_NS, 'Transform').map(algorithmOf);
  const okTransforms = transforms.length === 2 && transforms[0] === ALG_ENVELOPED && transforms[1] === ALG_C14N_11;
  if (!okTransforms) fail('ERR_RIM_ALGORITHM_UNSUPPORTED', 'RIM: the reference transforms are not enveloped-signature + C14N.');
  const digest = algorithmOf(onlyChild(reference, XMLDSIG_NS, 'DigestMethod'));
  if (digest !== ALG_SHA384_MORE && digest !== ALG_SHA384_ENC) fail('ERR_RIM_ALGORITHM_UNSUPPORTED', `RIM: digest "${digest.slice(0, 80)}" is not accepted.`);
  return signature;
}

function keyInfoCertificates(signature: Element): Certificate[] {
  const keyInfo = onlyChild(signature, XMLDSIG_NS, 'KeyInfo');
  const certs: Certificate[] = [];
  for (const data of elementChildren(keyInfo, XMLDSIG_NS, 'X509Data')) {
    for (const el of elementChildren(data, XMLDSIG_NS, 'X509Certificate')) {
      const b64 = (el.textContent ?? '').replace(/\s+/g, '');
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) malformed('an X509Certificate is not base64.');
      certs.push(parseCertificate(new Uint8Array(Buffer.from(b64, 'base64'))));
    }
  }
  if (certs.length === 0) malformed('KeyInfo carries no signing certificate.');
  return certs;
}

function identityOf(root: Element): RimIdentity {
  const meta = onlyChild(root, SWID_NS, 'Meta');
  const product = meta.getAttribute('product') ?? '';
  const version = meta.getAttribute('colloquialVersion') ?? '';
  if (!product || !version) malformed('Meta lacks product or colloquialVersion.');
  const manufacturer = meta.getAttributeNS(TCG_RIM_NS, 'FirmwareManufacturerId');
  return {
    product,
    edition: meta.getAttribute('edition') ?? '',
    version,
    tagId: root.getAttribute('tagId') ?? '',
    ...(manufacturer ? { firmwareManufacturerId: manufacturer } : {}),
  };
}

/** Structure, algorithms, signer certificates and the (unverified) identity of a RIM; remembered by content. */
export function inspectRim(text: string, memo?: VerificationMemo): InspectedRim {
  if (text.length > MAX_RIM_CHARS) malformed('the document is too large.');
  const sha256 = createHash('sha256').update(text).digest('hex');
  const compute = (): InspectedRim => {
    const root = rootOf(parseXmlStrict(text));
    refuseXmlAttributes(root);
    const certificates = keyInfoCertificates(checkSignatureShape(root));
    return { sha256, identity: identityOf(root), certificates, signer: certificates[0] as Certificate };
  };
  return memo ? memo.remember(`nvidia-rim-inspect:${sha256}`, compute) : compute();
}

function intAttribute(el: Element, name: string, min: number, max: number): number {
  const raw = el.getAttribute(name) ?? '';
  if (!/^[0-9]{1,4}$/.test(raw)) malformed(`Resource@${name} "${raw.slice(0, 16)}" is not a number.`);
  const n = Number(raw);
  if (n < min || n > max) malformed(`Resource@${name} ${n} is out of range.`);
  return n;
}

function measurementOf(el: Element): RimMeasurement {
  const index = intAttribute(el, 'index', 0, 254);
  const size = intAttribute(el, 'size', 1, 64);
  const count = intAttribute(el, 'alternatives', 1, MAX_ALTERNATIVES);
  const activeRaw = (el.getAttribute('active') ?? '').toLowerCase();
  if (activeRaw !== 'true' && activeRaw !== 'false') malformed(`Resource ${index} has active="${activeRaw.slice(0, 16)}".`);
  const alternatives: string[] = [];
  for (let i = 0; i < count; i++) {
    const value = (el.getAttributeNS(RIM_HASH_NS, `Hash${i}`) ?? '').toLowerCase();
    if (value.length !== size * 2 || !/^[0-9a-f]+$/.test(value)) malformed(`Resource ${index} Hash${i} is not ${size} bytes of hex.`);
    alternatives.push(value);
  }
  return { index, active: activeRaw === 'true', size, alternatives };
}

/** Reads identity and measurements from the canonical XML the signature covers. */
function readSignedRim(signedXml: string): SignedRim {
  const root = rootOf(parseXmlStrict(signedXml));
  const payload = onlyChild(root, SWID_NS, 'Payload');
  const measurements = elementChildren(payload, SWID_NS, 'Resource')
    .filter((el) => el.getAttribute('type') === 'Measurement')
    .map(measurementOf);
  const seen = new Set<number>();
  for (const m of measurements) {
    if (seen.has(m.index)) malformed(`measurement index ${m.index} appears twice.`);
    seen.add(m.index);
  }
  return { identity: identityOf(root), measurements };
}

type SignatureOutcome = { ok: true; rim: SignedRim } | { ok: false; code: EvidenceErrorCode; message: string };

function checkXmlSignature(text: string, signer: Certificate): SignatureOutcome {
  const root = rootOf(parseXmlStrict(text));
  const signature = checkSignatureShape(root);
  const sig = createRimSignedXml({ publicCert: signer.x509.publicKey });
  let valid: boolean;
  try {
    sig.loadSignature(signature);
    valid = sig.checkSignature(text);
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : '';
    if (message.startsWith('invalid signature')) return { ok: false, code: 'ERR_RIM_SIGNATURE_INVALID', message: 'RIM: the XML signature does not verify with its signing certificate.' };
    return { ok: false, code: 'ERR_RIM_MALFORMED', message: 'RIM: the XML signature could not be processed.' };
  }
  if (!valid) return { ok: false, code: 'ERR_RIM_DIGEST_MISMATCH', message: 'RIM: the document does not match the digest its signature covers (it was modified).' };
  const signed = sig.getSignedReferences();
  if (signed.length !== 1) return { ok: false, code: 'ERR_RIM_MALFORMED', message: 'RIM: expected exactly one signed reference.' };
  return { ok: true, rim: readSignedRim(signed[0] as string) };
}

/**
 * Verifies the RIM's XML signature with its KeyInfo signer (whose chain the caller checks) and returns
 * the signed identity and measurements. Pure in (text, signer): remembered in the memo.
 */
export function verifyRimSignature(text: string, inspected: InspectedRim, memo?: VerificationMemo): SignedRim {
  const key = `nvidia-rim-sig:${inspected.sha256}:${inspected.signer.sha256}`;
  const compute = (): SignatureOutcome => checkXmlSignature(text, inspected.signer);
  const outcome = memo ? memo.remember(key, compute) : compute();
  if (!outcome.ok) fail(outcome.code, outcome.message);
  return outcome.rim;
}
