// CollateralBroker on PGlite and Postgres without the HTTP layer: the in-memory snapshot (reused while
// nothing changes, reloaded when the generation moves, at once for its own writes), the Postgres-backed
// fetch cache, and fetching through an injected KDS fetch: single flight, no refetch of a gap that the
// vendor cannot close, back-off after failures.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CollateralBroker } from '../../../src/broker/collateral.js';
import type { RequestContext } from '../../../src/broker/vault.js';
import { AmdKdsClient, kdsCertChainPath, kdsCrlPath } from '../../../src/collateral/amd-kds.js';
import type { FetchLike } from '../../../src/collateral/cache.js';
import { PostgresCollateralCache } from '../../../src/collateral/postgres-cache.js';
import { KeywardError } from '../../../src/errors.js';
import type { EvidenceItem } from '../../../src/evidence/types.js';
import { DB_KINDS, createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { settableClock } from '../../helpers/collateral.js';
import { readVector, readVectorText } from '../../helpers/vectors.js';
import { reportOf, vector, vekOf } from '../evidence/snp/helpers.js';

const ctx: RequestContext = { actor: { id: 'token:test', name: 'test' }, requestId: 'req-1' };

describe.each(DB_KINDS)('CollateralBroker on %s', (kind) => {
  let db: TestDatabase;
  const clock = settableClock('2025-06-01T00:00:00Z');

  beforeAll(async () => {
    db = await createTestDatabase(kind);
  });
  afterAll(async () => db?.drop());

  it('reuses one bag while nothing changes and sees its own writes at once', async () => {
    const broker = new CollateralBroker(db.database.db, clock, { refreshIntervalMs: 60_000 });
    const empty = await broker.collateralFor([], clock.now());
    expect(empty.certificates).toHaveLength(0);
    await broker.upload(ctx, readVector('snp', 'amd/milan/cert_chain_vcek.pem'), 'chain.pem');
    const bag = await broker.collateralFor([], clock.now());
    expect(bag.certificates).toHaveLength(2);
    expect(await broker.collateralFor([], new Date(clock.now().getTime() + 1000))).toBe(bag);
  });

  it('learns of other replicas\' writes through the generation, at most once per refresh interval', async () => {
    const writer = new CollateralBroker(db.database.db, clock);
    const eager = new CollateralBroker(db.database.db, clock, { refreshIntervalMs: 0 });
    const lazy = new CollateralBroker(db.database.db, clock, { refreshIntervalMs: 3_600_000 });
    const before = (await lazy.collateralFor([], clock.now())).crls.length;
    expect((await eager.collateralFor([], clock.now())).crls.length).toBe(before);
    await writer.upload(ctx, readVector('snp', 'crl/milan_vcek_crl_2025-05-06.der'));
    expect((await eager.collateralFor([], clock.now())).crls.length).toBe(before + 1);
    expect((await lazy.collateralFor([], clock.now())).crls.length).toBe(before);
    // Its own write makes the lazy one look again, and it then sees everything.
    await lazy.upload(ctx, readVector('snp', 'crl/genoa_vcek_crl_2024-10-23.der'));
    expect((await lazy.collateralFor([], clock.now())).crls.length).toBe(before + 2);
  });

  it('keeps the fetch clients\' entries in Postgres, replacing them on put', async () => {
    const cache = new PostgresCollateralCache(db.database.db, clock);
    expect(await cache.get('amd-kds:/nothing')).toBeUndefined();
    await cache.put('amd-kds:/x', new Uint8Array([1, 2, 3]));
    clock.set('2025-06-02T00:00:00Z');
    await cache.put('amd-kds:/x', new Uint8Array([4, 5]));
    const entry = await new PostgresCollateralCache(db.database.db, clock).get('amd-kds:/x');
    expect(entry && [...entry.data]).toEqual([4, 5]);
    expect(entry?.fetchedAt.toISOString()).toBe('2025-06-02T00:00:00.000Z');
    clock.set('2025-06-01T00:00:00Z');
  });

  describe('fetching from an injected KDS', () => {
    const v = vector('milan-v3-vcek-oak-oc');
    const vcekPath = ((u: URL) => u.pathname + u.search)(new URL((v as unknown as { kds_url: string }).kds_url));
    const calls: string[] = [];
    let down = false;
    const fetch: FetchLike = async (url) => {
      const path = url.replace('http://kds.test', '');
      calls.push(path);
      await new Promise((r) => setTimeout(r, 10));
      const body =
        down ? undefined
        : path === vcekPath ? vekOf(v)
        : path === kdsCertChainPath('Milan') ? new Uint8Array(Buffer.from(readVectorText('snp', 'amd/milan/cert_chain_vcek.pem')))
        : path === kdsCrlPath('Milan') ? readVector('snp', 'crl/milan_vcek_crl_2025-05-06.der')
        : undefined;
      return { status: body ? 200 : down ? 503 : 404, headers: { get: () => null }, arrayBuffer: async () => (body ?? new Uint8Array()).slice().buffer as ArrayBuffer };
    };
    const item: EvidenceItem = { type: 'snp', report: reportOf(v), certs: [] };

    it('fetches a gap once for concurrent callers, and not again while the vendor has nothing newer', async () => {
      const kds = new AmdKdsClient({ fetch, baseUrl: 'http://kds.test', clock, cache: new PostgresCollateralCache(db.database.db, clock) });
      const broker = new CollateralBroker(db.database.db, clock, { fetchers: { kds } });
      // At the report's time the Milan CRL (thisUpdate 2025-05-06) is not valid yet: the gap stays open.
      const at = new Date(v.verification_time as string);
      await Promise.all([1, 2, 3, 4].map(() => broker.collateralFor([item], at)));
      expect(calls.sort()).toEqual([kdsCertChainPath('Milan'), kdsCrlPath('Milan'), vcekPath].sort());
      calls.length = 0;
      const bag = await broker.collateralFor([item], at);
      expect(calls).toEqual([]);
      expect(bag.crls.length).toBeGreaterThan(0);
    });

    it('reports a KDS outage as ERR_COLLATERAL_UNAVAILABLE and backs off instead of asking again', async () => {
      down = true;
      calls.length = 0;
      const other = vector('milan-v3-vcek-azure-trustee-v1');
      const report: EvidenceItem = { type: 'snp', report: reportOf(other), certs: [] };
      const kds = new AmdKdsClient({ fetch, baseUrl: 'http://kds.test', clock, maxInlineWaitMs: 0, sleep: async () => undefined });
      const broker = new CollateralBroker(db.database.db, clock, { fetchers: { kds }, fetchFailureBackoffMs: 60_000 });
      const code = async (): Promise<string | undefined> =>
        broker.collateralFor([report], clock.now()).then(
          () => undefined,
          (err: unknown) => (err instanceof KeywardError ? err.code : 'other'),
        );
      expect(await code()).toBe('ERR_COLLATERAL_UNAVAILABLE');
      const asked = calls.length;
      expect(asked).toBeGreaterThan(0);
      expect(await code()).toBe('ERR_COLLATERAL_UNAVAILABLE');
      expect(calls.length).toBe(asked);
      down = false;
    });

    it('fetches nothing for evidence it cannot read or whose chain is complete, and asks KDS when it is not', async () => {
      calls.length = 0;
      const kds = new AmdKdsClient({ fetch, baseUrl: 'http://kds.test', clock });
      const broker = new CollateralBroker(db.database.db, clock, { fetchers: { kds } });
      await broker.collateralFor([{ type: 'snp', report: new Uint8Array(10), certs: [] }], clock.now());
      expect(calls).toEqual([]);
      // VCEK and cert_chain sent with the report, the Milan CRL held (uploaded above) and valid now.
      const own = vector('milan-v3-vcek-oak-cb');
      const chain = new Uint8Array(Buffer.from(readVectorText('snp', 'amd/milan/cert_chain_vcek.pem')));
      await broker.collateralFor([{ type: 'snp', report: reportOf(own), certs: [vekOf(own), chain] }], clock.now());
      expect(calls).toEqual([]);
      // A Genoa VCEK sent alone: no Genoa chain is held, so KDS is asked (and has nothing here: 503-class).
      const genoa = vector('genoa-v3-vcek-azure-trustee');
      const err = await broker.collateralFor([{ type: 'snp', report: reportOf(genoa), certs: [vekOf(genoa)] }], clock.now()).catch((e: unknown) => e);
      expect((err as KeywardError).code).toBe('ERR_COLLATERAL_UNAVAILABLE');
      expect(calls.length).toBeGreaterThan(0);
      expect(calls.every((c) => c.includes('/Genoa/'))).toBe(true);
    });
  });
});
