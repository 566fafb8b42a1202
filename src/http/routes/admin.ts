// Admin routes: API tokens and the audit log.
import type { AuditLog } from '../../broker/audit-log.js';
import type { AuditExporter } from '../../broker/audit-export.js';
import type { AuditCheckpoints } from '../../broker/audit-checkpoints.js';
import type { Role, Tokens } from '../../broker/api-tokens.js';
import { requestContext, type RouteRegistrar } from '../app.js';

export interface AuditRoutes {
  readonly log: AuditLog;
  readonly exporter: AuditExporter;
  readonly checkpoints: AuditCheckpoints;
}

export function registerAdminRoutes(r: RouteRegistrar, tokens: Tokens, audit: AuditRoutes): void {
  const auditLog = audit.log;
  r.route('listAudit', 'audit:read', async (request) => {
    const q = request.query as { after?: number; limit: number; action?: string; target?: string; outcome?: 'success' | 'failure' | 'denied' };
    return auditLog.list(requestContext(request).actor, {
      limit: q.limit,
      ...(q.after !== undefined ? { afterSeq: q.after } : {}),
      ...(q.action ? { action: q.action } : {}),
      ...(q.target ? { target: q.target } : {}),
      ...(q.outcome ? { outcome: q.outcome } : {}),
    });
  });

  r.route('verifyAudit', 'audit:read', async () => auditLog.verifyChain());

  r.route('exportAudit', 'audit:read', async (request) => {
    const q = request.query as { tenant?: string; from: number; limit: number };
    return audit.exporter.export(requestContext(request).actor, { from: q.from, limit: q.limit, ...(q.tenant !== undefined ? { tenant: q.tenant } : {}) });
  });

  r.route('listAuditCheckpointKeys', 'public', async () => audit.checkpoints.publicKeys());

  r.route('createToken', 'tokens:admin', async (request, reply) => {
    const body = request.body as { name: string; role: Role; scopes?: string[]; expiresInSeconds?: number; tenant?: string };
    const created = await tokens.create(requestContext(request), body);
    reply.code(201);
    return { ...created.info, token: created.token };
  });

  r.route('listTokens', 'tokens:admin', async () => ({ items: await tokens.list() }));

  r.route('revokeToken', 'tokens:admin', async (request) => tokens.revoke(requestContext(request), (request.params as { id: string }).id));
}
