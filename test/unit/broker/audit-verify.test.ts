// The offline verifier of audit exports over synthetic logs: a valid export verifies; each mutation (an edited,
// removed or malformed row, a forged signature, a swapped head, a missing chain head, an unpinned key) fails
// naming the row or checkpoint at fault.
import { generateKeyPairSync, randomUUID, sign, type JsonWebKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { GENESIS_HASH, canonicalJson, chainOf, expectedChainHash, expectedEventHash } from '../../../src/broker/audit.js';
import { CHECKPOINT_TYPE, EXPORT_FORMAT, leafDigest, verifyAuditExport, type AuditExport, type ChainLeaf, type ExportCheckpoint, type ExportRow } from '../../../src/broker/audit-verify.js';

const KID = 'kw-audit-test';
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const JWK = { ...publicKey.export({ format: 'jwk' }), kid: KID, alg: 'EdDSA' } as JsonWebKey;

type FullRow = Extract<ExportRow, { redacted?: undefined }>;

/** A global log of events for the given tenants (undefined: a platform event). */
function buildLog(tenants: readonly (string | undefined)[]): FullRow[] {
  const heads = new Map<string, { seq: number; hash: string }>();
  const rows: FullRow[] = [];
  let prev = GENESIS_HASH;
  tenants.forEach((tenant, i) => {
    const event = { id: randomUUID(), at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), actor: 'system', action: 'test', target: null, outcome: 'success' as const, requestId: null, details: tenant ? { tenant } : {} };
    const seq = i + 1;
    const hash = expectedEventHash(prev, seq, event);
    const chain = chainOf(event.details);
    const last = heads.get(chain) ?? { seq: 0, hash: GENESIS_HASH };
    const chainHash = expectedChainHash(last.hash, last.seq + 1, hash);
    rows.push({ ...event, seq, prevHash: prev, hash, chain, chainSeq: last.seq + 1, chainPrevHash: last.hash, chainHash });
    heads.set(chain, { seq: last.seq + 1, hash: chainHash });
    prev = hash;
  });
  return rows;
}

/** The checkpoint keyward would sign over the first `seq` rows. */
function checkpointAt(rows: readonly FullRow[], seq: number): { cp: Omit<ExportCheckpoint, 'leaves'>; leaves: ChainLeaf[] } {
  const heads = new Map<string, ChainLeaf>();
  for (const r of rows.slice(0, seq)) heads.set(r.chain, { chain: r.chain, seq: r.chainSeq, head: r.chainHash });
  const leaves = [...heads.values()];
  const statement = canonicalJson({ type: CHECKPOINT_TYPE, seq, head: rows[seq - 1]?.hash, chains: leaves.map(leafDigest).sort(), at: '2026-01-01T01:00:00.000Z', kid: KID });
  return { cp: { seq, kid: KID, statement, signature: sign(null, Buffer.from(statement), privateKey).toString('base64url') }, leaves };
}

const LOG = buildLog(['a', undefined, 'b', 'a', 'a', 'b', undefined, 'a', 'a']);

function tenantExport(tenant: string, checkpointSeqs: number[]): AuditExport {
  const chain = `tenant:${tenant}`;
  const checkpoints = checkpointSeqs.map((s) => {
    const { cp, leaves } = checkpointAt(LOG, s);
    return { ...cp, leaves: leaves.filter((l) => l.chain === chain) };
  });
  return { format: EXPORT_FORMAT, chain, from: 1, exportedAt: '2026-01-02T00:00:00.000Z', rows: LOG.filter((r) => r.chain === chain), checkpoints, keys: [JWK], nextFrom: null };
}

function globalExport(visible: readonly string[], checkpointSeqs: number[]): AuditExport {
  const rows: ExportRow[] = LOG.map((r) =>
    visible.includes(r.chain) ? r : { redacted: true, seq: r.seq, prevHash: r.prevHash, hash: r.hash, chain: r.chain, chainSeq: r.chainSeq, chainPrevHash: r.chainPrevHash, chainHash: r.chainHash },
  );
  const checkpoints = checkpointSeqs.map((s) => {
    const { cp, leaves } = checkpointAt(LOG, s);
    return { ...cp, leaves };
  });
  return { format: EXPORT_FORMAT, chain: 'global', from: 1, exportedAt: '2026-01-02T00:00:00.000Z', rows, checkpoints, keys: [JWK], nextFrom: null };
}

const mutable = (doc: AuditExport): any => structuredClone(doc);

describe('verifyAuditExport: a tenant export', () => {
  it('verifies alone and reports what the last checkpoint covers', () => {
    expect(verifyAuditExport(tenantExport('a', [5]))).toEqual({
      verified: true, chain: 'tenant:a', rows: 5, firstSeq: 1, lastSeq: 5, checkpoints: 1, lastCheckpointedSeq: 3, notYetCovered: 2, keySource: 'file',
    });
    expect(verifyAuditExport(tenantExport('a', [5]), [JWK])).toMatchObject({ verified: true, keySource: 'pinned' });
  });

  it('names an edited row', () => {
    const doc = mutable(tenantExport('a', [5]));
    doc.rows[1].actor = 'someone-else';
    expect(verifyAuditExport(doc).error).toEqual({ message: 'row seq 4 (tenant:a #2): its content does not match its hash (edited)', row: 4 });
  });

  it('names the row after a removed one, and a removed tail a checkpoint covers', () => {
    const removed = mutable(tenantExport('a', [5]));
    removed.rows.splice(1, 1);
    expect(verifyAuditExport(removed).error?.row).toBe(5);
    const tail = mutable(tenantExport('a', [9]));
    tail.rows.pop();
    expect(verifyAuditExport(tail).error).toMatchObject({ checkpoint: 9, message: expect.stringContaining('tenant:a up to #5') });
  });

  it('refuses a forged signature, a head it did not sign, an untrusted key and a missing head', () => {
    const forged = mutable(tenantExport('a', [5]));
    forged.checkpoints[0].statement = forged.checkpoints[0].statement.replace('01:00:00', '02:00:00');
    expect(verifyAuditExport(forged).error).toMatchObject({ checkpoint: 5, message: expect.stringContaining('signature does not verify') });
    const swapped = mutable(tenantExport('a', [5]));
    swapped.checkpoints[0].leaves[0].seq = 2;
    expect(verifyAuditExport(swapped).error?.message).toContain('is not one it signed');
    const other = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
    expect(verifyAuditExport(tenantExport('a', [5]), [{ ...other, kid: KID }]).error?.message).toContain('signature does not verify');
    expect(verifyAuditExport(tenantExport('a', [5]), [{ ...other, kid: 'another' }]).error?.message).toContain('not trusted');
    const headless = mutable(tenantExport('a', [5]));
    headless.checkpoints[0].leaves = [];
    expect(verifyAuditExport(headless).error?.message).toContain('gives no head for tenant:a');
  });

  it('refuses a row of another chain and a malformed row without throwing', () => {
    const moved = mutable(tenantExport('a', [5]));
    moved.rows.push(LOG[2]);
    expect(verifyAuditExport(moved).error?.row).toBe(3);
    const malformed = mutable(tenantExport('a', [5]));
    malformed.rows[0].hash = 'zz';
    expect(verifyAuditExport(malformed).error).toMatchObject({ row: 1, message: expect.stringContaining('malformed') });
    const nonsense = mutable(tenantExport('a', [5]));
    nonsense.checkpoints[0] = null;
    expect(verifyAuditExport(nonsense)).toMatchObject({ verified: false, error: { message: expect.stringContaining('malformed') } });
  });
});

describe('verifyAuditExport: a global export', () => {
  it('verifies with other tenants reduced to links, every checkpoint head checked', () => {
    expect(verifyAuditExport(globalExport(['platform', 'tenant:a'], [4, 8]))).toMatchObject({ verified: true, rows: 9, lastCheckpointedSeq: 8, notYetCovered: 1 });
  });

  it('catches a removed row re-linked over, a hidden chain head, and a covered seq missing', () => {
    const relinked = mutable(globalExport(['platform', 'tenant:a'], [8]));
    relinked.rows[2].prevHash = relinked.rows[0].hash;
    relinked.rows.splice(1, 1);
    expect(verifyAuditExport(relinked).error?.row).toBe(3);
    const hidden = mutable(globalExport(['platform'], [8]));
    hidden.checkpoints[0].leaves.pop();
    expect(verifyAuditExport(hidden).error?.message).toContain('chain heads were signed but');
    const cut = mutable(globalExport(['platform'], [8]));
    cut.rows = cut.rows.slice(0, 7);
    expect(verifyAuditExport(cut).error).toMatchObject({ checkpoint: 8, message: expect.stringContaining('missing from the export') });
  });

  it('catches an edited redacted link through its chain hash', () => {
    const doc = mutable(globalExport(['platform'], [8]));
    doc.rows[2].chainPrevHash = GENESIS_HASH.replace(/^00/, '01');
    expect(verifyAuditExport(doc).error?.row).toBe(3);
  });
});
