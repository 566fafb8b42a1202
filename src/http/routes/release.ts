// Workload routes (docs/design.md "Release protocol"): challenge, attest, release, and the token JWKS.
// No API token here: the workload proves itself with evidence, then with the attestation token.
import type { FastifyRequest } from 'fastify';
import { KeywardError, RequestError } from '../../errors.js';
import type { AttestedCaller, ReleaseService, AttestRequest } from '../../broker/release.js';
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

export function registerReleaseRoutes(r: RouteRegistrar, release: ReleaseService, tokens: AttestationTokens, limits: ReleaseLimits): void {
  r.route('createChallenge', 'public', async (request, reply) => {
    await limits.limits.take([{ scope: 'client', subject: request.ip, limit: limits.perClient }]);
    reply.code(201);
    return release.challenge(request.ip);
  });

  r.route('attest', 'public', async (request) => {
    await limits.limits.take([{ scope: 'client', subject: request.ip, limit: limits.perClient }]);
    return release.attest(request.body as AttestRequest, String(request.id));
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
    return release.release(caller, keyId, body, String(request.id));
  });

  r.route('jwks', 'public', async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=300');
    return tokens.jwks();
  });
}
