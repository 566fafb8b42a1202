// Approval routes (docs/design.md "Admin side"): list, read (with the exact change JSON), sign with a
// passkey (options, then the assertion), reject.
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { ApprovalSigning } from '../../admin/approval-signing.js';
import type { Approvals } from '../../broker/approvals.js';
import { requestContext, type RouteRegistrar } from '../app.js';

interface IdParams {
  id: string;
}

export function registerApprovalRoutes(r: RouteRegistrar, approvals: Approvals, signing: ApprovalSigning): void {
  r.route('listApprovals', 'any', async (request) => {
    const q = request.query as { state?: 'pending' | 'applied' | 'rejected' | 'cancelled' | 'failed' };
    return approvals.list(requestContext(request), q.state);
  });

  r.route('getApproval', 'any', async (request) => approvals.get(requestContext(request), (request.params as IdParams).id));

  r.route('approvalOptions', 'any', async (request) => signing.options(requestContext(request), (request.params as IdParams).id));

  r.route('approveApproval', 'any', async (request) => {
    const body = request.body as { response: AuthenticationResponseJSON };
    return signing.approve(requestContext(request), (request.params as IdParams).id, body.response);
  });

  r.route('rejectApproval', 'any', async (request) => ({ approval: await approvals.reject(requestContext(request), (request.params as IdParams).id) }));
}
