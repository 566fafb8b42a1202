// BYOK import keys: one current key pair per algorithm, the private half sealed under the KEK in Postgres
// so every replica can decrypt an import and restarts keep it.
import type { JWK } from 'jose';
import type { Clock } from '../clock.js';
import { RequestError } from '../errors.js';
import type { Db } from '../store/database.js';
import * as repo from '../store/import-keys-repo.js';
import { importKeyAad } from '../keys/envelope.js';
import {
  decryptImportJwe,
  generateImportKeyPair,
  readImportJweHeader,
  readImportToken,
  type ImportAlgorithm,
} from '../keys/import-jwe.js';
import type { KekRing } from '../keys/kek.js';
import { zeroize } from '../encoding.js';

/** Import keys live 30 days; an import JWE made to an expired key is refused. */
const IMPORT_KEY_LIFETIME_MS = 30 * 24 * 3600 * 1000;

export class ImportKeys {
  private creating: Promise<JWK> | undefined;

  constructor(
    private readonly db: Db,
    private readonly keks: KekRing,
    private readonly clock: Clock,
  ) {}

  /** The current public import key for `alg`, creating one when none is valid. */
  async publicKey(alg: ImportAlgorithm): Promise<JWK> {
    const now = this.clock.now();
    const row = await repo.currentImportKey(this.db, alg, now);
    if (row) return { ...(row.publicJwk as JWK), exp: Math.floor(row.expiresAt.getTime() / 1000) } as JWK;
    // Single flight within a process: concurrent first requests create one key, not many.
    this.creating ??= this.create(alg, now).finally(() => {
      this.creating = undefined;
    });
    return this.creating;
  }

  private async create(alg: ImportAlgorithm, now: Date): Promise<JWK> {
    const pair = await generateImportKeyPair(alg);
    const kek = this.keks.active;
    const sealed = await kek.seal(pair.privatePkcs8, importKeyAad(pair.kid));
    zeroize(pair.privatePkcs8);
    const expiresAt = new Date(now.getTime() + IMPORT_KEY_LIFETIME_MS);
    await repo.insertImportKey(this.db, {
      kid: pair.kid,
      alg,
      publicJwk: pair.publicJwk as Record<string, unknown>,
      kekId: kek.id,
      sealedPrivate: sealed,
      createdAt: now,
      expiresAt,
    });
    return { ...pair.publicJwk, exp: Math.floor(expiresAt.getTime() / 1000) } as JWK;
  }

  /**
   * Decrypts an import JWE addressed (by kid) to one of keyward's import keys. Caller zeroes the result.
   * `kid`: the import key the JWE must name (per-key import parameters). Without it (the shared import of
   * tenant `default`), a JWE bound to a key by an importToken is refused: it may be imported only there.
   * `db`: the caller's transaction, when it holds one (PGlite has a single connection).
   */
  async decrypt(jwe: string, kid?: string, db: Db = this.db): Promise<Uint8Array> {
    const header = readImportJweHeader(jwe);
    if (kid === undefined && readImportToken(jwe) !== undefined) {
      throw new RequestError('ERR_IMPORT_TOKEN_INVALID', 'This JWE is bound to a key by its importToken; import it with POST /v1/keys/{id}/import.');
    }
    if (kid !== undefined && header.kid !== kid) throw new RequestError('ERR_IMPORT_TOKEN_INVALID', 'The JWE is not encrypted to the import key its importToken was issued with.');
    const row = await repo.findImportKey(db, header.kid);
    if (!row || row.expiresAt <= this.clock.now()) {
      throw new RequestError('ERR_IMPORT_KEY_UNKNOWN', 'The JWE names an import key that does not exist or has expired; fetch GET /v1/import-key again.');
    }
    if (row.alg !== header.alg) throw new RequestError('ERR_IMPORT_JWE_INVALID', `This import key takes alg ${row.alg}.`);
    const kek = await this.keks.resolve(row.kekId);
    const pkcs8 = await kek.open(row.sealedPrivate, importKeyAad(row.kid));
    return decryptImportJwe(jwe, row.alg as ImportAlgorithm, pkcs8);
  }
}
