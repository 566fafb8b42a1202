// Nitro Enclaves verification throughput: fresh documents from a test CA with a warm chain memo, next to
// raw P-384 `crypto.verify` over a Sig_structure of the same size, measured in the same run.
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { measure, report } from './lib.mjs';
import { createNitroTestPki, issueNitroLeaf, mintNitroDocument } from '../dist/dev/nitro.js';
import { devPrivateKeyObject } from '../dist/dev/pki.js';
import { verifyNitroEvidence } from '../dist/evidence/nitro/verify.js';
import { parseNitroDocument } from '../dist/evidence/nitro/document.js';
import { sigStructure } from '../dist/evidence/nitro/cose.js';
import { createTrustAnchors } from '../dist/evidence/anchors.js';
import { LruMemo } from '../dist/evidence/memo.js';
import { emptyCollateral } from '../dist/collateral/recognize.js';

const NOW = new Date('2025-06-01T01:00:00Z');
const DOCUMENTS = 64;

/**
 * Remembers chain results (certificate signatures, constraints) but never the per-document COSE
 * signature, so every iteration pays for a fresh document's ES384 check as a new enclave's would.
 */
function chainOnlyMemo(lru) {
  return { remember: (key, compute) => (key.startsWith('nitro-cose-sig:') ? compute() : lru.remember(key, compute)) };
}

async function mintDocuments() {
  const pki = await createNitroTestPki({ notBefore: new Date('2025-01-01Z'), notAfter: new Date('2026-01-01Z') });
  const leaf = await issueNitroLeaf(pki, { notBefore: new Date('2025-06-01T00:00:00Z'), notAfter: new Date('2025-06-01T03:00:00Z') });
  const docs = [];
  for (let i = 0; i < DOCUMENTS; i++) {
    const nonce = new Uint8Array(64).fill(i);
    const document = mintNitroDocument(pki, leaf, { timestamp: new Date(NOW.getTime() - i), nonce, userData: new Uint8Array(32).fill(i) });
    docs.push({ document, nonce });
  }
  return { pki, leaf, docs };
}

export async function run({ quick }) {
  const seconds = quick ? 1 : 3;
  const { pki, leaf, docs } = await mintDocuments();
  const base = { collateral: emptyCollateral(), anchors: createTrustAnchors([pki.root.der]), now: NOW };

  // Ceiling: one raw P-384 verify over the same bytes the verifier hashes (the Sig_structure).
  const sample = parseNitroDocument(docs[0].document);
  const tbs = sigStructure(sample.cose);
  const publicKey = createPublicKey(devPrivateKeyObject(leaf.keys));
  const raw = await measure(() => {
    if (!cryptoVerify('sha384', tbs, { key: publicKey, dsaEncoding: 'ieee-p1363' }, sample.cose.signature)) throw new Error('raw verify failed');
  }, { seconds });

  const memo = chainOnlyMemo(new LruMemo());
  let i = 0;
  const warm = await measure(async () => {
    const { document, nonce } = docs[i++ % DOCUMENTS];
    await verifyNitroEvidence({ type: 'nitro', document }, { ...base, memo, expectedNonce: nonce });
  }, { seconds });

  let k = 0;
  const cold = await measure(async () => {
    const { document, nonce } = docs[k++ % DOCUMENTS];
    await verifyNitroEvidence({ type: 'nitro', document }, { ...base, expectedNonce: nonce });
  }, { seconds });

  report('nitro.p384-verify.raw', raw.opsPerSecond, 'ops/s');
  report('nitro.verify.warm-chain', warm.opsPerSecond, 'ops/s', { ceiling: raw.opsPerSecond, ratio: warm.opsPerSecond / raw.opsPerSecond });
  report('nitro.verify.no-memo', cold.opsPerSecond, 'ops/s', { ceiling: raw.opsPerSecond, ratio: cold.opsPerSecond / raw.opsPerSecond });
}
