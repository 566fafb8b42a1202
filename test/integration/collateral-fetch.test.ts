// Fetched collateral, against a local stand-in for AMD KDS and an Intel PCCS on 127.0.0.1 (never the real
// services): off by default; with KEYWARD_COLLATERAL_FETCH=on / KEYWARD_PCCS_URL the gaps of a report or
// quote are fetched once (single flight), stored (source kds/pcs) and cached in Postgres, so that a second
// service instance neither refetches what is stored nor what is in the cache; failures are 503-class.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { kdsCertChainPath, kdsCrlPath } from '../../src/collateral/amd-kds.js';
import { verifyEvidence } from '../../src/evidence/verify.js';
import { KeywardError } from '../../src/errors.js';
import type { EvidenceItem } from '../../src/evidence/types.js';
import { DB_KINDS, createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { startTestKeyward, type TestKeyward } from '../helpers/keyward.js';
import { listAll, settableClock } from '../helpers/collateral.js';
import { readVector, readVectorText } from '../helpers/vectors.js';
import { intelManifest, intelQuote } from '../helpers/intel.js';
import { manifest as snpManifest, reportOf, vector, vekOf } from '../unit/evidence/snp/helpers.js';

const TDX_DIR = 'tdx/collateral/dcapqvl_tdx_B0C06F000000_2025-06';
const SGX_DIR = 'sgx/collateral/dcapqvl_sgx_00A067110000_2025-06';
const chainHeader = (dir: string, file: string): string => encodeURIComponent(readVectorText('intel', dir, file));

interface Route {
  readonly status?: number;
  readonly body: Uint8Array | string;
  readonly headers?: Record<string, string>;
}

const hits = new Map<string, number>();
const failing = new Set<string>();
let server: Server;
let base: string;

function routeTable(): Map<string, Route> {
  const table = new Map<string, Route>();
  for (const v of snpManifest.vectors) {
    const url = (v as unknown as { kds_url?: string }).kds_url;
    if (v.signer === 'VCEK' && v.vek && url) table.set(new URL(url).pathname + new URL(url).search, { body: vekOf(v) });
  }
  for (const [product, roots] of Object.entries(snpManifest.amd_roots)) {
    table.set(kdsCertChainPath(product as 'Milan', 'vcek'), { body: readVectorText('snp', roots.cert_chain_vcek) });
  }
  table.set(kdsCrlPath('Milan', 'vcek'), { body: readVector('snp', 'crl/milan_vcek_crl_2025-05-06.der') });
  table.set('/tdx/certification/v4/tcb?fmspc=B0C06F000000', { body: readVector('intel', TDX_DIR, 'tcb_info.json'), headers: { 'TCB-Info-Issuer-Chain': chainHeader(TDX_DIR, 'tcb_signing_chain.pem') } });
  table.set('/tdx/certification/v4/qe/identity', { body: readVector('intel', TDX_DIR, 'qe_identity.json'), headers: { 'SGX-Enclave-Identity-Issuer-Chain': chainHeader(TDX_DIR, 'qe_identity_issuer_chain.pem') } });
  table.set('/sgx/certification/v4/tcb?fmspc=00A067110000', { body: readVector('intel', SGX_DIR, 'tcb_info.json'), headers: { 'SGX-TCB-Info-Issuer-Chain': chainHeader(SGX_DIR, 'tcb_signing_chain.pem') } });
  table.set('/sgx/certification/v4/qe/identity', { body: readVector('intel', SGX_DIR, 'qe_identity.json'), headers: { 'SGX-Enclave-Identity-Issuer-Chain': chainHeader(SGX_DIR, 'qe_identity_issuer_chain.pem') } });
  table.set('/sgx/certification/v4/pckcrl?ca=platform&encoding=der', { body: readVector('intel', TDX_DIR, 'pck_crl.der'), headers: { 'SGX-PCK-CRL-Issuer-Chain': chainHeader(TDX_DIR, 'pck_crl_issuer_chain.pem') } });
  table.set('/sgx/certification/v4/pckcrl?ca=processor&encoding=der', { body: readVector('intel', SGX_DIR, 'pck_crl.der'), headers: { 'SGX-PCK-CRL-Issuer-Chain': chainHeader(SGX_DIR, 'pck_crl_issuer_chain.pem') } });
  table.set('/sgx/certification/v4/rootcacrl', { body: readVector('intel', TDX_DIR, 'root_ca_crl.der') });
  return table;
}

const routes = routeTable();

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const route = routes.get(path);
    if (failing.has(path)) {
      res.writeHead(500).end('down');
      return;
    }
    if (!route) {
      res.writeHead(404).end('not found');
      return;
    }
    // A little latency so that concurrent callers overlap.
    setTimeout(() => res.writeHead(route.status ?? 200, route.headers ?? {}).end(Buffer.from(route.body)), 20);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  hits.clear();
  failing.clear();
});

const totalHits = (): number => [...hits.values()].reduce((a, b) => a + b, 0);

async function codeOf(fn: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof KeywardError) return err.code;
    throw err;
  }
  return undefined;
}

describe.each(DB_KINDS)('collateral fetching on %s', (kind) => {
  let db: TestDatabase;
  const instances: TestKeyward[] = [];
  const clock = settableClock('2025-06-01T00:00:00Z');

  async function start(env: Record<string, string>): Promise<TestKeyward> {
    const kw = await startTestKeyward(kind, { db, clock, env });
    instances.push(kw);
    return kw;
  }
  const fetchEnv = (): Record<string, string> => ({ KEYWARD_COLLATERAL_FETCH: 'on', KEYWARD_KDS_URL: base, KEYWARD_PCCS_URL: base });

  beforeAll(async () => {
    db = await createTestDatabase(kind);
  });
  afterAll(async () => {
    for (const kw of instances) await kw.close();
    await db.drop();
  });

  it('is off by default: nothing is fetched and a report without its VCEK is ERR_COLLATERAL_MISSING (503)', async () => {
    const kw = await start({});
    expect(kw.keyward.collateral.fetching).toBe(false);
    const v = vector('milan-v3-vcek-oak-cb');
    const item: EvidenceItem = { type: 'snp', report: reportOf(v), certs: [] };
    const at = clock.now();
    const bag = await kw.keyward.collateral.collateralFor([item], at);
    expect(await codeOf(() => verifyEvidence(item, { collateral: bag, anchors: kw.keyward.anchors, now: at }))).toBe('ERR_COLLATERAL_MISSING');
    expect(totalHits()).toBe(0);
  });

  it('fetches an SNP report\'s VCEK, cert_chain and CRL from KDS once for concurrent callers, stores and uses them', async () => {
    const kw = await start(fetchEnv());
    const v = vector('milan-v3-vcek-oak-cb');
    const item: EvidenceItem = { type: 'snp', report: reportOf(v), certs: [] };
    const at = clock.now();
    const bags = await Promise.all(Array.from({ length: 5 }, () => kw.keyward.collateral.collateralFor([item], at)));
    const vcekPath = new URL((v as unknown as { kds_url: string }).kds_url);
    expect(Object.fromEntries(hits)).toEqual({ [vcekPath.pathname + vcekPath.search]: 1, [kdsCertChainPath('Milan')]: 1, [kdsCrlPath('Milan')]: 1 });
    const result = await verifyEvidence(item, { collateral: bags[4] as never, anchors: kw.keyward.anchors, now: at });
    expect((result.claims as { chipId: string }).chipId).toBe(v.fields.chip_id);
    const fetched = await listAll(kw, 'source=kds');
    expect(fetched.map((i) => i.label).sort()).toEqual(['ARK-Milan', 'CRL by ARK-Milan', 'SEV-Milan', expect.stringMatching(/^VCEK Milan/)].sort());
    expect(fetched.every((i) => i.uploadedBy === 'system')).toBe(true);
    // Held now: the next verification asks nobody.
    await kw.keyward.collateral.collateralFor([item], at);
    expect(totalHits()).toBe(3);
    const audit = (await kw.request('GET', '/v1/audit?action=collateral.fetch')).json().items;
    expect(audit.map((e: { details: { source: string } }) => e.details.source)).toEqual(['kds']);
  });

  it('a second instance uses what the first stored, and refetches deleted items from the Postgres cache, not from KDS', async () => {
    const second = await start(fetchEnv());
    const v = vector('milan-v3-vcek-oak-cb');
    const item: EvidenceItem = { type: 'snp', report: reportOf(v), certs: [] };
    const at = clock.now();
    await second.keyward.collateral.collateralFor([item], at);
    expect(totalHits()).toBe(0);
    for (const held of await listAll(second, 'source=kds')) {
      expect((await second.request('DELETE', `/v1/collateral/${held.id}`)).statusCode).toBe(200);
    }
    expect(await listAll(second, 'source=kds')).toEqual([]);
    const third = await start(fetchEnv());
    const bag = await third.keyward.collateral.collateralFor([item], at);
    expect(totalHits()).toBe(0);
    expect((await listAll(third, 'source=kds')).length).toBe(4);
    expect((await verifyEvidence(item, { collateral: bag, anchors: third.keyward.anchors, now: at })).claims.tee).toBe('snp');
  });

  it('fetches TDX and SGX collateral from the PCCS, only what is not held, and the quotes verify', async () => {
    clock.set('2025-07-04T10:00:00Z');
    const kw = await start(fetchEnv());
    const tdxQuote = intelManifest.quotes.find((q) => q.id === 'tdx-v4-dcapqvl-sample');
    const tdx: EvidenceItem = { type: 'tdx', quote: intelQuote(tdxQuote as never) };
    const at = clock.now();
    const bags = await Promise.all([1, 2, 3].map(() => kw.keyward.collateral.collateralFor([tdx], at)));
    expect(Object.fromEntries(hits)).toEqual({
      '/tdx/certification/v4/tcb?fmspc=B0C06F000000': 1,
      '/tdx/certification/v4/qe/identity': 1,
      '/sgx/certification/v4/pckcrl?ca=platform&encoding=der': 1,
      '/sgx/certification/v4/rootcacrl': 1,
    });
    expect((await verifyEvidence(tdx, { collateral: bags[0] as never, anchors: kw.keyward.anchors, now: at })).claims).toMatchObject({ tcbStatus: 'UpToDate' });

    hits.clear();
    const sgxQuote = intelManifest.quotes.find((q) => q.id === 'sgx-v3-dcapqvl-sample');
    const sgx: EvidenceItem = { type: 'sgx', quote: intelQuote(sgxQuote as never) };
    const bag = await kw.keyward.collateral.collateralFor([sgx], at);
    // The Root CA CRL is held already; the Processor CA's CRL and the SGX documents are fetched.
    expect([...hits.keys()].sort()).toEqual(['/sgx/certification/v4/pckcrl?ca=processor&encoding=der', '/sgx/certification/v4/qe/identity', '/sgx/certification/v4/tcb?fmspc=00A067110000']);
    expect((await verifyEvidence(sgx, { collateral: bag, anchors: kw.keyward.anchors, now: at })).claims).toMatchObject({ tcbStatus: 'ConfigurationAndSWHardeningNeeded' });
    expect((await listAll(kw, 'source=pcs')).filter((i) => i.kind === 'tcb-info').map((i) => i.label).sort()).toEqual([
      'SGX TCB Info FMSPC 00A067110000 (evaluation 17)',
      'TDX TCB Info FMSPC B0C06F000000 (evaluation 17)',
    ]);
  });

  it('turns a failing PCCS into ERR_COLLATERAL_UNAVAILABLE (503) and does not ask again at once', async () => {
    clock.set('2026-03-05T10:00:00Z');
    const kw = await start(fetchEnv());
    const quote = intelManifest.quotes.find((q) => q.id === 'tdx-v5-gotdx-sample');
    const item: EvidenceItem = { type: 'tdx', quote: intelQuote(quote as never) };
    failing.add('/tdx/certification/v4/tcb?fmspc=90C06F000000');
    expect(await codeOf(() => kw.keyward.collateral.collateralFor([item], clock.now()))).toBe('ERR_COLLATERAL_UNAVAILABLE');
    const asked = hits.get('/tdx/certification/v4/tcb?fmspc=90C06F000000');
    expect(asked).toBe(1);
    expect(await codeOf(() => kw.keyward.collateral.collateralFor([item], clock.now()))).toBe('ERR_COLLATERAL_UNAVAILABLE');
    expect(hits.get('/tdx/certification/v4/tcb?fmspc=90C06F000000')).toBe(1);
  });
});
