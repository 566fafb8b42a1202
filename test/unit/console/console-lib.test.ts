// The console's pure helpers, run in Node: the approval digest (RFC 8785 canonical JSON + SHA-256) agrees
// with the server's canonical JSON, the route list read from openapi.yaml is exactly the spec's operations,
// and the typed client (schema.d.ts) is the one openapi.yaml generates today.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { canonicalJson as consoleCanonical, sha256Hex } from '../../../console/src/lib/canonical.js';
import { operationsOf } from '../../../console/src/api/capabilities.js';
import { canonicalJson as serverCanonical } from '../../../src/broker/audit.js';

describe('console canonical JSON (RFC 8785)', () => {
  it('matches the RFC 8785 examples: sorted keys by UTF-16 units, ECMAScript numbers, minimal escapes', () => {
    expect(consoleCanonical({ b: [1e21, 0.000001, -0, 1.5], a: 'é\u2028"\n', '\u20ac': 1, '\r': 2, '\ud83d\ude00': 3 })).toBe(
      '{"\\r":2,"a":"é\u2028\\"\\n","b":[1e+21,0.000001,0,1.5],"€":1,"😀":3}',
    );
  });

  it('agrees with the server on any JSON value', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => consoleCanonical(v) === serverCanonical(v)), { numRuns: 300 });
  });

  it('hashes to the SHA-256 hex digest of the canonical text', async () => {
    const change = { tenant: 'acme', operation: 'bind', to: { policyId: 'p', version: 2 } };
    expect(await sha256Hex(consoleCanonical(change))).toBe(createHash('sha256').update(serverCanonical(change)).digest('hex'));
  });
});

describe('console route list from openapi.yaml', () => {
  it('is exactly the operations of the document', () => {
    const text = readFileSync('openapi.yaml', 'utf8');
    const doc = parse(text) as { paths: Record<string, Record<string, unknown>> };
    const expected = Object.entries(doc.paths).flatMap(([path, item]) =>
      ['get', 'put', 'post', 'patch', 'delete'].filter((m) => item[m]).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect([...operationsOf(text)].sort()).toEqual(expected.sort());
  });
});

describe('console typed client', () => {
  it('schema.d.ts is what openapi.yaml generates (npm run build regenerates it)', async () => {
    const script = join(process.cwd(), 'scripts', 'build-console.mjs');
    const { renderSchema, SCHEMA_PATH } = (await import(script)) as { renderSchema(): Promise<string>; SCHEMA_PATH: string };
    expect(readFileSync(SCHEMA_PATH, 'utf8')).toBe(await renderSchema());
  });
});
