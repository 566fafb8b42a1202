// The TypeScript client of keyward (`import { KeywardClient } from 'keyward/client'`; docs/release.md):
// challenge, attest, release, the one-shot release and datakey calls with typed errors, safe retries and
// timeouts, and `releaseKey`, the whole protocol from inside a TEE with an ephemeral key that never leaves
// memory (one-shot by default, attest + release against a keyward without POST /v1/release).
import { fromBase64 } from '../encoding.js';
import type { TeePublicJwk } from '../keys/jwe.js';
import { KeywardError } from '../errors.js';
import { KeywardClientError } from './client-error.js';
import { callJson, isInsecureRemote, isTransientRefusal, normalizeBaseUrl, pause, retryDelay, type HttpSettings } from './client-http.js';
import { createTeeKeyPair, releaseBinding, TEE_KEY_TYPES, type TeeKeyType } from './tee-key.js';
import type { EvidenceProvider, WireEvidence } from './evidence/provider.js';

export { KeywardClientError, type KeywardClientErrorDetails } from './client-error.js';
export { createTeeKeyPair, releaseBinding, TEE_KEY_TYPES, type TeeKeyPair, type TeeKeyType } from './tee-key.js';
export { normalizeBaseUrl } from './client-http.js';
export { composeProviders, EvidenceProviderError, type EvidenceProvider, type WireEvidence } from './evidence/provider.js';
export { createConfigfsTsmProvider, type ConfigfsTsmOptions } from './evidence/configfs-tsm.js';
export { createGpuCommandProvider, type GpuCommandOptions } from './evidence/gpu-command.js';
export type { TeePublicJwk } from '../keys/jwe.js';

export interface KeywardClientOptions {
  /** keyward's base URL: `http(s)://host[:port][/prefix]` (trailing slashes are ignored). */
  readonly baseUrl: string;
  /** An API token (owner or admin) for {@link KeywardClient.dataKey}; the release protocol needs none. */
  readonly token?: string;
  /** Time limit of each HTTP attempt, milliseconds (default 30 000). */
  readonly timeoutMs?: number;
  /** Retries of one call where retrying is safe (default 3; 0 disables). */
  readonly retries?: number;
  /** First backoff step, milliseconds (default 250); doubles per retry, with jitter. */
  readonly backoffMs?: number;
  /** Largest backoff step, milliseconds (default 8 000). */
  readonly maxBackoffMs?: number;
  /** A server's Retry-After longer than this (ms, default 30 000) is not waited out: the error is thrown. */
  readonly maxRetryAfterMs?: number;
  /**
   * Allow sending the API token (and receiving plaintext data keys) over plain http to another machine.
   * Off by default: only https, or http to localhost, carries them.
   */
  readonly allowInsecureHttp?: boolean;
  /** Largest answer accepted, bytes (default 8 MiB). */
  readonly maxResponseBytes?: number;
  readonly userAgent?: string;
}

/** Per-call options. */
export interface CallOptions {
  /** Aborts the call (and any wait between retries) with ERR_CLIENT_ABORTED. */
  readonly signal?: AbortSignal;
}

/** `POST /v1/challenge`: a single-use nonce (opaque base64url, 32 to 128 bytes; 72 today) and when it expires. */
export interface Challenge {
  readonly nonce: string;
  readonly expiresAt: string;
}

export interface AttestInput {
  readonly nonce: string;
  readonly teePublicKey: TeePublicJwk;
  readonly evidence: readonly WireEvidence[];
}

/** `POST /v1/attest`: keyward's attestation token and the normalized claims it carries. */
export interface Attestation {
  readonly token: string;
  readonly expiresAt: string;
  readonly claims: {
    readonly cpu: Readonly<Record<string, unknown>> | null;
    readonly gpus: readonly Readonly<Record<string, unknown>>[];
    readonly gpuTopology: unknown;
  };
}

/** One key of a one-shot release: the key itself, a version of it, or a data key wrapped under it. */
export interface KeyRequest {
  readonly keyId: string;
  readonly version?: number;
  readonly wrappedDataKey?: string;
}

export interface OneShotInput extends AttestInput {
  readonly keys: readonly KeyRequest[];
  /** Also ask for keyward's attestation token (its claims are what `releaseKey` reports). */
  readonly token?: boolean;
}

/** `POST /v1/release`: every key asked for, in order, as JWEs to the TEE key; the token when asked for. */
export interface OneShotRelease {
  readonly releases: readonly ReleasedJwe[];
  readonly token?: string;
}

export interface ReleaseOptions extends CallOptions {
  /** A key version (default: the newest active one). Ignored by the server's choice when `wrappedDataKey` is set. */
  readonly version?: number;
  /** Release this data key (the `wrapped` of `POST /v1/keys/{id}/datakey`) instead of the key itself. */
  readonly wrappedDataKey?: string;
}

/** `POST /v1/keys/{id}/release`: the secret as a compact JWE to the TEE key. */
export interface ReleasedJwe {
  readonly keyId: string;
  readonly version: number;
  readonly jwe: string;
  readonly releaseId: string;
}

/** `POST /v1/keys/{id}/datakey`: a fresh data key. Zero `plaintext` when done; store only `wrapped`. */
export interface DataKey {
  readonly keyId: string;
  readonly version: number;
  readonly plaintext: Uint8Array;
  readonly wrapped: string;
}

export interface ReleaseKeyOptions extends ReleaseOptions {
  /** The ephemeral key's type (default x25519). */
  readonly teeKey?: TeeKeyType;
  /**
   * Runs of the whole protocol (default 3). A run that fails transiently after its challenge (attest or
   * release timed out or hit 429/503, the nonce expired, the TSM was busy) is repeated with a NEW
   * challenge and a new key pair; a nonce is never sent twice.
   */
  readonly attempts?: number;
  /** Told each step as it starts (for progress messages). The one-shot flow has no 'attest' step. */
  readonly onStep?: (step: 'challenge' | 'evidence' | 'attest' | 'release' | 'decrypt', attempt: number) => void;
  /**
   * `true`: the one-shot `POST /v1/release` only; `false`: attest + release only; undefined (default):
   * one-shot, falling back to attest + release when the server has no one-shot route (an older keyward).
   */
  readonly oneShot?: boolean;
}

/** The released secret (key material or data key) in plaintext, in memory. The caller zeroes `plaintext`. */
export interface ReleasedKey {
  readonly keyId: string;
  readonly version: number;
  readonly releaseId: string;
  readonly plaintext: Uint8Array;
  /** The claims keyward verified (e.g. `cpu.anchor.source === 'extra'` for simulated evidence). */
  readonly claims: Attestation['claims'];
  /** The evidence provider's name ("configfs-tsm", "simulator:snp", ...). */
  readonly evidenceSource: string;
  readonly flow: 'one-shot' | 'attest+release';
}

const DEFAULTS = { timeoutMs: 30_000, retries: 3, backoffMs: 250, maxBackoffMs: 8_000, maxRetryAfterMs: 30_000, maxResponseBytes: 8 * 1024 * 1024 };

function invalidAnswer(operation: string, what: string): KeywardClientError {
  return new KeywardClientError('ERR_CLIENT_RESPONSE_INVALID', `the answer to ${operation} ${what}`, { operation });
}

function str(body: Record<string, unknown>, name: string, operation: string): string {
  const v = body[name];
  if (typeof v !== 'string' || v === '') throw invalidAnswer(operation, `has no "${name}"`);
  return v;
}

function positiveInt(body: Record<string, unknown>, name: string, operation: string): number {
  const v = body[name];
  if (!Number.isSafeInteger(v) || (v as number) < 1) throw invalidAnswer(operation, `has no valid "${name}"`);
  return v as number;
}

function checkCount(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) throw new KeywardClientError('ERR_CLIENT_OPTIONS_INVALID', `${name} must be an integer ≥ ${min}`);
  return value;
}

const keyPath = (keyId: string, action: string): string => `/v1/keys/${encodeURIComponent(keyId)}/${action}`;

/** Flow-level: worth a new run of the protocol (fresh challenge) after this failure past the challenge. */
function worthNewRun(err: unknown): boolean {
  if (!(err instanceof KeywardError)) return false;
  if (['ERR_ATTEST_NONCE_EXPIRED', 'ERR_AGENT_TSM_BUSY', 'ERR_CLIENT_TIMEOUT', 'ERR_CLIENT_CONNECTION_FAILED', 'ERR_CLIENT_UNREACHABLE'].includes(err.code)) return true;
  return err instanceof KeywardClientError && isTransientRefusal(err);
}

/**
 * A client of one keyward server. All methods throw {@link KeywardClientError} (the server's code, or an
 * ERR_CLIENT_* code); `releaseKey` also lets evidence provider errors (ERR_AGENT_*) through.
 *
 * @example
 * const client = new KeywardClient({ baseUrl: 'https://keyward.example:8750' });
 * const released = await client.releaseKey(keyId, createConfigfsTsmProvider());
 * try { useKey(released.plaintext); } finally { released.plaintext.fill(0); }
 */
export class KeywardClient {
  readonly baseUrl: string;
  private readonly http: HttpSettings;
  // A JS private field: the token never shows in console.log, util.inspect or JSON.stringify of a client.
  readonly #token: string | undefined;
  private readonly allowInsecureHttp: boolean;
  /** Whether the server offers POST /v1/release: undefined until it has answered it once. */
  private oneShotOffered: boolean | undefined;

  constructor(options: KeywardClientOptions) {
    this.baseUrl = normalizeBaseUrl(options.baseUrl);
    this.http = {
      baseUrl: this.baseUrl,
      timeoutMs: checkCount('timeoutMs', options.timeoutMs ?? DEFAULTS.timeoutMs, 1),
      retries: checkCount('retries', options.retries ?? DEFAULTS.retries, 0),
      backoffMs: checkCount('backoffMs', options.backoffMs ?? DEFAULTS.backoffMs, 0),
      maxBackoffMs: checkCount('maxBackoffMs', options.maxBackoffMs ?? DEFAULTS.maxBackoffMs, 0),
      maxRetryAfterMs: checkCount('maxRetryAfterMs', options.maxRetryAfterMs ?? DEFAULTS.maxRetryAfterMs, 0),
      maxResponseBytes: checkCount('maxResponseBytes', options.maxResponseBytes ?? DEFAULTS.maxResponseBytes, 1024),
      userAgent: options.userAgent ?? 'keyward-client/1',
    };
    this.#token = options.token;
    this.allowInsecureHttp = options.allowInsecureHttp ?? false;
  }

  /** `POST /v1/challenge` — a fresh nonce. Retried on any transient failure (an unused nonce just expires). */
  async challenge(options: CallOptions = {}): Promise<Challenge> {
    const operation = 'POST /v1/challenge';
    const body = await callJson(this.http, { method: 'POST', path: '/v1/challenge', retry: 'safe', signal: options.signal });
    const nonce = str(body, 'nonce', operation);
    if (!/^[A-Za-z0-9_-]{43,171}$/.test(nonce)) throw invalidAnswer(operation, 'has a nonce that is not 32 to 128 bytes of base64url');
    return { nonce, expiresAt: str(body, 'expiresAt', operation) };
  }

  /**
   * `POST /v1/attest` — evidence bound to `nonce` and `teePublicKey` for an attestation token. Never
   * repeated once the request may have reached the server (the server consumes the nonce whatever the
   * verdict); only a connection that was never made is retried.
   */
  async attest(input: AttestInput, options: CallOptions = {}): Promise<Attestation> {
    const operation = 'POST /v1/attest';
    const body = await callJson(this.http, {
      method: 'POST',
      path: '/v1/attest',
      body: { nonce: input.nonce, teePublicKey: input.teePublicKey, evidence: input.evidence },
      retry: 'unsent-only',
      signal: options.signal,
    });
    const claims = body['claims'] as Attestation['claims'] | undefined;
    if (typeof claims !== 'object' || claims === null || !Array.isArray(claims.gpus)) throw invalidAnswer(operation, 'has no claims');
    return { token: str(body, 'token', operation), expiresAt: str(body, 'expiresAt', operation), claims };
  }

  /**
   * `POST /v1/keys/{keyId}/release` with the attestation token — the key (or, with `wrappedDataKey`, that
   * data key) as a JWE to the attested TEE key. Retried only when the server did not act (429, 503, no connection).
   */
  async release(keyId: string, token: string, options: ReleaseOptions = {}): Promise<ReleasedJwe> {
    const operation = 'POST /v1/keys/{id}/release';
    const body: Record<string, unknown> = {};
    if (options.version !== undefined) body['version'] = checkCount('version', options.version, 1);
    if (options.wrappedDataKey !== undefined) body['wrappedDataKey'] = options.wrappedDataKey;
    const answer = await callJson(this.http, { method: 'POST', path: keyPath(keyId, 'release'), body, bearer: token, retry: 'not-processed', signal: options.signal });
    return {
      keyId: str(answer, 'keyId', operation),
      version: positiveInt(answer, 'version', operation),
      jwe: str(answer, 'jwe', operation),
      releaseId: str(answer, 'releaseId', operation),
    };
  }

  /**
   * `POST /v1/release` — evidence and every key in one call, all released or none. Like attest it consumes
   * the nonce whatever the verdict: only a connection that was never made is retried.
   */
  async releaseOneShot(input: OneShotInput, options: CallOptions = {}): Promise<OneShotRelease> {
    const operation = 'POST /v1/release';
    if (input.keys.length === 0) throw new KeywardClientError('ERR_CLIENT_OPTIONS_INVALID', 'a one-shot release needs at least one key', { operation });
    const keys = input.keys.map((k) => ({
      keyId: k.keyId,
      ...(k.version !== undefined ? { version: checkCount('version', k.version, 1) } : {}),
      ...(k.wrappedDataKey !== undefined ? { wrappedDataKey: k.wrappedDataKey } : {}),
    }));
    const body = { nonce: input.nonce, teePublicKey: input.teePublicKey, evidence: input.evidence, keys, ...(input.token ? { token: true } : {}) };
    const answer = await callJson(this.http, { method: 'POST', path: '/v1/release', body, retry: 'unsent-only', signal: options.signal });
    const releases = answer['releases'];
    if (!Array.isArray(releases) || releases.length !== keys.length || !releases.every((r) => typeof r === 'object' && r !== null)) {
      throw invalidAnswer(operation, 'does not hold one release per key asked for');
    }
    const out = (releases as Record<string, unknown>[]).map((r) => ({
      keyId: str(r, 'keyId', operation),
      version: positiveInt(r, 'version', operation),
      jwe: str(r, 'jwe', operation),
      releaseId: str(r, 'releaseId', operation),
    }));
    return input.token ? { releases: out, token: str(answer, 'token', operation) } : { releases: out };
  }

  /**
   * `POST /v1/keys/{keyId}/datakey` (API token with scope keys:datakey) — a fresh 32-byte data key in
   * plaintext and wrapped. Zero `plaintext` after use. Refused over plain http to another machine unless
   * `allowInsecureHttp`.
   */
  async dataKey(keyId: string, options: CallOptions = {}): Promise<DataKey> {
    const operation = 'POST /v1/keys/{id}/datakey';
    const token = this.requireToken(operation);
    const answer = await callJson(this.http, { method: 'POST', path: keyPath(keyId, 'datakey'), bearer: token, retry: 'not-processed', signal: options.signal });
    const plaintext = fromBase64(str(answer, 'plaintext', operation));
    if (!plaintext || plaintext.length !== 32) throw invalidAnswer(operation, 'has a plaintext that is not 32 bytes of base64');
    return { keyId: str(answer, 'keyId', operation), version: positiveInt(answer, 'version', operation), plaintext, wrapped: str(answer, 'wrapped', operation) };
  }

  private requireToken(operation: string): string {
    if (this.#token === undefined || this.#token === '') {
      throw new KeywardClientError('ERR_CLIENT_OPTIONS_INVALID', `${operation} needs an API token (the client's "token" option)`, { operation });
    }
    if (!this.allowInsecureHttp && isInsecureRemote(this.baseUrl)) {
      throw new KeywardClientError(
        'ERR_CLIENT_OPTIONS_INVALID',
        `refusing to send an API token and receive a data key over plain http to ${this.baseUrl}; use https (or allowInsecureHttp)`,
        { operation },
      );
    }
    return this.#token;
  }

  /**
   * The whole release protocol from inside a TEE: challenge → ephemeral key pair in memory → bind =
   * SHA-512(nonce ‖ thumbprint) → evidence from `provider` → one-shot release (or attest → release, see
   * `oneShot`) → decrypt. Returns the
   * plaintext key (or data key, with `wrappedDataKey`); the private key is never exported or written.
   */
  async releaseKey(keyId: string, provider: EvidenceProvider, options: ReleaseKeyOptions = {}): Promise<ReleasedKey> {
    const attempts = checkCount('attempts', options.attempts ?? 3, 1);
    if (options.teeKey !== undefined && !TEE_KEY_TYPES.includes(options.teeKey)) {
      throw new KeywardClientError('ERR_CLIENT_OPTIONS_INVALID', `teeKey must be one of ${TEE_KEY_TYPES.join(', ')}`);
    }
    for (let run = 1; ; run++) {
      try {
        return await this.releaseOnce(keyId, provider, options, run);
      } catch (err) {
        if (run >= attempts || !(err instanceof RunFailure) || !worthNewRun(err.error)) throw err instanceof RunFailure ? err.error : err;
        const wait = retryDelay(err.error instanceof KeywardClientError ? err.error : undefined, run - 1, this.http);
        if (wait === undefined) throw err.error;
        await pause(wait, options.signal, 'the release protocol');
      }
    }
  }

  private async releaseOnce(keyId: string, provider: EvidenceProvider, options: ReleaseKeyOptions, run: number): Promise<ReleasedKey> {
    const signal = options.signal;
    options.onStep?.('challenge', run);
    // A challenge that failed has had its own retries: no new run for it.
    const { nonce } = await this.challenge({ ...(signal ? { signal } : {}) });
    try {
      const tee = createTeeKeyPair(options.teeKey ?? 'x25519');
      options.onStep?.('evidence', run);
      const evidence = await provider.collect(releaseBinding(nonce, tee.thumbprint));
      if (signal?.aborted) throw new KeywardClientError('ERR_CLIENT_ABORTED', 'the release protocol was aborted');
      const delivered = await this.deliver(keyId, { nonce, teePublicKey: tee.publicJwk, evidence }, options, run);
      options.onStep?.('decrypt', run);
      const plaintext = await tee.decrypt(delivered.released.jwe);
      const { released, claims, flow } = delivered;
      return { keyId: released.keyId, version: released.version, releaseId: released.releaseId, plaintext, claims, evidenceSource: provider.name, flow };
    } catch (err) {
      throw new RunFailure(err);
    }
  }

  /** The one-shot release when the server offers it (asking for the token, whose claims are reported), else attest + release. */
  private async deliver(keyId: string, input: AttestInput, options: ReleaseKeyOptions, run: number): Promise<{ released: ReleasedJwe; claims: Attestation['claims']; flow: ReleasedKey['flow'] }> {
    const call = options.signal ? { signal: options.signal } : {};
    if (options.oneShot !== false && this.oneShotOffered !== false) {
      options.onStep?.('release', run);
      const ask: KeyRequest = {
        keyId,
        ...(options.version !== undefined ? { version: options.version } : {}),
        ...(options.wrappedDataKey !== undefined ? { wrappedDataKey: options.wrappedDataKey } : {}),
      };
      try {
        const answer = await this.releaseOneShot({ ...input, keys: [ask], token: true }, call);
        this.oneShotOffered = true;
        return { released: answer.releases[0] as ReleasedJwe, claims: claimsOfToken(answer.token), flow: 'one-shot' };
      } catch (err) {
        // A missing route consumed nothing: the same nonce and evidence go to attest.
        if (options.oneShot === true || this.oneShotOffered === true || !isRouteMissing(err)) throw err;
        this.oneShotOffered = false;
      }
    }
    options.onStep?.('attest', run);
    const attestation = await this.attest(input, call);
    options.onStep?.('release', run);
    const released = await this.release(keyId, attestation.token, options);
    return { released, claims: attestation.claims, flow: 'attest+release' };
  }
}

/** The server has no one-shot route (a keyward older than POST /v1/release). */
function isRouteMissing(err: unknown): boolean {
  if (!(err instanceof KeywardClientError)) return false;
  return err.code === 'ERR_ROUTE_NOT_FOUND' || (err.code === 'ERR_CLIENT_HTTP_ERROR' && (err.httpStatus === 404 || err.httpStatus === 405));
}

/**
 * The claims an attestation token carries (its payload, not verified here: the token came over the same
 * channel as the JWE, and the claims are reported, never trusted for a decision).
 */
function claimsOfToken(token: string | undefined): Attestation['claims'] {
  const operation = 'POST /v1/release';
  let payload: Record<string, unknown> | undefined;
  try {
    payload = JSON.parse(Buffer.from(token?.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    payload = undefined;
  }
  if (typeof payload !== 'object' || payload === null || !Array.isArray(payload['gpus'])) throw invalidAnswer(operation, 'has no valid token');
  return { cpu: (payload['cpu'] ?? null) as Attestation['claims']['cpu'], gpus: payload['gpus'] as Attestation['claims']['gpus'], gpuTopology: payload['gpuTopology'] ?? null };
}

/** Marks a failure after the challenge succeeded (only those can be worth a new run). */
class RunFailure extends Error {
  constructor(readonly error: unknown) {
    super('release run failed');
  }
}
