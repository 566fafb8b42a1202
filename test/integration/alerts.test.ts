// Anomaly alerts (docs/operations.md "Anomaly alerts"): a release to a TEE identity never seen for the key,
// a burst over the key's baseline and repeated denials of one TEE identity each raise an audit event
// `alert.<kind>` and count in keyward_alerts_total; the signed webhook reaches a real local receiver, is
// retried after a 500, and a dead or hanging receiver never delays a release; a key with alertHold on is
// held (ERR_KEY_HELD) until an owner lifts the hold. Two replicas on one Postgres raise each alert once.
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { describe, expect, it, afterAll, beforeAll } from 'vitest';
import { createPostgresSchema, DB_KINDS, POSTGRES_URL, type TestDatabase } from '../helpers/db.js';
import { openDatabase } from '../../src/store/database.js';
import { startTestKeyward, type TestKeyward } from '../helpers/keyward.js';
import { binding, CHIP_ID, createTestSnpPlatform, snpPolicy, teeKeyPair, type TestSnpPlatform } from '../helpers/tee.js';
import { approve, enrol, login } from '../helpers/people.js';
import type { Clock } from '../../src/clock.js';

const WEBHOOK_SECRET = 'alert-webhook-secret-0123456789abcdef';

/** A clock tests move by whole windows; it starts 5 s into a fresh minute so every test stays in its window. */
class WindowClock implements Clock {
  private t = Math.floor(Date.now() / 60_000) * 60_000 + 5_000;
  now(): Date {
    return new Date(this.t);
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

interface Received {
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** A real HTTP receiver on 127.0.0.1 answering each POST with the next status of `statuses` (then 200; `hang`: never). */
async function startReceiver(statuses: (number | 'hang')[] = []): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const hanging: ServerResponse[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      const status = statuses.shift() ?? 200;
      if (status === 'hang') hanging.push(res);
      else res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hooks/path-token-not-for-logs`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One keyward with an open policy and helpers to release to (and be denied for) chosen TEE identities. */
function harness(kw: () => TestKeyward) {
  const tokenFor = async (cpu: Record<string, unknown> | null, gpus: Record<string, unknown>[] = []) => {
    const tee = teeKeyPair();
    return (await kw().keyward.attestationTokens.sign({ cnf: { jkt: Buffer.from(tee.thumbprint).toString('base64url'), jwk: tee.publicJwk }, cpu, gpus })).token;
  };
  const snp = (chipId: string) => ({ tee: 'snp', chipId });
  return {
    snp,
    async key(name: string, rules: { name: string; expr: string }[] = [{ name: 'any', expr: 'true' }]): Promise<string> {
      const id = (await kw().request('POST', '/v1/keys', { body: { name, kind: 'model' } })).json().id as string;
      const policyId = (await kw().request('POST', '/v1/policies', { body: { name: `${name}-policy`, rules } })).json().id;
      const bound = await kw().request('PUT', `/v1/keys/${id}/policy`, { body: { policyId } });
      expect(bound.statusCode, bound.body).toBe(200);
      return id;
    },
    async release(keyId: string, cpu: Record<string, unknown> | null, gpus: Record<string, unknown>[] = []) {
      return kw().request('POST', `/v1/keys/${keyId}/release`, { token: await tokenFor(cpu, gpus), body: {} });
    },
    async alerts(kind: string, keyId: string): Promise<Record<string, unknown>[]> {
      const res = await kw().request('GET', `/v1/audit?action=alert.${kind}&target=${keyId}&limit=1000`);
      expect(res.statusCode, res.body).toBe(200);
      return (res.json().items as { details: Record<string, unknown> }[]).map((e) => e.details);
    },
    async metric(line: string): Promise<number | undefined> {
      const text = (await kw().request('GET', '/metrics', { token: null })).body;
      const found = text.split('\n').find((l) => l.startsWith(`${line} `));
      return found === undefined ? undefined : Number(found.slice(line.length + 1));
    },
  };
}

describe.each(DB_KINDS)('anomaly alerts on %s', (kind) => {
  let kw: TestKeyward;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const clock = new WindowClock();
  const h = harness(() => kw);

  beforeAll(async () => {
    // The receiver fails the first delivery with a 500: the retry must bring it through.
    receiver = await startReceiver([500]);
    kw = await startTestKeyward(kind, {
      clock,
      env: {
        KEYWARD_ALERT_BURST_FLOOR: '3',
        KEYWARD_ALERT_BURST_BASELINE: '2',
        KEYWARD_ALERT_BURST_FACTOR: '2',
        KEYWARD_ALERT_DENIAL_THRESHOLD: '3',
        KEYWARD_ALERT_WEBHOOK: receiver.url,
        KEYWARD_ALERT_WEBHOOK_SECRET: WEBHOOK_SECRET,
        KEYWARD_ALERT_WEBHOOK_BACKOFF_MS: '50',
      },
    });
  }, 60_000);
  afterAll(async () => {
    await kw?.close();
    await receiver?.close();
  });

  it('raises alert.new-tee-identity for the first release to a chip, not the second; signs and retries the webhook', async () => {
    const keyId = await h.key('new-identity');
    expect((await h.release(keyId, h.snp('chip-a'))).statusCode).toBe(200);
    const first = await h.alerts('new-tee-identity', keyId);
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ tenant: 'default', identities: ['snp:chip-a'], held: false });

    expect((await h.release(keyId, h.snp('chip-a'))).statusCode).toBe(200);
    expect(await h.alerts('new-tee-identity', keyId)).toHaveLength(1);

    // A new chip, and a GPU next to a known chip: each release with anything new raises one alert naming only the new.
    expect((await h.release(keyId, h.snp('chip-b'))).statusCode).toBe(200);
    expect((await h.release(keyId, h.snp('chip-a'), [{ deviceId: 'gpu-1' }])).statusCode).toBe(200);
    expect((await h.alerts('new-tee-identity', keyId)).map((d) => d['identities'])).toEqual([['snp:chip-a'], ['snp:chip-b'], ['gpu:gpu-1']]);
    // The identity is per key: chip-a is new to another key.
    const other = await h.key('new-identity-2');
    expect((await h.release(other, h.snp('chip-a'))).statusCode).toBe(200);
    expect(await h.alerts('new-tee-identity', other)).toHaveLength(1);

    // Webhook: the first POST got a 500 and was retried; all five alerts (four new identities, and the burst the
    // fourth release of the first key in one window raised over the floor of 3) arrive, signed over "<timestamp>.<body>".
    const bodies = await waitFor('five alerts and one retry', () => (receiver.received.length >= 6 ? receiver.received : undefined));
    expect(bodies).toHaveLength(6);
    expect(bodies.slice(1).filter((r) => r.body === bodies[0]?.body)).toHaveLength(1);
    expect(new Set(bodies.map((r) => JSON.parse(r.body).id)).size).toBe(5);
    expect(bodies.map((r) => JSON.parse(r.body).kind as string).filter((k) => k === 'alert.release-burst')).toHaveLength(1);
    for (const r of bodies) {
      const ts = String(r.headers['x-keyward-timestamp']);
      const expected = `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(`${ts}.${r.body}`).digest('hex')}`;
      expect(r.headers['x-keyward-signature']).toBe(expected);
      expect(Math.abs(Number(ts) - clock.now().getTime() / 1000)).toBeLessThan(600);
      expect(r.headers['content-type']).toBe('application/json');
    }
    const sent = JSON.parse(bodies[0]!.body) as Record<string, unknown>;
    expect(sent).toMatchObject({ kind: 'alert.new-tee-identity', tenant: 'default', keyId, held: false, details: { identities: ['snp:chip-a'] } });
    expect(bodies[0]?.headers['x-keyward-alert-id']).toBe(sent['id']);
    expect(await waitFor('the retried metric', async () => ((await h.metric('keyward_alert_webhook_deliveries_total{result="retried"}')) === 1 ? 1 : undefined))).toBe(1);
    expect(await waitFor('five delivered', async () => ((await h.metric('keyward_alert_webhook_deliveries_total{result="delivered"}')) === 5 ? 5 : undefined))).toBe(5);
    expect(await h.metric('keyward_alerts_total{kind="alert.new-tee-identity"}')).toBe(4);
    // Neither the webhook secret nor the URL's path reach the logs.
    expect(kw.logs.some((l) => l.includes(WEBHOOK_SECRET) || l.includes('path-token-not-for-logs'))).toBe(false);
  });

  it('raises alert.release-burst once per window above max(floor, factor × baseline)', async () => {
    const keyId = await h.key('bursty');
    const before = (await h.metric('keyward_alerts_total{kind="alert.release-burst"}')) ?? 0;
    clock.advance(60_000);
    // No history: the floor (3) is the threshold; the 4th release raises the alert, the 5th and 6th do not.
    for (let i = 0; i < 6; i++) expect((await h.release(keyId, h.snp('chip-burst'))).statusCode).toBe(200);
    const first = await h.alerts('release-burst', keyId);
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ count: 4, threshold: 3, baselinePerWindow: 0, windowSeconds: 60 });

    // Next window: the baseline is 6 releases over 2 windows = 3 per window, so the threshold is 2 × 3 = 6.
    clock.advance(60_000);
    for (let i = 0; i < 6; i++) expect((await h.release(keyId, h.snp('chip-burst'))).statusCode).toBe(200);
    expect(await h.alerts('release-burst', keyId)).toHaveLength(1);
    expect((await h.release(keyId, h.snp('chip-burst'))).statusCode).toBe(200);
    const second = await h.alerts('release-burst', keyId);
    expect(second).toHaveLength(2);
    expect(second[1]).toMatchObject({ count: 7, threshold: 6, baselinePerWindow: 3 });
    expect(await h.metric('keyward_alerts_total{kind="alert.release-burst"}')).toBe(before + 2);
  });

  it('raises alert.repeated-denials when one TEE identity reaches the threshold within a window', async () => {
    const keyId = await h.key('denied', [{ name: 'never', expr: 'false' }]);
    clock.advance(300_000);
    for (let i = 0; i < 4; i++) {
      const res = await h.release(keyId, h.snp('chip-probe'));
      expect(res.statusCode).toBe(403);
      expect(res.json().code).toBe('ERR_POLICY_DENIED');
    }
    // Another chip's denials count on their own.
    expect((await h.release(keyId, h.snp('chip-other'))).json().code).toBe('ERR_POLICY_DENIED');
    const raised = await h.alerts('repeated-denials', keyId);
    expect(raised).toHaveLength(1);
    expect(raised[0]).toMatchObject({ identity: 'snp:chip-probe', count: 3, code: 'ERR_POLICY_DENIED', windowSeconds: 300 });
    // Without any TEE identity in the claims, each TEE key (thumbprint) counts on its own.
    for (let i = 0; i < 3; i++) expect((await h.release(keyId, null)).json().code).toBe('ERR_POLICY_DENIED');
    expect(await h.alerts('repeated-denials', keyId)).toHaveLength(1);
    expect(await h.metric('keyward_alerts_total{kind="alert.repeated-denials"}')).toBe(1);
  });

  it('holds a key with alertHold on until an owner lifts the hold', async () => {
    const keyId = await h.key('held');
    const on = await kw.request('PATCH', `/v1/keys/${keyId}`, { body: { alertHold: true } });
    expect(on.statusCode, on.body).toBe(200);
    expect(on.json()).toMatchObject({ alertHold: true, held: null });
    expect((await kw.request('POST', `/v1/keys/${keyId}/lift-hold`)).json().code).toBe('ERR_KEY_NOT_HELD');

    // The release that raised the alert went through; the next one is refused.
    expect((await h.release(keyId, h.snp('chip-h'))).statusCode).toBe(200);
    expect((await h.alerts('new-tee-identity', keyId))[0]).toMatchObject({ held: true });
    const key = (await kw.request('GET', `/v1/keys/${keyId}`)).json();
    expect(key.held).toMatchObject({ alert: 'alert.new-tee-identity' });
    const refused = await h.release(keyId, h.snp('chip-h'));
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('ERR_KEY_HELD');
    const holds = await kw.request('GET', `/v1/audit?action=key.hold&target=${keyId}`);
    expect(holds.json().items).toHaveLength(1);

    const lifted = await kw.request('POST', `/v1/keys/${keyId}/lift-hold`);
    expect(lifted.statusCode, lifted.body).toBe(200);
    expect(lifted.json()).toMatchObject({ alertHold: true, held: null });
    expect((await kw.request('GET', `/v1/audit?action=key.hold-lift&target=${keyId}`)).json().items[0].details).toMatchObject({ heldBy: 'new-tee-identity' });
    // A known chip after the lift: released, no new alert, no new hold.
    expect((await h.release(keyId, h.snp('chip-h'))).statusCode).toBe(200);
    expect((await kw.request('GET', `/v1/keys/${keyId}`)).json().held).toBeNull();
    // Repeated denials never hold a key (a stranger could otherwise lock its workloads out).
    const strict = await h.key('held-strict', [{ name: 'never', expr: 'false' }]);
    await kw.request('PATCH', `/v1/keys/${strict}`, { body: { alertHold: true } });
    for (let i = 0; i < 3; i++) await h.release(strict, h.snp('chip-s'));
    expect(await h.alerts('repeated-denials', strict)).toHaveLength(1);
    expect((await kw.request('GET', `/v1/keys/${strict}`)).json().held).toBeNull();
  });
});

describe('alert webhook that is dead or hangs', () => {
  async function withKeyward(env: Record<string, string>, run: (kw: TestKeyward, h: ReturnType<typeof harness>, keyId: string) => Promise<void>): Promise<void> {
    const kw = await startTestKeyward('pglite', { env: { KEYWARD_ALERT_WEBHOOK_SECRET: WEBHOOK_SECRET, ...env } });
    try {
      const h = harness(() => kw);
      await run(kw, h, await h.key('webhook-down'));
      expect(kw.logs.some((l) => l.includes(WEBHOOK_SECRET) || l.includes('path-token-not-for-logs'))).toBe(false);
    } finally {
      await kw.close();
    }
  }

  it('a hanging receiver: the release has answered while the delivery is still in flight', async () => {
    const hanging = await startReceiver(['hang']);
    try {
      await withKeyward({ KEYWARD_ALERT_WEBHOOK: hanging.url, KEYWARD_ALERT_WEBHOOK_TIMEOUT_MS: '30000', KEYWARD_ALERT_WEBHOOK_ATTEMPTS: '1' }, async (_kw, h, keyId) => {
        const res = await h.release(keyId, h.snp('chip-w'));
        expect(res.statusCode, res.body).toBe(200);
        expect(await h.alerts('new-tee-identity', keyId)).toHaveLength(1);
        await waitFor('the POST to arrive', () => (hanging.received.length === 1 ? true : undefined));
        // The receiver holds the request open (30 s timeout): nothing is delivered or failed yet, the release is done.
        expect(await h.metric('keyward_alert_webhook_deliveries_total{result="delivered"}')).toBe(0);
        expect(await h.metric('keyward_alert_webhook_deliveries_total{result="failed"}')).toBe(0);
        expect((await h.release(keyId, h.snp('chip-w'))).statusCode).toBe(200);
      });
    } finally {
      await hanging.close();
    }
  }, 60_000);

  it('a dead receiver: releases succeed; the delivery gives up after its bounded attempts and is counted', async () => {
    const dead = await startReceiver();
    await dead.close();
    await withKeyward({ KEYWARD_ALERT_WEBHOOK: dead.url, KEYWARD_ALERT_WEBHOOK_ATTEMPTS: '3', KEYWARD_ALERT_WEBHOOK_BACKOFF_MS: '20' }, async (kw, h, keyId) => {
      expect((await h.release(keyId, h.snp('chip-w'))).statusCode).toBe(200);
      expect(await waitFor('the failed delivery', async () => ((await h.metric('keyward_alert_webhook_deliveries_total{result="failed"}')) === 1 ? 1 : undefined))).toBe(1);
      expect(await h.metric('keyward_alert_webhook_deliveries_total{result="retried"}')).toBe(2);
      expect(kw.logs.filter((l) => l.includes('will retry'))).toHaveLength(2);
      expect(kw.logs.filter((l) => l.includes('giving up') && l.includes('ECONNREFUSED'))).toHaveLength(1);
    });
  }, 60_000);
});

describe('lifting a hold in a tenant with quorum 2', () => {
  let kw: TestKeyward;
  afterAll(async () => kw?.close());

  it('waits for two owners; the platform admin cannot lift it', async () => {
    kw = await startTestKeyward('pglite');
    expect((await kw.request('POST', '/v1/tenants', { body: { name: 'vault', quorum: 2 } })).statusCode).toBe(201);
    const codes: string[] = [];
    for (const name of ['alice', 'bob']) codes.push((await kw.request('POST', '/v1/tenants/vault/members', { body: { name, role: 'owner' } })).json().enrolmentCode);
    const [a, b] = [await enrol(kw, codes[0]!), await enrol(kw, codes[1]!)];
    const [alice, bob] = [await login(kw, a), await login(kw, b)];
    const bothApprove = async (approvalId: string) => {
      expect((await approve(a, alice, approvalId)).json().approval.state).toBe('pending');
      return approve(b, bob, approvalId);
    };

    const keyId = (await alice.request('POST', '/v1/keys', { tenant: 'vault', name: 'weights', kind: 'model' })).json().id as string;
    const policyId = (await alice.request('POST', '/v1/policies?tenant=vault', { name: 'open', rules: [{ name: 'any', expr: 'true' }] })).json().id;
    const bind = await alice.request('PUT', `/v1/keys/${keyId}/policy`, { policyId });
    expect(bind.statusCode, bind.body).toBe(202);
    expect((await bothApprove(bind.json().approval.id)).json().approval.state).toBe('applied');
    expect((await alice.request('PATCH', `/v1/keys/${keyId}`, { alertHold: true })).json().alertHold).toBe(true);

    const h = harness(() => kw);
    expect((await h.release(keyId, h.snp('chip-q'))).statusCode).toBe(200);
    expect((await h.release(keyId, h.snp('chip-q'))).json().code).toBe('ERR_KEY_HELD');
    expect((await kw.request('POST', `/v1/keys/${keyId}/lift-hold`)).json().code).toBe('ERR_TENANT_FORBIDDEN');

    const lift = await alice.request('POST', `/v1/keys/${keyId}/lift-hold`);
    expect(lift.statusCode, lift.body).toBe(202);
    expect(lift.json().approval).toMatchObject({ operation: 'key.lift-hold', required: 2, state: 'pending', tenant: 'vault' });
    expect((await h.release(keyId, h.snp('chip-q'))).json().code).toBe('ERR_KEY_HELD');
    const applied = await bothApprove(lift.json().approval.id);
    expect(applied.json().approval.state, applied.body).toBe('applied');
    expect((await alice.request('GET', `/v1/keys/${keyId}`)).json().held).toBeNull();
    expect((await h.release(keyId, h.snp('chip-q'))).statusCode).toBe(200);
  }, 60_000);
});

describe('alerts over the full release protocol with simulated SNP evidence', () => {
  let kw: TestKeyward;
  let snp: TestSnpPlatform;
  afterAll(async () => kw?.close());

  it("names the chip id of the verified report as the new TEE identity", async () => {
    snp = await createTestSnpPlatform();
    kw = await startTestKeyward('pglite', { env: { ...snp.env } });
    const keyId = (await kw.request('POST', '/v1/keys', { body: { name: 'snp-weights', kind: 'model' } })).json().id as string;
    const policyId = (await kw.request('POST', '/v1/policies', { body: snpPolicy('snp-prod') })).json().id;
    expect((await kw.request('PUT', `/v1/keys/${keyId}/policy`, { body: { policyId } })).statusCode).toBe(200);
    const releaseOnce = async () => {
      const tee = teeKeyPair();
      const { nonce } = (await kw.request('POST', '/v1/challenge', { token: null })).json();
      const attested = await kw.request('POST', '/v1/attest', { token: null, body: { nonce, teePublicKey: tee.publicJwk, evidence: [await snp.evidence(binding(nonce, tee))] } });
      expect(attested.statusCode, attested.body).toBe(200);
      return kw.request('POST', `/v1/keys/${keyId}/release`, { token: attested.json().token, body: {} });
    };
    expect((await releaseOnce()).statusCode).toBe(200);
    expect((await releaseOnce()).statusCode).toBe(200);
    const raised = await harness(() => kw).alerts('new-tee-identity', keyId);
    expect(raised).toHaveLength(1);
    expect(raised[0]).toMatchObject({ identities: [`snp:${Buffer.from(CHIP_ID).toString('hex')}`] });
  }, 120_000);
});

describe('an alert check that fails', () => {
  it('leaves the release and the denial standing; the failure is logged and counted', async () => {
    const kw = await startTestKeyward('pglite');
    try {
      const h = harness(() => kw);
      const open = await h.key('fault-open');
      const closed = await h.key('fault-closed', [{ name: 'never', expr: 'false' }]);
      // A real fault: the alert tables are gone, so every alert check fails in the database.
      await sql`DROP TABLE release_identities, alert_counters`.execute(kw.keyward.database.db);
      expect((await h.release(open, h.snp('chip-f'))).statusCode).toBe(200);
      expect((await h.release(closed, h.snp('chip-f'))).json().code).toBe('ERR_POLICY_DENIED');
      expect(await h.metric('keyward_alert_errors_total')).toBe(2);
      expect(kw.logs.filter((l) => l.includes('anomaly alert check failed'))).toHaveLength(2);
    } finally {
      await kw.close();
    }
  }, 60_000);
});

describe.skipIf(!POSTGRES_URL)('alerts across two replicas on one Postgres', () => {
  it('raise each alert once however the concurrent releases spread over the replicas', async () => {
    const schema = await createPostgresSchema();
    const replicaDb = async (): Promise<TestDatabase> => {
      const database = await openDatabase({ kind: 'postgres', url: schema.url, poolSize: 5 });
      return { database, url: schema.url, drop: () => database.close() };
    };
    const env = { KEYWARD_ALERT_BURST_FLOOR: '5' };
    const clock = new WindowClock();
    const dbs = [await replicaDb(), await replicaDb()];
    const replicas: TestKeyward[] = [];
    try {
      // The first start migrates the schema; the second finds it migrated.
      for (const db of dbs) replicas.push(await startTestKeyward('postgres', { env, clock, db }));
      const [a, b] = [harness(() => replicas[0]!), harness(() => replicas[1]!)];
      const keyId = await a.key('replicated');
      const results = await Promise.all(Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? a : b).release(keyId, a.snp('chip-r'))));
      expect(results.map((r) => r.statusCode)).toEqual(Array(16).fill(200));
      expect(await a.alerts('new-tee-identity', keyId)).toHaveLength(1);
      const bursts = await b.alerts('release-burst', keyId);
      expect(bursts).toHaveLength(1);
      expect(bursts[0]).toMatchObject({ count: 6, threshold: 5 });
    } finally {
      for (const r of replicas) await r.close();
      for (const db of dbs) await db.drop();
      await schema.drop();
    }
  }, 120_000);
});
