// Tenant and member routes (docs/design.md "Admin side"): create and list tenants, invite, list and
// remove members. Who may do what is decided in broker/tenants.ts.
import type { TenantRole } from '../../broker/api-tokens.js';
import type { Tenants } from '../../broker/tenants.js';
import type { MemberChanges } from '../../broker/member-changes.js';
import { requestContext, sendPerformed, type RouteRegistrar } from '../app.js';

interface TenantParams {
  tenant: string;
}

export function registerTenantRoutes(r: RouteRegistrar, tenants: Tenants, members: MemberChanges): void {
  r.route('createTenant', 'tenants:admin', async (request, reply) => {
    const created = await tenants.create(requestContext(request), request.body as { name: string; quorum?: number });
    reply.code(201).header('location', `/v1/tenants/${created.name}`);
    return created;
  });

  r.route('listTenants', 'any', async (request) => tenants.list(requestContext(request)));

  r.route('inviteMember', 'any', async (request, reply) => {
    const out = await tenants.invite(requestContext(request), (request.params as TenantParams).tenant, request.body as { name: string; role: TenantRole });
    return sendPerformed(reply, out, (invite) => {
      reply.code(201);
      return invite;
    });
  });

  r.route('updateTenant', 'any', async (request, reply) => {
    const body = request.body as { quorum: number };
    return sendPerformed(reply, await tenants.setQuorum(requestContext(request), (request.params as TenantParams).tenant, body.quorum));
  });

  r.route('listMembers', 'any', async (request) => tenants.members(requestContext(request), (request.params as TenantParams).tenant));

  r.route('removeMember', 'any', async (request, reply) => {
    const params = request.params as TenantParams & { userId: string };
    return sendPerformed(reply, await tenants.remove(requestContext(request), params.tenant, params.userId), () => {
      reply.code(204);
      return undefined;
    });
  });

  r.route('updateMember', 'any', async (request, reply) => {
    const params = request.params as TenantParams & { userId: string };
    return sendPerformed(reply, await members.setRole(requestContext(request), params.tenant, params.userId, (request.body as { role: TenantRole }).role));
  });

  r.route('reenrolMember', 'any', async (request, reply) => {
    const params = request.params as TenantParams & { userId: string };
    return sendPerformed(reply, await members.reenrol(requestContext(request), params.tenant, params.userId), (invite) => {
      reply.code(201);
      return invite;
    });
  });
}
