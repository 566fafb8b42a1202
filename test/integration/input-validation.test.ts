// Malformed input is a 4xx with a stable code on every route, never a 500: ids that look like UUIDs but
// are not, integers beyond what a column holds, text Postgres cannot store, optional bodies with unknown
// fields, and TEE keys of small order.
import { describe, expect, it, afterAll, beforeAll } from 'vitest';
import { DB_KINDS } from '../helpers/db.js';
import { startTestKeyward, type TestKeyward } from '../helpers/keyward.js';
import { teeKeyPair } from '../helpers/tee.js';
import { X25519_SMALL_ORDER_POINTS } from '../helpers/x25519.js';
import { jwkThumbprint, type TeePublicJwk } from '../../src/keys/jwe.js';

const NOT_UUIDS = ['zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz', '------------------------------------', 'AAAAAAAA-AAAA-4AAA-8AAA-AAAAAAAAAAAA'];

describe.each(DB_KINDS)('malformed input on %s', (kind) => {
  let kw: TestKeyward;
  let keyId: string;
  let policyId: string;
  let token: string;

  beforeAll(async () => {
    kw = await startTestKeyward(kind);
    keyId = (await kw.request('POST', '/v1/keys', { body: { name: 'k', kind: 'model' } })).json().id;
    policyId = (await kw.request('POST', '/v1/policies', { body: { name: 'p', rules: [{ name: 'a', expr: 'true' }] } })).json().id;
    await kw.request('PUT', `/v1/keys/${keyId}/policy`, { body: { policyId } });
    const tee = teeKeyPair();
    token = (await kw.keyward.attestationTokens.sign({ cnf: { jkt: Buffer.from(tee.thumbprint).toString('base64url'), jwk: tee.publicJwk }, cpu: null, gpus: [] })).token;
  }, 60_000);
  afterAll(async () => kw?.close());

  async function expectCode(method: string, url: string, status: number, code: string, opts: { body?: unknown; token?: string | null } = {}) {
    const res = await kw.request(method, url, opts);
    expect(res.statusCode, `${method} ${url} ${res.body}`).toBe(status);
    expect(res.json().code, `${method} ${url}`).toBe(code);
  }

  it('answers a documented 4xx, not the router\'s 414, for ids far longer than any id (found by fuzzing)', async () => {
    const long = 'x'.repeat(300);
    for (const [method, url] of [['GET', `/v1/keys/${long}`], ['DELETE', `/v1/tokens/${long}`], ['GET', `/v1/policies/${long}`], ['DELETE', `/v1/collateral/${long}`]] as const) {
      const res = await kw.request(method, url);
      expect([400, 404], `${method} ${url.slice(0, 20)} ${res.statusCode}`).toContain(res.statusCode);
    }
  });

  it('answers 404 for 36-character ids that are not UUIDs, on every id route', async () => {
    for (const id of NOT_UUIDS) {
      for (const [method, suffix] of [['GET', ''], ['GET', '/versions'], ['POST', '/rotate'], ['POST', '/disable'], ['POST', '/enable'], ['POST', '/datakey'], ['DELETE', '']] as const) {
        await expectCode(method, `/v1/keys/${id}${suffix}`, 404, 'ERR_KEY_NOT_FOUND');
      }
      await expectCode('PATCH', `/v1/keys/${id}`, 404, 'ERR_KEY_NOT_FOUND', { body: { description: 'x' } });
      await expectCode('PUT', `/v1/keys/${id}/policy`, 404, 'ERR_KEY_NOT_FOUND', { body: { policyId } });
      await expectCode('PUT', `/v1/keys/${keyId}/policy`, 404, 'ERR_POLICY_NOT_FOUND', { body: { policyId: id } });
      await expectCode('GET', `/v1/policies/${id}`, 404, 'ERR_POLICY_NOT_FOUND');
      await expectCode('DELETE', `/v1/policies/${id}`, 404, 'ERR_POLICY_NOT_FOUND');
      await expectCode('POST', `/v1/policies/${id}/evaluate`, 404, 'ERR_POLICY_NOT_FOUND', { body: { claims: {} } });
      await expectCode('DELETE', `/v1/tokens/${id}`, 404, 'ERR_TOKEN_NOT_FOUND');
      await expectCode('DELETE', `/v1/collateral/${id}`, 404, 'ERR_COLLATERAL_NOT_FOUND');
      await expectCode('POST', `/v1/keys/${id}/release`, 404, 'ERR_KEY_NOT_FOUND', { token, body: {} });
    }
  });

  it('refuses integers beyond the columns they name with 400 (and the broker refuses them too)', async () => {
    for (const version of [2 ** 31, 2 ** 40, 2 ** 53]) {
      await expectCode('POST', `/v1/keys/${keyId}/release`, 400, 'ERR_REQUEST_INVALID', { token, body: { version } });
      await expectCode('GET', `/v1/policies/${policyId}?version=${version}`, 400, 'ERR_REQUEST_INVALID');
      await expectCode('POST', `/v1/policies/${policyId}/evaluate`, 400, 'ERR_REQUEST_INVALID', { body: { claims: {}, version } });
    }
    await expectCode('GET', '/v1/audit?after=9223372036854775807', 400, 'ERR_REQUEST_INVALID');
    // Dates JavaScript holds and Postgres does not: the cursors' timestamps.
    const ancient = '-271821-04-20T00:00:00.000Z';
    await expectCode('GET', `/v1/keys?cursor=${Buffer.from(`${ancient}|${keyId}`).toString('base64url')}`, 400, 'ERR_REQUEST_INVALID');
    await expectCode('GET', `/v1/collateral?cursor=${Buffer.from(JSON.stringify([ancient, 'ab'.repeat(32)])).toString('base64url')}`, 400, 'ERR_REQUEST_INVALID');
    await expect(kw.keyward.release.release(await kw.keyward.release.verifyCaller(token), keyId, { version: 2 ** 40 }, null)).rejects.toMatchObject({ code: 'ERR_KEY_VERSION_NOT_FOUND' });
    await expect(kw.keyward.policies.get(policyId, 2 ** 40)).rejects.toMatchObject({ code: 'ERR_POLICY_NOT_FOUND' });
    await expect(kw.keyward.policies.evaluate(policyId, {}, 2 ** 40)).rejects.toMatchObject({ code: 'ERR_POLICY_NOT_FOUND' });
  });

  it('refuses NUL characters and unpaired surrogates in bodies, queries and paths with 400', async () => {
    for (const bad of ['a\u0000b', 'x\ud800', '\udc00y']) {
      await expectCode('POST', '/v1/keys', 400, 'ERR_REQUEST_INVALID', { body: { name: 'k2', kind: 'model', description: bad } });
      await expectCode('POST', '/v1/keys', 400, 'ERR_REQUEST_INVALID', { body: { name: 'k3', kind: 'model', labels: { a: bad } } });
      await expectCode('PATCH', `/v1/keys/${keyId}`, 400, 'ERR_REQUEST_INVALID', { body: { description: bad } });
      await expectCode('POST', '/v1/tokens', 400, 'ERR_REQUEST_INVALID', { body: { name: bad, role: 'auditor' } });
      await expectCode('POST', '/v1/policies', 400, 'ERR_REQUEST_INVALID', { body: { name: 'p2', description: bad, rules: [{ name: 'a', expr: 'true' }] } });
      await expectCode('POST', '/v1/policies', 400, 'ERR_REQUEST_INVALID', { body: { name: 'p3', rules: [{ name: 'a', expr: 'true' }], refs: { [bad]: 'x' } } });
    }
    for (const query of ['/v1/policies?after=%00', '/v1/keys?label=a%3D%00', '/v1/audit?target=%00', '/v1/audit?action=%00']) {
      await expectCode('GET', query, 400, 'ERR_REQUEST_INVALID');
    }
    await expectCode('GET', `/v1/keys/${keyId}%00`, 400, 'ERR_REQUEST_INVALID');
    expect((await kw.request('GET', `/v1/keys/${keyId}`)).json().description).toBe('');
  });

  it('validates optional bodies: unknown fields and wrong types are 400', async () => {
    for (const body of [{ bogus: 1 }, { version: 0 }, { version: '1' }]) {
      await expectCode('POST', `/v1/keys/${keyId}/release`, 400, 'ERR_REQUEST_INVALID', { token, body });
    }
    await expectCode('POST', '/v1/kek/rotate', 400, 'ERR_REQUEST_INVALID', { body: { bogus: 'x' } });
  });

  it('refuses X25519 TEE keys of small order at attestation, and tokens naming one at release', async () => {
    const challenge = (await kw.request('POST', '/v1/challenge', { token: null })).json();
    for (const point of X25519_SMALL_ORDER_POINTS) {
      const teePublicKey = { kty: 'OKP', crv: 'X25519', x: Buffer.from(point, 'hex').toString('base64url') };
      await expectCode('POST', '/v1/attest', 400, 'ERR_ATTEST_KEY_INVALID', { token: null, body: { nonce: challenge.nonce, teePublicKey, evidence: [{ type: 'snp', report: 'AA' }] } });
    }
    const zero: TeePublicJwk = { kty: 'OKP', crv: 'X25519', x: Buffer.alloc(32).toString('base64url') };
    const jkt = Buffer.from(jwkThumbprint(zero)).toString('base64url');
    const forged = (await kw.keyward.attestationTokens.sign({ cnf: { jkt, jwk: zero }, cpu: null, gpus: [] })).token;
    await expectCode('POST', `/v1/keys/${keyId}/release`, 401, 'ERR_ATTEST_TOKEN_INVALID', { token: forged, body: {} });
  });
});
