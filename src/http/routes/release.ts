// Workload routes (docs/release.md): challenge, attest, release, the one-shot release, and the token JWKS.
// No API token here: the workload proves itself with evidence, then with the attestation token. Release
// outcomes feed the metrics keyward_releases_total, keyward_release_duration_seconds, keyward_denials_total.
import type { FastifyRequest } from 'fastify';
import { Counter, Histogram, type Registry } from 'prom-client';
import { KeywardError, RequestError } from '../../errors.js';
import type { AttestedCaller, ReleaseService, AttestRequest, OneShotRequest } from '../../broker/release.js';
import type { AttestationTokens } from '../../broker/attestation-tokens.js';
import type { RateLimits } from '../../broker/rate-limit.js';
import type { RouteRegistrar } from '../app.js';

export interface ReleaseLimits {
  readonly limits: RateLimits;
  /** Challenge and attest requests per client address per minute (0 = off). */
  readonly perClient: number;
  /** Releases refused for a missing or bad attestation token, per client address per minute (0 = off). */
  readonly failuresPerClient: number;
}

function bearer(request: FastifyRequest): string {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer ([A-Za-z0-9_\-.]{1,65536})$/i.exec(header) : null;
  if (!match?.[1]) throw new RequestError('ERR_ATTEST_TOKEN_REQUIRED', 'Send the attestation token from POST /v1/attest as "Authorization: Bearer <token>".');
  return match[1];
}

const CPU_TEES: ReadonlySet<string> = new Set(['snp', 'tdx', 'sgx', 'nitro']);

/** The CPU TEE of a request's evidence (a bounded label: one of CPU_TEES, or "none"). */
function cpuTeeOf(evidence: unknown): string {
  const types = Array.isArray(evidence) ? evidence.map((e) => (e as { type?: unknown } | null)?.type) : [];
  return types.find((t): t is string => typeof t === 'string' && CPU_TEES.has(t)) ?? 'none';
}

type ReleaseFlow = 'one-shot' | 'token';

/** Counts and times every release attempt by outcome (success, denied: a 4xx verdict, error: anything else). */
function releaseMetrics(registry: Registry) {
  const releases = new Counter({
    name: 'keyward_releases_total',
    help: 'Release requests (one-shot and with an attestation token) by outcome and CPU TEE.',
    labelNames: ['outcome', 'tee'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'keyward_release_duration_seconds',
    help: 'Time the server spent on a release request, by flow.',
    labelNames: ['flow'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const denials = new Counter({ name: 'keyward_denials_total', help: 'Refused release requests by error code.', labelNames: ['code'], registers: [registry] });
  return async function observe<T>(flow: ReleaseFlow, tee: () => string, run: () => Promise<T>): Promise<T> {
    const stop = duration.startTimer({ flow });
    try {
      const result = await run();
      releases.inc({ outcome: 'success', tee: tee() });
      return result;
    } catch (err) {
      const denied = err instanceof KeywardError && err.status < 500 && err.status !== 429;
      releases.inc({ outcome: denied ? 'denied' : 'error', tee: tee() });
      if (denied) denials.inc({ code: err.code });
      throw err;
    } finally {
      stop();
    }
  };
}

export function registerReleaseRoutes(r: RouteRegistrar, release: ReleaseService, tokens: AttestationTokens, limits: ReleaseLimits): void {
  const observe = releaseMetrics(r.metrics);
  r.route('createChallenge', 'public', async (request, reply) => {
    await limits.limits.take([{ scope: 'client', subject: request.ip, limit: limits.perClient }]);
    reply.code(201);
    return release.challenge();
  });

  r.route('attest', 'public', async (request) => {
    await limits.limits.take([{ scope: 'client', subject: request.ip, limit: limits.perClient }]);
    return release.attest(request.body as AttestRequest, { client: request.ip, requestId: String(request.id) });
  });

  r.route('releaseOneShot', 'public', async (request) => {
    await limits.limits.take([{ scope: 'client', subject: request.ip, limit: limits.perClient }]);
    const body = request.body as OneShotRequest;
    return observe('one-shot', () => cpuTeeOf(body.evidence), () => release.releaseOneShot(body, { client: request.ip, requestId: String(request.id) }));
  });

  r.route('releaseKey', 'public', async (request) => {
    // Why this order: a key's release budget is spent only by callers holding a valid attestation token,
    // so garbage tokens cannot exhaust it; they spend their own address's budget of failures instead.
    const failures = { scope: 'failures', subject: request.ip, limit: limits.failuresPerClient } as const;
    await limits.limits.check(failures);
    let caller: AttestedCaller;
    try {
      caller = await release.verifyCaller(bearer(request));
    } catch (err) {
      if (err instanceof KeywardError && err.code.startsWith('ERR_ATTEST_TOKEN_')) await limits.limits.charge(failures);
      throw err;
    }
    // The key's, tenant's and TEE's budgets are spent inside release(), once the key is found.
    const keyId = (request.params as { id: string }).id;
    const body = (request.body ?? {}) as { version?: number; wrappedDataKey?: string };
    return observe('token', () => caller.claims.cpu?.tee ?? 'none', () => release.release(caller, keyId, body, String(request.id)));
  });

  r.route('jwks', 'public', async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=300');
    return tokens.jwks();
  });
}
