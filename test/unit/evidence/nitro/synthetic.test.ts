// Synthetic Nitro documents from a test CA that mimics AWS's PKI: trust only as an extra anchor, and the
// edges no real enclave produced (algorithms, missing, null and oversized fields, chain constraints).
import { describe, expect, it, beforeAll } from 'vitest';
import { createHash, sign as cryptoSign } from 'node:crypto';
import { verifyNitroEvidence } from '../../../../src/evidence/nitro/verify.js';
import { appraiseNitroClaims, assertNitroClaims } from '../../../../src/evidence/nitro/appraise.js';
import { createTrustAnchors, vendorAnchors } from '../../../../src/evidence/anchors.js';
import type { TrustAnchors } from '../../../../src/evidence/types.js';
import {
  assembleCoseSign1,
  createNitroTestPki,
  encodeCbor,
  ES384_PROTECTED_HEADER,
  issueNitroLeaf,
  mintNitroDocument,
  nitroPayloadFields,
  nitroPcrs,
  signEs384,
  type NitroDocumentSpec,
  type NitroTestPki,
} from '../../../../src/dev/nitro.js';
import { devPrivateKeyObject, generateDevKeyPair, issueCertificate, x509, type DevCertificate } from '../../../../src/dev/pki.js';
import { codeOf, codeOfAsync, contextAt } from './nitro-helpers.js';

const NB = new Date('2025-01-01T00:00:00Z');
const NA = new Date('2026-01-01T00:00:00Z');
const LEAF_NB = new Date('2025-06-01T00:00:00Z');
const LEAF_NA = new Date('2025-06-01T03:00:00Z');
const AT = new Date('2025-06-01T01:00:00Z');
const NONCE = new Uint8Array(32).fill(0xab);

let pki: NitroTestPki;
let leaf: DevCertificate;
let extra: TrustAnchors;

beforeAll(async () => {
  pki = await createNitroTestPki({ notBefore: NB, notAfter: NA });
  leaf = await issueNitroLeaf(pki, { notBefore: LEAF_NB, notAfter: LEAF_NA });
  extra = createTrustAnchors([pki.root.der]);
}, 60_000);

interface BuildOptions {
  readonly spec?: Partial<NitroDocumentSpec>;
  readonly edit?: (fields: Map<string, unknown>) => void;
  readonly signer?: DevCertificate;
  readonly leaf?: DevCertificate;
  readonly cabundle?: readonly Uint8Array[];
  readonly protectedHeader?: Uint8Array;
  readonly unprotected?: ReadonlyMap<unknown, unknown>;
  readonly tagged?: boolean;
  readonly payload?: (encoded: Uint8Array) => Uint8Array;
  readonly signature?: (signature: Uint8Array) => Uint8Array;
}

/** A document signed (over whatever payload results) by `signer` (default: the leaf in the document). */
function build(opts: BuildOptions = {}): Uint8Array {
  const docLeaf = opts.leaf ?? leaf;
  const fields = nitroPayloadFields(docLeaf, opts.cabundle ?? pki.cabundle, { timestamp: AT, nonce: NONCE, ...opts.spec });
  opts.edit?.(fields);
  const encoded = encodeCbor(fields);
  const payload = opts.payload ? opts.payload(encoded) : encoded;
  const protectedHeader = opts.protectedHeader ?? ES384_PROTECTED_HEADER;
  const signature = signEs384(payload, devPrivateKeyObject((opts.signer ?? docLeaf).keys), protectedHeader);
  return assembleCoseSign1({
    protectedHeader,
    payload,
    signature: opts.signature ? opts.signature(signature) : signature,
    ...(opts.unprotected ? { unprotected: opts.unprotected } : {}),
    ...(opts.tagged ? { tagged: true } : {}),
  });
}

function verify(document: Uint8Array, extraCtx: { expectedNonce?: Uint8Array; now?: Date; anchors?: TrustAnchors } = {}) {
  const ctx = contextAt(extraCtx.now ?? AT, extraCtx.anchors ?? extra, extraCtx.expectedNonce ? { expectedNonce: extraCtx.expectedNonce } : {});
  return verifyNitroEvidence({ type: 'nitro', document }, ctx);
}

const codeFor = (document: Uint8Array, ctx?: Parameters<typeof verify>[1]) => codeOfAsync(() => verify(document, ctx));

describe('a chain from a test CA mimicking AWS', () => {
  it('mints the layout NSM sends (untagged, {1:-35}, empty unprotected, 96-byte signature)', () => {
    const doc = mintNitroDocument(pki, leaf, { timestamp: AT });
    expect(Buffer.from(doc.subarray(0, 7)).toString('hex')).toBe('8444a1013822a0');
    expect(Buffer.from(doc.subarray(doc.length - 98, doc.length - 96)).toString('hex')).toBe('5860');
  });

  it('verifies only when its root is an extra anchor, and says so in the claims', async () => {
    const doc = build({ spec: { userData: Uint8Array.of(1, 2), publicKey: Uint8Array.of(3) } });
    expect(await codeFor(doc, { anchors: vendorAnchors() })).toBe('ERR_CHAIN_UNTRUSTED_ROOT');
    const { claims, validFrom, validUntil } = await verify(doc, { expectedNonce: NONCE });
    const rootSpki = createHash('sha256').update(Buffer.from(pki.root.cert.publicKey.rawData)).digest('hex');
    expect(claims).toEqual({
      tee: 'nitro',
      debug: false,
      anchor: { source: 'extra', name: 'aws.nitro-enclaves (Amazon)', spki: rootSpki },
      simulated: false,
      revocationChecked: true,
      moduleId: 'i-0123456789abcdef0-enc0123456789abcdef',
      digest: 'SHA384',
      pcrs: Object.fromEntries([...nitroPcrs()].map(([i, v]) => [String(i), Buffer.from(v).toString('hex')])),
      nonce: 'ab'.repeat(32),
      userData: '0102',
      publicKey: '03',
      timestamp: '2025-06-01T01:00:00.000Z',
    });
    expect([validFrom, validUntil]).toEqual([LEAF_NB, LEAF_NA]);
  });

  it('takes subject names from the caller', async () => {
    const custom = await createNitroTestPki({
      notBefore: NB,
      notAfter: NA,
      region: 'eu-west-3',
      subjects: { root: 'CN=test.nitro-enclaves, O=Example', zonal: 'CN=zone-a.test, O=Example' },
    });
    const customLeaf = await issueNitroLeaf(custom, { notBefore: LEAF_NB, notAfter: LEAF_NA, subject: 'CN=enclave.test, O=Example' });
    expect(customLeaf.cert.subject).toBe('CN=enclave.test, O=Example');
    expect(custom.instance.cert.subject).toContain('CN=i-0123456789abcdef0.eu-west-3.aws.nitro-enclaves');
    const doc = mintNitroDocument(custom, customLeaf, { timestamp: AT });
    const { claims } = await verify(doc, { anchors: createTrustAnchors([custom.root.der]) });
    expect(claims.anchor.name).toBe('test.nitro-enclaves (Example)');
  });

  it('treats the cabundle as an unordered pool, and can take the root from the extra anchor', async () => {
    expect((await verify(build({ cabundle: [...pki.cabundle].reverse() }))).claims.tee).toBe('nitro');
    expect((await verify(build({ cabundle: pki.cabundle.slice(1) }))).claims.anchor.source).toBe('extra');
    expect(await codeFor(build({ cabundle: pki.cabundle.slice(2) }))).toBe('ERR_CHAIN_INCOMPLETE');
  });

  it('refuses an expired or not yet valid leaf, and an expired intermediate', async () => {
    const doc = build();
    expect(await codeFor(doc, { now: new Date(LEAF_NA.getTime() + 1000) })).toBe('ERR_CHAIN_EXPIRED');
    expect(await codeFor(doc, { now: new Date(LEAF_NB.getTime() - 1000) })).toBe('ERR_CHAIN_NOT_YET_VALID');
    const short = await issueCertificate(pki.zonal, {
      subject: pki.instance.subject, keys: pki.instance.keys, notBefore: NB, notAfter: new Date('2025-05-01Z'), ca: true, pathLength: 0,
    });
    expect(await codeFor(build({ cabundle: [pki.root.der, pki.regional.der, pki.zonal.der, short.der] }))).toBe('ERR_CHAIN_EXPIRED');
  });

  it('refuses a signature by a key other than the leaf\'s', async () => {
    const other = await issueNitroLeaf(pki, { notBefore: LEAF_NB, notAfter: LEAF_NA });
    expect(await codeFor(build({ signer: other }))).toBe('ERR_NITRO_SIGNATURE_INVALID');
  });

  it('refuses a signature made over a different protected header than the one sent', async () => {
    const doc = build({ signature: () => signEs384(encodeCbor(nitroPayloadFields(leaf, pki.cabundle, { timestamp: AT, nonce: NONCE })), devPrivateKeyObject(leaf.keys), Uint8Array.of(0xa1, 0x01, 0x38, 0x23)) });
    expect(await codeFor(doc)).toBe('ERR_NITRO_SIGNATURE_INVALID');
  });
});

describe('chain constraints (AWS attestation_process §3.2.3.2–3)', () => {
  it('refuses a leaf that is a CA, or lacks digitalSignature', async () => {
    const caLeaf = await issueNitroLeaf(pki, { notBefore: LEAF_NB, notAfter: LEAF_NA, ca: true });
    expect(await codeFor(build({ leaf: caLeaf }))).toBe('ERR_CHAIN_CONSTRAINT_VIOLATION');
    const agreeLeaf = await issueNitroLeaf(pki, { notBefore: LEAF_NB, notAfter: LEAF_NA, keyUsages: x509.KeyUsageFlags.keyAgreement });
    expect(await codeFor(build({ leaf: agreeLeaf }))).toBe('ERR_CHAIN_CONSTRAINT_VIOLATION');
  });

  it('refuses a CA below the instance CA (pathLen 0)', async () => {
    const sub = await issueCertificate(pki.instance, { subject: 'CN=sub.nitro-enclaves', keys: await generateDevKeyPair('p384'), notBefore: NB, notAfter: NA, ca: true });
    const deep = await issueNitroLeaf(pki, { notBefore: LEAF_NB, notAfter: LEAF_NA, issuer: sub });
    expect(await codeFor(build({ leaf: deep, cabundle: [...pki.cabundle, sub.der] }))).toBe('ERR_CHAIN_CONSTRAINT_VIOLATION');
  });

  it('refuses an intermediate without keyCertSign', async () => {
    const weak = await issueCertificate(pki.zonal, {
      subject: pki.instance.subject, keys: pki.instance.keys, notBefore: NB, notAfter: NA, ca: true, pathLength: 0,
      keyUsages: x509.KeyUsageFlags.digitalSignature,
    });
    expect(await codeFor(build({ cabundle: [pki.root.der, pki.regional.der, pki.zonal.der, weak.der] }))).toBe('ERR_CHAIN_CONSTRAINT_VIOLATION');
  });

  it('refuses a leaf with a P-256 key (ES384 needs P-384)', async () => {
    const p256 = await issueNitroLeaf(pki, { notBefore: LEAF_NB, notAfter: LEAF_NA, keys: await generateDevKeyPair('p256') });
    const fields = nitroPayloadFields(p256, pki.cabundle, { timestamp: AT });
    const payload = encodeCbor(fields);
    const sig = new Uint8Array(96);
    sig.set(cryptoSign('sha256', payload, { key: devPrivateKeyObject(p256.keys), dsaEncoding: 'ieee-p1363' }));
    const doc = assembleCoseSign1({ protectedHeader: ES384_PROTECTED_HEADER, payload, signature: sig });
    expect(await codeFor(doc)).toBe('ERR_NITRO_ALGORITHM_UNSUPPORTED');
  });
});

describe('the COSE envelope', () => {
  it('accepts CBOR tag 18 and indefinite-length payload maps', async () => {
    expect((await verify(build({ tagged: true }))).claims.nonce).toBe('ab'.repeat(32));
    const indefinite = (p: Uint8Array) => {
      expect(p[0]).toBe(0xa7); // a definite map of 7 entries, rewritten as bf … ff
      return Uint8Array.of(0xbf, ...p.subarray(1), 0xff);
    };
    expect((await verify(build({ payload: indefinite }))).claims.nonce).toBe('ab'.repeat(32));
  });

  it.each([
    ['ES256 (-7)', Uint8Array.of(0xa1, 0x01, 0x26)],
    ['alg as text "ES384"', Uint8Array.of(0xa1, 0x01, 0x65, ...Buffer.from('ES384'))],
    ['an extra parameter (kid)', Uint8Array.of(0xa2, 0x01, 0x38, 0x22, 0x04, 0x41, 0x00)],
    ['no alg', Uint8Array.of(0xa0)],
    ['an empty protected bucket', new Uint8Array(0)],
  ])('refuses a protected header with %s', async (_what, header) => {
    expect(await codeFor(build({ protectedHeader: header }))).toBe('ERR_NITRO_ALGORITHM_UNSUPPORTED');
  });

  it('refuses a protected header that is not a CBOR map', async () => {
    expect(await codeFor(build({ protectedHeader: Uint8Array.of(0x82, 0x01, 0x38) }))).toBe('ERR_NITRO_DOCUMENT_MALFORMED');
    expect(await codeFor(build({ protectedHeader: Uint8Array.of(0x01) }))).toBe('ERR_NITRO_DOCUMENT_MALFORMED');
  });

  it('refuses a non-empty unprotected header', async () => {
    expect(await codeFor(build({ unprotected: new Map([[4, Uint8Array.of(1)]]) }))).toBe('ERR_NITRO_DOCUMENT_MALFORMED');
  });

  it('refuses DER and short signatures', async () => {
    const toDer = (raw: Uint8Array): Uint8Array => {
      const int = (b: Uint8Array) => (b[0] as number) & 0x80 ? Uint8Array.of(0x02, b.length + 1, 0, ...b) : Uint8Array.of(0x02, b.length, ...b);
      const body = Uint8Array.of(...int(raw.subarray(0, 48)), ...int(raw.subarray(48)));
      return Uint8Array.of(0x30, body.length, ...body);
    };
    expect(await codeFor(build({ signature: toDer }))).toBe('ERR_NITRO_DOCUMENT_MALFORMED');
    expect(await codeFor(build({ signature: (s) => s.subarray(0, 95) }))).toBe('ERR_NITRO_DOCUMENT_MALFORMED');
    expect(await codeFor(build({ signature: (s) => Uint8Array.of(...s, 0) }))).toBe('ERR_NITRO_DOCUMENT_MALFORMED');
  });

  it('refuses envelopes of the wrong shape', async () => {
    const good = build();
    const parts = [ES384_PROTECTED_HEADER, new Map(), Uint8Array.of(0xa0), new Uint8Array(96)];
    for (const value of [parts.slice(0, 3), [...parts, null], new Map(), Uint8Array.of(1), [ES384_PROTECTED_HEADER, new Map(), null, new Uint8Array(96)]]) {
      expect(await codeFor(encodeCbor(value))).toBe('ERR_NITRO_DOCUMENT_MALFORMED');
    }
    expect(await codeFor(Uint8Array.of(...good, 0x00))).toBe('ERR_NITRO_DOCUMENT_MALFORMED');
    expect(await codeFor(Uint8Array.of(0xd2, 0xd2, ...good))).toBe('ERR_NITRO_DOCUMENT_MALFORMED');
    expect(await codeFor(Uint8Array.of(0xd8, 0x12, ...good))).toBe('ERR_NITRO_DOCUMENT_MALFORMED');
    expect(await codeFor(Uint8Array.of(0xd1, ...good))).toBe('ERR_NITRO_DOCUMENT_MALFORMED');
  });

  it('refuses payloads over 16384 bytes and documents over the envelope limit', async () => {
    const big = build({ edit: (f) => f.set('user_data', new Uint8Array(17_000)) });
    expect(await codeFor(big)).toBe('ERR_NITRO_DOCUMENT_MALFORMED');
    expect(await codeFor(new Uint8Array(40_000))).toBe('ERR_NITRO_DOCUMENT_MALFORMED');
  });

  it('refuses a payload that is not a map', async () => {
    expect(await codeFor(build({ payload: () => encodeCbor([1, 2]) }))).toBe('ERR_NITRO_FIELD_INVALID');
  });
});

describe('payload fields (AWS attestation_process §2.2, §3.2.2)', () => {
  it.each(['module_id', 'digest', 'timestamp', 'pcrs', 'certificate', 'cabundle'])('refuses a missing or null %s', async (field) => {
    expect(await codeFor(build({ edit: (f) => f.delete(field) }))).toBe('ERR_NITRO_FIELD_INVALID');
    expect(await codeFor(build({ edit: (f) => f.set(field, null) }))).toBe('ERR_NITRO_FIELD_INVALID');
  });

  it('treats null, absent and empty optional fields as the empty string', async () => {
    const nulls = await verify(build({ spec: { publicKey: null, userData: null, nonce: null } }));
    const absent = await verify(build({ spec: { nonce: undefined } }));
    const empty = await verify(build({ spec: { publicKey: new Uint8Array(0), userData: new Uint8Array(0), nonce: new Uint8Array(0) } }));
    for (const { claims } of [nulls, absent, empty]) {
      expect([claims.publicKey, claims.userData, claims.nonce]).toEqual(['', '', '']);
    }
  });

  it.each(['public_key', 'user_data', 'nonce'])('accepts 1024 bytes of %s and refuses 1025, or a non-byte-string', async (field) => {
    const max = await verify(build({ edit: (f) => f.set(field, new Uint8Array(1024).fill(9)) }));
    const claim = { public_key: 'publicKey', user_data: 'userData', nonce: 'nonce' }[field] as 'publicKey' | 'userData' | 'nonce';
    expect(max.claims[claim]).toBe('09'.repeat(1024));
    expect(await codeFor(build({ edit: (f) => f.set(field, new Uint8Array(1025)) }))).toBe('ERR_NITRO_FIELD_INVALID');
    expect(await codeFor(build({ edit: (f) => f.set(field, 'text') }))).toBe('ERR_NITRO_FIELD_INVALID');
  });

  it('refuses unknown fields and non-text keys', async () => {
    expect(await codeFor(build({ edit: (f) => f.set('nitrotpm_pcrs', new Map()) }))).toBe('ERR_NITRO_FIELD_INVALID');
    const intKey = build({ edit: (f) => (f as Map<unknown, unknown>).set(7, 1) });
    expect(await codeFor(intKey)).toBe('ERR_NITRO_FIELD_INVALID');
  });

  it('refuses an empty or non-text module_id', async () => {
    expect(await codeFor(build({ spec: { moduleId: '' } }))).toBe('ERR_NITRO_FIELD_INVALID');
    expect(await codeFor(build({ edit: (f) => f.set('module_id', Uint8Array.of(0x69)) }))).toBe('ERR_NITRO_FIELD_INVALID');
  });

  it('refuses a digest other than "SHA384"', async () => {
    expect(await codeFor(build({ spec: { digest: 'SHA256' } }))).toBe('ERR_NITRO_ALGORITHM_UNSUPPORTED');
    expect(await codeFor(build({ spec: { digest: 'sha384' } }))).toBe('ERR_NITRO_ALGORITHM_UNSUPPORTED');
    expect(await codeFor(build({ edit: (f) => f.set('digest', 384) }))).toBe('ERR_NITRO_FIELD_INVALID');
  });

  it('refuses timestamps that are zero, negative, text, floats, beyond 2^53 or past the Date range', async () => {
    expect(await codeFor(build({ edit: (f) => f.set('timestamp', 0) }))).toBe('ERR_NITRO_FIELD_INVALID');
    expect(await codeFor(build({ edit: (f) => f.set('timestamp', -5) }))).toBe('ERR_NITRO_FIELD_INVALID');
    expect(await codeFor(build({ edit: (f) => f.set('timestamp', '1700000000000') }))).toBe('ERR_NITRO_FIELD_INVALID');
    expect(await codeFor(build({ edit: (f) => f.set('timestamp', 1.7e12 + 0.5) }))).toBe('ERR_NITRO_DOCUMENT_MALFORMED');
    expect(await codeFor(build({ edit: (f) => f.set('timestamp', 2n ** 60n) }))).toBe('ERR_NITRO_DOCUMENT_MALFORMED');
    expect(await codeFor(build({ edit: (f) => f.set('timestamp', 2n ** 53n - 1n) }))).toBe('ERR_NITRO_FIELD_INVALID');
  });

  it('accepts 32 PCRs of 32, 48 or 64 bytes, and refuses other counts, indices and sizes', async () => {
    const pcrs32 = new Map<number, Uint8Array>();
    for (let i = 0; i < 32; i++) pcrs32.set(i, new Uint8Array([32, 48, 64][i % 3] as number).fill(i + 1));
    const { claims } = await verify(build({ spec: { pcrs: pcrs32 } }));
    expect(Object.keys(claims.pcrs)).toHaveLength(32);
    expect(claims.pcrs['31']).toBe('20'.repeat(48));
    const bad: [string, Map<unknown, unknown>][] = [
      ['empty', new Map()],
      ['33 entries', new Map([...pcrs32, [32, new Uint8Array(48)]])],
      ['index 32', new Map([...nitroPcrs(), [32, new Uint8Array(48)]])],
      ['text index', new Map<unknown, unknown>([...nitroPcrs(), ['16', new Uint8Array(48)]])],
      ['47-byte value', new Map([...nitroPcrs(), [5, new Uint8Array(47)]])],
      ['null value', new Map<unknown, unknown>([...nitroPcrs(), [5, null]])],
      ['no PCR1', new Map([...nitroPcrs()].filter(([i]) => i !== 1))],
      ['not a map', new Map([[0, 'array']])],
    ];
    for (const [what, pcrs] of bad) {
      const value = what === 'not a map' ? [new Uint8Array(48)] : pcrs;
      expect([what, await codeFor(build({ edit: (f) => f.set('pcrs', value) }))]).toEqual([what, 'ERR_NITRO_FIELD_INVALID']);
    }
  });

  it('refuses oversized, empty or garbage certificates and cabundles', async () => {
    expect(await codeFor(build({ edit: (f) => f.set('certificate', new Uint8Array(1025)) }))).toBe('ERR_NITRO_FIELD_INVALID');
    expect(await codeFor(build({ edit: (f) => f.set('certificate', new Uint8Array(0)) }))).toBe('ERR_NITRO_FIELD_INVALID');
    expect(await codeFor(build({ edit: (f) => f.set('certificate', new Uint8Array(100).fill(0x30)) }))).toBe('ERR_CHAIN_MALFORMED');
    expect(await codeFor(build({ cabundle: [] }))).toBe('ERR_NITRO_FIELD_INVALID');
    expect(await codeFor(build({ cabundle: Array.from({ length: 9 }, () => pki.root.der) }))).toBe('ERR_NITRO_FIELD_INVALID');
    expect(await codeFor(build({ cabundle: [...pki.cabundle, new Uint8Array(1025)] }))).toBe('ERR_NITRO_FIELD_INVALID');
    expect(await codeFor(build({ edit: (f) => f.set('cabundle', pki.root.der) }))).toBe('ERR_NITRO_FIELD_INVALID');
    expect(await codeFor(build({ edit: (f) => f.set('cabundle', ['not bytes']) }))).toBe('ERR_NITRO_FIELD_INVALID');
  });
});

describe('nonce binding', () => {
  it('accepts the expected nonce and refuses any other, or none', async () => {
    expect((await verify(build(), { expectedNonce: NONCE })).claims.nonce).toBe('ab'.repeat(32));
    expect(await codeFor(build(), { expectedNonce: NONCE.subarray(0, 31) })).toBe('ERR_EVIDENCE_NONCE_MISMATCH');
    expect(await codeFor(build({ spec: { nonce: null } }), { expectedNonce: NONCE })).toBe('ERR_EVIDENCE_NONCE_MISMATCH');
    expect(await codeFor(build({ spec: { nonce: undefined } }), { expectedNonce: NONCE })).toBe('ERR_EVIDENCE_NONCE_MISMATCH');
    expect(await codeFor(build({ spec: { nonce: new Uint8Array(0) } }), { expectedNonce: NONCE })).toBe('ERR_EVIDENCE_NONCE_MISMATCH');
    const bind = new Uint8Array(64).fill(0x5a);
    expect((await verify(build({ spec: { nonce: bind } }), { expectedNonce: bind })).claims.nonce).toBe('5a'.repeat(64));
  });
});

describe('debug enclaves and appraisal', () => {
  const zero = new Uint8Array(48);

  it('claims debug when PCR0–2 are zero (and when any one of them is), and appraisal refuses it', async () => {
    const allZero = await verify(build({ spec: { pcrs: nitroPcrs({ 0: zero, 1: zero, 2: zero }) } }));
    const pcr0Zero = await verify(build({ spec: { pcrs: nitroPcrs({ 0: zero }) } }));
    expect([allZero.claims.debug, pcr0Zero.claims.debug]).toEqual([true, true]);
    expect(codeOf(() => assertNitroClaims(allZero.claims, { pcrs: { '0': ['00'.repeat(48)] } }))).toBe('ERR_NITRO_DEBUG_ENCLAVE');
    expect(codeOf(() => assertNitroClaims(allZero.claims, {}))).toBe('ERR_NITRO_DEBUG_ENCLAVE');
    expect(codeOf(() => assertNitroClaims(allZero.claims, { allowDebug: true }))).toBeUndefined();
  });

  it('reports every failed check: debug, each PCR, and age', async () => {
    const { claims } = await verify(build({ spec: { pcrs: nitroPcrs({ 0: zero, 1: zero, 2: zero }) } }));
    const failures = appraiseNitroClaims(claims, {
      pcrs: { '1': ['11'.repeat(48)], '3': ['33'.repeat(48)] },
      now: new Date(AT.getTime() + 600_000),
      maxAgeMs: 300_000,
    });
    expect(failures.map((f) => [f.code, f.check])).toEqual([
      ['ERR_NITRO_DEBUG_ENCLAVE', 'debug'],
      ['ERR_EVIDENCE_CLAIM_MISMATCH', 'pcr1'],
      ['ERR_EVIDENCE_CLAIM_MISMATCH', 'pcr3'],
      ['ERR_NITRO_TIMESTAMP_OUT_OF_RANGE', 'timestamp'],
    ]);
  });

  it('checks age both ways and accepts allowed PCR values case-insensitively', async () => {
    const { claims } = await verify(build());
    const pcr0 = (claims.pcrs['0'] as string).toUpperCase();
    expect(appraiseNitroClaims(claims, { pcrs: { '0': ['00', pcr0] }, now: AT, maxAgeMs: 1000 })).toEqual([]);
    expect(appraiseNitroClaims(claims, { pcrs: { '20': ['00'] } }).map((f) => f.check)).toEqual(['pcr20']);
    const early = appraiseNitroClaims(claims, { now: new Date(AT.getTime() - 120_000), maxAgeMs: 300_000 });
    expect(early.map((f) => f.code)).toEqual(['ERR_NITRO_TIMESTAMP_OUT_OF_RANGE']);
    expect(appraiseNitroClaims(claims, { now: new Date(AT.getTime() - 30_000), maxAgeMs: 300_000 })).toEqual([]);
  });
});
