// Per-key BYOK import parameters (docs/design.md "Keys", AWS KMS GetParametersForImport style):
// POST /v1/keys/{id}/import-params issues an import public key and a single-use import token bound to that
// key, valid at most 24 h; POST /v1/keys/{id}/import takes a JWE whose protected header carries the token,
// so a captured JWE imports into that key once and nowhere else. Any tenant; only the token's hash is kept.
import { createHash, randomBytes } from 'node:crypto';
import type { JWK } from 'jose';
import type { Clock } from '../clock.js';
import { RequestError } from '../errors.js';
import type { Db } from '../store/database.js';
import * as repo from '../store/import-keys-repo.js';
import { readImportJweHeader, readImportToken, type ImportAlgorithm } from '../keys/import-jwe.js';
import { appendAudit } from './audit.js';
import type { ImportKeys } from './import-keys.js';
import type { KeyMetadata, RequestContext, Vault } from './vault.js';

/** The longest an import token is valid. */
export const IMPORT_TOKEN_TTL_MS = 24 * 60 * 60 * 1000;

export interface ImportParams {
  readonly publicKey: JWK;
  readonly importToken: string;
  readonly expiresAt: string;
}

function tokenHash(token: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(token, 'utf8').digest());
}

function invalidToken(): RequestError {
  return new RequestError('ERR_IMPORT_TOKEN_INVALID', 'The JWE\'s importToken is missing, unknown, used, expired or for another key; ask POST /v1/keys/{id}/import-params again.');
}

export class KeyImports {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly vault: Vault,
    private readonly importKeys: ImportKeys,
  ) {}

  /** Issues import parameters for a usable key the caller may write (audit `key.import-params`). */
  async params(ctx: RequestContext, keyId: string, alg: ImportAlgorithm = 'RSA-OAEP-256'): Promise<ImportParams> {
    const key = await this.vault.writableKey(ctx, keyId);
    const publicKey = await this.importKeys.publicKey(alg);
    const now = this.clock.now();
    // Why the min: the token must not outlive the import key the JWE is encrypted to.
    const expiresAt = new Date(Math.min(now.getTime() + IMPORT_TOKEN_TTL_MS, ((publicKey as JWK & { exp?: number }).exp ?? 0) * 1000));
    if (expiresAt <= now) throw new RequestError('ERR_IMPORT_KEY_UNKNOWN', 'No import key is valid now; try again.');
    const importToken = `kwi_${randomBytes(32).toString('base64url')}`;
    await this.db.transaction().execute(async (trx) => {
      await repo.insertImportToken(trx, { tokenHash: tokenHash(importToken), keyId: key.id, tenant: key.tenant, kid: String(publicKey.kid), createdAt: now, createdBy: ctx.actor.id, expiresAt });
      await appendAudit(trx, { actor: ctx.actor, action: 'key.import-params', target: key.id, outcome: 'success', requestId: ctx.requestId, details: { tenant: key.tenant, kid: publicKey.kid, alg, expiresAt: expiresAt.toISOString() } }, now);
    });
    return { publicKey, importToken, expiresAt: expiresAt.toISOString() };
  }

  /**
   * Imports the JWE's material as the key's new version, consuming its import token in the same
   * transaction (audit `key.import`). A token used, expired or issued for another key is refused.
   */
  async importMaterial(ctx: RequestContext, keyId: string, jwe: string): Promise<KeyMetadata> {
    const token = readImportToken(jwe);
    if (token === undefined) throw invalidToken();
    const { kid } = readImportJweHeader(jwe);
    return this.vault.addVersion(ctx, keyId, 'key.import', async (trx) => this.consumeAndDecrypt(trx, keyId, token, kid, jwe));
  }

  private async consumeAndDecrypt(trx: Db, keyId: string, token: string, kid: string, jwe: string): Promise<{ material: Uint8Array; details: Record<string, unknown> }> {
    const row = await repo.consumeImportToken(trx, tokenHash(token), keyId, this.clock.now());
    if (!row || row.kid !== kid) throw invalidToken();
    return { material: await this.importKeys.decrypt(jwe, row.kid, trx), details: { kid: row.kid, origin: 'imported' } };
  }
}
