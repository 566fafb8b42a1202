// One policy cannot stall the server: a policy whose worst case blows up is refused when saved (422
// ERR_POLICY_TOO_COSTLY with an estimate) and when a stored one is loaded; one that gets past that (a
// raised limit) is evaluated in the sandbox, which ends it with 422 ERR_POLICY_LIMIT_EXCEEDED while
// /healthz keeps answering at once. Ordinary policies are decided inline.
import { describe, expect, it, afterAll, beforeAll } from 'vitest';
import { startTestKeyward, type TestKeyward } from '../helpers/keyward.js';
import { teeKeyPair } from '../helpers/tee.js';
import { BIG_REFS, doublingChain, NESTED_SCAN } from '../helpers/costly-policies.js';

async function attestationToken(kw: TestKeyward): Promise<string> {
  const tee = teeKeyPair();
  return (await kw.keyward.attestationTokens.sign({ cnf: { jkt: Buffer.from(tee.thumbprint).toString('base64url'), jwk: tee.publicJwk }, cpu: null, gpus: [] })).token;
}

async function keyBoundTo(kw: TestKeyward, name: string, policy: Record<string, unknown>): Promise<{ keyId: string; policyId: string }> {
  const keyId = (await kw.request('POST', '/v1/keys', { body: { name, kind: 'model' } })).json().id;
  const created = await kw.request('POST', '/v1/policies', { body: { name, ...policy } });
  expect(created.statusCode, created.body).toBe(201);
  const policyId = created.json().id;
  expect((await kw.request('PUT', `/v1/keys/${keyId}/policy`, { body: { policyId } })).statusCode).toBe(200);
  return { keyId, policyId };
}

/** Runs `slow` while timing /healthz every 50 ms; returns its result and the slowest health answer. */
async function healthWhile<T>(kw: TestKeyward, slow: Promise<T>): Promise<{ result: T; slowestHealthMs: number; healthChecks: number }> {
  let done = false;
  const timings: number[] = [];
  const probe = (async () => {
    while (!done) {
      const started = performance.now();
      const res = await kw.request('GET', '/healthz', { token: null });
      expect(res.statusCode).toBe(200);
      timings.push(performance.now() - started);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  let result: T;
  try {
    result = await slow;
  } finally {
    done = true;
    await probe;
  }
  return { result, slowestHealthMs: Math.max(...timings), healthChecks: timings.length };
}

describe('policy cost limits with the defaults', () => {
  let kw: TestKeyward;
  beforeAll(async () => {
    kw = await startTestKeyward('pglite');
  });
  afterAll(async () => kw?.close());

  it('refuses a nested cel.bind doubling when saved: 422 ERR_POLICY_TOO_COSTLY with the estimate', async () => {
    const body = { name: 'blowup', rules: [{ name: 'double', expr: doublingChain(13, 4) }] };
    const res = await kw.request('POST', '/v1/policies', { body });
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('ERR_POLICY_TOO_COSTLY');
    expect(res.json().problems[0]).toMatchObject({ rule: 'double', limit: 1_000_000 });
    expect(res.json().problems[0].estimate).toBeGreaterThan(1_000_000);
    const { policyId } = await keyBoundTo(kw, 'fine', { rules: [{ name: 'any', expr: 'true' }] });
    const update = await kw.request('PUT', `/v1/policies/${policyId}`, { body: { ...body, name: 'fine' } });
    expect(update.statusCode).toBe(422);
    expect(update.json().code).toBe('ERR_POLICY_TOO_COSTLY');
  });

  it('refuses a stored version over the limit when it is loaded, auditing the denial', async () => {
    const { keyId, policyId } = await keyBoundTo(kw, 'legacy', { rules: [{ name: 'any', expr: 'true' }] });
    // A version written before the limit existed (by keyward: with a valid row MAC, docs/threat-model.md).
    const legacy = { name: 'legacy', rules: [{ name: 'double', expr: doublingChain(13, 4) }] };
    const db = kw.keyward.database.db;
    const stored = await db.selectFrom('policyVersions').select(['version', 'sha256']).where('policyId', '=', policyId).executeTakeFirstOrThrow();
    const mac = kw.keyward.policies.rowMac.policyVersion({ policyId, version: stored.version, sha256: stored.sha256, document: legacy });
    await db.updateTable('policyVersions').set({ document: JSON.stringify(legacy), mac }).where('policyId', '=', policyId).execute();
    const { slowestHealthMs, result } = await healthWhile(kw, kw.request('POST', `/v1/keys/${keyId}/release`, { token: await attestationToken(kw), body: {} }));
    expect(result.statusCode).toBe(422);
    expect(result.json().code).toBe('ERR_POLICY_TOO_COSTLY');
    expect(result.json().problems).toBeUndefined();
    expect(slowestHealthMs).toBeLessThan(250);
    const audit = (await kw.request('GET', `/v1/audit?target=${keyId}&outcome=denied`)).json().items;
    expect(audit.at(-1).details).toMatchObject({ code: 'ERR_POLICY_TOO_COSTLY', policyId, reasons: [expect.objectContaining({ rule: 'double' })] });
    const dryRun = await kw.request('POST', `/v1/policies/${policyId}/evaluate`, { body: { claims: {} } });
    expect(dryRun.statusCode).toBe(422);
    expect(dryRun.json().code).toBe('ERR_POLICY_TOO_COSTLY');
  });

  it('decides ordinary policies inline: no sandbox round trip on the release path', async () => {
    const { keyId } = await keyBoundTo(kw, 'ordinary', { rules: [{ name: 'no-cpu', expr: '!has(cpu.tee) || cpu.tee == "snp"' }, { name: 'gpus', expr: 'gpus.all(g, !g.debug)' }] });
    const before = { ...kw.keyward.policySandbox.stats };
    const res = await kw.request('POST', `/v1/keys/${keyId}/release`, { token: await attestationToken(kw), body: {} });
    expect(res.statusCode, res.body).toBe(200);
    expect(kw.keyward.policySandbox.stats).toEqual({ inline: before.inline + 1, sandboxed: before.sandboxed });
  });
});

describe('policy evaluation limits with a raised cost limit', () => {
  let kw: TestKeyward;
  beforeAll(async () => {
    kw = await startTestKeyward('pglite', { env: { KEYWARD_POLICY_MAX_COST: String(Number.MAX_SAFE_INTEGER), KEYWARD_POLICY_TIMEOUT_MS: '500' } });
  });
  afterAll(async () => kw?.close());

  it('ends an evaluation past its time limit with 422 ERR_POLICY_LIMIT_EXCEEDED while /healthz answers at once', async () => {
    const { keyId, policyId } = await keyBoundTo(kw, 'endless', { rules: [{ name: 'scan', expr: NESTED_SCAN }], refs: BIG_REFS });
    const { result, slowestHealthMs, healthChecks } = await healthWhile(kw, kw.request('POST', `/v1/keys/${keyId}/release`, { token: await attestationToken(kw), body: {} }));
    expect(result.statusCode).toBe(422);
    expect(result.json().code).toBe('ERR_POLICY_LIMIT_EXCEEDED');
    expect(healthChecks).toBeGreaterThanOrEqual(3);
    expect(slowestHealthMs).toBeLessThan(250);
    const audit = (await kw.request('GET', `/v1/audit?target=${keyId}&outcome=denied`)).json().items;
    expect(audit.at(-1).details).toMatchObject({ code: 'ERR_POLICY_LIMIT_EXCEEDED', policyId });
    const dryRun = await kw.request('POST', `/v1/policies/${policyId}/evaluate`, { body: { claims: {} } });
    expect(dryRun.statusCode).toBe(422);
    expect(dryRun.json().code).toBe('ERR_POLICY_LIMIT_EXCEEDED');
  }, 60_000);

  it('ends an evaluation that outgrows its memory with 422 ERR_POLICY_LIMIT_EXCEEDED; the service lives on', async () => {
    const { keyId } = await keyBoundTo(kw, 'blowup', { rules: [{ name: 'double', expr: doublingChain(14, 4) }] });
    const { result, slowestHealthMs } = await healthWhile(kw, kw.request('POST', `/v1/keys/${keyId}/release`, { token: await attestationToken(kw), body: {} }));
    expect(result.statusCode).toBe(422);
    expect(result.json().code).toBe('ERR_POLICY_LIMIT_EXCEEDED');
    expect(slowestHealthMs).toBeLessThan(250);
    const { keyId: fine } = await keyBoundTo(kw, 'fine-after', { rules: [{ name: 'any', expr: 'true' }] });
    expect((await kw.request('POST', `/v1/keys/${fine}/release`, { token: await attestationToken(kw), body: {} })).statusCode).toBe(200);
  }, 60_000);
});
