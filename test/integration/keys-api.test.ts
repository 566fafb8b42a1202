// The key vault over HTTP, on PGlite and (when configured) real Postgres: lifecycle, data keys, BYOK,
// audit, auth, and bad input — each refusal asserting its code.
import { describe, expect, it, afterAll, beforeAll } from 'vitest';
import { randomBytes } from 'node:crypto';
import { CompactEncrypt, importJWK, type JWK } from 'jose';
import { DB_KINDS } from '../helpers/db.js';
import { startTestKeyward, BOOTSTRAP_TOKEN, type TestKeyward } from '../helpers/keyward.js';
import { findBrokenLink, type AuditEntry } from '../../src/broker/audit.js';

async function importJwe(kw: TestKeyward, material: Uint8Array, alg = 'RSA-OAEP-256'): Promise<string> {
  const res = await kw.request('GET', `/v1/import-key?alg=${encodeURIComponent(alg)}`);
  expect(res.statusCode, res.body).toBe(200);
  const jwk = res.json() as JWK;
  const key = await importJWK(jwk, alg);
  return new CompactEncrypt(material).setProtectedHeader({ alg, enc: 'A256GCM', kid: jwk.kid as string }).encrypt(key);
}

describe.each(DB_KINDS)('keys API on %s', (kind) => {
  let kw: TestKeyward;
  beforeAll(async () => {
    kw = await startTestKeyward(kind);
  });
  afterAll(async () => kw?.close());

  it('creates a key with metadata only, and refuses a duplicate name with the existing id', async () => {
    const res = await kw.request('POST', '/v1/keys', { body: { name: 'llama-70b', kind: 'model', description: 'weights', labels: { team: 'ml' } } });
    expect(res.statusCode).toBe(201);
    const key = res.json();
    expect(key).toMatchObject({ name: 'llama-70b', kind: 'model', state: 'active', version: 1, origin: 'generated', labels: { team: 'ml' } });
    expect(res.headers['etag']).toBe(key.etag);
    expect(res.headers['location']).toBe(`/v1/keys/${key.id}`);
    expect(Object.keys(key)).not.toContain('material');
    const dup = await kw.request('POST', '/v1/keys', { body: { name: 'llama-70b', kind: 'dataset' } });
    expect(dup.statusCode).toBe(409);
    expect(dup.headers['content-type']).toContain('application/problem+json');
    expect(dup.json()).toMatchObject({ code: 'ERR_KEY_NAME_TAKEN', existingId: key.id });
  });

  it('lists with filters and pagination', async () => {
    for (const [name, k] of [['ds-a', 'dataset'], ['ds-b', 'dataset'], ['gen-a', 'generic']] as const) {
      expect((await kw.request('POST', '/v1/keys', { body: { name, kind: k, labels: { env: name.startsWith('ds') ? 'prod' : 'dev' } } })).statusCode).toBe(201);
    }
    const datasets = (await kw.request('GET', '/v1/keys?kind=dataset')).json();
    expect(datasets.items.map((k: { name: string }) => k.name).sort()).toEqual(['ds-a', 'ds-b']);
    const prod = (await kw.request('GET', '/v1/keys?label=env%3Dprod')).json();
    expect(prod.items.map((k: { name: string }) => k.name).sort()).toEqual(['ds-a', 'ds-b']);
    const page1 = (await kw.request('GET', '/v1/keys?limit=2')).json();
    expect(page1.items).toHaveLength(2);
    expect(page1.nextCursor).toEqual(expect.any(String));
    const page2 = (await kw.request('GET', `/v1/keys?limit=2&cursor=${page1.nextCursor}`)).json();
    const names = [...page1.items, ...page2.items].map((k: { name: string }) => k.name);
    expect(new Set(names).size).toBe(names.length);
    const bad = await kw.request('GET', '/v1/keys?cursor=bm90LWEtY3Vyc29y');
    expect(bad.json().code).toBe('ERR_REQUEST_INVALID');
    expect((await kw.request('GET', '/v1/keys?kind=weights')).json().code).toBe('ERR_REQUEST_INVALID');
  });

  it('patches with If-Match and refuses a stale ETag', async () => {
    const key = (await kw.request('POST', '/v1/keys', { body: { name: 'patchme', kind: 'generic' } })).json();
    const ok = await kw.request('PATCH', `/v1/keys/${key.id}`, { body: { description: 'v2' }, headers: { 'if-match': key.etag } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().description).toBe('v2');
    expect(ok.json().etag).not.toBe(key.etag);
    const stale = await kw.request('PATCH', `/v1/keys/${key.id}`, { body: { labels: { a: 'b' } }, headers: { 'if-match': key.etag } });
    expect(stale.statusCode).toBe(412);
    expect(stale.json().code).toBe('ERR_PRECONDITION_FAILED');
    expect((await kw.request('PATCH', `/v1/keys/${key.id}`, { body: {} })).json().code).toBe('ERR_REQUEST_INVALID');
  });

  it('rotates, disables, enables and destroys with the right codes at each step', async () => {
    const key = (await kw.request('POST', '/v1/keys', { body: { name: 'lifecycle', kind: 'dataset' } })).json();
    expect((await kw.request('POST', `/v1/keys/${key.id}/rotate`)).json().version).toBe(2);
    const dk1 = (await kw.request('POST', `/v1/keys/${key.id}/datakey`)).json();
    expect(dk1.version).toBe(2);
    expect(Buffer.from(dk1.plaintext, 'base64')).toHaveLength(32);
    expect(dk1.wrapped.startsWith(`kw1.${key.id}.2.`)).toBe(true);

    expect((await kw.request('POST', `/v1/keys/${key.id}/disable`)).json().state).toBe('disabled');
    const disabled = await kw.request('POST', `/v1/keys/${key.id}/datakey`);
    expect(disabled.statusCode).toBe(409);
    expect(disabled.json().code).toBe('ERR_KEY_DISABLED');
    expect((await kw.request('POST', `/v1/keys/${key.id}/rotate`)).json().code).toBe('ERR_KEY_DISABLED');
    expect((await kw.request('POST', `/v1/keys/${key.id}/enable`)).json().state).toBe('active');

    const destroyed = await kw.request('DELETE', `/v1/keys/${key.id}`);
    expect(destroyed.statusCode).toBe(200);
    expect(destroyed.json()).toMatchObject({ state: 'destroyed', destroyedAt: expect.any(String) });
    expect((await kw.request('GET', `/v1/keys/${key.id}`)).json().state).toBe('destroyed');
    const versions = (await kw.request('GET', `/v1/keys/${key.id}/versions`)).json().items;
    expect(versions.map((v: { state: string }) => v.state)).toEqual(['destroyed', 'destroyed']);
    for (const [method, path] of [['POST', 'datakey'], ['POST', 'rotate'], ['POST', 'enable']] as const) {
      const res = await kw.request(method, `/v1/keys/${key.id}/${path}`);
      expect(res.statusCode).toBe(410);
      expect(res.json().code).toBe('ERR_KEY_DESTROYED');
    }
    expect((await kw.request('DELETE', `/v1/keys/${key.id}`)).statusCode).toBe(200);
    const versionsRows = await kw.db.database.db.selectFrom('keyVersions').selectAll().where('keyId', '=', key.id).execute();
    expect(versionsRows.every((v) => v.sealed === null && v.kekId === null)).toBe(true);
  });

  it('answers 404 for unknown keys and ids that are not uuids', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      const res = await kw.request('GET', `/v1/keys/${id}`);
      expect(res.statusCode).toBe(404);
      expect(res.json().code).toBe('ERR_KEY_NOT_FOUND');
    }
    expect((await kw.request('GET', '/v1/nothing')).json().code).toBe('ERR_ROUTE_NOT_FOUND');
  });

  it('imports key material from a JWE (RSA-OAEP-256 and ECDH-ES+A256KW) and refuses bad JWEs', async () => {
    for (const alg of ['RSA-OAEP-256', 'ECDH-ES+A256KW']) {
      const jwe = await importJwe(kw, randomBytes(32), alg);
      const res = await kw.request('POST', '/v1/keys/import', { body: { name: `byok-${alg.replace('+', '-')}`, kind: 'model', jwe } });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json()).toMatchObject({ origin: 'imported', version: 1 });
    }
    const good = await importJwe(kw, randomBytes(32));
    const parts = good.split('.');
    const tag = Buffer.from(parts[4] ?? '', 'base64url');
    tag[0] = tag[0]! ^ 0xff; // a whole byte: the last base64url character carries padding bits
    parts[4] = tag.toString('base64url');
    const tampered = await kw.request('POST', '/v1/keys/import', { body: { name: 'byok-bad', kind: 'model', jwe: parts.join('.') } });
    expect(tampered.json().code).toBe('ERR_IMPORT_JWE_INVALID');
    const short = await kw.request('POST', '/v1/keys/import', { body: { name: 'byok-short', kind: 'model', jwe: await importJwe(kw, randomBytes(8)) } });
    expect(short.json().code).toBe('ERR_IMPORT_MATERIAL_INVALID');
    const noKid = await kw.request('POST', '/v1/keys/import', { body: { name: 'byok-x', kind: 'model', jwe: 'eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMjU2R0NNIn0.a.b.c.d' } });
    expect(noKid.json().code).toBe('ERR_IMPORT_KEY_UNKNOWN');
    const garbage = await kw.request('POST', '/v1/keys/import', { body: { name: 'byok-y', kind: 'model', jwe: 'nonsense' } });
    expect(garbage.json().code).toBe('ERR_IMPORT_JWE_INVALID');
    expect((await kw.request('GET', '/v1/keys?limit=500')).json().items.some((k: { name: string }) => k.name.startsWith('byok-bad'))).toBe(false);
  });

  it('refuses missing, wrong and under-scoped tokens', async () => {
    const none = await kw.request('GET', '/v1/keys', { token: null });
    expect(none.statusCode).toBe(401);
    expect(none.json().code).toBe('ERR_AUTH_REQUIRED');
    expect(none.headers['www-authenticate']).toBe('Bearer');
    const wrong = await kw.request('GET', '/v1/keys', { token: 'kw_not-a-real-token' });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().code).toBe('ERR_AUTH_INVALID');
    const auditor = (await kw.request('POST', '/v1/tokens', { body: { name: 'ci-auditor', role: 'auditor' } })).json();
    expect(auditor.token).toMatch(/^kw_/);
    expect((await kw.request('GET', '/v1/keys', { token: auditor.token })).statusCode).toBe(200);
    const forbidden = await kw.request('POST', '/v1/keys', { token: auditor.token, body: { name: 'nope', kind: 'model' } });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().code).toBe('ERR_AUTH_FORBIDDEN');
    const narrowed = (await kw.request('POST', '/v1/tokens', { body: { name: 'reader', role: 'owner', scopes: ['keys:read'] } })).json();
    expect((await kw.request('POST', '/v1/keys/00000000-0000-4000-8000-000000000000/datakey', { token: narrowed.token })).json().code).toBe(
      'ERR_AUTH_FORBIDDEN',
    );
    expect((await kw.request('POST', '/v1/tokens', { body: { name: 'x', role: 'owner', scopes: ['keys:everything'] } })).json().code).toBe(
      'ERR_REQUEST_INVALID',
    );
    expect((await kw.request('DELETE', `/v1/tokens/${auditor.id}`)).json().revokedAt).toEqual(expect.any(String));
    expect((await kw.request('GET', '/v1/keys', { token: auditor.token })).json().code).toBe('ERR_AUTH_INVALID');
    expect((await kw.request('DELETE', '/v1/tokens/00000000-0000-4000-8000-000000000000')).json().code).toBe('ERR_TOKEN_NOT_FOUND');
  });

  it('refuses malformed JSON, unknown fields, wrong types, wrong media types and oversized bodies', async () => {
    const malformed = await kw.request('POST', '/v1/keys', { rawBody: '{"name": "x", "kind": ' });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().code).toBe('ERR_REQUEST_MALFORMED');
    const unknown = await kw.request('POST', '/v1/keys', { body: { name: 'x', kind: 'model', material: 'AAAA' } });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toMatchObject({ code: 'ERR_REQUEST_INVALID', detail: 'body has unknown field "material".' });
    const wrongType = await kw.request('POST', '/v1/keys', { body: { name: 42, kind: 'model' } });
    expect(wrongType.json().code).toBe('ERR_REQUEST_INVALID');
    const badName = await kw.request('POST', '/v1/keys', { body: { name: '../etc', kind: 'model' } });
    expect(badName.json().code).toBe('ERR_REQUEST_INVALID');
    const missing = await kw.request('POST', '/v1/keys', { body: { name: 'x' } });
    expect(missing.json()).toMatchObject({ code: 'ERR_REQUEST_INVALID', detail: 'body is missing required field "kind".' });
    const media = await kw.request('POST', '/v1/keys', { rawBody: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(media.statusCode).toBe(415);
    expect(media.json().code).toBe('ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE');
    const huge = await kw.request('POST', '/v1/keys', { rawBody: JSON.stringify({ name: 'x', kind: 'model', description: 'a'.repeat(2 * 1024 * 1024) }) });
    expect(huge.statusCode).toBe(413);
    expect(huge.json().code).toBe('ERR_REQUEST_TOO_LARGE');
    // None of those left a half-written row behind.
    const rows = await kw.db.database.db.selectFrom('keys').select('name').where('name', '=', 'x').execute();
    expect(rows).toEqual([]);
  });

  it('records every change in a hash-chained audit log', async () => {
    const key = (await kw.request('POST', '/v1/keys', { body: { name: 'audited', kind: 'generic' } })).json();
    await kw.request('POST', `/v1/keys/${key.id}/rotate`, { headers: { 'x-request-id': 'req-audit-1' } });
    const page = (await kw.request('GET', `/v1/audit?target=${key.id}`)).json();
    expect(page.items.map((e: AuditEntry) => e.action)).toEqual(['key.create', 'key.rotate']);
    const rotate = page.items[1] as AuditEntry;
    expect(rotate).toMatchObject({ outcome: 'success', requestId: 'req-audit-1', details: { version: 2 } });
    expect(rotate.actor).toMatch(/^token:/);
    const all = (await kw.request('GET', '/v1/audit?limit=1000')).json().items as AuditEntry[];
    expect(all[0]?.prevHash).toBe('00'.repeat(32));
    expect(findBrokenLink(all)).toBeUndefined();
    expect((await kw.request('GET', '/v1/audit/verify')).json()).toMatchObject({ ok: true, brokenAt: null, events: all.length });
    await expect(
      kw.db.database.db.updateTable('auditEvents').set({ actor: 'forged' }).where('seq', '=', 1).execute(),
    ).rejects.toThrow(/append-only/);
  });

  it('serves health, readiness, metrics and the contract', async () => {
    expect((await kw.request('GET', '/healthz', { token: null })).json()).toEqual({ status: 'ok' });
    const ready = (await kw.request('GET', '/readyz', { token: null })).json();
    expect(ready.status).toBe('ready');
    expect(ready.checks.map((c: { name: string }) => c.name)).toEqual(['database', 'migrations', 'kek']);
    const metrics = await kw.request('GET', '/metrics', { token: null });
    expect(metrics.body).toMatch(/keyward_http_requests_total\{method="POST",route="\/v1\/keys",status="201"\} \d+/);
    expect(metrics.body).toContain('keyward_http_request_duration_seconds_bucket');
    const yaml = await kw.request('GET', '/openapi.yaml', { token: null });
    expect(yaml.body.startsWith('openapi: 3.1.0')).toBe(true);
  });

  it('keeps the bootstrap token valid until revoked', async () => {
    const tokens = (await kw.request('GET', '/v1/tokens')).json().items;
    const boot = tokens.find((t: { bootstrap: boolean }) => t.bootstrap);
    expect(boot).toMatchObject({ role: 'admin', revokedAt: null });
    const admin = (await kw.request('POST', '/v1/tokens', { body: { name: 'second admin', role: 'admin' } })).json();
    expect((await kw.request('DELETE', `/v1/tokens/${boot.id}`, { token: admin.token })).statusCode).toBe(200);
    expect((await kw.request('GET', '/v1/keys', { token: BOOTSTRAP_TOKEN })).json().code).toBe('ERR_AUTH_INVALID');
  });
});
