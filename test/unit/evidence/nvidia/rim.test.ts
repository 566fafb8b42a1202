import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EvidenceError } from '../../../../src/errors.js';
import { inspectRim, verifyRimSignature, type SignedRim } from '../../../../src/evidence/nvidia/rim.js';
import { verifyRimChain } from '../../../../src/evidence/nvidia/rim-select.js';
import { createTrustAnchors } from '../../../../src/evidence/anchors.js';
import { LruMemo } from '../../../../src/evidence/memo.js';
import { commonNameOf } from '../../../../src/evidence/pki.js';
import type { TrustAnchors } from '../../../../src/evidence/types.js';
import { createNvidiaDevRimPki, mintRim, rimEntries, rimXml, signRimXml, type NvidiaDevRimPki } from '../../../../src/dev/nvidia-rim.js';
import { codeOf, ctx, nvText, syncCodeOf, vector } from './fixtures.js';

interface ManifestRim {
  readonly independent_check: { reference_digest_matches: boolean; signedinfo_signature_valid_under_keyinfo_leaf: boolean };
  readonly colloquialVersion: string;
  readonly meta: { product: string; edition: string };
  readonly active_indices: number[];
  readonly multi_alternative_indices: Record<string, number>;
  readonly signature: { verification_time: string; result: boolean };
}

/** [file, manifest entry] for every RIM in the manifest. */
function manifestRims(): [string, ManifestRim][] {
  const out: [string, ManifestRim][] = [];
  const e2e = vector('hopper-550.90.07-e2e');
  out.push(['hopper-550.90.07-e2e/driver_rim_NV_GPU_DRIVER_GH100_550.90.07.xml', e2e['driver_rim'] as ManifestRim]);
  out.push(['hopper-550.90.07-e2e/vbios_rim_NV_GPU_VBIOS_1010_0200_882_96009F0001.xml', e2e['vbios_rim'] as ManifestRim]);
  const neg = vector('hopper-535.86.09-negatives');
  out.push(['hopper-535.86.09-negatives/vbios_rim_1010_0200_882_96005E0001_PROD.swidtag', neg['vbios_rim_prod'] as ManifestRim]);
  out.push(['hopper-535.86.09-negatives/vbios_rim_measurement_mismatch_idx9.xml', neg['vbios_rim_mismatch'] as ManifestRim]);
  out.push(['hopper-535.86.09-negatives/driver_rim_535.86.09_tampered.xml', neg['driver_rim_tampered'] as ManifestRim]);
  for (const r of vector('rim-signature-only')['rims'] as { file: string; rim: ManifestRim }[]) out.push([r.file, r.rim]);
  out.push(['nvswitch-ls10-96.10.55.00.01-e2e/switch_bios_rim_NV_SWITCH_BIOS_5612_0002_890_9610550001.xml', vector('nvswitch-ls10-96.10.55.00.01-e2e')['switch_bios_rim'] as ManifestRim]);
  return out;
}

/** Chain first (as xmlsec1 and NVIDIA's SDK do), then the XML signature. */
function verifyRimAt(text: string, at: string | Date, anchors?: TrustAnchors, memo?: LruMemo): SignedRim {
  const c = ctx(at, {}, memo ? { memo } : {}, anchors);
  const inspected = inspectRim(text, memo);
  verifyRimChain(inspected, c);
  return verifyRimSignature(text, inspected, memo);
}

const activeOf = (rim: SignedRim): number[] => rim.measurements.filter((m) => m.active).map((m) => m.index);
const multiOf = (rim: SignedRim): Record<string, number> =>
  Object.fromEntries(rim.measurements.filter((m) => m.active && m.alternatives.length > 1).map((m) => [String(m.index), m.alternatives.length]));

describe('real RIMs at their verification time', () => {
  const EXPECTED_FAILURE: Record<string, string> = {
    'driver_rim_535.86.09_tampered.xml': 'ERR_CHAIN_NOT_YET_VALID',
    'driver_rim_550.144.03_bad_signature.xml': 'ERR_RIM_SIGNATURE_INVALID',
    'rim_chained_to_debug_root.xml': 'ERR_CHAIN_UNTRUSTED_ROOT',
    'driver_rim_570.124.03_expired_signer.xml': 'ERR_CHAIN_EXPIRED',
  };
  for (const [file, expected] of manifestRims()) {
    const name = file.split('/').pop() as string;
    it(`${name}: ${expected.signature.result ? 'verifies with the manifest values' : EXPECTED_FAILURE[name]}`, () => {
      const text = nvText(file);
      if (!expected.signature.result) {
        expect(syncCodeOf(() => verifyRimAt(text, expected.signature.verification_time))).toBe(EXPECTED_FAILURE[name]);
        return;
      }
      const rim = verifyRimAt(text, expected.signature.verification_time);
      expect(rim.identity.version).toBe(expected.colloquialVersion);
      expect(rim.identity.product).toBe(expected.meta.product);
      expect(rim.identity.edition).toBe(expected.meta.edition);
      expect(rim.identity.firmwareManufacturerId).toBe('5703');
      expect(activeOf(rim)).toEqual(expected.active_indices);
      expect(multiOf(rim)).toEqual(expected.multi_alternative_indices);
      expect(rim.measurements.length).toBe(64);
    });

    it(`${name}: the XML signature alone agrees with the independent check`, () => {
      const text = nvText(file);
      const inspected = inspectRim(text);
      const check = expected.independent_check;
      const code = syncCodeOf(() => verifyRimSignature(text, inspected));
      const want = !check.reference_digest_matches ? 'ERR_RIM_DIGEST_MISMATCH' : !check.signedinfo_signature_valid_under_keyinfo_leaf ? 'ERR_RIM_SIGNATURE_INVALID' : undefined;
      expect(code).toBe(want);
    });
  }

  it('the tampered driver RIM fails on its digest once its signer is valid', () => {
    expect(syncCodeOf(() => verifyRimAt(nvText('hopper-535.86.09-negatives/driver_rim_535.86.09_tampered.xml'), '2025-10-24T12:00:00Z'))).toBe(
      'ERR_RIM_DIGEST_MISMATCH',
    );
  });

  it('a genuine RIM expires with its L4 signer and is not valid before it', () => {
    const text = nvText('rim-signature-only/driver_rim_NV_GPU_DRIVER_GH100_550.144.03.xml');
    expect(syncCodeOf(() => verifyRimAt(text, '2027-01-01Z'))).toBe('ERR_CHAIN_EXPIRED');
    expect(syncCodeOf(() => verifyRimAt(text, '2024-12-01Z'))).toBe('ERR_CHAIN_NOT_YET_VALID');
  });

  it('remembers the XML signature result by content', () => {
    const memo = new LruMemo();
    const text = nvText('hopper-550.90.07-e2e/driver_rim_NV_GPU_DRIVER_GH100_550.90.07.xml');
    verifyRimAt(text, '2025-10-24T12:00:00Z', undefined, memo);
    const misses = memo.misses;
    verifyRimAt(text, '2025-10-24T12:00:00Z', undefined, memo);
    expect(memo.misses).toBe(misses);
  });
});

describe('RIM mutations', () => {
  const AT = '2025-10-24T12:00:00Z';
  const genuine = nvText('hopper-550.90.07-e2e/vbios_rim_NV_GPU_VBIOS_1010_0200_882_96009F0001.xml');
  const code = (text: string): string | undefined => syncCodeOf(() => verifyRimAt(text, AT));

  it('a changed reference value, version or attribute breaks the digest', () => {
    const value = (/index="1"[^>]*ns2:Hash0="([0-9a-f]{96})"/.exec(genuine) as RegExpExecArray)[1] as string;
    const flipped = genuine.replace(value, (value[0] === '0' ? '1' : '0') + value.slice(1));
    expect(code(flipped)).toBe('ERR_RIM_DIGEST_MISMATCH');
    expect(code(genuine.replace('colloquialVersion="96.00.9F.00.01"', 'colloquialVersion="96.00.9F.00.02"'))).toBe('ERR_RIM_DIGEST_MISMATCH');
    expect(code(genuine.replace('index="9" active="True"', 'index="9" active="False"'))).toBe('ERR_RIM_DIGEST_MISMATCH');
  });

  it('an element added inside the document breaks the digest (no unsigned content is read)', () => {
    const extra = '<ns0:Resource type="Measurement" index="63" active="True" alternatives="1" ns2:Hash0="' + 'ab'.repeat(48) + '" size="48"/>';
    expect(code(genuine.replace('</ns0:Payload>', `${extra}</ns0:Payload>`))).toBe('ERR_RIM_DIGEST_MISMATCH');
    expect(code(genuine.replace('</SoftwareIdentity>', `<ns0:Payload>${extra}</ns0:Payload></SoftwareIdentity>`))).toBe('ERR_RIM_DIGEST_MISMATCH');
  });

  it('a comment changes nothing that is signed or read', () => {
    const rim = verifyRimAt(genuine.replace('<ns0:Payload', '<!-- note --><ns0:Payload'), AT);
    expect(activeOf(rim)).toEqual([0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12]);
  });

  it('a flipped SignatureValue fails the signature', () => {
    const sv = /<ds:SignatureValue>([A-Za-z0-9+/])/.exec(genuine) as RegExpExecArray;
    const at = (sv.index as number) + '<ds:SignatureValue>'.length;
    expect(code(genuine.slice(0, at) + (sv[1] === 'A' ? 'B' : 'A') + genuine.slice(at + 1))).toBe('ERR_RIM_SIGNATURE_INVALID');
  });

  it('wrapping: the signed document inside another root, a second Signature, a non-empty reference', () => {
    expect(code(`<Wrapper xmlns="${'http://example.com/x'}">${genuine}</Wrapper>`)).toBe('ERR_RIM_MALFORMED');
    const signature = genuine.slice(genuine.indexOf('<ds:Signature'), genuine.indexOf('</SoftwareIdentity>'));
    expect(code(genuine.replace('</SoftwareIdentity>', `${signature}</SoftwareIdentity>`))).toBe('ERR_RIM_MALFORMED');
    expect(code(genuine.replace('<ds:Reference URI="">', '<ds:Reference URI="#payload">'))).toBe('ERR_RIM_MALFORMED');
    expect(code(genuine.replace('<ns0:Payload', `<ns0:Entity>${signature}</ns0:Entity><ns0:Payload`))).toBe('ERR_RIM_MALFORMED');
  });

  it('weaker or unknown algorithms are refused before any check', () => {
    expect(code(genuine.replace('xmldsig-more#ecdsa-sha384', 'xmldsig-more#rsa-sha256'))).toBe('ERR_RIM_ALGORITHM_UNSUPPORTED');
    expect(code(genuine.replace('<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#sha384"', '<ds:DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"'))).toBe('ERR_RIM_ALGORITHM_UNSUPPORTED');
    expect(code(genuine.replace(/xml-c14n11/g, 'xml-exc-c14n#').replace('http://www.w3.org/2006/12/xml-exc-c14n#', 'http://www.w3.org/2001/10/xml-exc-c14n#'))).toBe('ERR_RIM_ALGORITHM_UNSUPPORTED');
  });

  it('DTDs, xml:* attributes and broken XML are refused', () => {
    expect(code(`<!DOCTYPE x [<!ENTITY e "v">]>${genuine}`)).toBe('ERR_RIM_MALFORMED');
    expect(code(genuine.replace('<ns0:Payload', '<ns0:Payload xml:lang="en"'))).toBe('ERR_RIM_MALFORMED');
    expect(code(genuine.slice(0, 5000))).toBe('ERR_RIM_MALFORMED');
    expect(code(genuine.replace(/<ds:X509Certificate>[^<]*<\/ds:X509Certificate>/g, ''))).toBe('ERR_RIM_MALFORMED');
  });

  it('a KeyInfo certificate with an unreadable public key is a typed error', () => {
    // found by the property below: this edit keeps the X.509 parseable but breaks its SubjectPublicKeyInfo
    expect(code(genuine.slice(0, 18964) + 'a' + genuine.slice(18965))).toBe('ERR_CHAIN_MALFORMED');
  });

  it('random edits of a real RIM fail with a typed error or verify unchanged', () => {
    fc.assert(
      fc.property(fc.nat(genuine.length - 1), fc.constantFrom('a', '0', '<', '"', ' ', 'x'), (offset, ch) => {
        const text = genuine.slice(0, offset) + ch + genuine.slice(offset + 1);
        try {
          const rim = verifyRimAt(text, AT);
          expect(activeOf(rim)).toEqual([0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12]);
        } catch (err) {
          expect(err).toBeInstanceOf(EvidenceError);
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('RIMs from a test CoRIM PKI', () => {
  let pki: NvidiaDevRimPki;
  let anchors: TrustAnchors;
  const AT = '2026-01-01Z';
  const entries = rimEntries(new Map([[3, [new Uint8Array(48).fill(3)]], [5, [new Uint8Array(48).fill(5), new Uint8Array(48).fill(6)]]]));

  beforeAll(async () => {
    pki = await createNvidiaDevRimPki({ notBefore: new Date('2025-01-01Z'), notAfter: new Date('2030-01-01Z') });
    anchors = createTrustAnchors([pki.root.der]);
  });

  it('verify with the test root as an extra anchor, and are untrusted without it', async () => {
    const text = mintRim({ product: 'GH100', version: '550.90.07', entries, signer: pki.signer, chain: [pki.l3, pki.ca, pki.root] });
    const rim = verifyRimAt(text, AT, anchors);
    expect(activeOf(rim)).toEqual([3, 5]);
    expect(rim.measurements.find((m) => m.index === 5)?.alternatives).toEqual(['06'.repeat(48).replace(/06/g, '05'), '06'.repeat(48)]);
    expect(await codeOf(() => verifyRimAt(text, AT))).toBe('ERR_CHAIN_UNTRUSTED_ROOT');
  });

  it('a genuine RIM re-signed by an attacker key is untrusted', () => {
    const real = nvText('hopper-550.90.07-e2e/driver_rim_NV_GPU_DRIVER_GH100_550.90.07.xml');
    const unsigned = real.slice(0, real.indexOf('<ds:Signature')) + '</SoftwareIdentity>';
    const resigned = signRimXml(unsigned.replace('index="7" active="True"', 'index="7" active="False"'), pki.signer, [pki.l3, pki.ca, pki.root]);
    expect(syncCodeOf(() => verifyRimAt(resigned, '2025-10-24T12:00:00Z'))).toBe('ERR_CHAIN_UNTRUSTED_ROOT');
  });

  it('a signer missing its intermediate is incomplete, unless collateral supplies it', () => {
    const text = mintRim({ product: 'GH100', version: '1.0', entries, signer: pki.signer, chain: [pki.ca, pki.root] });
    expect(syncCodeOf(() => verifyRimAt(text, AT, anchors))).toBe('ERR_CHAIN_INCOMPLETE');
    const chain = verifyRimChain(inspectRim(text), ctx(AT, { certificates: [pki.l3.der] }, {}, anchors));
    expect(chain.path.map((c) => commonNameOf(c.subject))).toEqual([
      'SIMULATED HCC RIM L4 Signer',
      'SIMULATED NVIDIA Reference Value L3 001',
      'SIMULATED NVIDIA Reference Value CA',
      'SIMULATED NVIDIA CoRIM signing Root CA',
    ]);
  });

  it('refuses malformed Resource attributes in signed content', () => {
    const xml = rimXml({ product: 'GH100', version: '1.0', entries }).replace('index="3"', 'index="x3"');
    expect(syncCodeOf(() => verifyRimAt(signRimXml(xml, pki.signer, [pki.l3, pki.ca, pki.root]), AT, anchors))).toBe('ERR_RIM_MALFORMED');
    const dup = rimXml({ product: 'GH100', version: '1.0', entries }).replace('index="4"', 'index="3"');
    expect(syncCodeOf(() => verifyRimAt(signRimXml(dup, pki.signer, [pki.l3, pki.ca, pki.root]), AT, anchors))).toBe('ERR_RIM_MALFORMED');
    const short = rimXml({ product: 'GH100', version: '1.0', entries }).replace(`ns2:Hash0="${'03'.repeat(48)}"`, 'ns2:Hash0="0303"');
    expect(syncCodeOf(() => verifyRimAt(signRimXml(short, pki.signer, [pki.l3, pki.ca, pki.root]), AT, anchors))).toBe('ERR_RIM_MALFORMED');
  });
});
