// Errors over HTTP: application/problem+json (RFC 9457) with the stable `code`; unknown failures are
// ERR_INTERNAL with the request id, their details only in the log.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_STATUS, KeywardError, type ErrorCode } from '../errors.js';

export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly code: ErrorCode;
  readonly detail: string;
  readonly requestId: string;
  readonly [extra: string]: unknown;
}

const TITLES: Partial<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  410: 'Gone',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function problemOf(code: ErrorCode, detail: string, requestId: string, extra?: Readonly<Record<string, unknown>>): Problem {
  const status = ERROR_STATUS[code];
  return {
    ...(extra ?? {}),
    type: `https://keyward.dev/errors/${code}`,
    title: TITLES[status] ?? 'Error',
    status,
    code,
    detail,
    requestId,
  };
}

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  if (problem.status === 401) reply.header('www-authenticate', 'Bearer');
  if (typeof problem['retryAfterSeconds'] === 'number') reply.header('retry-after', String(problem['retryAfterSeconds']));
  return reply.code(problem.status).type('application/problem+json').send(problem);
}

function describeValidation(err: FastifyError): string {
  const first = err.validation?.[0];
  if (!first) return 'The request is not valid.';
  const where = `${err.validationContext ?? 'body'}${first.instancePath ? first.instancePath.replace(/\//g, '.') : ''}`;
  const params = first.params as Record<string, unknown>;
  if (first.keyword === 'additionalProperties') return `${where} has unknown field "${String(params['additionalProperty'])}".`;
  if (first.keyword === 'required') return `${where} is missing required field "${String(params['missingProperty'])}".`;
  return `${where} ${first.message ?? 'is not valid'}.`;
}

/** Maps any thrown error to a problem; `log` receives the internal detail of unexpected ones. */
export function toProblem(err: unknown, request: FastifyRequest): Problem {
  const rid = String(request.id);
  if (err instanceof KeywardError) {
    if (err.status >= 500) request.log.error({ err, code: err.code }, 'request failed');
    else request.log.info({ code: err.code, cause: err.cause instanceof Error ? err.cause.message : undefined }, 'request refused');
    return problemOf(err.code, err.message, rid, err.extra);
  }
  const fe = err as FastifyError;
  if (fe && typeof fe === 'object') {
    if (fe.validation) return problemOf('ERR_REQUEST_INVALID', describeValidation(fe), rid);
    switch (fe.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return problemOf('ERR_REQUEST_TOO_LARGE', 'The request body is larger than this server accepts.', rid);
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return problemOf('ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE', 'Send request bodies as application/json.', rid);
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
        return problemOf('ERR_REQUEST_MALFORMED', 'The request body is not valid JSON.', rid);
    }
    if (err instanceof SyntaxError || fe.statusCode === 400) {
      return problemOf('ERR_REQUEST_MALFORMED', 'The request could not be parsed.', rid);
    }
  }
  if (isDataException(err)) {
    // Input the edge should have refused (a value the column type cannot hold): the caller's mistake, but
    // logged loudly because it means a validation is missing somewhere.
    request.log.warn({ err }, 'database refused a value from the request');
    return problemOf('ERR_REQUEST_INVALID', 'A value in the request is out of range or not valid text.', rid);
  }
  if (isDatabaseUnavailable(err)) {
    request.log.error({ err }, 'database unavailable');
    return problemOf('ERR_DB_UNAVAILABLE', 'The database is not reachable; retry later.', rid, { retryAfterSeconds: 2 });
  }
  request.log.error({ err }, 'unexpected error');
  return problemOf('ERR_INTERNAL', `An internal error occurred; quote request id ${rid} to the operator.`, rid);
}

/** Connection-level failures of the database driver (SQLSTATE classes 08, 57P, socket errors). */
function isDatabaseUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  return /^(08|57P0)/.test(code) || ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(code);
}

/** Postgres data exceptions (SQLSTATE class 22: invalid text representation, numeric out of range, ...). */
function isDataException(err: unknown): boolean {
  const e = err as { code?: unknown; severity?: unknown } | null;
  return typeof e?.code === 'string' && /^22[0-9A-Z]{3}$/.test(e.code) && typeof e.severity === 'string';
}
