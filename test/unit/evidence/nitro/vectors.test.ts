// Real NSM attestation documents (test/vectors/nitro): each verifies at its verification time with the
// manifest's values; the manifest's negative mutations, derived here in code, fail with specific codes.
import { describe, expect, it, beforeAll } from 'vitest';
import { createHash } from 'node:crypto';
import { verifyNitroEvidence } from '../../../../src/evidence/nitro/verify.js';
import { parseNitroDocument } from '../../../../src/evidence/nitro/document.js';
import { sigStructure } from '../../../../src/evidence/nitro/cose.js';
import { assertNitroClaims } from '../../../../src/evidence/nitro/appraise.js';
import { verifyEvidence, verifyEvidenceSet } from '../../../../src/evidence/verify.js';
import { vendorAnchors } from '../../../../src/evidence/anchors.js';
import { parseCertificate } from '../../../../src/evidence/pki.js';
import { LruMemo } from '../../../../src/evidence/memo.js';
import { EvidenceError } from '../../../../src/errors.js';
import { assembleCoseSign1, encodeCbor } from '../../../../src/dev/nitro.js';
import { createSelfSignedRoot, generateDevKeyPair, type DevCertificate } from '../../../../src/dev/pki.js';
import {
  codeOf,
  codeOfAsync,
  contextAt,
  decodeForTest,
  flipByte,
  indexOfBytes,
  manifest,
  vectorDocument,
  type ManifestVector,
} from './nitro-helpers.js';

const AWS_ROOT_SPKI = 'f2caf5ecc6190b4a8399b78bc58a2bbcd0382375db8a1bfd78a82743874fd225';
const HOUR = 3_600_000;

function verifyAt(vector: ManifestVector, document: Uint8Array, now = new Date(vector.verification_time), expectedNonce?: Uint8Array) {
  return verifyNitroEvidence({ type: 'nitro', document }, contextAt(now, vendorAnchors(), expectedNonce ? { expectedNonce } : {}));
}

function manifestNonce(vector: ManifestVector): Uint8Array | undefined {
  return vector.document.nonce ? new Uint8Array(Buffer.from(vector.document.nonce.hex, 'hex')) : undefined;
}

it('the manifest holds the four documented vectors', () => {
  expect(manifest.root.spki_sha256).toBe(AWS_ROOT_SPKI);
  expect(manifest.vectors.map((v) => v.id).sort()).toEqual([
    'cape-2022-09-15',
    'epsilon-2026-02-06',
    'marlin-2024-08-07',
    'nitrite-2021-10-28-debug-mode',
  ]);
});

describe.each(manifest.vectors.map((v) => [v.id, v] as const))('real document %s', (_id, vector) => {
  const document = vectorDocument(vector);
  const now = new Date(vector.verification_time);

  it('verifies at its verification time with the manifest\'s values and nonce', async () => {
    const result = await verifyAt(vector, document, now, manifestNonce(vector));
    const d = vector.document;
    expect(result.claims).toEqual({
      tee: 'nitro',
      debug: vector.id.includes('debug-mode'),
      anchor: { source: 'vendor', name: 'AWS Nitro Enclaves Root-G1', spki: AWS_ROOT_SPKI },
      simulated: false,
      revocationChecked: true,
      moduleId: d.module_id,
      digest: 'SHA384',
      pcrs: d.pcrs,
      nonce: d.nonce?.hex ?? '',
      userData: d.user_data?.hex ?? '',
      publicKey: d.public_key?.hex ?? '',
      timestamp: new Date(d.timestamp_ms).toISOString(),
    });
    expect(result.digest).toBe(vector.files[0]?.sha256);
    const [from, until] = vector.cert_chain.common_validity_window;
    expect(result.validFrom.toISOString()).toBe(new Date(from).toISOString());
    expect(result.validUntil.toISOString()).toBe(new Date(until).toISOString());
  });

  it('parses to the manifest\'s structure and Sig_structure digest', () => {
    const doc = parseNitroDocument(document);
    expect(doc.cose.tagged).toBe(false);
    expect(Buffer.from(doc.cose.protectedHeader).toString('hex')).toBe('a1013822');
    expect(Buffer.from(doc.cose.signature).toString('hex')).toBe(vector.cose.signature_hex);
    expect(doc.cabundle).toHaveLength(vector.document.cabundle_length);
    expect(doc.timestamp).toBe(vector.document.timestamp_ms);
    const tbs = sigStructure(doc.cose);
    expect(tbs.length).toBe(vector.cose.sig_structure_length);
    expect(createHash('sha256').update(tbs).digest('hex')).toBe(vector.cose.sig_structure_sha256);
  });

  it('verifies in the tagged form (CBOR tag 18) with the same claims', async () => {
    const plain = await verifyAt(vector, document);
    const tagged = await verifyAt(vector, Uint8Array.of(0xd2, ...document));
    expect(tagged.claims).toEqual(plain.claims);
  });

  it('dispatches through the evidence registry', async () => {
    const result = await verifyEvidence({ type: 'nitro', document }, contextAt(now, vendorAnchors()));
    expect(result.claims.tee).toBe('nitro');
  });

  it('refuses a flipped signature byte', async () => {
    expect(await codeOfAsync(() => verifyAt(vector, flipByte(document, document.length - 1)))).toBe('ERR_NITRO_SIGNATURE_INVALID');
    expect(await codeOfAsync(() => verifyAt(vector, flipByte(document, document.length - 96)))).toBe('ERR_NITRO_SIGNATURE_INVALID');
  });

  it('refuses a flipped byte inside a PCR value of the payload', async () => {
    const index = vector.document.nonzero_pcrs[0] as number;
    const at = indexOfBytes(document, Buffer.from(vector.document.pcrs[String(index)] as string, 'hex'));
    expect(at).toBeGreaterThan(0);
    const mutated = flipByte(document, at + 20);
    expect(parseNitroDocument(mutated).pcrs.get(index)).not.toEqual(parseNitroDocument(document).pcrs.get(index));
    expect(await codeOfAsync(() => verifyAt(vector, mutated))).toBe('ERR_NITRO_SIGNATURE_INVALID');
  });

  it('refuses verification 4 h after its time (leaf expired) and before the leaf existed', async () => {
    expect(await codeOfAsync(() => verifyAt(vector, document, new Date(now.getTime() + 4 * HOUR)))).toBe('ERR_CHAIN_EXPIRED');
    const leafNotBefore = new Date(vector.cert_chain.chain[0]?.not_before as string);
    expect(await codeOfAsync(() => verifyAt(vector, document, new Date(leafNotBefore.getTime() - 1000)))).toBe('ERR_CHAIN_NOT_YET_VALID');
  });

  it('verifies at the edges of the common validity window', async () => {
    const [from, until] = vector.cert_chain.common_validity_window.map((t) => new Date(t));
    await expect(verifyAt(vector, document, from as Date)).resolves.toBeDefined();
    await expect(verifyAt(vector, document, until as Date)).resolves.toBeDefined();
    expect(await codeOfAsync(() => verifyAt(vector, document, new Date((until as Date).getTime() + 1000)))).toBe('ERR_CHAIN_EXPIRED');
  });

  it('refuses a different expected nonce, and a nonce-less document when one is expected', async () => {
    const expected = manifestNonce(vector);
    const wrong = expected ? flipByte(expected, 0) : new Uint8Array(32).fill(7);
    expect(await codeOfAsync(() => verifyAt(vector, document, now, wrong))).toBe('ERR_EVIDENCE_NONCE_MISMATCH');
    const longer = expected ? Uint8Array.of(...expected, 0) : new Uint8Array(64);
    expect(await codeOfAsync(() => verifyAt(vector, document, now, longer))).toBe('ERR_EVIDENCE_NONCE_MISMATCH');
  });

  it('is refused when the composite set demands a release binding it does not carry', async () => {
    const binding = new Uint8Array(64).fill(0x42);
    expect(await codeOfAsync(() => verifyEvidenceSet([{ type: 'nitro', document }], contextAt(now, vendorAnchors()), binding))).toBe(
      'ERR_EVIDENCE_NONCE_MISMATCH',
    );
  });

  it('refuses truncations with a typed code', async () => {
    for (const length of [0, 1, 7, 100, document.length - 97, document.length - 1]) {
      expect(await codeOfAsync(() => verifyAt(vector, document.subarray(0, length)))).toBe('ERR_NITRO_DOCUMENT_MALFORMED');
    }
  });

  it('reuses pure chain and signature results through ctx.memo', async () => {
    const memo = new LruMemo();
    const ctx = contextAt(now, vendorAnchors(), { memo });
    const first = await verifyNitroEvidence({ type: 'nitro', document }, ctx);
    const misses = memo.misses;
    const second = await verifyNitroEvidence({ type: 'nitro', document }, ctx);
    expect(memo.misses).toBe(misses);
    expect(memo.hits).toBeGreaterThanOrEqual(misses);
    expect(second.claims).toEqual(first.claims);
    // A memo never turns a failure into a success: time still matters.
    expect(await codeOfAsync(() => verifyNitroEvidence({ type: 'nitro', document }, { ...ctx, now: new Date(now.getTime() + 4 * HOUR) }))).toBe(
      'ERR_CHAIN_EXPIRED',
    );
  });
});

it('a certificate whose P-384 key does not decode is ERR_CHAIN_MALFORMED, not an untyped crypto error', () => {
  const leafDer = parseNitroDocument(vectorDocument(manifest.vectors[0] as ManifestVector)).certificate;
  const spkiPrefix = Buffer.from('3076301006072a8648ce3d020106052b8104002203620004', 'hex');
  const at = indexOfBytes(leafDer, spkiPrefix);
  expect(at).toBeGreaterThan(0);
  const broken = new Uint8Array(leafDer);
  broken[at + spkiPrefix.length - 1] = 0x05; // the uncompressed-point marker 04 becomes an invalid 05
  expect(codeOf(() => parseCertificate(broken))).toBe('ERR_CHAIN_MALFORMED');
});

describe('cabundle root replaced (re-encoded payload, original signature)', () => {
  const vector = manifest.vectors[0] as ManifestVector;
  const document = vectorDocument(vector);
  const now = new Date(vector.verification_time);
  let sameName: DevCertificate;
  let otherName: DevCertificate;

  function withRoot(root: Uint8Array): Uint8Array {
    const { parts, payload } = decodeForTest(document);
    const bundle = [...(payload.get('cabundle') as Uint8Array[])];
    bundle[0] = root;
    payload.set('cabundle', bundle);
    payload.set('timestamp', BigInt(payload.get('timestamp') as number | bigint));
    return assembleCoseSign1({ protectedHeader: parts[0] as Uint8Array, payload: encodeCbor(payload), signature: parts[3] as Uint8Array });
  }

  beforeAll(async () => {
    const validity = { notBefore: new Date('2019-10-28T13:28:05Z'), notAfter: new Date('2049-10-28T14:28:05Z') };
    sameName = await createSelfSignedRoot({ subject: 'C=US, O=Amazon, OU=AWS, CN=aws.nitro-enclaves', keys: await generateDevKeyPair('p384'), ...validity });
    otherName = await createSelfSignedRoot({ subject: 'C=US, O=Example, CN=not-aws', keys: await generateDevKeyPair('p384'), ...validity });
  });

  it('re-encoding without a change keeps the document valid (the test encoder matches NSM)', async () => {
    const { payload } = decodeForTest(document);
    const reencoded = withRoot((payload.get('cabundle') as Uint8Array[])[0] as Uint8Array);
    expect(Buffer.from(reencoded).equals(Buffer.from(document))).toBe(true);
  });

  it('refuses a look-alike root with the AWS name: the regional CA does not verify under it', async () => {
    expect(await codeOfAsync(() => verifyAt(vector, withRoot(sameName.der), now))).toBe('ERR_CHAIN_SIGNATURE_INVALID');
  });

  it('refuses an unrelated root: the regional CA\'s issuer is missing', async () => {
    expect(await codeOfAsync(() => verifyAt(vector, withRoot(otherName.der), now))).toBe('ERR_CHAIN_INCOMPLETE');
  });
});

describe('the debug-mode document (PCR0–2 zero)', () => {
  const vector = manifest.vectors.find((v) => v.id.includes('debug-mode')) as ManifestVector;
  const good = manifest.vectors.find((v) => v.id.startsWith('epsilon')) as ManifestVector;

  it('verifies (signature and chain are genuine) but claims debug, and appraisal refuses it under any PCR0 allow-list', async () => {
    const { claims } = await verifyAt(vector, vectorDocument(vector));
    expect(claims.debug).toBe(true);
    expect(claims.pcrs['0']).toBe('0'.repeat(96));
    for (const pcr0 of [[claims.pcrs['0'] as string], [good.document.pcrs['0'] as string]]) {
      let error: unknown;
      try {
        assertNitroClaims(claims, { pcrs: { '0': pcr0 } });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(EvidenceError);
      expect((error as EvidenceError).code).toBe('ERR_NITRO_DEBUG_ENCLAVE');
    }
  });

  it('a production document passes the appraisal of its own PCR0–2', async () => {
    const { claims } = await verifyAt(good, vectorDocument(good));
    const pcrs = { '0': [good.document.pcrs['0'] as string], '1': [good.document.pcrs['1'] as string], '2': [good.document.pcrs['2'] as string] };
    expect(codeOf(() => assertNitroClaims(claims, { pcrs }))).toBeUndefined();
    expect(codeOf(() => assertNitroClaims(claims, { pcrs: { '0': [vector.document.pcrs['0'] as string] } }))).toBe('ERR_EVIDENCE_CLAIM_MISMATCH');
  });
});
