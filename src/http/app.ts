// The HTTP server: fastify with routes bound to openapi.yaml operations, bearer-token auth by scope,
// problem+json errors, request ids, Prometheus metrics. Routes stay thin: they call the broker.
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyBaseLogger } from 'fastify';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import fastifyCookie from '@fastify/cookie';
import fastifyJwt from '@fastify/jwt';
import { CSRF_HEADER, SESSION_COOKIE, type Sessions } from '../admin/sessions.js';
import { RequestError } from '../errors.js';
import type { Principal, Scope, Tokens } from '../broker/api-tokens.js';
import type { RequestContext } from '../broker/vault.js';
import { OPTIONAL_BODY, toFastifyPath, type OpenApiDocument } from './openapi.js';
import { problemOf, sendProblem, toProblem } from './problem.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyInstance {
    /** "METHOD /path/{param}" of every route, for the contract test. */
    registeredRoutes: readonly string[];
  }
  interface FastifyContextConfig {
    scope?: RouteScope;
  }
}

export interface HttpOptions {
  readonly logger: FastifyBaseLogger;
  readonly openapi: OpenApiDocument;
  readonly tokens: Tokens;
  readonly bodyLimit: number;
  readonly sessions: Sessions;
  /** Signs the session cookie (a KEK-sealed service key). */
  readonly sessionSecret: Buffer;
  /** KEYWARD_ORIGIN: what the Origin of a cookie-authenticated write must be. */
  readonly origin: string;
}

/**
 * A route's scope: one the principal must hold; `any` (any valid principal; the broker decides);
 * `optional` (a principal when credentials are sent, else none); or `public` (credentials ignored).
 */
export type RouteScope = Scope | 'any' | 'optional' | 'public';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

export interface RouteRegistrar {
  /** Binds a handler to an openapi.yaml operation; validation schemas come from the document. */
  route(operationId: string, scope: RouteScope, handler: Handler): void;
  readonly app: FastifyInstance;
  readonly metrics: Registry;
}

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,64}$/;

function makeValidatorCompiler() {
  const strict = new Ajv2020.default({ allErrors: false, coerceTypes: false, useDefaults: false, removeAdditional: false, strict: false });
  const coercing = new Ajv2020.default({ allErrors: false, coerceTypes: 'array', useDefaults: true, removeAdditional: false, strict: false });
  addFormats.default(strict);
  addFormats.default(coercing);
  return ({ schema, httpPart }: { schema: object; httpPart?: string }) => {
    if (httpPart === 'body' && OPTIONAL_BODY in schema) {
      const { [OPTIONAL_BODY]: _optional, ...rest } = schema as Record<string, unknown>;
      const validate = strict.compile(rest);
      const optional = (data: unknown) => data === undefined || data === null || validate(data);
      // A getter (Object.assign would copy its value once, leaving `errors` undefined and the body unchecked).
      return Object.defineProperty(optional, 'errors', { get: () => validate.errors });
    }
    return (httpPart === 'body' ? strict : coercing).compile(schema);
  };
}

// NUL and unpaired UTF-16 surrogates cannot be stored in Postgres text or jsonb; refused at the edge as
// the caller's mistake (400) instead of surfacing as a database error (500).
const UNSTORABLE_TEXT = /\u0000|\p{Cs}/u;

/** Refuses a string anywhere in a parsed request part (values and object keys) that Postgres cannot store. */
export function assertStorableText(value: unknown, where: string): void {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (typeof item === 'string') {
      if (UNSTORABLE_TEXT.test(item)) throw new RequestError('ERR_REQUEST_INVALID', `The ${where} holds a NUL character or an unpaired surrogate.`);
    } else if (Array.isArray(item)) {
      for (const element of item) pending.push(element);
    } else if (item !== null && typeof item === 'object' && !Buffer.isBuffer(item)) {
      for (const [k, v] of Object.entries(item)) pending.push(k, v);
    }
  }
}

/** The principal of an authenticated request; routes with a scope always have one. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new RequestError('ERR_AUTH_REQUIRED', 'Authentication is required.');
  return request.principal;
}

export function requestContext(request: FastifyRequest): RequestContext {
  return { actor: principalOf(request), requestId: String(request.id) };
}

/**
 * The answer of a sensitive change: the result when it applied at once, or 202 with the pending
 * approval (and anything the requester must keep, such as an invite's enrolment code).
 */
export function sendPerformed<R>(reply: FastifyReply, out: { applied: R } | { approval: unknown; extra?: Record<string, unknown> }, onApplied?: (r: R) => unknown): unknown {
  if ('applied' in out) return onApplied ? onApplied(out.applied) : out.applied;
  reply.code(202);
  return { ...(out.extra ?? {}), approval: out.approval };
}

export function createHttpApp(opts: HttpOptions): RouteRegistrar {
  const app = Fastify({
    loggerInstance: opts.logger,
    bodyLimit: opts.bodyLimit,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID_RE.test(given) ? given : randomUUID();
    },
    // keyward logs one line per request itself (onResponse), without headers.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    // Attestation tokens for 8-GPU evidence carry every device's claims: allow them in Authorization.
    http: { maxHeaderSize: 64 * 1024 },
    // Why a long maxParamLength: an over-long id is the caller's mistake, answered by the schema (400) or
    // the lookup (404) like any other bad id; the router's own limit would answer an undocumented 414.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 16 * 1024 },
  });
  app.setValidatorCompiler(makeValidatorCompiler());
  const registered: string[] = [];
  app.decorate('registeredRoutes', registered);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) registered.push(`${method} ${route.url.replace(/:([A-Za-z]+)/g, '{$1}')}`);
  });
  app.decorateRequest('principal', null);
  void app.register(fastifyCookie);
  void app.register(fastifyJwt, { secret: opts.sessionSecret, sign: { algorithm: 'HS256' }, verify: { algorithms: ['HS256'] } });

  /**
   * The principal of a passkey session cookie. A write (any method but GET/HEAD/OPTIONS) must come from
   * KEYWARD_ORIGIN and echo the session's CSRF token: SameSite=Strict is one defence, this is the other.
   */
  async function sessionPrincipal(request: FastifyRequest, cookie: string): Promise<Principal> {
    let sid: unknown;
    try {
      sid = app.jwt.verify<{ sid?: unknown }>(cookie).sid;
    } catch (cause) {
      throw new RequestError('ERR_AUTH_INVALID', 'The session cookie is not valid; log in again.', { cause });
    }
    const principal = await opts.sessions.authenticate(String(sid));
    if (!SAFE_METHODS.has(request.method)) {
      if (request.headers.origin !== opts.origin) throw new RequestError('ERR_AUTH_ORIGIN_MISMATCH', 'A write with the session cookie must come from keyward\'s own origin.');
      const csrf = request.headers[CSRF_HEADER];
      await opts.sessions.assertCsrf(principal, typeof csrf === 'string' ? csrf : undefined);
    }
    return principal;
  }

  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics, prefix: 'keyward_' });
  const requests = new Counter({
    name: 'keyward_http_requests_total',
    help: 'HTTP requests by route template, method and status code.',
    labelNames: ['method', 'route', 'status'],
    registers: [metrics],
  });
  const latency = new Histogram({
    name: 'keyward_http_request_duration_seconds',
    help: 'HTTP request latency by route template and method.',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [metrics],
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    reply.header('cache-control', 'no-store');
    const scope = request.routeOptions.config.scope;
    if (scope === undefined || scope === 'public') return;
    const header = request.headers.authorization;
    const cookie = header === undefined ? app.parseCookie(request.headers.cookie ?? '')[SESSION_COOKIE] : undefined;
    if (header === undefined && cookie === undefined && scope === 'optional') return;
    let principal: Principal;
    if (cookie !== undefined) {
      principal = await sessionPrincipal(request, cookie);
    } else {
      const match = typeof header === 'string' ? /^Bearer ([\x21-\x7e]{1,512})$/i.exec(header) : null;
      if (!match?.[1]) throw new RequestError('ERR_AUTH_REQUIRED', 'Send an API token as "Authorization: Bearer <token>", or log in with a passkey.');
      principal = await opts.tokens.authenticate(match[1]);
    }
    if (scope !== 'any' && scope !== 'optional' && !principal.scopes.has(scope)) throw new RequestError('ERR_AUTH_FORBIDDEN', `This token lacks the "${scope}" scope.`);
    request.principal = principal;
  });

  app.addHook('preValidation', async (request) => {
    assertStorableText(request.params, 'path');
    assertStorableText(request.query, 'query');
    assertStorableText(request.body, 'body');
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    if (reply.statusCode >= 500) request.log.warn({ route, status: reply.statusCode, reqId: request.id }, 'request failed');
    else request.log.debug({ route, status: reply.statusCode, ms: reply.elapsedTime }, 'request');
  });

  app.setErrorHandler(async (err, request, reply) => sendProblem(reply, toProblem(err, request)));
  app.setNotFoundHandler(async (request, reply) =>
    sendProblem(reply, problemOf('ERR_ROUTE_NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}.`, String(request.id))),
  );

  return {
    app,
    metrics,
    route(operationId, scope, handler) {
      const op = opts.openapi.operation(operationId);
      const schema = {
        ...(op.body ? { body: op.body } : {}),
        ...(op.querystring ? { querystring: op.querystring } : {}),
        ...(op.params ? { params: op.params } : {}),
      };
      app.route({ method: op.method as 'GET', url: toFastifyPath(op.path), schema, config: { scope }, handler });
    },
  };
}
