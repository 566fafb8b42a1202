// Offline verification of an exported audit log (docs/governance.md "Audit checkpoints"): the hash chain
// (global, or one tenant's chain alone), every checkpoint's Ed25519 signature, and that each checkpoint's
// heads are the rows' own. Pure: the export document and the trusted keys in, a verdict out.
import { createHash, createPublicKey, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { AuditEntry } from './audit.js';
import { canonicalJson, expectedChainHash, expectedEventHash, chainOf, GENESIS_HASH } from './audit.js';
import { fromBase64Url } from '../encoding.js';

export const EXPORT_FORMAT = 'keyward-audit-export/1';
export const CHECKPOINT_TYPE = 'keyward-audit-checkpoint/1';

export interface ChainLink {
  readonly chain: string;
  readonly chainSeq: number;
  readonly chainPrevHash: string;
  readonly chainHash: string;
}

/** An event as exported: the event and its links, or (another tenant's, in a global export) its links alone. */
export type ExportRow = (AuditEntry & ChainLink & { readonly redacted?: undefined }) | ({ readonly redacted: true; readonly seq: number; readonly prevHash: string; readonly hash: string } & ChainLink);

export interface ChainLeaf {
  readonly chain: string;
  readonly seq: number;
  readonly head: string;
}

/** What a checkpoint signs (canonical JSON of this object, UTF-8). `chains`: sorted leaf digests. */
export interface CheckpointStatement {
  readonly type: typeof CHECKPOINT_TYPE;
  readonly seq: number;
  readonly head: string;
  readonly chains: readonly string[];
  readonly at: string;
  readonly kid: string;
}

export interface ExportCheckpoint {
  readonly seq: number;
  readonly kid: string;
  /** The exact signed bytes (canonical JSON of a CheckpointStatement). */
  readonly statement: string;
  /** Ed25519 signature over `statement`, base64url. */
  readonly signature: string;
  /** The chain heads this export can show: all of them (global export) or the tenant's own. */
  readonly leaves: readonly ChainLeaf[];
}

export interface AuditExport {
  readonly format: typeof EXPORT_FORMAT;
  /** 'global', or the one chain exported ('tenant:<name>'). */
  readonly chain: string;
  readonly from: number;
  readonly exportedAt: string;
  readonly rows: readonly ExportRow[];
  readonly checkpoints: readonly ExportCheckpoint[];
  /** Checkpoint public keys (JWK, Ed25519) for every kid the checkpoints name. */
  readonly keys: readonly JsonWebKey[];
  readonly nextFrom: number | null;
}

export interface VerifyProblem {
  readonly message: string;
  /** The global seq of the first bad row, when a row is at fault. */
  readonly row?: number;
  /** The global seq of the first bad checkpoint, when a checkpoint is at fault. */
  readonly checkpoint?: number;
}

export interface ExportVerdict {
  readonly verified: boolean;
  readonly chain: string;
  readonly rows: number;
  /** First and last sequence numbers in the chain's own numbering (global seq, or the tenant's chain seq). */
  readonly firstSeq: number | null;
  readonly lastSeq: number | null;
  readonly checkpoints: number;
  /** The highest sequence number (same numbering) a verified checkpoint covers; null: none. */
  readonly lastCheckpointedSeq: number | null;
  /** Rows after the last checkpoint: chained, but no signature covers them yet. */
  readonly notYetCovered: number;
  /** 'pinned' (--key) or 'file' (the keys inside the export were trusted as given). */
  readonly keySource: 'pinned' | 'file';
  readonly error?: VerifyProblem;
}

/** SHA-256 (hex) of a chain head's canonical JSON: what a checkpoint statement lists. */
export function leafDigest(leaf: ChainLeaf): string {
  return createHash('sha256').update(canonicalJson({ chain: leaf.chain, head: leaf.head, seq: leaf.seq }), 'utf8').digest('hex');
}

class Tampered extends Error {
  constructor(readonly problem: VerifyProblem) {
    super(problem.message);
  }
}

function fail(message: string, at: { row?: number; checkpoint?: number } = {}): never {
  throw new Tampered({ message, ...at });
}

function rowName(r: ExportRow): string {
  return `row seq ${r.seq} (${r.chain} #${r.chainSeq})`;
}

const HASH_HEX = /^[0-9a-f]{64}$/;

/** A row whose links are not what an export holds (a hand-edited file) is tampering, not a crash. */
function checkRowShape(r: ExportRow): void {
  const links = r !== null && typeof r === 'object' ? [r.prevHash, r.hash, r.chainPrevHash, r.chainHash] : [];
  const wellFormed =
    links.length === 4 && links.every((h) => typeof h === 'string' && HASH_HEX.test(h)) && Number.isSafeInteger(r.seq) && Number.isSafeInteger(r.chainSeq) && typeof r.chain === 'string';
  const event = r?.redacted === true || (r !== null && typeof r === 'object' && typeof r.details === 'object' && r.details !== null && typeof r.at === 'string');
  if (!wellFormed || !event) fail(`a row is malformed (seq ${String((r as { seq?: unknown } | null)?.seq)})`, typeof r?.seq === 'number' ? { row: r.seq } : {});
}

/** Checks one row's own hashes: the event hash (unless redacted) and its chain link hash. */
function checkRowHashes(r: ExportRow): void {
  checkRowShape(r);
  if (!r.redacted) {
    if (chainOf(r.details ?? {}) !== r.chain) fail(`${rowName(r)}: its tenant does not match its chain`, { row: r.seq });
    if (expectedEventHash(r.prevHash, r.seq, r) !== r.hash) fail(`${rowName(r)}: its content does not match its hash (edited)`, { row: r.seq });
  }
  if (expectedChainHash(r.chainPrevHash, r.chainSeq, r.hash) !== r.chainHash) fail(`${rowName(r)}: its chain link does not match its hash`, { row: r.seq });
}

/** Checks the links: global seq and prevHash (global export), and every chain's own seq and prevHash. */
function checkLinks(doc: AuditExport): void {
  const global = doc.chain === 'global';
  const lastOfChain = new Map<string, ExportRow>();
  let prev: ExportRow | undefined;
  for (const r of doc.rows) {
    checkRowHashes(r);
    if (!global && r.chain !== doc.chain) fail(`${rowName(r)} belongs to another chain than the export's (${doc.chain})`, { row: r.seq });
    if (global) {
      if (prev ? r.seq !== prev.seq + 1 || r.prevHash !== prev.hash : r.seq === 1 && r.prevHash !== GENESIS_HASH) {
        fail(`${rowName(r)} does not follow ${prev ? `seq ${prev.seq}` : 'the genesis'}: a row before it is missing or was changed`, { row: r.seq });
      }
    }
    const last = lastOfChain.get(r.chain);
    if (last ? r.chainSeq !== last.chainSeq + 1 || r.chainPrevHash !== last.chainHash : r.chainSeq === 1 && r.chainPrevHash !== GENESIS_HASH) {
      fail(`${rowName(r)} does not follow ${last ? rowName(last) : `the start of ${r.chain}`} in its chain: a row before it is missing or was changed`, { row: r.seq });
    }
    if (!global && last && r.seq <= last.seq) fail(`${rowName(r)} is out of order`, { row: r.seq });
    lastOfChain.set(r.chain, r);
    prev = r;
  }
}

/** The trusted public keys by kid: the pinned key alone, or the export's own. */
function trustedKeys(doc: AuditExport, pinned: readonly JsonWebKey[] | undefined): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  for (const jwk of pinned ?? doc.keys ?? []) {
    const kid = (jwk as { kid?: unknown }).kid;
    if (typeof kid !== 'string' || jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || jwk.d !== undefined) continue;
    try {
      keys.set(kid, createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: String(jwk.x) }, format: 'jwk' }));
    } catch {
      // Not an Ed25519 public key: trusted for nothing.
    }
  }
  return keys;
}

/** Verifies the signature and returns the statement; any defect is tampering. */
function openCheckpoint(cp: ExportCheckpoint, keys: Map<string, KeyObject>): CheckpointStatement {
  const at = { checkpoint: cp.seq };
  const key = keys.get(cp.kid);
  if (!key) fail(`checkpoint seq ${cp.seq}: signed with key ${cp.kid}, which is not trusted`, at);
  const signature = typeof cp.signature === 'string' ? fromBase64Url(cp.signature) : undefined;
  if (typeof cp.statement !== 'string' || !signature || !verify(null, Buffer.from(cp.statement, 'utf8'), key, signature)) {
    fail(`checkpoint seq ${cp.seq}: its signature does not verify (forged or altered)`, at);
  }
  let statement: CheckpointStatement;
  try {
    statement = JSON.parse(cp.statement) as CheckpointStatement;
  } catch {
    fail(`checkpoint seq ${cp.seq}: what it signed is not JSON`, at);
  }
  if (statement.type !== CHECKPOINT_TYPE || statement.seq !== cp.seq || statement.kid !== cp.kid || !Array.isArray(statement.chains)) {
    fail(`checkpoint seq ${cp.seq}: its fields do not match what was signed`, at);
  }
  return statement;
}

interface RowIndex {
  readonly bySeq: Map<number, ExportRow>;
  readonly byChain: Map<string, Map<number, ExportRow>>;
}

function indexRows(rows: readonly ExportRow[]): RowIndex {
  const bySeq = new Map<number, ExportRow>();
  const byChain = new Map<string, Map<number, ExportRow>>();
  for (const r of rows) {
    bySeq.set(r.seq, r);
    let chain = byChain.get(r.chain);
    if (!chain) byChain.set(r.chain, (chain = new Map()));
    chain.set(r.chainSeq, r);
  }
  return { bySeq, byChain };
}

/**
 * A leaf's head must be the chain hash of the chain's row with that seq, unless the export starts after
 * it. `mustHave`: a chain with no row in the export is a removal (a tenant export), not a chain whose rows
 * all came before the export's start (a global export, whose contiguous seq already proves nothing was cut).
 */
function checkLeaf(cp: ExportCheckpoint, leaf: ChainLeaf, index: RowIndex, mustHave: boolean): void {
  const rows = index.byChain.get(leaf.chain);
  const first = rows ? Math.min(...rows.keys()) : undefined;
  const row = rows?.get(leaf.seq);
  if (row) {
    if (row.chainHash !== leaf.head) fail(`checkpoint seq ${cp.seq}: the signed head of ${leaf.chain} #${leaf.seq} is not that row's (row seq ${row.seq} was changed)`, { checkpoint: cp.seq, row: row.seq });
    return;
  }
  if (first !== undefined ? leaf.seq < first : !mustHave) return;
  fail(`checkpoint seq ${cp.seq} covers ${leaf.chain} up to #${leaf.seq}, but that row is missing from the export`, { checkpoint: cp.seq });
}

function checkCheckpoint(doc: AuditExport, cp: ExportCheckpoint, keys: Map<string, KeyObject>, index: RowIndex): number {
  const statement = openCheckpoint(cp, keys);
  const at = { checkpoint: cp.seq };
  const signed = new Set(statement.chains);
  const leaves = Array.isArray(cp.leaves) ? cp.leaves : [];
  for (const leaf of leaves) if (!signed.has(leafDigest(leaf)) || typeof leaf.seq !== 'number') fail(`checkpoint seq ${cp.seq}: the head given for ${leaf.chain} is not one it signed`, at);
  if (doc.chain === 'global') {
    // Every chain's head is shown in a global export: a chain left out could hide a removed tail.
    if (leaves.length !== signed.size) fail(`checkpoint seq ${cp.seq}: ${signed.size} chain heads were signed but ${leaves.length} are given`, at);
    const row = index.bySeq.get(statement.seq);
    if (row && row.hash !== statement.head) fail(`checkpoint seq ${cp.seq}: the signed global head is not row seq ${row.seq}'s (that row was changed)`, { ...at, row: row.seq });
    if (!row) fail(`checkpoint seq ${cp.seq} covers global seq ${statement.seq}, which is missing from the export`, at);
    for (const leaf of leaves) checkLeaf(cp, leaf, index, false);
    return statement.seq;
  }
  const own = leaves.find((l) => l.chain === doc.chain);
  if (!own) fail(`checkpoint seq ${cp.seq} gives no head for ${doc.chain}`, at);
  if (own.seq >= doc.from) checkLeaf(cp, own, index, true);
  return own.seq;
}

/**
 * Verifies an export: the chain, then every checkpoint. With `pinnedKeys`, only those keys are trusted;
 * otherwise the keys inside the export are (and the verdict says so).
 */
export function verifyAuditExport(doc: AuditExport, pinnedKeys?: readonly JsonWebKey[]): ExportVerdict {
  const global = doc.chain === 'global';
  const rows = doc.rows;
  const seqOf = (r: ExportRow): number => (global ? r.seq : r.chainSeq);
  const base = {
    chain: doc.chain,
    rows: rows.length,
    firstSeq: rows[0] ? seqOf(rows[0]) : null,
    lastSeq: rows.length > 0 ? seqOf(rows[rows.length - 1] as ExportRow) : null,
    checkpoints: doc.checkpoints.length,
    keySource: pinnedKeys ? ('pinned' as const) : ('file' as const),
  };
  let covered: number | null = null;
  try {
    checkLinks(doc);
    const keys = trustedKeys(doc, pinnedKeys);
    const index = indexRows(rows);
    for (const cp of doc.checkpoints) covered = Math.max(covered ?? 0, checkCheckpoint(doc, cp, keys, index));
  } catch (err) {
    // Anything else that throws on this input (a value of the wrong type where a hand edit left it) is a
    // defect of the file as well.
    const problem = err instanceof Tampered ? err.problem : { message: `the export is malformed: ${(err as Error).message}` };
    return { ...base, verified: false, lastCheckpointedSeq: covered, notYetCovered: 0, error: problem };
  }
  const notYetCovered = rows.filter((r) => seqOf(r) > (covered ?? 0)).length;
  return { ...base, verified: true, lastCheckpointedSeq: covered, notYetCovered };
}
