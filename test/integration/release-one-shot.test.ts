// The one-shot release, POST /v1/release, end to end over HTTP (docs/release.md): several keys in one call,
// all or none, each by its own policy; a denial commits the nonce consumption and a row per key and releases
// nothing; exactly one CPU piece; stateless nonces refused when forged, tampered or expired (by the
// database's clock too); the release metrics move.
import { describe, expect, it, afterAll, beforeAll } from 'vitest';
import { randomBytes } from 'node:crypto';
import { CompactEncrypt, importJWK, type JWK } from 'jose';
import { DB_KINDS } from '../helpers/db.js';
import { startTestKeyward, type TestKeyward } from '../helpers/keyward.js';
import { binding, createTestSnpPlatform, openJwe, snpPolicy, teeKeyPair, MEASUREMENT, type TestSnpPlatform, type TeeKeyPair } from '../helpers/tee.js';
import type { Clock } from '../../src/clock.js';

class TestClock implements Clock {
  offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
}

/** The value of one sample of the Prometheus text exposition (0 when absent). */
function sample(text: string, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const inside = line.slice(name.length + 1, line.indexOf('}'));
    const parts = inside.split(',');
    if (wanted.every((w) => parts.includes(w)) && parts.length === wanted.length) return Number(line.slice(line.indexOf('}') + 1));
  }
  return 0;
}

describe.each(DB_KINDS)('one-shot release on %s', (kind) => {
  let kw: TestKeyward;
  let snp: TestSnpPlatform;
  const clock = new TestClock();
  const materials = [new Uint8Array(randomBytes(32)), new Uint8Array(randomBytes(32))];
  const keyIds: string[] = [];
  let deniedKeyId: string;
  let policyId: string;

  async function importKey(name: string, material: Uint8Array): Promise<string> {
    const jwk = (await kw.request('GET', '/v1/import-key')).json() as JWK;
    const jwe = await new CompactEncrypt(material).setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: jwk.kid as string }).encrypt(await importJWK(jwk, 'RSA-OAEP-256'));
    return (await kw.request('POST', '/v1/keys/import', { body: { name, kind: 'model', jwe } })).json().id;
  }

  async function challenge(): Promise<string> {
    const res = await kw.request('POST', '/v1/challenge', { token: null });
    expect(res.statusCode).toBe(201);
    return res.json().nonce;
  }

  async function oneShot(nonce: string, tee: TeeKeyPair, keys: unknown[], extra: Record<string, unknown> = {}, evidence?: unknown[]) {
    const ev = evidence ?? [await snp.evidence(binding(nonce, tee))];
    return kw.request('POST', '/v1/release', { token: null, body: { nonce, teePublicKey: tee.publicJwk, evidence: ev, keys, ...extra } });
  }

  async function auditOf(requestId: string) {
    const items = (await kw.request('GET', '/v1/audit?limit=1000')).json().items as { requestId: string; action: string; target: string; outcome: string; details: Record<string, unknown> }[];
    return items.filter((e) => e.requestId === requestId);
  }

  /** The release rows of one request (anomaly alerts write their own rows under the same request id). */
  async function releaseRowsOf(requestId: string) {
    return (await auditOf(requestId)).filter((e) => !e.action.startsWith('alert.'));
  }

  beforeAll(async () => {
    snp = await createTestSnpPlatform();
    kw = await startTestKeyward(kind, { env: { ...snp.env }, clock });
    keyIds.push(await importKey('weights', materials[0] as Uint8Array), await importKey('tokenizer', materials[1] as Uint8Array));
    policyId = (await kw.request('POST', '/v1/policies', { body: snpPolicy('one-shot-prod') })).json().id;
    for (const id of keyIds) expect((await kw.request('PUT', `/v1/keys/${id}/policy`, { body: { policyId } })).statusCode).toBe(200);
    deniedKeyId = (await kw.request('POST', '/v1/keys', { body: { name: 'other-image-only', kind: 'dataset' } })).json().id;
    const other = (await kw.request('POST', '/v1/policies', { body: snpPolicy('other-image', 'c3'.repeat(48)) })).json().id;
    expect((await kw.request('PUT', `/v1/keys/${deniedKeyId}/policy`, { body: { policyId: other } })).statusCode).toBe(200);
  }, 120_000);
  afterAll(async () => kw?.close());

  it('releases two keys in one call, each exactly, in the order asked; the token only when asked for', async () => {
    const tee = teeKeyPair();
    const nonce = await challenge();
    const res = await oneShot(nonce, tee, [{ keyId: keyIds[1] }, { keyId: keyIds[0], version: 1 }]);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(Object.keys(body)).toEqual(['releases']);
    expect(body.releases.map((r: { keyId: string; version: number }) => [r.keyId, r.version])).toEqual([
      [keyIds[1], 1],
      [keyIds[0], 1],
    ]);
    expect(await openJwe(body.releases[0].jwe, tee)).toEqual(materials[1]);
    expect(await openJwe(body.releases[1].jwe, tee)).toEqual(materials[0]);
    const all = await auditOf(res.headers['x-request-id'] as string);
    // The first release of each key to this chip is also an anomaly alert, one per key, after the releases.
    expect(all.filter((r) => r.action.startsWith('alert.')).map((r) => [r.action, r.target]).sort()).toEqual(
      [['alert.new-tee-identity', keyIds[0]], ['alert.new-tee-identity', keyIds[1]]].sort(),
    );
    const rows = await releaseRowsOf(res.headers['x-request-id'] as string);
    expect(rows.map((r) => [r.action, r.target, r.outcome])).toEqual([
      ['key.release', keyIds[1], 'success'],
      ['key.release', keyIds[0], 'success'],
    ]);
    expect(rows[0]?.details).toMatchObject({ flow: 'one-shot', policyId, policyVersion: 1, releaseId: body.releases[0].releaseId, what: 'key' });

    const withToken = await oneShot(await challenge(), tee, [{ keyId: keyIds[0] }], { token: true });
    expect(withToken.statusCode, withToken.body).toBe(200);
    const token = withToken.json().token as string;
    const payload = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString());
    expect(payload.cpu).toMatchObject({ tee: 'snp', measurement: MEASUREMENT });
    // The token is keyward's attestation token: it works for the three-call release too.
    const again = await kw.request('POST', `/v1/keys/${keyIds[1]}/release`, { token });
    expect(again.statusCode, again.body).toBe(200);
    expect(await openJwe(again.json().jwe, tee)).toEqual(materials[1]);
  });

  it('one key denied: nothing released, the nonce consumed, a denial row for every key', async () => {
    const tee = teeKeyPair();
    const nonce = await challenge();
    const evidence = [await snp.evidence(binding(nonce, tee))];
    const res = await oneShot(nonce, tee, [{ keyId: keyIds[0] }, { keyId: deniedKeyId }], {}, evidence);
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'ERR_POLICY_DENIED', keyId: deniedKeyId });
    expect(res.body).not.toContain('"releases"');
    expect(res.body).not.toContain('image');
    const rows = await releaseRowsOf(res.headers['x-request-id'] as string);
    expect(rows.map((r) => [r.target, r.outcome, r.details['code']])).toEqual([
      [keyIds[0], 'denied', 'ERR_RELEASE_ALL_OR_NONE'],
      [deniedKeyId, 'denied', 'ERR_POLICY_DENIED'],
    ]);
    expect((rows[1]?.details['reasons'] as { name: string }[]).map((r) => r.name)).toEqual(['image']);
    const replay = await oneShot(nonce, tee, [{ keyId: keyIds[0] }], {}, evidence);
    expect(replay.statusCode).toBe(409);
    expect(replay.json().code).toBe('ERR_ATTEST_NONCE_REPLAYED');
    const viaAttest = await kw.request('POST', '/v1/attest', { token: null, body: { nonce, teePublicKey: tee.publicJwk, evidence } });
    expect(viaAttest.json().code).toBe('ERR_ATTEST_NONCE_REPLAYED');
  });

  it('an unknown key is a denial too (404 with its keyId); evidence bound elsewhere burns the nonce with an attest row', async () => {
    const tee = teeKeyPair();
    const missing = '00000000-0000-4000-8000-000000000000';
    const res = await oneShot(await challenge(), tee, [{ keyId: keyIds[0] }, { keyId: missing }]);
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'ERR_KEY_NOT_FOUND', keyId: missing });
    const rows = await releaseRowsOf(res.headers['x-request-id'] as string);
    expect(rows.map((r) => [r.target, r.details['code']])).toEqual([
      [keyIds[0], 'ERR_RELEASE_ALL_OR_NONE'],
      [missing, 'ERR_KEY_NOT_FOUND'],
    ]);

    const nonce = await challenge();
    const elsewhere = [await snp.evidence(binding(nonce, teeKeyPair()))];
    const bound = await oneShot(nonce, tee, [{ keyId: keyIds[0] }], {}, elsewhere);
    expect(bound.statusCode).toBe(422);
    expect(bound.json().code).toBe('ERR_EVIDENCE_BINDING_MISMATCH');
    const attestRows = await releaseRowsOf(bound.headers['x-request-id'] as string);
    expect(attestRows.map((r) => [r.action, r.outcome, r.details['code']])).toEqual([['attest', 'failure', 'ERR_EVIDENCE_BINDING_MISMATCH']]);
    expect((await oneShot(nonce, tee, [{ keyId: keyIds[0] }])).json().code).toBe('ERR_ATTEST_NONCE_REPLAYED');
  });

  it('exactly one CPU piece: two are a 400 before the nonce is touched; so is an empty key list', async () => {
    const tee = teeKeyPair();
    const nonce = await challenge();
    const piece = await snp.evidence(binding(nonce, tee));
    const two = await oneShot(nonce, tee, [{ keyId: keyIds[0] }], {}, [piece, piece]);
    expect(two.statusCode).toBe(400);
    expect(two.json().code).toBe('ERR_EVIDENCE_SET_INVALID');
    const none = await oneShot(nonce, tee, []);
    expect(none.statusCode).toBe(400);
    expect(none.json().code).toBe('ERR_REQUEST_INVALID');
    // Neither was an attempt: the nonce still works once.
    const ok = await oneShot(nonce, tee, [{ keyId: keyIds[0] }], {}, [piece]);
    expect(ok.statusCode, ok.body).toBe(200);
  });

  it('refuses forged and tampered nonces (ERR_ATTEST_NONCE_UNKNOWN) and malformed ones', async () => {
    const tee = teeKeyPair();
    const nonce = await challenge();
    const bytes = Buffer.from(nonce, 'base64url');
    expect(bytes).toHaveLength(72);
    for (const at of [0, 35, 71]) {
      const tampered = Buffer.from(bytes);
      tampered[at] = (tampered[at] as number) ^ 0x01;
      const res = await oneShot(tampered.toString('base64url'), tee, [{ keyId: keyIds[0] }]);
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe('ERR_ATTEST_NONCE_UNKNOWN');
    }
    const forged = await oneShot(randomBytes(72).toString('base64url'), tee, [{ keyId: keyIds[0] }]);
    expect(forged.json().code).toBe('ERR_ATTEST_NONCE_UNKNOWN');
    const malformed = await oneShot('not*base64url', tee, [{ keyId: keyIds[0] }], {}, [await snp.evidence(new Uint8Array(64))]);
    expect(malformed.json().code).toBe('ERR_ATTEST_NONCE_MALFORMED');
    // The genuine nonce was never consumed by those.
    expect((await oneShot(nonce, tee, [{ keyId: keyIds[0] }])).statusCode).toBe(200);
  });

  it("refuses an expired nonce by this replica's clock and by the database's clock", async () => {
    const tee = teeKeyPair();
    clock.offsetMs = -6 * 60 * 1000;
    const stale = await challenge();
    const staleToo = await challenge();
    try {
      // This replica's clock still says "fresh": the database's now() decides when the nonce is consumed.
      const byDatabase = await oneShot(stale, tee, [{ keyId: keyIds[0] }]);
      expect(byDatabase.statusCode).toBe(400);
      expect(byDatabase.json().code).toBe('ERR_ATTEST_NONCE_EXPIRED');
    } finally {
      clock.offsetMs = 0;
    }
    const byReplica = await oneShot(staleToo, tee, [{ keyId: keyIds[0] }]);
    expect(byReplica.json().code).toBe('ERR_ATTEST_NONCE_EXPIRED');
  });

  it('counts releases, denials and their duration in /metrics', async () => {
    const before = (await kw.request('GET', '/metrics', { token: null })).body;
    const tee = teeKeyPair();
    expect((await oneShot(await challenge(), tee, [{ keyId: keyIds[0] }])).statusCode).toBe(200);
    expect((await oneShot(await challenge(), tee, [{ keyId: deniedKeyId }])).statusCode).toBe(403);
    const after = (await kw.request('GET', '/metrics', { token: null })).body;
    const delta = (name: string, labels: Record<string, string>) => sample(after, name, labels) - sample(before, name, labels);
    expect(delta('keyward_releases_total', { outcome: 'success', tee: 'snp' })).toBe(1);
    expect(delta('keyward_releases_total', { outcome: 'denied', tee: 'snp' })).toBe(1);
    expect(delta('keyward_denials_total', { code: 'ERR_POLICY_DENIED' })).toBe(1);
    expect(delta('keyward_release_duration_seconds_count', { flow: 'one-shot' })).toBe(2);
  });
  it('forgets a consumed nonce only after its expiry plus the allowed skew, by the database clock', async () => {
    const db = kw.db.database.db;
    const hash = (fill: number) => new Uint8Array(32).fill(fill);
    const row = (fill: number, expiredAgoMs: number) => ({ nonceHash: hash(fill), createdAt: new Date(0), expiresAt: new Date(Date.now() - expiredAgoMs), consumedAt: new Date(0), client: null });
    await db.insertInto('nonces').values([row(0xa1, 400_000), row(0xa2, 200_000)]).execute();
    expect(await kw.keyward.release.sweepNonces()).toBe(1);
    const left = await db.selectFrom('nonces').select('nonceHash').where('nonceHash', 'in', [hash(0xa1), hash(0xa2)]).execute();
    expect(left.map((r) => Buffer.from(r.nonceHash).toString('hex'))).toEqual([Buffer.from(hash(0xa2)).toString('hex')]);
  });
});
