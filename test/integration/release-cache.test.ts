// The per-replica cache of key rows (docs/performance.md "Per-replica cache of key rows"), with two keyward
// replicas on one database: A releases from its cache, B (or SQL from outside keyward) changes the key, and
// A's next release is refused with the change's code — through NOTIFY, or, when no notification arrived,
// through the epoch its release transaction reads (rolled back, judged again, the nonce consumed once).
// Rotation and KEK rotation on B are seen by A; a repeated release really is served from the cache.
import { describe, expect, it, afterAll, beforeAll } from 'vitest';
import { join } from 'node:path';
import { sql } from 'kysely';
import { DB_KINDS, createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { startTestKeyward, type TestKeyward } from '../helpers/keyward.js';
import { RELEASE_FLOWS, releaseThrough, type ReleaseFlow } from '../helpers/release-flows.js';
import { binding, createTestSnpPlatform, snpPolicy, teeKeyPair, type TestSnpPlatform } from '../helpers/tee.js';
import { openDatabase } from '../../src/store/database.js';
import { holdKey } from '../../src/store/alerts-repo.js';
import { openFileKek } from '../../src/keys/kek-file.js';
import { rotateKek } from '../../src/broker/kek-admin.js';
import { systemClock } from '../../src/clock.js';

type CacheResult = 'hit' | 'miss' | 'stale';

/** The value of one sample of the Prometheus text exposition (0 when absent). */
function sample(text: string, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const parts = line.slice(name.length + 1, line.indexOf('}')).split(',');
    if (wanted.every((w) => parts.includes(w)) && parts.length === wanted.length) return Number(line.slice(line.indexOf('}') + 1));
  }
  return 0;
}

async function cacheCounts(kw: TestKeyward): Promise<Record<CacheResult, number>> {
  const text = (await kw.request('GET', '/metrics')).body;
  const of = (result: CacheResult) => sample(text, 'keyward_release_cache_total', { result });
  return { hit: of('hit'), miss: of('miss'), stale: of('stale') };
}

/** What the counters moved by while `run` ran. */
async function cacheDelta<T>(kw: TestKeyward, run: () => Promise<T>): Promise<{ result: T; delta: Record<CacheResult, number> }> {
  const before = await cacheCounts(kw);
  const result = await run();
  const after = await cacheCounts(kw);
  return { result, delta: { hit: after.hit - before.hit, miss: after.miss - before.miss, stale: after.stale - before.stale } };
}

describe.each(DB_KINDS)('release cache with two replicas on %s', (kind) => {
  let snp: TestSnpPlatform;
  let db: TestDatabase;
  let a: TestKeyward;
  let b: TestKeyward;
  let closeB: () => Promise<void>;
  let allow: string;
  let deny: string;
  let names = 0;

  beforeAll(async () => {
    snp = await createTestSnpPlatform();
    db = await createTestDatabase(kind);
    a = await startTestKeyward(kind, { db, env: { ...snp.env } });
    // B shares A's data dir (the file KEK); on Postgres it has its own pool and listener, on PGlite the
    // one embedded database is the only database there is.
    const dbB: TestDatabase =
      kind === 'postgres' ? { database: await openDatabase({ kind: 'postgres', url: db.url as string, poolSize: 3 }), url: db.url, drop: async () => undefined } : db;
    b = await startTestKeyward(kind, { db: dbB, env: { ...snp.env, KEYWARD_DATA_DIR: a.dataDir } });
    closeB = async () => {
      await b.keyward.close();
      if (dbB !== db) await dbB.database.close();
    };
    allow = (await a.request('POST', '/v1/policies', { body: snpPolicy('cache-allow') })).json().id;
    deny = (await a.request('POST', '/v1/policies', { body: snpPolicy('cache-deny', 'c3'.repeat(48)) })).json().id;
    await waitUntilListening();
  }, 180_000);
  afterAll(async () => {
    await closeB?.();
    await a?.close();
    await db?.drop();
  });

  /** The Postgres listeners connect in the background: until then every lookup is a miss. */
  async function waitUntilListening(): Promise<void> {
    const probe = await newKey();
    for (const kw of [a, b]) {
      const since = Date.now();
      for (;;) {
        await release(kw, 'one-shot', probe);
        if ((await cacheCounts(kw)).hit > 0) break;
        if (Date.now() - since > 10_000) throw new Error('the release cache never served a hit');
      }
    }
  }

  async function newKey(policyId = allow): Promise<string> {
    const id = (await a.request('POST', '/v1/keys', { body: { name: `cached-${names++}`, kind: 'model' } })).json().id as string;
    expect((await a.request('PUT', `/v1/keys/${id}/policy`, { body: { policyId } })).statusCode).toBe(200);
    return id;
  }

  function release(kw: TestKeyward, flow: ReleaseFlow, keyId: string) {
    return releaseThrough(kw, flow, teeKeyPair(), async (bind) => [await snp.evidence(bind)], keyId);
  }

  /**
   * A key released on A until a release came from A's cache (the notifications of the key's own creation
   * and binding may arrive after the first read and drop it: a few releases at most).
   */
  async function warmOnA(flow: ReleaseFlow, keyId?: string, status = 200): Promise<string> {
    keyId ??= await newKey();
    for (let attempt = 0; ; attempt++) {
      const { result, delta } = await cacheDelta(a, () => release(a, flow, keyId));
      expect(result.statusCode, result.body).toBe(status);
      if (delta.hit === 1) {
        expect(delta).toEqual({ hit: 1, miss: 0, stale: 0 });
        return keyId;
      }
      expect(attempt).toBeLessThan(10);
    }
  }

  it('serves a repeated release of a key from the cache: no key query, until a change', async () => {
    const keyId = await warmOnA('one-shot');
    for (const flow of RELEASE_FLOWS) {
      const { result, delta } = await cacheDelta(a, () => release(a, flow, keyId));
      expect(result.statusCode, result.body).toBe(200);
      expect(delta).toEqual({ hit: 1, miss: 0, stale: 0 });
    }
    // Without the tables the key query reads, a release from the cache still goes through (a query of them would fail).
    await outside(['BEGIN', 'ALTER TABLE keys RENAME TO keys_hidden', 'ALTER TABLE key_versions RENAME TO key_versions_hidden', 'COMMIT']);
    try {
      const res = await release(a, 'one-shot', keyId);
      expect(res.statusCode, res.body).toBe(200);
    } finally {
      await outside(['BEGIN', 'ALTER TABLE keys_hidden RENAME TO keys', 'ALTER TABLE key_versions_hidden RENAME TO key_versions', 'COMMIT']);
    }
  });

  /** Runs SQL as a client outside keyward would: its own connection on Postgres, the one session on PGlite. */
  async function outside(statements: string[]): Promise<void> {
    if (kind === 'postgres') {
      const other = await openDatabase({ kind: 'postgres', url: db.url as string, poolSize: 1 });
      try {
        await other.exec(statements.join(';\n'));
      } finally {
        await other.close();
      }
    } else {
      await db.database.exec(statements.join(';\n'));
    }
  }

  const changes: { name: string; code: string; apply: (keyId: string) => Promise<void> }[] = [
    {
      name: 'disabled',
      code: 'ERR_KEY_DISABLED',
      apply: async (id) => expect((await b.request('POST', `/v1/keys/${id}/disable`)).statusCode).toBe(200),
    },
    {
      name: 'held',
      code: 'ERR_KEY_HELD',
      apply: async (id) => {
        expect((await b.request('PATCH', `/v1/keys/${id}`, { body: { alertHold: true } })).statusCode).toBe(200);
        expect(await holdKey(b.keyward.database.db, id, 'new-tee-identity', new Date())).toBeDefined();
      },
    },
    {
      name: 're-bound to a denying policy',
      code: 'ERR_POLICY_DENIED',
      apply: async (id) => expect((await b.request('PUT', `/v1/keys/${id}/policy`, { body: { policyId: deny } })).statusCode).toBe(200),
    },
    {
      name: 'destroyed',
      code: 'ERR_KEY_DESTROYED',
      apply: async (id) => {
        expect((await b.request('POST', `/v1/keys/${id}/schedule-destroy`, { body: { pendingDays: 7 } })).statusCode).toBe(200);
        expect((await b.request('DELETE', `/v1/keys/${id}`)).statusCode).toBe(200);
      },
    },
  ];

  describe.each(RELEASE_FLOWS)('through the %s flow', (flow) => {
    it.each(changes)('refuses a key $name on B at the next release on A', async ({ code, apply }) => {
      const keyId = await warmOnA(flow);
      await apply(keyId);
      const res = await release(a, flow, keyId);
      expect(res.statusCode, res.body).not.toBe(200);
      expect(res.json().code).toBe(code);
    });

    it('refuses a change whose notification never came: the release transaction reads a newer epoch, rolls back and judges again', async () => {
      const keyId = await warmOnA(flow);
      // A write that bumps the epoch but fires no trigger, so no NOTIFY: as if the notification were lost.
      await outside([
        'BEGIN',
        'SET LOCAL session_replication_role = replica',
        `UPDATE keys SET state = 'disabled' WHERE id = '${keyId}'`,
        'UPDATE release_cache_epoch SET epoch = epoch + 1',
        'COMMIT',
      ]);
      const { result, delta } = await cacheDelta(a, () => releaseOnce(flow, keyId));
      expect(result.status).toBe(409);
      expect(result.code).toBe('ERR_KEY_DISABLED');
      // Judged from the stale entry (hit), found stale at commit, judged again from the database (miss).
      expect(delta).toEqual({ hit: 1, miss: 1, stale: 1 });
      // One attempt: one audit row, and (one-shot) its nonce consumed, once.
      const rows = (await a.request('GET', `/v1/audit?limit=1000&action=key.release&target=${keyId}`)).json().items.filter((e: { requestId: string }) => e.requestId === result.requestId);
      expect(rows.map((r: { outcome: string; details: { code: string } }) => [r.outcome, r.details.code])).toEqual([['denied', 'ERR_KEY_DISABLED']]);
      if (result.nonce) {
        const consumed = await sql<{ n: number }>`SELECT count(*)::int AS n FROM nonces`.execute(a.keyward.database.db);
        expect(consumed.rows[0]?.n).toBe(result.noncesBefore + 1);
        const again = await a.request('POST', '/v1/release', { token: null, body: result.resend });
        expect(again.json().code).toBe('ERR_ATTEST_NONCE_REPLAYED');
      }
    });

    it('judges a denial made on stale cached rows again: a key enabled without a notification is released', async () => {
      const keyId = await warmOnA(flow);
      expect((await b.request('POST', `/v1/keys/${keyId}/disable`)).statusCode).toBe(200);
      // A's cache now holds the disabled key.
      await warmOnA(flow, keyId, 409);
      await outside([
        'BEGIN',
        'SET LOCAL session_replication_role = replica',
        `UPDATE keys SET state = 'active' WHERE id = '${keyId}'`,
        'UPDATE release_cache_epoch SET epoch = epoch + 1',
        'COMMIT',
      ]);
      const { result, delta } = await cacheDelta(a, () => releaseOnce(flow, keyId));
      expect(result.status).toBe(200);
      expect(delta).toEqual({ hit: 1, miss: 1, stale: 1 });
      const rows = (await a.request('GET', `/v1/audit?limit=1000&action=key.release&target=${keyId}`)).json().items.filter((e: { requestId: string }) => e.requestId === result.requestId);
      expect(rows.map((r: { outcome: string }) => r.outcome)).toEqual(['success']);
    });

    it('releases the new current version after a rotation on B', async () => {
      const keyId = await warmOnA(flow);
      expect((await b.request('POST', `/v1/keys/${keyId}/rotate`)).statusCode).toBe(200);
      const res = await release(a, flow, keyId);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().version).toBe(2);
    });
  });

  /** One release through `flow` whose request id and (one-shot) nonce the test keeps. */
  async function releaseOnce(flow: ReleaseFlow, keyId: string) {
    const { nonce } = (await a.request('POST', '/v1/challenge', { token: null })).json();
    const tee = teeKeyPair();
    const evidence = [await snp.evidence(binding(nonce, tee))];
    if (flow === 'one-shot') {
      const before = await sql<{ n: number }>`SELECT count(*)::int AS n FROM nonces`.execute(a.keyward.database.db);
      const body = { nonce, teePublicKey: tee.publicJwk, evidence, keys: [{ keyId }] };
      const res = await a.request('POST', '/v1/release', { token: null, body });
      return { status: res.statusCode, code: res.json().code, requestId: res.headers['x-request-id'], nonce, noncesBefore: before.rows[0]?.n ?? 0, resend: body };
    }
    const attest = await a.request('POST', '/v1/attest', { token: null, body: { nonce, teePublicKey: tee.publicJwk, evidence } });
    expect(attest.statusCode).toBe(200);
    const res = await a.request('POST', `/v1/keys/${keyId}/release`, { token: attest.json().token });
    return { status: res.statusCode, code: res.json().code, requestId: res.headers['x-request-id'], nonce: undefined, noncesBefore: 0, resend: undefined };
  }

  it('drops the entry of a key changed by SQL from outside keyward within 1 s, by NOTIFY', async () => {
    const keyId = await warmOnA('one-shot');
    await outside([`UPDATE keys SET state = 'disabled' WHERE id = '${keyId}'`]);
    await new Promise((r) => setTimeout(r, 1000));
    const { result, delta } = await cacheDelta(a, () => release(a, 'one-shot', keyId));
    expect(result.json().code).toBe('ERR_KEY_DISABLED');
    // Dropped before the release came: read from the database at once, nothing judged stale.
    expect(delta).toEqual({ hit: 0, miss: 1, stale: 0 });
  });

  it.skipIf(kind !== 'postgres')('forgets everything when its notification connection drops and comes back: what was sent meanwhile is missed', async () => {
    const keyId = await warmOnA('one-shot');
    const listeningLogs = () => a.logs.filter((l) => l.includes('release cache listening for invalidations')).length;
    const before = listeningLogs();
    // Both replicas of this test run in this process: their listeners carry its pid in their name.
    // One script, so the change commits before a listener could have reconnected.
    await outside([
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'keyward-listen/%/${process.pid}'`,
      `UPDATE keys SET state = 'disabled' WHERE id = '${keyId}'`,
    ]);
    const since = Date.now();
    while (listeningLogs() === before) {
      expect(Date.now() - since).toBeLessThan(10_000);
      await new Promise((r) => setTimeout(r, 20));
    }
    const { result, delta } = await cacheDelta(a, () => release(a, 'one-shot', keyId));
    expect(result.json().code).toBe('ERR_KEY_DISABLED');
    expect(delta).toEqual({ hit: 0, miss: 1, stale: 0 });
  });

  it('keeps releasing after a KEK rotation on B rewraps the key versions', async () => {
    const keyId = await warmOnA('one-shot');
    const next = openFileKek(join(a.dataDir, `kek-next-${kind}`), true);
    await rotateKek(b.keyward.database.db, b.keyward.keks, next, systemClock, { id: 'test', name: 'test' });
    const rewrapped = await b.keyward.database.db.selectFrom('keyVersions').select('kekId').where('keyId', '=', keyId).execute();
    expect(rewrapped.map((r) => r.kekId)).toEqual([next.id]);
    for (const kw of [a, b]) {
      const res = await release(kw, 'one-shot', keyId);
      expect(res.statusCode, res.body).toBe(200);
    }
  });
});

describe('KEYWARD_RELEASE_CACHE=off', () => {
  it('reads the key rows from the database at every release', async () => {
    const snp = await createTestSnpPlatform();
    const kw = await startTestKeyward('pglite', { env: { ...snp.env, KEYWARD_RELEASE_CACHE: 'off' } });
    try {
      const keyId = (await kw.request('POST', '/v1/keys', { body: { name: 'uncached', kind: 'model' } })).json().id as string;
      const policyId = (await kw.request('POST', '/v1/policies', { body: snpPolicy('uncached') })).json().id;
      expect((await kw.request('PUT', `/v1/keys/${keyId}/policy`, { body: { policyId } })).statusCode).toBe(200);
      const { delta } = await cacheDelta(kw, async () => {
        for (const flow of RELEASE_FLOWS) {
          for (let i = 0; i < 2; i++) expect((await releaseThrough(kw, flow, teeKeyPair(), async (bind) => [await snp.evidence(bind)], keyId)).statusCode).toBe(200);
        }
      });
      expect(delta).toEqual({ hit: 0, miss: 4, stale: 0 });
    } finally {
      await kw.close();
    }
  });
});
