// POST /v1/policies/validate: the type check of POST /v1/policies without saving (Terraform runs it at
// plan time): the same codes and problems, nothing stored, nothing audited.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestKeyward, type TestKeyward } from '../helpers/keyward.js';

describe('POST /v1/policies/validate', () => {
  let kw: TestKeyward;
  beforeAll(async () => {
    kw = await startTestKeyward('pglite');
  });
  afterAll(async () => kw?.close());

  const good = { name: 'checked', description: 'ok', rules: [{ name: 'image', expr: 'cpu.measurement in refs.images' }], refs: { images: ['ab'.repeat(48)] } };

  it('answers {"valid": true} for a document POST /v1/policies would accept, and stores nothing', async () => {
    const auditBefore = (await kw.request('GET', '/v1/audit?limit=1000')).json().items.length;
    const res = await kw.request('POST', '/v1/policies/validate', { body: good });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ valid: true });
    expect((await kw.request('GET', '/v1/policies')).json().items).toEqual([]);
    expect((await kw.request('GET', '/v1/audit?limit=1000')).json().items.length).toBe(auditBefore);
  });

  it('takes YAML text like POST /v1/policies', async () => {
    const yaml = 'name: from-yaml\nrules:\n  - name: snp\n    expr: \'cpu.tee == "snp"\'\n';
    const res = await kw.request('POST', '/v1/policies/validate', { rawBody: yaml, headers: { 'content-type': 'application/yaml' } });
    expect(res.statusCode, res.body).toBe(200);
  });

  it('refuses a typo with the same 422 ERR_POLICY_TYPE, rule and position as saving it', async () => {
    const typo = { name: 'typo', rules: [{ name: 'm', expr: 'cpu.measurment == "x"' }] };
    const checked = await kw.request('POST', '/v1/policies/validate', { body: typo });
    const saved = await kw.request('POST', '/v1/policies', { body: typo });
    expect(checked.statusCode).toBe(422);
    expect(checked.json().code).toBe('ERR_POLICY_TYPE');
    expect(checked.json().problems[0]).toMatchObject({ rule: 'm', path: '/rules/0/expr', line: 1 });
    expect(checked.json().problems).toEqual(saved.json().problems);
    expect(checked.json().detail).toBe(saved.json().detail);
  });

  it('refuses a syntax error (422) and a schema violation (400) with their codes', async () => {
    const syntax = await kw.request('POST', '/v1/policies/validate', { body: { name: 's', rules: [{ name: 'r', expr: 'cpu.tee ==' }] } });
    expect(syntax.statusCode).toBe(422);
    expect(syntax.json().code).toBe('ERR_POLICY_SYNTAX');
    const schema = await kw.request('POST', '/v1/policies/validate', { body: { name: 's', rules: [] } });
    expect(schema.statusCode).toBe(400);
    expect(schema.json().code).toBe('ERR_POLICY_INVALID');
  });

  it('needs a token with policies:read', async () => {
    expect((await kw.request('POST', '/v1/policies/validate', { body: good, token: null })).json().code).toBe('ERR_AUTH_REQUIRED');
    const op = (await kw.request('POST', '/v1/tokens', { body: { name: 'op', role: 'operator' } })).json().token;
    expect((await kw.request('POST', '/v1/policies/validate', { body: good, token: op })).json().code).toBe('ERR_AUTH_FORBIDDEN');
  });
});
