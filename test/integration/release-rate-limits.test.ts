// A key's release budget is spent only by callers whose attestation token verified: garbage tokens from
// one address run out that address's budget of failures (429 ERR_AUTH_TOO_MANY_FAILURES with Retry-After)
// and never lock other workloads out of the key.
import { describe, expect, it, afterAll, beforeAll } from 'vitest';
import { startTestKeyward, type TestKeyward } from '../helpers/keyward.js';
import { teeKeyPair } from '../helpers/tee.js';

/** Budgets count in one-minute windows: a clock standing 10 s into one keeps each test inside it. */
const inWindow = { now: () => new Date(Math.floor(Date.now() / 60_000) * 60_000 + 10_000) };

describe('release rate limits', () => {
  let kw: TestKeyward;
  let keyId: string;

  beforeAll(async () => {
    kw = await startTestKeyward('pglite', { env: { KEYWARD_RATE_LIMIT: '3', KEYWARD_FAILED_ATTEMPT_LIMIT: '5' }, clock: inWindow });
    keyId = (await kw.request('POST', '/v1/keys', { body: { name: 'budgeted', kind: 'model' } })).json().id;
    const policyId = (await kw.request('POST', '/v1/policies', { body: { name: 'open', rules: [{ name: 'any', expr: 'true' }] } })).json().id;
    await kw.request('PUT', `/v1/keys/${keyId}/policy`, { body: { policyId } });
  });
  afterAll(async () => kw?.close());

  async function validToken(): Promise<string> {
    const tee = teeKeyPair();
    return (await kw.keyward.attestationTokens.sign({ cnf: { jkt: Buffer.from(tee.thumbprint).toString('base64url'), jwk: tee.publicJwk }, cpu: null, gpus: [] })).token;
  }

  function release(token: string | null, from: string) {
    return kw.keyward.app.inject({
      method: 'POST',
      url: `/v1/keys/${keyId}/release`,
      remoteAddress: from,
      headers: { 'content-type': 'application/json', ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
      payload: '{}',
    });
  }

  it('charges garbage tokens to their address, not to the key; the key still serves verified callers', async () => {
    const codes: string[] = [];
    let limited;
    for (let i = 0; i < 8; i++) {
      const res = await release(i % 2 === 0 ? 'garbage.token.here' : null, '203.0.113.7');
      codes.push(res.json().code);
      if (res.statusCode === 429) limited = res;
    }
    expect(codes.slice(0, 5)).toEqual(['ERR_ATTEST_TOKEN_INVALID', 'ERR_ATTEST_TOKEN_REQUIRED', 'ERR_ATTEST_TOKEN_INVALID', 'ERR_ATTEST_TOKEN_REQUIRED', 'ERR_ATTEST_TOKEN_INVALID']);
    expect(codes.slice(5)).toEqual(Array(3).fill('ERR_AUTH_TOO_MANY_FAILURES'));
    expect(limited?.statusCode).toBe(429);
    expect(Number(limited?.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Even a good token from the address that spent its failures waits.
    expect((await release(await validToken(), '203.0.113.7')).json().code).toBe('ERR_AUTH_TOO_MANY_FAILURES');

    // The key's own budget (3 per minute) is untouched: three verified releases from elsewhere succeed.
    for (let i = 0; i < 3; i++) {
      const ok = await release(await validToken(), '198.51.100.9');
      expect(ok.statusCode, ok.body).toBe(200);
    }
    const fourth = await release(await validToken(), '198.51.100.9');
    expect(fourth.statusCode).toBe(429);
    expect(fourth.json().code).toBe('ERR_RATE_LIMITED');
    expect(Number(fourth.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });

  it("a key's own rateLimit replaces the default; a TEE identity's budget spans keys", async () => {
    const own = (await kw.request('POST', '/v1/keys', { body: { name: 'own-budget', kind: 'model' } })).json().id;
    const policyId = (await kw.request('POST', '/v1/policies', { body: { name: 'open-2', rules: [{ name: 'any', expr: 'true' }] } })).json().id;
    await kw.request('PUT', `/v1/keys/${own}/policy`, { body: { policyId } });
    const patched = await kw.request('PATCH', `/v1/keys/${own}`, { body: { rateLimit: { perMinute: 1 } } });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json().rateLimit).toEqual({ perMinute: 1 });
    expect((await kw.request('GET', `/v1/keys/${own}`)).json().rateLimit).toEqual({ perMinute: 1 });
    const token = await validToken();
    const releaseOwn = () =>
      kw.keyward.app.inject({ method: 'POST', url: `/v1/keys/${own}/release`, remoteAddress: '198.51.100.20', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, payload: '{}' });
    expect((await releaseOwn()).statusCode).toBe(200);
    expect((await releaseOwn()).json().code).toBe('ERR_RATE_LIMITED');
    for (const bad of [{ perMinute: -1 }, { perMinute: 1.5 }, { perMonth: 3 }, 7]) {
      const res = await kw.request('PATCH', `/v1/keys/${own}`, { body: { rateLimit: bad } });
      expect(res.statusCode, JSON.stringify(bad)).toBe(400);
    }
    expect((await kw.request('PATCH', `/v1/keys/${own}`, { body: { rateLimit: null } })).json().rateLimit).toBeNull();
  });
});

describe('release budgets per TEE identity', () => {
  let kw: TestKeyward;
  beforeAll(async () => {
    kw = await startTestKeyward('pglite', { env: { KEYWARD_RATE_LIMIT: '0', KEYWARD_TEE_RATE_LIMIT: '2' }, clock: inWindow });
  });
  afterAll(async () => kw?.close());

  it('counts releases to one GPU across keys and tokens; another GPU has its own budget', async () => {
    const policyId = (await kw.request('POST', '/v1/policies', { body: { name: 'open', rules: [{ name: 'any', expr: 'true' }] } })).json().id;
    const keys: string[] = [];
    for (const name of ['k1', 'k2']) {
      const id = (await kw.request('POST', '/v1/keys', { body: { name, kind: 'model' } })).json().id;
      await kw.request('PUT', `/v1/keys/${id}/policy`, { body: { policyId } });
      keys.push(id);
    }
    const tokenFor = async (deviceId: string) => {
      const tee = teeKeyPair();
      return (await kw.keyward.attestationTokens.sign({ cnf: { jkt: Buffer.from(tee.thumbprint).toString('base64url'), jwk: tee.publicJwk }, cpu: null, gpus: [{ tee: 'nvidia-gpu', deviceId }] })).token;
    };
    const release = async (keyId: string, deviceId: string) =>
      (await kw.keyward.app.inject({ method: 'POST', url: `/v1/keys/${keyId}/release`, headers: { 'content-type': 'application/json', authorization: `Bearer ${await tokenFor(deviceId)}` }, payload: '{}' })).statusCode;
    expect(await release(keys[0]!, 'gpu-a')).toBe(200);
    expect(await release(keys[1]!, 'gpu-a')).toBe(200);
    expect(await release(keys[0]!, 'gpu-a')).toBe(429);
    expect(await release(keys[1]!, 'gpu-b')).toBe(200);
  });
});
