// KeywardClient's HTTP layer: base URL normalization, one JSON request with a per-attempt timeout and a
// capped body, problem+json → KeywardClientError, and retries with exponential backoff and jitter only
// where repeating the request is safe (docs/design.md "Release protocol": a nonce is never sent twice).
import { setTimeout as sleep } from 'node:timers/promises';
import { systemClock } from '../clock.js';
import { KeywardClientError, isKnownErrorCode } from './client-error.js';

/**
 * When a call may be repeated:
 * - `safe`: repeating has no effect worth protecting (challenge, GET): after any transient failure
 *   (unreachable, connection lost, timeout, 429, 502, 503, 504).
 * - `not-processed`: only when the server provably did not act on it: nothing was sent, or it answered
 *   429 / 503 (release, datakey).
 * - `unsent-only`: only when nothing was sent (attest: its nonce is consumed by any attempt that arrives).
 */
export type RetryClass = 'safe' | 'not-processed' | 'unsent-only';

export interface HttpSettings {
  /** Normalized: scheme, host, optional path prefix, no trailing slash. */
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
  readonly maxRetryAfterMs: number;
  readonly maxResponseBytes: number;
  readonly userAgent: string;
}

export interface HttpCall {
  readonly method: 'GET' | 'POST';
  /** Starts with '/'; path segments already encoded. */
  readonly path: string;
  readonly body?: unknown;
  readonly bearer?: string;
  readonly retry: RetryClass;
  readonly signal?: AbortSignal | undefined;
}

/** Errors raised after a connect-phase failure worth another try (refused, DNS hiccup): nothing was sent. */
const TRANSIENT_UNSENT = new WeakSet<KeywardClientError>();
const CONNECT_CODES = new Set(['ECONNREFUSED', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT']);
const UNSENT_CODES = new Set([...CONNECT_CODES, 'ENOTFOUND', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY']);

function optionsError(message: string): KeywardClientError {
  return new KeywardClientError('ERR_CLIENT_OPTIONS_INVALID', message);
}

/**
 * `http(s)://host[:port][/prefix]` with trailing slashes removed. Credentials, a query or a fragment are
 * refused (they would be silently dropped or leak into logs).
 */
export function normalizeBaseUrl(input: string): string {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw optionsError(`the server URL "${input.slice(0, 200)}" is not a URL; give e.g. http://127.0.0.1:8750`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw optionsError('the server URL must start with http:// or https://');
  if (url.username !== '' || url.password !== '') throw optionsError('the server URL must not carry credentials; pass a token instead');
  if (url.search !== '' || url.hash !== '') throw optionsError('the server URL must not have a query or fragment');
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

/** True for http:// to anything but this machine (where a bearer token or a data key would cross in clear). */
export function isInsecureRemote(baseUrl: string): boolean {
  const url = new URL(baseUrl);
  if (url.protocol === 'https:') return false;
  const host = url.hostname;
  return !(host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host));
}

/** Control characters from a server's text are replaced before they reach a terminal. */
function printable(text: string, max = 400): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?').slice(0, max);
}

/** Retry-After as milliseconds: delta-seconds or an HTTP-date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, now: Date = systemClock.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d{1,9}$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}

function errnoOf(err: unknown): string | undefined {
  const cause = (err as { cause?: { code?: unknown; errors?: { code?: unknown }[] } } | undefined)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  const inner = cause?.errors?.find((e) => typeof e.code === 'string');
  return inner?.code as string | undefined;
}

/** Maps what fetch threw to a typed error; `signal` tells a caller's abort from our timeout. */
function transportError(err: unknown, operation: string, where: string, signal: AbortSignal | undefined, timeoutMs: number): KeywardClientError {
  const name = (err as Error | undefined)?.name;
  if (signal?.aborted) return new KeywardClientError('ERR_CLIENT_ABORTED', `${operation} was aborted`, { operation }, { cause: err });
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new KeywardClientError('ERR_CLIENT_TIMEOUT', `keyward at ${where} did not answer ${operation} within ${timeoutMs / 1000} s`, { operation }, { cause: err });
  }
  const code = errnoOf(err);
  if (code !== undefined && UNSENT_CODES.has(code)) {
    const why = code === 'ECONNREFUSED' ? 'connection refused (is keyward running there?)' : code === 'ENOTFOUND' ? 'host not found' : code;
    const error = new KeywardClientError('ERR_CLIENT_UNREACHABLE', `cannot reach keyward at ${where}: ${why}`, { operation }, { cause: err });
    if (CONNECT_CODES.has(code)) TRANSIENT_UNSENT.add(error);
    return error;
  }
  return new KeywardClientError(
    'ERR_CLIENT_CONNECTION_FAILED',
    `the connection to keyward at ${where} failed during ${operation} (${code ?? printable((err as Error | undefined)?.message ?? 'error', 80)}); the request may have been processed`,
    { operation },
    { cause: err },
  );
}

async function readCapped(response: Response, max: number, operation: string): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > max) {
    await response.body?.cancel().catch(() => undefined);
    throw new KeywardClientError('ERR_CLIENT_RESPONSE_INVALID', `the answer to ${operation} is larger than ${max} bytes`, { operation, httpStatus: response.status });
  }
  const reader = response.body?.getReader();
  if (!reader) return '';
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      throw new KeywardClientError('ERR_CLIENT_RESPONSE_INVALID', `the answer to ${operation} is larger than ${max} bytes`, { operation, httpStatus: response.status });
    }
    parts.push(value);
  }
  return Buffer.concat(parts).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** An error answer: the server's problem+json code when it sent one this client knows. */
function problemError(response: Response, text: string, operation: string, where: string): KeywardClientError {
  const body = parseJson(text) as { code?: unknown; detail?: unknown; requestId?: unknown; retryAfterSeconds?: unknown } | undefined;
  const requestId = typeof body?.requestId === 'string' ? printable(body.requestId, 100) : undefined;
  const serverCode = typeof body?.code === 'string' ? printable(body.code, 100) : undefined;
  const fromBody = typeof body?.retryAfterSeconds === 'number' ? body.retryAfterSeconds * 1000 : undefined;
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after')) ?? fromBody;
  const details = { httpStatus: response.status, operation, ...(requestId ? { requestId } : {}), ...(serverCode ? { serverCode } : {}), ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  const suffix = requestId ? ` (request id ${requestId})` : '';
  if (isKnownErrorCode(body?.code)) {
    const detail = typeof body?.detail === 'string' ? printable(body.detail) : `HTTP ${response.status}`;
    return new KeywardClientError(body.code, `${detail}${suffix}`, details);
  }
  const what = response.status >= 300 && response.status < 400 ? `redirected ${operation} (to ${printable(response.headers.get('location') ?? '?', 200)}); give the final URL as the server` : `answered ${operation} with HTTP ${response.status}${serverCode ? ` and an unknown code ${serverCode}` : ' without a keyward error code'}`;
  return new KeywardClientError('ERR_CLIENT_HTTP_ERROR', `keyward at ${where} ${what}${suffix}`, details);
}

async function attempt(settings: HttpSettings, call: HttpCall): Promise<unknown> {
  const operation = `${call.method} ${call.path.split('?')[0]}`;
  const headers: Record<string, string> = { accept: 'application/json, application/problem+json', 'user-agent': settings.userAgent };
  if (call.body !== undefined) headers['content-type'] = 'application/json';
  if (call.bearer !== undefined) headers['authorization'] = `Bearer ${call.bearer}`;
  const timeout = AbortSignal.timeout(settings.timeoutMs);
  const signal = call.signal ? AbortSignal.any([call.signal, timeout]) : timeout;
  let response: Response;
  let text: string;
  try {
    // Why manual redirects: a redirect would resend the evidence or a token to wherever it points.
    response = await fetch(`${settings.baseUrl}${call.path}`, {
      method: call.method,
      headers,
      redirect: 'manual',
      signal,
      ...(call.body !== undefined ? { body: JSON.stringify(call.body) } : {}),
    });
    text = await readCapped(response, settings.maxResponseBytes, operation);
  } catch (err) {
    if (err instanceof KeywardClientError) throw err;
    throw transportError(err, operation, settings.baseUrl, call.signal, settings.timeoutMs);
  }
  if (response.status < 200 || response.status > 299) throw problemError(response, text, operation, settings.baseUrl);
  const body = parseJson(text);
  if (typeof body !== 'object' || body === null) {
    throw new KeywardClientError('ERR_CLIENT_RESPONSE_INVALID', `the answer to ${operation} is not a JSON object`, { operation, httpStatus: response.status });
  }
  return body;
}

/**
 * Server codes whose 503 means "not now" (the database, the KEK, a vendor service). Other 503s (collateral
 * missing or stale, a stale CRL or OCSP answer) stay the same until an operator acts: retrying them only
 * delays the error, so they are retried only when the server itself sends Retry-After.
 */
const TRANSIENT_503_CODES: ReadonlySet<string> = new Set(['ERR_DB_UNAVAILABLE', 'ERR_NOT_READY', 'ERR_KEK_UNAVAILABLE', 'ERR_COLLATERAL_UNAVAILABLE']);

/** A refusal that may well succeed later: 429, or a 503 that is transient (see TRANSIENT_503_CODES; a 503 without a keyward code is a proxy's). */
export function isTransientRefusal(err: KeywardClientError): boolean {
  if (err.httpStatus === 429) return true;
  if (err.httpStatus !== 503) return false;
  return err.serverCode === undefined || err.retryAfterMs !== undefined || TRANSIENT_503_CODES.has(err.serverCode);
}

function shouldRetry(retry: RetryClass, err: KeywardClientError): boolean {
  if (TRANSIENT_UNSENT.has(err)) return true;
  const status = err.httpStatus;
  switch (retry) {
    case 'unsent-only':
      return false;
    case 'not-processed':
      return isTransientRefusal(err);
    case 'safe':
      return err.code === 'ERR_CLIENT_CONNECTION_FAILED' || err.code === 'ERR_CLIENT_TIMEOUT' || status === 502 || status === 504 || isTransientRefusal(err);
  }
}

/**
 * How long to wait before retry number `n` (0-based): the server's Retry-After when given (plus a little
 * jitter), or exponential backoff with equal jitter. Undefined when the server asks for longer than we wait.
 */
export function retryDelay(err: KeywardClientError | undefined, n: number, settings: Pick<HttpSettings, 'backoffMs' | 'maxBackoffMs' | 'maxRetryAfterMs'>): number | undefined {
  if (err?.retryAfterMs !== undefined) {
    if (err.retryAfterMs > settings.maxRetryAfterMs) return undefined;
    return err.retryAfterMs + Math.random() * Math.min(250, err.retryAfterMs * 0.1 + 50);
  }
  const ceiling = Math.min(settings.maxBackoffMs, settings.backoffMs * 2 ** n);
  return ceiling / 2 + (Math.random() * ceiling) / 2;
}

/** Waits `ms` unless `signal` fires first (then ERR_CLIENT_ABORTED). */
export async function pause(ms: number, signal: AbortSignal | undefined, operation: string): Promise<void> {
  try {
    await sleep(ms, undefined, signal ? { signal } : {});
  } catch (err) {
    throw new KeywardClientError('ERR_CLIENT_ABORTED', `${operation} was aborted`, { operation }, { cause: err });
  }
}

/** One call with the retries its class allows; resolves to the answer's JSON object. */
export async function callJson(settings: HttpSettings, call: HttpCall): Promise<Record<string, unknown>> {
  for (let n = 0; ; n++) {
    if (call.signal?.aborted) throw new KeywardClientError('ERR_CLIENT_ABORTED', `${call.method} ${call.path} was aborted`, { operation: `${call.method} ${call.path}` });
    try {
      return (await attempt(settings, call)) as Record<string, unknown>;
    } catch (err) {
      if (!(err instanceof KeywardClientError) || n >= settings.retries || !shouldRetry(call.retry, err)) throw err;
      const wait = retryDelay(err, n, settings);
      if (wait === undefined) throw err;
      await pause(wait, call.signal, err.operation ?? call.path);
    }
  }
}
