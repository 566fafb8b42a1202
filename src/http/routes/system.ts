// Operational routes: liveness, readiness, Prometheus metrics, the OpenAPI document.
import type { Registry } from 'prom-client';
import type { Health } from '../../broker/health.js';
import type { RouteRegistrar } from '../app.js';
import type { OpenApiDocument } from '../openapi.js';

export function registerSystemRoutes(r: RouteRegistrar, health: Health, metrics: Registry, openapi: OpenApiDocument): void {
  r.route('healthz', 'public', async () => ({ status: 'ok' }));

  r.route('readyz', 'public', async (_request, reply) => {
    const result = await health.readiness();
    reply.code(result.ready ? 200 : 503);
    return { status: result.ready ? 'ready' : 'not-ready', checks: result.checks };
  });

  r.route('metrics', 'public', async (_request, reply) => {
    reply.type(metrics.contentType);
    return metrics.metrics();
  });

  r.route('openapi', 'public', async (_request, reply) => {
    reply.type('application/yaml');
    return openapi.text;
  });
}
