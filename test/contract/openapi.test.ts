// openapi.yaml is the contract: every route the server has is documented and every documented operation
// is served; every error code is in the spec's ErrorCode enum and vice versa, with the statuses used.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { ERROR_STATUS, allErrorCodes } from '../../src/errors.js';
import { startTestKeyward, type TestKeyward } from '../helpers/keyward.js';
import { openapi } from '../helpers/contract.js';

type JsonObject = Record<string, unknown>;

function specOperations(): string[] {
  const out: string[] = [];
  for (const [path, item] of Object.entries(openapi.doc['paths'] as Record<string, JsonObject>)) {
    for (const method of ['get', 'post', 'put', 'patch', 'delete']) if (item[method]) out.push(`${method.toUpperCase()} ${path}`);
  }
  return out.sort();
}

describe('openapi.yaml ↔ server', () => {
  let kw: TestKeyward;
  beforeAll(async () => {
    kw = await startTestKeyward('pglite');
  });
  afterAll(async () => kw?.close());

  it('documents exactly the routes the server serves', () => {
    const fromApp = [...kw.keyward.app.registeredRoutes].filter((r) => !r.startsWith('HEAD ')).sort();
    expect(fromApp).toEqual(specOperations());
  });

  it('documents 503 (a dependency down: retry) on every operation that reaches the database, KEK or collateral', () => {
    // Served from memory whatever the database does: liveness, metrics, the console's files, the spec.
    const memoryOnly = new Set(['GET /healthz', 'GET /metrics', 'GET /console/', 'GET /console/{file}', 'GET /openapi.yaml']);
    const missing: string[] = [];
    for (const [path, item] of Object.entries(openapi.doc['paths'] as Record<string, JsonObject>)) {
      for (const method of ['get', 'post', 'put', 'patch', 'delete']) {
        const op = item[method] as JsonObject | undefined;
        if (!op || memoryOnly.has(`${method.toUpperCase()} ${path}`)) continue;
        if (!(op['responses'] as JsonObject)['503']) missing.push(`${method.toUpperCase()} ${path}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('lists every error code in the ErrorCode enum, and no other', () => {
    const schemas = (openapi.doc['components'] as JsonObject)['schemas'] as Record<string, JsonObject>;
    const enumCodes = ((schemas['ErrorCode'] as JsonObject)['enum'] as string[]).slice().sort();
    expect(enumCodes).toEqual(allErrorCodes().slice().sort());
  });

  it('gives each error code one HTTP status in the 4xx/5xx range', () => {
    for (const [code, status] of Object.entries(ERROR_STATUS)) {
      expect(code).toMatch(/^ERR_[A-Z0-9]+(_[A-Z0-9]+)*$/);
      expect(status >= 400 && status < 600, code).toBe(true);
    }
  });

  it('documents a problem response for every non-2xx status an operation declares', () => {
    for (const [path, item] of Object.entries(openapi.doc['paths'] as Record<string, JsonObject>)) {
      for (const method of ['get', 'post', 'put', 'patch', 'delete']) {
        const op = item[method] as JsonObject | undefined;
        if (!op) continue;
        for (const [status, response] of Object.entries(op['responses'] as Record<string, JsonObject>)) {
          if (Number(status) < 400 || path === '/readyz') continue;
          const content = (response['content'] ?? (response['$ref'] ? { 'application/problem+json': {} } : {})) as JsonObject;
          expect(Object.keys(content), `${method} ${path} ${status}`).toContain('application/problem+json');
        }
      }
    }
  });
});
