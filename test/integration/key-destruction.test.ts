// Scheduled destruction and "who received my key", over HTTP with evidence from the look-alike AMD PKI:
// a key pending destruction is never released, a cancellation restores it, the sweeper erases the material
// once the window ends (controllable clock), and the release report lists releases and denials as JSON
// and CSV with the workload's TEE, chip, measurement, evidence digests and the deciding policy version.
import { describe, expect, it, afterAll, beforeAll } from 'vitest';
import { DB_KINDS } from '../helpers/db.js';
import { startTestKeyward, type TestKeyward } from '../helpers/keyward.js';
import { binding, createTestSnpPlatform, snpPolicy, teeKeyPair, MEASUREMENT, type TestSnpPlatform } from '../helpers/tee.js';
import type { Clock } from '../../src/clock.js';

class TestClock implements Clock {
  offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
}

const DAY = 24 * 3600 * 1000;

describe.each(DB_KINDS)('key destruction and release report on %s', (kind) => {
  let kw: TestKeyward;
  let snp: TestSnpPlatform;
  let keyId: string;
  let policyId: string;
  const clock = new TestClock();

  async function releaseWith(opts: { debug?: boolean } = {}) {
    const tee = teeKeyPair();
    const { nonce } = (await kw.request('POST', '/v1/challenge', { token: null })).json();
    const evidence = [await snp.evidence(binding(nonce, tee), opts)];
    const attested = await kw.request('POST', '/v1/attest', { token: null, body: { nonce, teePublicKey: tee.publicJwk, evidence } });
    expect(attested.statusCode, attested.body).toBe(200);
    return kw.request('POST', `/v1/keys/${keyId}/release`, { token: attested.json().token });
  }

  beforeAll(async () => {
    snp = await createTestSnpPlatform();
    kw = await startTestKeyward(kind, { env: { ...snp.env }, clock });
    keyId = (await kw.request('POST', '/v1/keys', { body: { name: 'doomed', kind: 'model' } })).json().id;
    policyId = (await kw.request('POST', '/v1/policies', { body: snpPolicy('doomed-prod') })).json().id;
    expect((await kw.request('PUT', `/v1/keys/${keyId}/policy`, { body: { policyId } })).statusCode).toBe(200);
  }, 120_000);
  afterAll(async () => kw?.close());

  it('lists each release and denial with the workload, evidence and deciding policy version, as JSON and CSV', async () => {
    expect((await releaseWith()).statusCode).toBe(200);
    expect((await releaseWith({ debug: true })).json().code).toBe('ERR_POLICY_DENIED');
    const all = await kw.request('GET', `/v1/keys/${keyId}/releases`);
    expect(all.statusCode, all.body).toBe(200);
    const [released, denied] = all.json().items;
    expect(released).toMatchObject({ outcome: 'released', version: 1, tee: 'snp', chipId: expect.stringMatching(/^[0-9a-f]+$/), measurement: MEASUREMENT, attestationTokenId: expect.any(String), policyId, policyVersion: 1, code: null, failingRules: [] });
    expect(released.evidenceDigests[0]).toMatch(/^snp:[0-9a-f]{64}$/);
    expect(denied).toMatchObject({ outcome: 'denied', tee: 'snp', policyId, policyVersion: 1, code: 'ERR_POLICY_DENIED', failingRules: ['no-debug'] });
    const onlyDenied = (await kw.request('GET', `/v1/keys/${keyId}/releases?outcome=denied`)).json().items;
    expect(onlyDenied).toHaveLength(1);
    const future = (await kw.request('GET', `/v1/keys/${keyId}/releases?from=${encodeURIComponent(new Date(Date.now() + DAY).toISOString())}`)).json().items;
    expect(future).toEqual([]);
    const csv = await kw.request('GET', `/v1/keys/${keyId}/releases?format=csv`);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = csv.body.trim().split('\n');
    expect(lines[0]).toBe('at,outcome,version,tee,chipId,platformId,measurement,evidenceDigests,attestationTokenId,policyId,policyVersion,code,failingRules');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toContain('denied');
    expect((await kw.request('GET', `/v1/keys/${keyId}/releases?from=yesterday`)).json().code).toBe('ERR_REQUEST_INVALID');
  });

  it('refuses releases while pending destruction, restores the key on cancel, and erases it when the window ends', async () => {
    const tooShort = await kw.request('POST', `/v1/keys/${keyId}/schedule-destroy`, { body: { pendingDays: 6 } });
    expect(tooShort.statusCode).toBe(400);
    const scheduled = await kw.request('POST', `/v1/keys/${keyId}/schedule-destroy`, { body: { pendingDays: 7 } });
    expect(scheduled.statusCode, scheduled.body).toBe(200);
    expect(scheduled.json()).toMatchObject({ state: 'pending-destroy', destroyAfter: expect.any(String) });
    const refused = await releaseWith();
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('ERR_KEY_PENDING_DESTROY');
    expect((await kw.request('POST', `/v1/keys/${keyId}/datakey`)).json().code).toBe('ERR_KEY_PENDING_DESTROY');
    expect((await kw.request('POST', `/v1/keys/${keyId}/enable`)).json().code).toBe('ERR_KEY_PENDING_DESTROY');
    expect((await kw.request('GET', `/v1/keys/${keyId}/releases?outcome=denied`)).json().items.at(-1).code).toBe('ERR_KEY_PENDING_DESTROY');

    const cancelled = await kw.request('POST', `/v1/keys/${keyId}/cancel-destroy`);
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(cancelled.json()).toMatchObject({ state: 'active', destroyAfter: null });
    expect((await releaseWith()).statusCode).toBe(200);
    expect((await kw.request('POST', `/v1/keys/${keyId}/cancel-destroy`)).json().code).toBe('ERR_KEY_NOT_PENDING_DESTROY');

    expect((await kw.request('POST', `/v1/keys/${keyId}/schedule-destroy`, { body: { pendingDays: 7 } })).statusCode).toBe(200);
    clock.offsetMs += 6 * DAY;
    expect(await kw.keyward.vault.sweepScheduledDestruction()).toBe(0);
    clock.offsetMs += DAY + 1000;
    expect(await kw.keyward.vault.sweepScheduledDestruction()).toBe(1);
    const gone = (await kw.request('GET', `/v1/keys/${keyId}`)).json();
    expect(gone).toMatchObject({ state: 'destroyed', destroyAfter: null });
    const versions = (await kw.request('GET', `/v1/keys/${keyId}/versions`)).json().items;
    expect(versions.every((v: { state: string }) => v.state === 'destroyed')).toBe(true);
    expect((await kw.request('POST', `/v1/keys/${keyId}/cancel-destroy`)).json().code).toBe('ERR_KEY_NOT_PENDING_DESTROY');
  });

  it('destroys a key at once while it is pending destruction (DELETE), leaving no window behind', async () => {
    const id = (await kw.request('POST', '/v1/keys', { body: { name: 'doomed-now', kind: 'generic' } })).json().id;
    expect((await kw.request('POST', `/v1/keys/${id}/schedule-destroy`, { body: { pendingDays: 30 } })).statusCode).toBe(200);
    const destroyed = await kw.request('DELETE', `/v1/keys/${id}`);
    expect(destroyed.statusCode, destroyed.body).toBe(200);
    expect(destroyed.json()).toMatchObject({ state: 'destroyed', destroyAfter: null });
  });
});
