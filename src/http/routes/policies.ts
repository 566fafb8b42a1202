// Release policy routes: create, version, list, read, delete, bind to keys, and the dry run.
import type { Policies, PolicySubmission } from '../../broker/policies.js';
import type { ReleaseService } from '../../broker/release.js';
import { requestContext, sendPerformed, type RouteRegistrar } from '../app.js';

interface IdParams {
  id: string;
}

function submission(body: unknown): PolicySubmission {
  return typeof body === 'string' ? { text: body } : { document: body };
}

export function registerPolicyRoutes(r: RouteRegistrar, policies: Policies, release: ReleaseService): void {
  r.app.addContentTypeParser(['application/yaml', 'application/x-yaml', 'text/yaml'], { parseAs: 'string' }, (_req, body, done) => done(null, body));

  r.route('createPolicy', 'policies:write', async (request, reply) => {
    const q = request.query as { tenant?: string };
    const policy = await policies.create(requestContext(request), submission(request.body), q.tenant);
    reply.code(201).header('location', `/v1/policies/${policy.id}`);
    return policy;
  });

  r.route('validatePolicy', 'policies:read', async (request) => policies.validate(submission(request.body)));

  r.route('listPolicies', 'policies:read', async (request) => {
    const q = request.query as { tenant?: string; limit: number; after?: string };
    return policies.list(requestContext(request), q.tenant, q.limit, q.after);
  });

  r.route('getPolicy', 'policies:read', async (request) => {
    const q = request.query as { version?: number };
    return policies.show(requestContext(request), (request.params as IdParams).id, q.version);
  });

  r.route('updatePolicy', 'policies:write', async (request, reply) =>
    sendPerformed(reply, await policies.update(requestContext(request), (request.params as IdParams).id, submission(request.body))),
  );

  r.route('deletePolicy', 'policies:write', async (request, reply) => {
    await policies.delete(requestContext(request), (request.params as IdParams).id);
    reply.code(204);
    return undefined;
  });

  r.route('bindKeyPolicy', 'policies:write', async (request, reply) => {
    const body = request.body as { policyId: string | null };
    return sendPerformed(reply, await policies.bind(requestContext(request), (request.params as IdParams).id, body.policyId));
  });

  r.route('evaluatePolicy', 'policies:read', async (request) => {
    const body = request.body as { claims?: Parameters<Policies['evaluate']>[1]; evidence?: unknown[]; at?: string; version?: number };
    const id = (request.params as IdParams).id;
    const ctx = requestContext(request);
    await policies.show(ctx, id);
    const input = body.evidence ? await release.claimsForDryRun(body.evidence, body.at ? new Date(body.at) : undefined) : (body.claims ?? {});
    return policies.dryRun(ctx, id, input, body.version);
  });
}
