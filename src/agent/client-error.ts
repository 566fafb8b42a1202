// The typed error of KeywardClient (docs/design.md "Errors"): the server's problem+json `code` as itself, or a
// client-side ERR_CLIENT_* code for what happened on the way (unreachable, timeout, unusable answer).
import { ERROR_STATUS, KeywardError, type ErrorCode, type KeywardErrorOptions } from '../errors.js';

export interface KeywardClientErrorDetails {
  /** The HTTP status the server answered with; undefined when no answer arrived. */
  readonly httpStatus?: number;
  /** The server's request id (quote it to the operator); undefined when no answer arrived. */
  readonly requestId?: string;
  /** The `code` exactly as the server sent it (also when this client does not know it). */
  readonly serverCode?: string;
  /** How long the server asked to wait before retrying (Retry-After), in milliseconds. */
  readonly retryAfterMs?: number;
  /** Which call failed, e.g. "POST /v1/attest". */
  readonly operation?: string;
}

/**
 * A failed KeywardClient call. `code` is the server's stable code (`ERR_POLICY_DENIED`,
 * `ERR_ATTEST_NONCE_EXPIRED`, ...) when the server answered with one this client knows, otherwise one of
 * `ERR_CLIENT_UNREACHABLE` (nothing was sent), `ERR_CLIENT_CONNECTION_FAILED` (the connection broke; the
 * request may have been processed), `ERR_CLIENT_TIMEOUT`, `ERR_CLIENT_ABORTED`, `ERR_CLIENT_HTTP_ERROR`
 * (an error answer without a known code: see `serverCode` and `httpStatus`), `ERR_CLIENT_RESPONSE_INVALID`,
 * `ERR_CLIENT_JWE_INVALID` or `ERR_CLIENT_OPTIONS_INVALID`.
 */
export class KeywardClientError extends KeywardError {
  readonly httpStatus: number | undefined;
  readonly requestId: string | undefined;
  readonly serverCode: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly operation: string | undefined;

  constructor(code: ErrorCode, message: string, details: KeywardClientErrorDetails = {}, options: KeywardErrorOptions = {}) {
    super(code, message, options);
    this.httpStatus = details.httpStatus;
    this.requestId = details.requestId;
    this.serverCode = details.serverCode;
    this.retryAfterMs = details.retryAfterMs;
    this.operation = details.operation;
  }
}

/** True when `code` is one of keyward's codes (a newer server may send codes this client does not know). */
export function isKnownErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(ERROR_STATUS, code);
}
