// Three `keyward serve` replicas on one Postgres behave as one keyward: a release budget holds in total
// (not three times), the failed-attempt budget of an address too, a nonce raced at all three is consumed
// exactly once (at attest and at the one-shot release), and a revoked API token or a re-bound policy takes effect on every replica within 1 s.
import { describe, expect, it, afterAll, beforeAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPostgresSchema } from '../helpers/db.js';
import { POSTGRES, titleNeeding } from '../helpers/requirements.js';
import { BOOTSTRAP_TOKEN } from '../helpers/keyward.js';
import { api, serve, type Served } from '../helpers/process.js';
import { binding, createTestSnpPlatform, snpPolicy, teeKeyPair, type TestSnpPlatform } from '../helpers/tee.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** Budgets count in one-minute windows: start a burst early in a window so it cannot straddle two. */
async function awayFromWindowEdge(): Promise<void> {
  const into = Date.now() % 60_000;
  if (into > 40_000) await new Promise((r) => setTimeout(r, 60_000 - into + 200));
}

/** Polls `probe` on every replica until it answers `status` everywhere; returns the slowest delay in ms. */
async function everywhereWithin(replicas: Served[], probe: (s: Served) => Promise<number>, status: number): Promise<number> {
  const since = performance.now();
  const delays = await Promise.all(
    replicas.map(async (s) => {
      while (performance.now() - since < 5000) {
        if ((await probe(s)) === status) return performance.now() - since;
        await new Promise((r) => setTimeout(r, 20));
      }
      return Infinity;
    }),
  );
  return Math.max(...delays);
}

describe.skipIf(!POSTGRES.available)(titleNeeding(POSTGRES, 'three keyward replicas on one Postgres'), () => {
  let snp: TestSnpPlatform;
  let replicas: Served[];
  let keyId: string;
  const [a, b, c] = [0, 1, 2];

  beforeAll(async () => {
    snp = await createTestSnpPlatform();
    const dataDir = mkdtempSync(join(tmpdir(), 'keyward-replicas-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const schema = await createPostgresSchema();
    cleanups.push(schema.drop);
    const env = {
      KEYWARD_DATA_DIR: dataDir,
      KEYWARD_BOOTSTRAP_TOKEN: BOOTSTRAP_TOKEN,
      KEYWARD_DATABASE_URL: schema.url,
      ...snp.env,
      KEYWARD_RATE_LIMIT: '0',
      KEYWARD_TEE_RATE_LIMIT: '1000',
      KEYWARD_FAILED_ATTEMPT_LIMIT: '4',
    };
    // The first start migrates and creates the KEK; the others join it.
    replicas = [await serve(env)];
    replicas.push(...(await Promise.all([serve(env), serve(env)])));
    for (const r of replicas) cleanups.push(async () => void (await r.stop()));
    const admin = replicas[a] as Served;
    keyId = (await api(admin.url, BOOTSTRAP_TOKEN, 'POST', '/v1/keys', { name: 'model', kind: 'model' })).json.id;
    const policy = (await api(admin.url, BOOTSTRAP_TOKEN, 'POST', '/v1/policies', snpPolicy('prod'))).json;
    expect((await api(admin.url, BOOTSTRAP_TOKEN, 'PUT', `/v1/keys/${keyId}/policy`, { policyId: policy.id })).status).toBe(200);
  }, 180_000);

  async function attestAt(url: string, nonce: string) {
    const tee = teeKeyPair();
    return api(url, '', 'POST', '/v1/attest', { nonce, teePublicKey: tee.publicJwk, evidence: [await snp.evidence(binding(nonce, tee))] });
  }

  async function tokenFrom(s: Served): Promise<string> {
    const { nonce } = (await api(s.url, '', 'POST', '/v1/challenge')).json;
    const res = await attestAt(s.url, nonce);
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    return res.json.token;
  }

  it('a nonce raced at all three replicas is consumed exactly once', async () => {
    const { nonce } = (await api(replicas[a]!.url, '', 'POST', '/v1/challenge')).json;
    const tee = teeKeyPair();
    const body = { nonce, teePublicKey: tee.publicJwk, evidence: [await snp.evidence(binding(nonce, tee))] };
    const results = await Promise.all(replicas.flatMap((s) => [0, 1].map(() => api(s.url, '', 'POST', '/v1/attest', body))));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of results.filter((x) => x.status !== 200)) {
      expect(r.status).toBe(409);
      expect(r.json.code).toBe('ERR_ATTEST_NONCE_REPLAYED');
    }
  }, 60_000);

  it('a one-shot release raced at all three replicas releases once; every other answer is ERR_ATTEST_NONCE_REPLAYED', async () => {
    const { nonce } = (await api(replicas[b]!.url, '', 'POST', '/v1/challenge')).json;
    const tee = teeKeyPair();
    const body = { nonce, teePublicKey: tee.publicJwk, evidence: [await snp.evidence(binding(nonce, tee))], keys: [{ keyId }] };
    const results = await Promise.all(replicas.flatMap((s) => [0, 1].map(() => api(s.url, '', 'POST', '/v1/release', body))));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of results.filter((x) => x.status !== 200)) {
      expect(r.status).toBe(409);
      expect(r.json.code).toBe('ERR_ATTEST_NONCE_REPLAYED');
    }
    const audit = (await api(replicas[c]!.url, BOOTSTRAP_TOKEN, 'GET', `/v1/audit?target=${keyId}&action=key.release&limit=1000`)).json.items;
    const jkt = Buffer.from(tee.thumbprint).toString('base64url');
    const mine = audit.filter((e: { details: { jkt?: string } }) => e.details.jkt === jkt);
    expect(mine.map((e: { outcome: string; details: { flow?: string } }) => [e.outcome, e.details.flow])).toEqual([['success', 'one-shot']]);
  }, 60_000);

  it("holds a key's release budget in total across the replicas, not once per replica", async () => {
    const patched = await api(replicas[b]!.url, BOOTSTRAP_TOKEN, 'PATCH', `/v1/keys/${keyId}`, { rateLimit: { perMinute: 5 } });
    expect(patched.status, JSON.stringify(patched.json)).toBe(200);
    expect(patched.json.rateLimit).toEqual({ perMinute: 5 });
    const tokens = await Promise.all(replicas.map(tokenFrom));
    await awayFromWindowEdge();
    const results = await Promise.all(
      Array.from({ length: 18 }, (_, i) => api(replicas[i % 3]!.url, tokens[i % 3]!, 'POST', `/v1/keys/${keyId}/release`)),
    );
    const ok = results.filter((r) => r.status === 200);
    const limited = results.filter((r) => r.status === 429);
    expect(ok).toHaveLength(5);
    expect(limited).toHaveLength(13);
    for (const r of limited) expect(r.json.code).toBe('ERR_RATE_LIMITED');
    const limitedRes = await fetch(`${replicas[c]!.url}/v1/keys/${keyId}/release`, { method: 'POST', headers: { authorization: `Bearer ${tokens[c]}` } });
    expect(limitedRes.status).toBe(429);
    expect(Number(limitedRes.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(limitedRes.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    // Back to the configured default (KEYWARD_KEY_RATE_LIMIT, here off): the key releases again.
    const reset = await api(replicas[c]!.url, BOOTSTRAP_TOKEN, 'PATCH', `/v1/keys/${keyId}`, { rateLimit: null });
    expect(reset.json.rateLimit).toBeNull();
    expect((await api(replicas[a]!.url, tokens[a]!, 'POST', `/v1/keys/${keyId}/release`)).status).toBe(200);
  }, 180_000);

  it('a revoked API token and a re-bound policy take effect on every replica within 1 s', async () => {
    const minted = (await api(replicas[a]!.url, BOOTSTRAP_TOKEN, 'POST', '/v1/tokens', { name: 'short-lived', role: 'auditor' })).json;
    for (const s of replicas) expect((await api(s.url, minted.token, 'GET', '/v1/keys')).status).toBe(200);
    expect((await api(replicas[a]!.url, BOOTSTRAP_TOKEN, 'DELETE', `/v1/tokens/${minted.id}`)).status).toBe(200);
    expect(await everywhereWithin(replicas, async (s) => (await api(s.url, minted.token, 'GET', '/v1/keys')).status, 401)).toBeLessThan(1000);

    const token = await tokenFrom(replicas[b]!);
    for (const s of replicas) expect((await api(s.url, token, 'POST', `/v1/keys/${keyId}/release`)).status).toBe(200);
    const deny = (await api(replicas[c]!.url, BOOTSTRAP_TOKEN, 'POST', '/v1/policies', { name: 'nobody', rules: [{ name: 'never', expr: 'false' }] })).json;
    expect((await api(replicas[c]!.url, BOOTSTRAP_TOKEN, 'PUT', `/v1/keys/${keyId}/policy`, { policyId: deny.id })).status).toBe(200);
    expect(await everywhereWithin(replicas, async (s) => (await api(s.url, token, 'POST', `/v1/keys/${keyId}/release`)).status, 403)).toBeLessThan(1000);
  }, 120_000);

  it("holds an address's failed-attempt budget in total across the replicas", async () => {
    await awayFromWindowEdge();
    const codes: string[] = [];
    for (let i = 0; i < 9; i++) codes.push((await api(replicas[i % 3]!.url, 'garbage.token.here', 'POST', `/v1/keys/${keyId}/release`)).json.code);
    expect(codes.slice(0, 4)).toEqual(Array(4).fill('ERR_ATTEST_TOKEN_INVALID'));
    expect(codes.slice(4)).toEqual(Array(5).fill('ERR_AUTH_TOO_MANY_FAILURES'));
  }, 120_000);
});
