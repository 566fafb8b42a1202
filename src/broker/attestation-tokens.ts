// keyward's attestation tokens (docs/design.md "Release protocol", step 3): short-lived JWS (EdDSA/Ed25519,
// cheap next to the evidence verification it follows) carrying the verified claims and `cnf` (the TEE key).
// Signing keys are shared by all replicas (private halves sealed under the KEK in Postgres), rotate daily,
// and stay in the JWKS until every token they signed has expired.
import { createHash, createPrivateKey, createPublicKey, randomUUID, sign, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import type { Clock } from '../clock.js';
import { RequestError } from '../errors.js';
import { fromBase64Url, toBase64Url, zeroize } from '../encoding.js';
import type { Db } from '../store/database.js';
import * as repo from '../store/release-repo.js';
import type { KekRing } from '../keys/kek.js';
import { freshKeyPair } from '../keys/key-pair.js';

export const TOKEN_TYPE = 'kw-attest+jwt';
export const TOKEN_ISSUER = 'keyward';
export const TOKEN_AUDIENCE = 'keyward-release';
const ROTATE_AFTER_MS = 24 * 3600 * 1000;
const CLOCK_SKEW_S = 30;

export interface TokenOptions {
  /** Token lifetime, seconds. */
  readonly ttlSeconds: number;
}

interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly signUntil: number;
}

export function signingKeyAad(kid: string): Uint8Array {
  return Buffer.from(`keyward:v1:signing-key:${kid}`, 'utf8');
}

function invalid(): RequestError {
  return new RequestError('ERR_ATTEST_TOKEN_INVALID', 'The attestation token is not valid.');
}

export class AttestationTokens {
  private active: SigningKey | undefined;
  private creating: Promise<SigningKey> | undefined;
  private readonly publicKeys = new Map<string, KeyObject>();

  constructor(
    private readonly db: Db,
    private readonly keks: KekRing,
    private readonly clock: Clock,
    private readonly opts: TokenOptions,
  ) {}

  get ttlSeconds(): number {
    return this.opts.ttlSeconds;
  }

  /**
   * Signs `claims` (plus iss, aud, iat, nbf, exp, jti); returns the compact JWS. `exp` is the TTL from now,
   * but never later than `notAfter`: a token must not outlive the evidence it vouches for (the earliest
   * notAfter / nextUpdate of the certificates and collateral the verdict rested on).
   */
  async sign(claims: Record<string, unknown>, opts: { notAfter?: Date } = {}): Promise<{ token: string; expiresAt: Date; jti: string }> {
    const key = await this.signingKey();
    const now = Math.floor(this.clock.now().getTime() / 1000);
    const exp = Math.min(now + this.opts.ttlSeconds, opts.notAfter ? Math.floor(opts.notAfter.getTime() / 1000) : Infinity);
    const jti = randomUUID();
    const header = toBase64Url(Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: TOKEN_TYPE, kid: key.kid })));
    const payload = toBase64Url(Buffer.from(JSON.stringify({ ...claims, iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, iat: now, nbf: now, exp, jti })));
    const signature = sign(null, Buffer.from(`${header}.${payload}`), key.privateKey);
    return { token: `${header}.${payload}.${toBase64Url(signature)}`, expiresAt: new Date(exp * 1000), jti };
  }

  /**
   * Verifies a token this keyward (or a replica) issued and returns its payload. Expired tokens are
   * ERR_ATTEST_TOKEN_EXPIRED; anything else wrong is ERR_ATTEST_TOKEN_INVALID (no detail for attackers).
   */
  async verify(token: string): Promise<Record<string, unknown>> {
    const parts = token.split('.');
    if (parts.length !== 3) throw invalid();
    const [h, p, s] = parts as [string, string, string];
    let header: { alg?: unknown; typ?: unknown; kid?: unknown };
    let payload: Record<string, unknown>;
    try {
      header = JSON.parse(Buffer.from(fromBase64Url(h) ?? new Uint8Array()).toString('utf8')) as typeof header;
      payload = JSON.parse(Buffer.from(fromBase64Url(p) ?? new Uint8Array()).toString('utf8')) as Record<string, unknown>;
    } catch {
      throw invalid();
    }
    const signature = fromBase64Url(s);
    if (header.alg !== 'EdDSA' || header.typ !== TOKEN_TYPE || typeof header.kid !== 'string' || !signature || signature.length !== 64) {
      throw invalid();
    }
    const key = await this.publicKey(header.kid);
    if (!key || !verify(null, Buffer.from(`${h}.${p}`), key, signature)) throw invalid();
    if (payload['iss'] !== TOKEN_ISSUER || payload['aud'] !== TOKEN_AUDIENCE) throw invalid();
    const now = this.clock.now().getTime() / 1000;
    const exp = payload['exp'];
    const nbf = payload['nbf'];
    if (typeof exp !== 'number' || typeof nbf !== 'number') throw invalid();
    if (nbf > now + CLOCK_SKEW_S) throw invalid();
    if (exp <= now) throw new RequestError('ERR_ATTEST_TOKEN_EXPIRED', 'The attestation token has expired; attest again.');
    return payload;
  }

  /** The public keys tokens may be signed with, as a JWKS (`/.well-known/jwks.json`). */
  async jwks(): Promise<{ keys: JWK[] }> {
    await this.signingKey();
    const rows = await repo.listSigningKeys(this.db, this.clock.now());
    return { keys: rows.map((r) => r.publicJwk as JWK) };
  }

  private async publicKey(kid: string): Promise<KeyObject | undefined> {
    let key = this.publicKeys.get(kid);
    if (key) return key;
    for (const row of await repo.listSigningKeys(this.db, this.clock.now())) {
      this.publicKeys.set(row.kid, createPublicKey({ key: row.publicJwk as JsonWebKey, format: 'jwk' }));
    }
    key = this.publicKeys.get(kid);
    return key;
  }

  private async signingKey(): Promise<SigningKey> {
    const now = this.clock.now().getTime();
    if (this.active && this.active.signUntil > now) return this.active;
    this.creating ??= this.loadOrCreate(now).finally(() => {
      this.creating = undefined;
    });
    this.active = await this.creating;
    return this.active;
  }

  private async loadOrCreate(now: number): Promise<SigningKey> {
    const existing = (await repo.listSigningKeys(this.db, new Date(now))).find((r) => r.signUntil.getTime() > now + 60_000);
    if (existing) {
      const kek = await this.keks.resolve(existing.kekId);
      const pkcs8 = await kek.open(existing.sealedPrivate, signingKeyAad(existing.kid));
      try {
        return { kid: existing.kid, privateKey: createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' }), signUntil: existing.signUntil.getTime() };
      } finally {
        zeroize(pkcs8);
      }
    }
    const { publicKey, privateKey, pkcs8 } = freshKeyPair({ type: 'ed25519' });
    const jwk = publicKey.export({ format: 'jwk' }) as JWK;
    const kid = `kw-${toBase64Url(createHash('sha256').update(String(jwk.x)).digest()).slice(0, 16)}`;
    const kek = this.keks.active;
    const sealed = await kek.seal(pkcs8, signingKeyAad(kid));
    zeroize(pkcs8);
    const signUntil = now + ROTATE_AFTER_MS;
    await repo.insertSigningKey(this.db, {
      kid,
      alg: 'EdDSA',
      publicJwk: { ...jwk, kid, alg: 'EdDSA', use: 'sig' } as Record<string, unknown>,
      kekId: kek.id,
      sealedPrivate: sealed,
      createdAt: new Date(now),
      signUntil: new Date(signUntil),
      expiresAt: new Date(signUntil + (this.opts.ttlSeconds + 300) * 1000),
    });
    this.publicKeys.set(kid, publicKey);
    return { kid, privateKey, signUntil };
  }
}
