// Signed audit checkpoints (docs/governance.md "Audit checkpoints"): every N events or T seconds, one
// replica signs {global head, every chain head} with keyward's checkpoint key — an Ed25519 key of its own,
// sealed under the KEK, apart from the attestation-token and session keys — and audits that it did.
import { createHash, createPrivateKey, sign, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { KekRing } from '../keys/kek.js';
import { freshKeyPair } from '../keys/key-pair.js';
import type { Db } from '../store/database.js';
import * as repo from '../store/audit-checkpoints-repo.js';
import { readAuditHead } from '../store/audit-repo.js';
import { toBase64Url, toHex, zeroize } from '../encoding.js';
import { appendAudit, canonicalJson, type Actor } from './audit.js';
import { CHECKPOINT_TYPE, leafDigest, type ChainLeaf, type CheckpointStatement } from './audit-verify.js';

const SYSTEM: Actor = { id: 'system', name: 'keyward' };

export interface CheckpointPolicy {
  /** Checkpoint once this many events are not yet covered. */
  readonly everyEvents: number;
  /** Checkpoint once the oldest uncovered event is this old (seconds). */
  readonly intervalSeconds: number;
}

export interface CheckpointInfo {
  readonly seq: number;
  readonly head: string;
  readonly kid: string;
  readonly at: string;
  readonly chains: number;
}

/** The AAD that binds a sealed checkpoint key to its kid. */
export function checkpointKeyAad(kid: string): Uint8Array {
  return Buffer.from(`keyward:v1:audit-checkpoint-key:${kid}`, 'utf8');
}

/** A checkpoint key's public JWK as published (`GET /v1/audit/checkpoint-keys`). */
export function publicCheckpointJwk(row: repo.CheckpointKeyRow): JsonWebKey {
  return row.publicJwk as JsonWebKey;
}

interface ActiveKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
}

export class AuditCheckpoints {
  private active: ActiveKey | undefined;

  constructor(
    private readonly db: Db,
    private readonly keks: KekRing,
    private readonly clock: Clock,
    private readonly policy: CheckpointPolicy,
  ) {}

  /** Every checkpoint public key, active and retired (old checkpoints stay verifiable). */
  async publicKeys(): Promise<{ keys: JsonWebKey[] }> {
    await this.signingKey();
    return { keys: (await repo.listCheckpointKeys(this.db)).map(publicCheckpointJwk) };
  }

  /**
   * Writes a checkpoint when one is due (cheap reads first; the head lock only then). Safe on every
   * replica at once: under the head lock the second one finds the first's checkpoint and stops.
   */
  async runDue(): Promise<CheckpointInfo | undefined> {
    if (!(await this.due(this.db, (await readAuditHead(this.db)).seq))) return undefined;
    const key = await this.signingKey();
    return this.db.transaction().execute(async (trx) => {
      const head = await repo.lockAuditHead(trx);
      if (!(await this.due(trx, head.seq))) return undefined;
      return this.write(trx, key, head);
    });
  }

  /**
   * Due when events other than the last checkpoint's own audit event are uncovered, and either there are
   * `everyEvents` of them or the oldest is `intervalSeconds` old.
   */
  private async due(db: Db, headSeq: number): Promise<boolean> {
    const last = await repo.latestCheckpoint(db);
    const firstUncovered = last ? last.seq + 2 : 1;
    const uncovered = headSeq - firstUncovered + 1;
    if (uncovered <= 0) return false;
    if (uncovered >= this.policy.everyEvents) return true;
    const oldest = await repo.auditEventTime(db, firstUncovered);
    return oldest !== undefined && oldest.getTime() + this.policy.intervalSeconds * 1000 <= this.clock.now().getTime();
  }

  private async write(trx: Db, key: ActiveKey, head: { seq: number; hash: Uint8Array }): Promise<CheckpointInfo | undefined> {
    const at = this.clock.now();
    const leaves: ChainLeaf[] = (await repo.listChainHeads(trx)).map((h) => ({ chain: h.chain, seq: h.seq, head: toHex(h.hash) }));
    const statement: CheckpointStatement = {
      type: CHECKPOINT_TYPE,
      seq: head.seq,
      head: toHex(head.hash),
      chains: leaves.map(leafDigest).sort(),
      at: at.toISOString(),
      kid: key.kid,
    };
    const text = canonicalJson(statement);
    const signature = new Uint8Array(sign(null, Buffer.from(text, 'utf8'), key.privateKey));
    const chains = Object.fromEntries(leaves.map((l) => [l.chain, { seq: l.seq, head: l.head }]));
    if (!(await repo.insertCheckpoint(trx, { seq: head.seq, head: head.hash, at, kid: key.kid, statement: text, signature, chains }))) return undefined;
    const info = { seq: head.seq, head: statement.head, kid: key.kid, at: statement.at, chains: leaves.length };
    await appendAudit(trx, { actor: SYSTEM, action: 'audit.checkpoint', target: String(head.seq), outcome: 'success', requestId: null, details: { ...info } }, at);
    return info;
  }

  private async signingKey(): Promise<ActiveKey> {
    if (this.active) return this.active;
    const row = (await repo.findActiveCheckpointKey(this.db)) ?? (await this.createKey());
    const kek = await this.keks.resolve(row.kekId);
    const pkcs8 = await kek.open(row.sealedPrivate, checkpointKeyAad(row.kid));
    try {
      this.active = { kid: row.kid, privateKey: createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' }) };
    } finally {
      zeroize(pkcs8);
    }
    return this.active;
  }

  /** A fresh key; when another replica created one first, theirs wins and this one is dropped. */
  private async createKey(): Promise<repo.CheckpointKeyRow> {
    const { publicKey, pkcs8 } = freshKeyPair({ type: 'ed25519' });
    const jwk = publicKey.export({ format: 'jwk' });
    const kid = `kw-audit-${toBase64Url(createHash('sha256').update(String(jwk.x)).digest()).slice(0, 16)}`;
    const kek = this.keks.active;
    const sealed = await kek.seal(pkcs8, checkpointKeyAad(kid));
    zeroize(pkcs8);
    const publicJwk = { kty: 'OKP', crv: 'Ed25519', x: jwk.x, kid, alg: 'EdDSA', use: 'sig', key_ops: ['verify'] };
    return repo.insertActiveCheckpointKey(this.db, { kid, publicJwk, kekId: kek.id, sealedPrivate: sealed, at: this.clock.now() });
  }
}
