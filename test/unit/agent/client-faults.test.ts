// KeywardClient against a scripted fake server: which failures are retried (and how long it waits), which
// never are (an attest whose nonce may have arrived), timeouts, refused connections, aborts, problem+json
// codes, answers that break the protocol, base URL handling, and releaseKey's new run with a new challenge.
import { createHash, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { closedPort, problem, startFakeHttp, type FakeHttp } from '../../helpers/fake-http.js';
import { KeywardClient, KeywardClientError, createTeeKeyPair, type EvidenceProvider, type KeywardClientOptions } from '../../../src/agent/client.js';
import { parseRetryAfter, retryDelay } from '../../../src/agent/client-http.js';
import { encryptForTee, parseTeePublicKey } from '../../../src/keys/jwe.js';

let fake: FakeHttp;
beforeEach(async () => {
  fake = await startFakeHttp();
});
afterEach(async () => fake.close());

const FAST = { backoffMs: 5, maxBackoffMs: 20 } as const;
const client = (opts: Partial<KeywardClientOptions> = {}) => new KeywardClient({ baseUrl: fake.url, ...FAST, ...opts });
const nonce = () => randomBytes(32).toString('base64url');
const challengeOk = () => ({ status: 201, json: { nonce: nonce(), expiresAt: '2030-01-01T00:00:00.000Z' } });
const KEY = '11111111-2222-4333-8444-555555555555';
const attestBody = { nonce: nonce(), teePublicKey: createTeeKeyPair().publicJwk, evidence: [{ type: 'snp' as const, report: 'AA==', certs: [] }] };

async function rejection(promise: Promise<unknown>): Promise<KeywardClientError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KeywardClientError);
  return err as KeywardClientError;
}

describe('retries where safe', () => {
  it('challenge: waits out 503 + Retry-After, then succeeds', async () => {
    fake.handle((_r, i) => (i === 0 ? problem(503, 'ERR_NOT_READY', { headers: { 'retry-after': '1' } }) : challengeOk()));
    const started = performance.now();
    const { nonce: n } = await client().challenge();
    expect(n).toHaveLength(43);
    expect(fake.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /v1/challenge', 'POST /v1/challenge']);
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('challenge: honours 429 Retry-After (seconds), then succeeds', async () => {
    fake.handle((_r, i) => (i === 0 ? problem(429, 'ERR_RATE_LIMITED', { headers: { 'retry-after': '1' }, extra: { retryAfterSeconds: 1 } }) : challengeOk()));
    const started = performance.now();
    await client().challenge();
    expect(fake.requests).toHaveLength(2);
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('a Retry-After longer than maxRetryAfterMs is not waited out: ERR_RATE_LIMITED at once', async () => {
    fake.handle(() => problem(429, 'ERR_RATE_LIMITED', { headers: { 'retry-after': '120' } }));
    const started = performance.now();
    const err = await rejection(client({ maxRetryAfterMs: 5000 }).challenge());
    expect(err.code).toBe('ERR_RATE_LIMITED');
    expect(err.httpStatus).toBe(429);
    expect(err.retryAfterMs).toBe(120_000);
    expect(fake.requests).toHaveLength(1);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('challenge: retries 502 / dropped connections / timeouts up to `retries`, then reports the last', async () => {
    fake.handle((_r, i) => (i === 0 ? { status: 502, text: '<html>bad gateway</html>', headers: { 'content-type': 'text/html' } } : i === 1 ? 'drop' : 'hang'));
    const err = await rejection(client({ retries: 2, timeoutMs: 200 }).challenge());
    expect(err.code).toBe('ERR_CLIENT_TIMEOUT');
    expect(fake.requests).toHaveLength(3);
  });

  it('release: a 503 that is not transient (ERR_COLLATERAL_STALE) is not retried', async () => {
    fake.handle(() => problem(503, 'ERR_COLLATERAL_STALE'));
    expect((await rejection(client({ retries: 3 }).release(KEY, 'tok'))).code).toBe('ERR_COLLATERAL_STALE');
    expect(fake.requests).toHaveLength(1);
  });

  it('release: retried after 503 (the server did not act), not after a dropped connection', async () => {
    const jwe = 'a.b.c.d.e';
    fake.handle((_r, i) => (i === 0 ? problem(503, 'ERR_KEK_UNAVAILABLE') : { status: 200, json: { keyId: KEY, version: 2, jwe, releaseId: KEY } }));
    expect(await client().release(KEY, 'tok')).toEqual({ keyId: KEY, version: 2, jwe, releaseId: KEY });
    expect(fake.requests).toHaveLength(2);
    expect(fake.requests[1]?.headers['authorization']).toBe('Bearer tok');
    fake.requests.length = 0;
    fake.handle(() => 'drop');
    expect((await rejection(client().release(KEY, 'tok'))).code).toBe('ERR_CLIENT_CONNECTION_FAILED');
    expect(fake.requests).toHaveLength(1);
  });

  it('connection refused (nothing sent) is retried and reported as ERR_CLIENT_UNREACHABLE', async () => {
    const port = await closedPort();
    const started = performance.now();
    const err = await rejection(new KeywardClient({ baseUrl: `http://127.0.0.1:${port}`, retries: 2, backoffMs: 100, maxBackoffMs: 100 }).challenge());
    expect(err.code).toBe('ERR_CLIENT_UNREACHABLE');
    expect(err.message).toContain(`cannot reach keyward at http://127.0.0.1:${port}: connection refused`);
    expect(err.httpStatus).toBeUndefined();
    // Two backoff waits of 50..100 ms each happened before giving up.
    expect(performance.now() - started).toBeGreaterThanOrEqual(100);
  });
});

describe('never replays an attest whose nonce may have arrived', () => {
  it.each([
    ['503', () => problem(503, 'ERR_COLLATERAL_UNAVAILABLE'), 'ERR_COLLATERAL_UNAVAILABLE'],
    ['429', () => problem(429, 'ERR_RATE_LIMITED', { headers: { 'retry-after': '0' } }), 'ERR_RATE_LIMITED'],
    ['502', () => ({ status: 502, text: 'proxy' }), 'ERR_CLIENT_HTTP_ERROR'],
    ['a dropped connection', () => 'drop' as const, 'ERR_CLIENT_CONNECTION_FAILED'],
    ['a timeout', () => 'hang' as const, 'ERR_CLIENT_TIMEOUT'],
  ])('after %s: one request, the error surfaced', async (_name, answer, code) => {
    fake.handle(answer);
    const err = await rejection(client({ retries: 5, timeoutMs: 300 }).attest(attestBody));
    expect(err.code).toBe(code);
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]?.body).toEqual(attestBody);
  });
});

describe('errors carry the server code, status and request id', () => {
  it('problem+json: code, httpStatus, requestId, serverCode; control characters never reach the message', async () => {
    fake.handle(() => ({
      status: 403,
      headers: { 'content-type': 'application/problem+json' },
      json: { code: 'ERR_POLICY_DENIED', status: 403, detail: 'denied\u001b[31m', requestId: 'r-42' },
    }));
    const err = await rejection(client().release(KEY, 'tok'));
    expect(err).toMatchObject({ code: 'ERR_POLICY_DENIED', status: 403, httpStatus: 403, requestId: 'r-42', serverCode: 'ERR_POLICY_DENIED', operation: 'POST /v1/keys/11111111-2222-4333-8444-555555555555/release' });
    expect(err.message).toBe('denied?[31m (request id r-42)');
  });

  it('an unknown code is ERR_CLIENT_HTTP_ERROR keeping the server code; a redirect is not followed', async () => {
    fake.handle(() => problem(418, 'ERR_FROM_THE_FUTURE'));
    const err = await rejection(client().challenge());
    expect(err).toMatchObject({ code: 'ERR_CLIENT_HTTP_ERROR', httpStatus: 418, serverCode: 'ERR_FROM_THE_FUTURE' });
    fake.requests.length = 0;
    fake.handle(() => ({ status: 307, headers: { location: 'http://elsewhere.example/v1/attest' } }));
    const redirected = await rejection(client().attest(attestBody));
    expect(redirected.code).toBe('ERR_CLIENT_HTTP_ERROR');
    expect(redirected.message).toContain('redirected POST /v1/attest (to http://elsewhere.example/v1/attest)');
    expect(fake.requests).toHaveLength(1);
  });

  it('answers that break the protocol are ERR_CLIENT_RESPONSE_INVALID', async () => {
    const cases = [
      { status: 201, json: { nonce: 'short', expiresAt: 'x' } },
      { status: 201, text: 'not json' },
      { status: 201, json: [1, 2] },
      { status: 201, json: { nonce: nonce(), expiresAt: 'x', pad: 'x'.repeat(5000) } },
    ];
    for (const answer of cases) {
      fake.handle(() => answer);
      expect((await rejection(client({ maxResponseBytes: 4096 }).challenge())).code).toBe('ERR_CLIENT_RESPONSE_INVALID');
    }
    fake.handle(() => ({ status: 200, json: { keyId: KEY, version: 1, plaintext: Buffer.alloc(16).toString('base64'), wrapped: 'w' } }));
    expect((await rejection(client({ token: 't' }).dataKey(KEY))).code).toBe('ERR_CLIENT_RESPONSE_INVALID');
    fake.handle(() => ({ status: 200, json: { keyId: KEY, version: 0, jwe: 'x', releaseId: KEY } }));
    expect((await rejection(client().release(KEY, 'tok'))).code).toBe('ERR_CLIENT_RESPONSE_INVALID');
  });
});

describe('timeouts and aborts', () => {
  it('a request that gets no answer within timeoutMs is ERR_CLIENT_TIMEOUT', async () => {
    fake.handle(() => 'hang');
    const started = performance.now();
    const err = await rejection(client({ retries: 0, timeoutMs: 250 }).challenge());
    expect(err.code).toBe('ERR_CLIENT_TIMEOUT');
    expect(err.message).toContain('within 0.25 s');
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it("the caller's AbortSignal ends a call, also while waiting to retry: ERR_CLIENT_ABORTED", async () => {
    fake.handle(() => 'hang');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    expect((await rejection(client({ timeoutMs: 10_000 }).challenge({ signal: controller.signal }))).code).toBe('ERR_CLIENT_ABORTED');
    fake.handle(() => problem(503, 'ERR_NOT_READY', { headers: { 'retry-after': '20' } }));
    const waiting = new AbortController();
    setTimeout(() => waiting.abort(), 200);
    const started = performance.now();
    expect((await rejection(client().challenge({ signal: waiting.signal }))).code).toBe('ERR_CLIENT_ABORTED');
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe('base URL and tokens', () => {
  it('normalizes the base URL and keeps a path prefix', async () => {
    fake.handle(() => challengeOk());
    const c = new KeywardClient({ baseUrl: ` ${fake.url}/keyward///` });
    expect(c.baseUrl).toBe(`${fake.url}/keyward`);
    await c.challenge();
    expect(fake.requests[0]?.url).toBe('/keyward/v1/challenge');
    expect(fake.requests[0]?.headers['authorization']).toBeUndefined();
  });

  it.each(['127.0.0.1:8750', 'ftp://host/', 'http://user:pw@host/', 'http://host/?a=1', 'http://host/#x', 'not a url'])('refuses base URL %j', (baseUrl) => {
    expect(() => new KeywardClient({ baseUrl })).toThrow(expect.objectContaining({ code: 'ERR_CLIENT_OPTIONS_INVALID' }));
  });

  it('refuses to send a token over http to another machine unless allowed; escapes key ids in paths', async () => {
    const err = await rejection(new KeywardClient({ baseUrl: 'http://192.0.2.1:8750', token: 't' }).dataKey(KEY));
    expect(err.code).toBe('ERR_CLIENT_OPTIONS_INVALID');
    expect(err.message).toContain('plain http');
    fake.handle(() => problem(404, 'ERR_KEY_NOT_FOUND'));
    await rejection(client({ token: 'tok' }).dataKey('../../v1/tokens'));
    expect(fake.requests[0]?.url).toBe('/v1/keys/..%2F..%2Fv1%2Ftokens/datakey');
    expect(fake.requests[0]?.headers['authorization']).toBe('Bearer tok');
  });

  it('never shows its token when printed or serialized', () => {
    const c = client({ token: 'super-secret-token-value' });
    expect(inspect(c, { depth: 5, showHidden: true })).not.toContain('super-secret-token-value');
    expect(JSON.stringify(c)).not.toContain('super-secret-token-value');
  });

  it('refuses nonsensical options', () => {
    expect(() => client({ retries: -1 })).toThrow(expect.objectContaining({ code: 'ERR_CLIENT_OPTIONS_INVALID' }));
    expect(() => client({ timeoutMs: 0 })).toThrow(expect.objectContaining({ code: 'ERR_CLIENT_OPTIONS_INVALID' }));
  });
});

describe('releaseKey (attest + release): a failed run is repeated with a new challenge, never a replayed nonce', () => {
  const THREE_CALLS = { oneShot: false } as const;
  const secret = new Uint8Array(randomBytes(32));
  const binds: Uint8Array[] = [];
  const provider: EvidenceProvider = { name: 'fake', collect: async (bind) => (binds.push(bind), [{ type: 'snp', report: 'AA==', certs: [] }]) };
  const releaseAnswer = (teePublicKey: unknown, payload = secret) => ({
    status: 200,
    json: { keyId: KEY, version: 3, jwe: encryptForTee(payload, parseTeePublicKey(teePublicKey)), releaseId: KEY },
  });

  function script(attestAnswers: ((n: number) => ReturnType<typeof problem> | 'drop' | null)[]) {
    let attests = 0;
    let lastKey: unknown;
    fake.handle((r) => {
      if (r.url === '/v1/challenge') return challengeOk();
      if (r.url === '/v1/attest') {
        lastKey = (r.body as { teePublicKey: unknown }).teePublicKey;
        const answer = attestAnswers[attests++]?.(attests);
        return answer ?? { status: 200, json: { token: 'tok', expiresAt: 'x', claims: { cpu: { tee: 'snp' }, gpus: [], gpuTopology: null } } };
      }
      return releaseAnswer(lastKey);
    });
  }

  beforeEach(() => {
    binds.length = 0;
  });

  it('binds the evidence to SHA-512(nonce ‖ thumbprint) and decrypts the released secret', async () => {
    script([]);
    const released = await client().releaseKey(KEY, provider, THREE_CALLS);
    expect(released).toMatchObject({ keyId: KEY, version: 3, evidenceSource: 'fake' });
    expect(released.plaintext).toEqual(secret);
    const attest = fake.requests.find((r) => r.url === '/v1/attest')?.body as { nonce: string; teePublicKey: { x: string } };
    const thumbprint = createHash('sha256').update(`{"crv":"X25519","kty":"OKP","x":"${attest.teePublicKey.x}"}`).digest();
    const expected = createHash('sha512').update(Buffer.from(attest.nonce, 'base64url')).update(thumbprint).digest();
    expect(Buffer.from(binds[0] as Uint8Array)).toEqual(expected);
    expect(fake.requests.map((r) => r.url)).toEqual(['/v1/challenge', '/v1/attest', `/v1/keys/${KEY}/release`]);
  });

  it('attest 503 / dropped / nonce expired → a new run: new challenge, new nonce, new TEE key', async () => {
    script([() => problem(503, 'ERR_COLLATERAL_UNAVAILABLE'), () => 'drop', () => problem(400, 'ERR_ATTEST_NONCE_EXPIRED')]);
    const released = await client().releaseKey(KEY, provider, { ...THREE_CALLS, attempts: 4 });
    expect(released.plaintext).toEqual(secret);
    const attests = fake.requests.filter((r) => r.url === '/v1/attest').map((r) => r.body as { nonce: string; teePublicKey: { x: string } });
    expect(attests).toHaveLength(4);
    expect(new Set(attests.map((a) => a.nonce)).size).toBe(4);
    expect(new Set(attests.map((a) => a.teePublicKey.x)).size).toBe(4);
    expect(fake.requests.filter((r) => r.url === '/v1/challenge')).toHaveLength(4);
  });

  it('gives up after `attempts` runs with the last error; verdicts end the first run', async () => {
    script([() => problem(503, 'ERR_COLLATERAL_UNAVAILABLE'), () => problem(503, 'ERR_COLLATERAL_UNAVAILABLE')]);
    expect((await rejection(client().releaseKey(KEY, provider, { ...THREE_CALLS, attempts: 2 }))).code).toBe('ERR_COLLATERAL_UNAVAILABLE');
    expect(fake.requests.filter((r) => r.url === '/v1/attest')).toHaveLength(2);
    fake.requests.length = 0;
    script([() => problem(422, 'ERR_SNP_SIGNATURE_INVALID')]);
    expect((await rejection(client().releaseKey(KEY, provider, THREE_CALLS))).code).toBe('ERR_SNP_SIGNATURE_INVALID');
    expect(fake.requests).toHaveLength(2);
  });

  it.each(['ERR_COLLATERAL_MISSING', 'ERR_COLLATERAL_STALE', 'ERR_CRL_STALE'])('a 503 %s (stays so until an operator acts) ends the first run', async (code) => {
    script([() => problem(503, code)]);
    expect((await rejection(client().releaseKey(KEY, provider, { ...THREE_CALLS, attempts: 3 }))).code).toBe(code);
    expect(fake.requests.filter((r) => r.url === '/v1/attest')).toHaveLength(1);
    expect(fake.requests.filter((r) => r.url === '/v1/challenge')).toHaveLength(1);
  });

  it('the same 503 with Retry-After from the server is retried with a new run', async () => {
    script([() => problem(503, 'ERR_COLLATERAL_MISSING', { headers: { 'retry-after': '0' } })]);
    const released = await client().releaseKey(KEY, provider, { ...THREE_CALLS, attempts: 3 });
    expect(released.plaintext).toEqual(secret);
    expect(fake.requests.filter((r) => r.url === '/v1/attest')).toHaveLength(2);
  });

  it('a JWE that does not open with the TEE key is ERR_CLIENT_JWE_INVALID', async () => {
    fake.handle((r) => {
      if (r.url === '/v1/challenge') return challengeOk();
      if (r.url === '/v1/attest') return { status: 200, json: { token: 'tok', expiresAt: 'x', claims: { cpu: null, gpus: [], gpuTopology: null } } };
      return releaseAnswer(createTeeKeyPair().publicJwk);
    });
    expect((await rejection(client().releaseKey(KEY, provider, THREE_CALLS))).code).toBe('ERR_CLIENT_JWE_INVALID');
  });

  it('an unknown TEE key type is refused before any request', async () => {
    await expect(client().releaseKey(KEY, provider, { ...THREE_CALLS, teeKey: 'rsa2048' as never })).rejects.toMatchObject({ code: 'ERR_CLIENT_OPTIONS_INVALID' });
    expect(fake.requests).toEqual([]);
  });

  it('evidence provider errors pass through unchanged', async () => {
    fake.handle(() => challengeOk());
    const failing: EvidenceProvider = {
      name: 'broken',
      collect: async () => {
        throw Object.assign(new Error('x'), { code: 'EIO' });
      },
    };
    await expect(client().releaseKey(KEY, failing, THREE_CALLS)).rejects.toMatchObject({ message: 'x', code: 'EIO' });
  });
});

describe('releaseKey (one-shot, the default): one call, a new run on transient failures, attest + release when the route is missing', () => {
  const secret = new Uint8Array(randomBytes(32));
  const tokenFor = (cpu: unknown) => `e30.${Buffer.from(JSON.stringify({ cpu, gpus: [], gpuTopology: null })).toString('base64url')}.sig`;

  function script(oneShotAnswers: ((n: number) => ReturnType<typeof problem> | 'drop' | null)[]) {
    let calls = 0;
    fake.handle((r) => {
      if (r.url === '/v1/challenge') return challengeOk();
      if (r.url !== '/v1/release') return problem(500, 'ERR_INTERNAL');
      const body = r.body as { teePublicKey: unknown; keys: { keyId: string }[]; token?: boolean };
      const answer = oneShotAnswers[calls++]?.(calls);
      if (answer) return answer;
      const releases = body.keys.map((k) => ({ keyId: k.keyId, version: 3, jwe: encryptForTee(secret, parseTeePublicKey(body.teePublicKey)), releaseId: KEY }));
      return { status: 200, json: { releases, ...(body.token ? { token: tokenFor({ tee: 'snp', anchor: { source: 'vendor' } }) } : {}) } };
    });
  }

  it('sends evidence and the key in one POST /v1/release, asks for the token and reports its claims', async () => {
    script([]);
    const released = await client().releaseKey(KEY, { name: 'fake', collect: async () => [{ type: 'snp', report: 'AA==', certs: [] }] }, { wrappedDataKey: 'wdk' });
    expect(released).toMatchObject({ keyId: KEY, version: 3, flow: 'one-shot', claims: { cpu: { tee: 'snp' }, gpus: [] } });
    expect(released.plaintext).toEqual(secret);
    expect(fake.requests.map((r) => r.url)).toEqual(['/v1/challenge', '/v1/release']);
    expect(fake.requests[1]?.body).toMatchObject({ keys: [{ keyId: KEY, wrappedDataKey: 'wdk' }], token: true });
  });

  it('a 503 or a dropped connection → a new run with a new nonce; a verdict ends the first run', async () => {
    const provider: EvidenceProvider = { name: 'fake', collect: async () => [{ type: 'snp', report: 'AA==', certs: [] }] };
    script([() => problem(503, 'ERR_COLLATERAL_UNAVAILABLE'), () => 'drop']);
    expect((await client().releaseKey(KEY, provider, { attempts: 3 })).plaintext).toEqual(secret);
    const nonces = fake.requests.filter((r) => r.url === '/v1/release').map((r) => (r.body as { nonce: string }).nonce);
    expect(nonces).toHaveLength(3);
    expect(new Set(nonces).size).toBe(3);
    fake.requests.length = 0;
    script([() => problem(403, 'ERR_POLICY_DENIED', { extra: { keyId: KEY } })]);
    expect((await rejection(client().releaseKey(KEY, provider, { attempts: 3 }))).code).toBe('ERR_POLICY_DENIED');
    expect(fake.requests.filter((r) => r.url === '/v1/release')).toHaveLength(1);
  });

  it('falls back to attest + release with the same nonce when the server has no one-shot route, and remembers it', async () => {
    const provider: EvidenceProvider = { name: 'fake', collect: async () => [{ type: 'snp', report: 'AA==', certs: [] }] };
    let teeKey: unknown;
    fake.handle((r) => {
      if (r.url === '/v1/challenge') return challengeOk();
      if (r.url === '/v1/release') return problem(404, 'ERR_ROUTE_NOT_FOUND');
      if (r.url === '/v1/attest') {
        teeKey = (r.body as { teePublicKey: unknown }).teePublicKey;
        return { status: 200, json: { token: 'tok', expiresAt: 'x', claims: { cpu: { tee: 'snp' }, gpus: [], gpuTopology: null } } };
      }
      return { status: 200, json: { keyId: KEY, version: 3, jwe: encryptForTee(secret, parseTeePublicKey(teeKey)), releaseId: KEY } };
    });
    const c = client();
    const first = await c.releaseKey(KEY, provider);
    expect(first.flow).toBe('attest+release');
    const urls = fake.requests.map((r) => r.url);
    expect(urls).toEqual(['/v1/challenge', '/v1/release', '/v1/attest', `/v1/keys/${KEY}/release`]);
    expect((fake.requests[2]?.body as { nonce: string }).nonce).toBe((fake.requests[1]?.body as { nonce: string }).nonce);
    fake.requests.length = 0;
    expect((await c.releaseKey(KEY, provider)).plaintext).toEqual(secret);
    expect(fake.requests.map((r) => r.url)).toEqual(['/v1/challenge', '/v1/attest', `/v1/keys/${KEY}/release`]);
    fake.requests.length = 0;
    expect((await rejection(client().releaseKey(KEY, provider, { oneShot: true }))).code).toBe('ERR_ROUTE_NOT_FOUND');
  });

  it('an answer without one release per key asked for is ERR_CLIENT_RESPONSE_INVALID', async () => {
    fake.handle((r) => (r.url === '/v1/challenge' ? challengeOk() : { status: 200, json: { releases: [] } }));
    const provider: EvidenceProvider = { name: 'fake', collect: async () => [{ type: 'snp', report: 'AA==', certs: [] }] };
    expect((await rejection(client().releaseKey(KEY, provider))).code).toBe('ERR_CLIENT_RESPONSE_INVALID');
  });
});

describe('Retry-After and backoff', () => {
  it('parses delta-seconds and HTTP-dates; garbage is ignored', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('backoff stays within [ceiling/2, ceiling] of the doubling step', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 60_000 }), (n, base, max) => {
        const delay = retryDelay(undefined, n, { backoffMs: base, maxBackoffMs: max, maxRetryAfterMs: 0 }) as number;
        const ceiling = Math.min(max, base * 2 ** n);
        return delay >= ceiling / 2 && delay <= ceiling;
      }),
    );
  });
});
