// Row MACs (docs/threat-model.md "Row MACs"): the database is not trusted with authority. A key's policy
// binding, every policy version and every API token carry an HMAC-SHA-256 under a KEK-sealed service key;
// a row whose MAC does not verify counts as absent (the key is unbound, the version or token does not
// exist) and raises an alert, so whoever can write the database but not use the KEK cannot re-bind a
// key, rewrite a policy or forge a token.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Db } from '../store/database.js';
import type { KekRing } from '../keys/kek.js';
import * as authRepo from '../store/auth-repo.js';
import * as keysRepo from '../store/keys-repo.js';
import * as policiesRepo from '../store/policies-repo.js';
import * as tokensRepo from '../store/tokens-repo.js';
import { activeKekRow } from '../store/keks-repo.js';
import { serviceKeyAad } from './kek-admin.js';
import { SYSTEM_ACTOR } from './api-tokens.js';
import { appendAudit, canonicalJson } from './audit.js';

const PURPOSE = 'row-mac';
const LABEL = 'keyward:row-mac:v1\0';

/** The binding columns of a key row. */
export interface KeyBinding {
  readonly id: string;
  readonly policyId: string | null;
  readonly policyVersion: number | null;
  readonly mac?: Uint8Array | null;
}

/** The columns of an API token row that decide what it may do. */
export interface ApiTokenFields {
  readonly id: string;
  readonly tokenHash: Uint8Array;
  readonly role: string;
  readonly scopes: readonly string[];
  readonly tenant: string | null;
  readonly expiresAt: Date | null;
  readonly userId: string;
  readonly createdBy: string;
  readonly bootstrap: boolean;
  readonly mac?: Uint8Array | null;
}

/** The columns of a policy version row that decide a release. */
export interface PolicyVersionFields {
  readonly policyId: string;
  readonly version: number;
  readonly sha256: string;
  readonly document: unknown;
  readonly mac?: Uint8Array | null;
}

export interface RowMacLog {
  error(obj: object, msg: string): void;
}

export class RowMac {
  /** Called once per mismatch (the alerts metric). */
  onMismatch: (table: string) => void = () => undefined;

  constructor(
    private readonly key: Uint8Array,
    private readonly clock: Clock,
    private readonly log: RowMacLog,
  ) {}

  /** HMAC-SHA-256 over the canonical JSON of (table, primary key, security-relevant columns). */
  sign(table: string, pk: unknown, fields: unknown): Buffer {
    return createHmac('sha256', this.key).update(LABEL).update(canonicalJson({ table, pk, fields }), 'utf8').digest();
  }

  verify(table: string, pk: unknown, fields: unknown, mac: Uint8Array | null | undefined): boolean {
    if (!mac || mac.length !== 32) return false;
    return timingSafeEqual(Buffer.from(mac), this.sign(table, pk, fields));
  }

  /** The MAC of a key's binding; NULL for an unbound key (unbound is the safe state and needs none). */
  keyBinding(k: KeyBinding): Buffer | null {
    if (k.policyId === null) return null;
    return this.sign('keys', k.id, { policyId: k.policyId, policyVersion: k.policyVersion });
  }

  /** True when the key is unbound or its binding's MAC verifies. */
  keyBindingIntact(k: KeyBinding): boolean {
    if (k.policyId === null) return true;
    return this.verify('keys', k.id, { policyId: k.policyId, policyVersion: k.policyVersion }, k.mac);
  }

  policyVersion(v: PolicyVersionFields): Buffer {
    return this.sign('policy_versions', [v.policyId, v.version], { sha256: v.sha256, document: v.document });
  }

  policyVersionIntact(v: PolicyVersionFields): boolean {
    return this.verify('policy_versions', [v.policyId, v.version], { sha256: v.sha256, document: v.document }, v.mac);
  }

  apiToken(t: ApiTokenFields): Buffer {
    return this.sign('api_tokens', t.id, tokenFields(t));
  }

  apiTokenIntact(t: ApiTokenFields): boolean {
    return this.verify('api_tokens', t.id, tokenFields(t), t.mac);
  }

  /** A row whose MAC failed: logged as an error, counted, and audited as `alert.row-mac-mismatch`. */
  async alarm(db: Db, table: string, target: string): Promise<void> {
    this.log.error({ table, target }, 'row MAC mismatch: the row was written without the KEK; it counts as absent');
    this.onMismatch(table);
    await appendAudit(db, { actor: SYSTEM_ACTOR, action: 'alert.row-mac-mismatch', target, outcome: 'failure', requestId: null, details: { table } }, this.clock.now());
  }
}

function tokenFields(t: ApiTokenFields): Record<string, unknown> {
  return {
    tokenHash: Buffer.from(t.tokenHash).toString('hex'),
    role: t.role,
    scopes: [...t.scopes],
    tenant: t.tenant,
    expiresAt: t.expiresAt ? t.expiresAt.toISOString() : null,
    userId: t.userId,
    createdBy: t.createdBy,
    bootstrap: t.bootstrap,
  };
}

/**
 * The row-MAC key: 32 random bytes sealed under the KEK (service key 'row-mac', resealed by a KEK rotation
 * like the session and nonce keys). When the start that applied migration 0015 creates it (`backfill`),
 * it MACs every existing row in the same transaction: the one-time backfill. A key created by any other
 * start (someone deleted the row) MACs nothing, so deleting the key cannot launder rows written without
 * the KEK: every binding and version then counts as absent until it is written again through the API.
 */
export async function loadRowMac(db: Db, keks: KekRing, clock: Clock, log: RowMacLog, backfill: boolean): Promise<RowMac> {
  const existing = await authRepo.findServiceKey(db, PURPOSE);
  if (existing) return new RowMac(await (await keks.resolve(existing.kekId)).open(existing.sealed, serviceKeyAad(PURPOSE)), clock, log);
  return db.transaction().execute(async (trx) => {
    // The lock initKeks takes: one replica creates the key and backfills; the others wait and load it.
    await trx.selectFrom('auditHead').select('seq').forUpdate().execute();
    const row = await authRepo.findServiceKey(trx, PURPOSE);
    if (row) return new RowMac(await (await keks.resolve(row.kekId)).open(row.sealed, serviceKeyAad(PURPOSE)), clock, log);
    const fresh = randomBytes(32);
    const active = await activeKekRow(trx);
    const kek = active ? await keks.resolve(active.id) : keks.active;
    await authRepo.insertServiceKey(trx, { purpose: PURPOSE, kekId: kek.id, sealed: await kek.seal(fresh, serviceKeyAad(PURPOSE)), at: clock.now() });
    const rowMac = new RowMac(fresh, clock, log);
    if (backfill) await macExistingRows(trx, rowMac);
    else if ((await keysRepo.allBindings(trx)).length + (await policiesRepo.allPolicyVersions(trx)).length + (await tokensRepo.listTokens(trx)).length > 0) {
      log.error({}, 'created a new row-MAC key outside the start that applied migration 0015: existing bindings and policy versions count as absent');
    }
    return rowMac;
  });
}

async function macExistingRows(trx: Db, rowMac: RowMac): Promise<void> {
  for (const k of await keysRepo.allBindings(trx)) await keysRepo.setKeyMac(trx, k.id, rowMac.keyBinding(k));
  for (const v of await policiesRepo.allPolicyVersions(trx)) await policiesRepo.setPolicyVersionMac(trx, v.policyId, v.version, rowMac.policyVersion(v));
  for (const t of await tokensRepo.listTokens(trx)) await tokensRepo.setTokenMac(trx, t.id, rowMac.apiToken(t));
}
