import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { EvidenceError } from '../../../src/errors.js';
import { IntelPcsClient, type IntelPcsOptions } from '../../../src/collateral/intel-pcs.js';
import { vendorAnchors } from '../../../src/evidence/anchors.js';
import { dcapCollateralNeeds } from '../../../src/evidence/dcap/needs.js';
import { verifyEvidence } from '../../../src/evidence/verify.js';
import type { Clock } from '../../../src/clock.js';
import { FakeCollateralCache } from '../../fakes/collateral-cache.js';
import { intelManifest, intelQuote, type IntelQuote } from '../../helpers/intel.js';
import { vectorPath } from '../../helpers/vectors.js';

// A local PCS/PCCS on 127.0.0.1 serving the real collateral of two vector sets, PCS-style headers included.
const TDX_DIR = 'tdx/collateral/dcapqvl_tdx_B0C06F000000_2025-06';
const SGX_DIR = 'sgx/collateral/dcapqvl_sgx_00A067110000_2025-06';
const file = (dir: string, name: string): Buffer => readFileSync(vectorPath('intel', dir, name));
const header = (dir: string, name: string): string => encodeURIComponent(file(dir, name).toString('latin1'));

interface Route {
  status?: number;
  body: Buffer | string;
  headers?: Record<string, string>;
  delayMs?: number;
}

let server: Server;
let base: string;
let requests: string[] = [];
let overrides = new Map<string, Route>();

function routes(path: string): Route | undefined {
  const override = overrides.get(path);
  if (override) return override;
  const tcbChain = { 'TCB-Info-Issuer-Chain': header(TDX_DIR, 'tcb_signing_chain.pem') };
  const qeChain = { 'SGX-Enclave-Identity-Issuer-Chain': header(TDX_DIR, 'qe_identity_issuer_chain.pem') };
  const table: Record<string, Route> = {
    '/tdx/certification/v4/tcb?fmspc=B0C06F000000': { body: file(TDX_DIR, 'tcb_info.json'), headers: tcbChain },
    '/tdx/certification/v4/qe/identity': { body: file(TDX_DIR, 'qe_identity.json'), headers: qeChain },
    '/sgx/certification/v4/tcb?fmspc=00A067110000': { body: file(SGX_DIR, 'tcb_info.json'), headers: { 'SGX-TCB-Info-Issuer-Chain': header(SGX_DIR, 'tcb_signing_chain.pem') } },
    '/sgx/certification/v4/qe/identity': { body: file(SGX_DIR, 'qe_identity.json'), headers: qeChain },
    '/sgx/certification/v4/pckcrl?ca=platform&encoding=der': { body: file(TDX_DIR, 'pck_crl.der'), headers: { 'SGX-PCK-CRL-Issuer-Chain': header(TDX_DIR, 'pck_crl_issuer_chain.pem') } },
    '/sgx/certification/v4/pckcrl?ca=processor&encoding=der': { body: file(SGX_DIR, 'pck_crl.der'), headers: { 'SGX-PCK-CRL-Issuer-Chain': header(SGX_DIR, 'pck_crl_issuer_chain.pem') } },
    '/sgx/certification/v4/rootcacrl': { body: file(TDX_DIR, 'root_ca_crl.der') },
  };
  return table[path];
}

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '';
    requests.push(path);
    const route = routes(path);
    const send = (): void => {
      if (!route) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(route.status ?? 200, route.headers ?? {}).end(route.body);
    };
    if (route?.delayMs) setTimeout(send, route.delayMs);
    else send();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

class TestClock implements Clock {
  constructor(public at: Date) {}
  now(): Date {
    return new Date(this.at.getTime());
  }
}

const TDX_AT = new Date('2025-07-04T10:00:00Z');
let clock: TestClock;
let cache: FakeCollateralCache;

function client(opts: Partial<IntelPcsOptions> = {}): IntelPcsClient {
  return new IntelPcsClient({ baseUrl: `${base}/`, cache, clock, ...opts });
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof EvidenceError) return err.code;
    throw err;
  }
  return 'ok';
}

beforeEach(() => {
  requests = [];
  overrides = new Map();
  clock = new TestClock(TDX_AT);
  cache = new FakeCollateralCache(clock);
});

describe('IntelPcsClient against a local PCCS', () => {
  it('fetches everything a real TDX quote needs, and the quote verifies with it', async () => {
    const q = intelManifest.quotes.find((x) => x.id === 'tdx-v4-dcapqvl-sample') as IntelQuote;
    const needs = dcapCollateralNeeds(intelQuote(q));
    expect(needs).toEqual({ tee: 'tdx', fmspc: 'B0C06F000000', pceId: '0000', pckCa: 'platform' });
    const collateral = await client().getCollateral(needs);
    expect([collateral.tcbInfos.length, collateral.qeIdentities.length, collateral.crls.length]).toEqual([1, 1, 2]);
    const result = await verifyEvidence({ type: 'tdx', quote: intelQuote(q) }, { collateral, anchors: vendorAnchors(), now: TDX_AT });
    expect(result.claims.tee).toBe('tdx');
    expect(requests.sort()).toEqual([
      '/sgx/certification/v4/pckcrl?ca=platform&encoding=der',
      '/sgx/certification/v4/rootcacrl',
      '/tdx/certification/v4/qe/identity',
      '/tdx/certification/v4/tcb?fmspc=B0C06F000000',
    ]);
  });

  it('serves SGX collateral with the v3 header name and the Processor CA CRL', async () => {
    const q = intelManifest.quotes.find((x) => x.id === 'sgx-v3-dcapqvl-sample') as IntelQuote;
    const needs = dcapCollateralNeeds(intelQuote(q));
    expect(needs.pckCa).toBe('processor');
    const collateral = await client().getCollateral(needs);
    const result = await verifyEvidence({ type: 'sgx', quote: intelQuote(q) }, { collateral, anchors: vendorAnchors(), now: TDX_AT });
    expect(result.claims.tee).toBe('sgx');
  });

  it('answers from the cache on the next call', async () => {
    await client().getTcbInfo('tdx', 'b0c06f000000');
    const items = await client().getTcbInfo('tdx', 'B0C06F000000');
    expect(items.map((i) => i.kind)).toEqual(['tcb-info', 'certificate', 'certificate']);
    expect(requests.length).toBe(1);
    expect(cache.puts).toBe(1);
  });

  it('makes one request for many concurrent callers (single flight)', async () => {
    overrides.set('/tdx/certification/v4/qe/identity', { ...(routes('/tdx/certification/v4/qe/identity') as Route), delayMs: 50 });
    const c = client({ cache: undefined });
    const results = await Promise.all(Array.from({ length: 8 }, () => c.getQeIdentity('tdx')));
    expect(results.every((r) => r[0]?.kind === 'qe-identity')).toBe(true);
    expect(requests.length).toBe(1);
  });

  it('re-fetches cached collateral older than refreshAfterMs', async () => {
    await client().getRootCaCrl();
    clock.at = new Date(TDX_AT.getTime() + 2 * 3_600_000);
    await client().getRootCaCrl();
    expect(requests.length).toBe(2);
  });

  it('never returns stale collateral: ERR_COLLATERAL_STALE when the source serves only stale data', async () => {
    await client().getTcbInfo('tdx', 'B0C06F000000');
    clock.at = new Date('2025-07-20T00:00:00Z');
    expect(await codeOf(client().getTcbInfo('tdx', 'B0C06F000000'))).toBe('ERR_COLLATERAL_STALE');
    expect(await codeOf(client().getPckCrl('platform'))).toBe('ERR_COLLATERAL_STALE');
    expect(requests.length).toBe(3);
  });

  it.each([
    ['a 500', { status: 500, body: 'oops' }],
    ['a 404', { status: 404, body: '' }],
    ['no issuer chain header', { body: file(TDX_DIR, 'tcb_info.json') }],
    ['a body that is not TCB Info', { body: '{"hello":1}', headers: { 'TCB-Info-Issuer-Chain': 'x' } }],
    ['a timeout', { body: file(TDX_DIR, 'tcb_info.json'), delayMs: 400 }],
  ])('maps %s to ERR_COLLATERAL_UNAVAILABLE', async (_, route) => {
    overrides.set('/tdx/certification/v4/tcb?fmspc=B0C06F000000', route as Route);
    expect(await codeOf(client({ timeoutMs: 100 }).getTcbInfo('tdx', 'B0C06F000000'))).toBe('ERR_COLLATERAL_UNAVAILABLE');
  });

  it('maps an unreachable server to ERR_COLLATERAL_UNAVAILABLE', async () => {
    const closed = new IntelPcsClient({ baseUrl: 'http://127.0.0.1:9', clock, timeoutMs: 500 });
    expect(await codeOf(closed.getRootCaCrl())).toBe('ERR_COLLATERAL_UNAVAILABLE');
  });

  it('falls back to still-valid cached collateral when a refresh fails', async () => {
    await client().getQeIdentity('tdx');
    clock.at = new Date(TDX_AT.getTime() + 2 * 3_600_000);
    overrides.set('/tdx/certification/v4/qe/identity', { status: 503, body: '' });
    const items = await client().getQeIdentity('tdx');
    expect(items[0]?.kind).toBe('qe-identity');
    expect(requests.length).toBe(2);
  });

  it('works when the cache itself fails', async () => {
    cache.failing = true;
    const items = await client().getRootCaCrl();
    expect(items[0]?.kind).toBe('crl');
  });

  it('reads CRLs served as PEM or as hex text (PCCS)', async () => {
    const der = file(TDX_DIR, 'root_ca_crl.der');
    const pem = `-----BEGIN X509 CRL-----\n${der.toString('base64')}\n-----END X509 CRL-----\n`;
    overrides.set('/sgx/certification/v4/rootcacrl', { body: pem });
    expect(Buffer.from((await client({ cache: undefined }).getRootCaCrl())[0]?.data as Uint8Array).equals(der)).toBe(true);
    overrides.set('/sgx/certification/v4/rootcacrl', { body: der.toString('hex') });
    expect(Buffer.from((await client({ cache: undefined }).getRootCaCrl())[0]?.data as Uint8Array).equals(der)).toBe(true);
  });

  it('asks for the early or standard TCB update when configured, and uses a custom Root CA CRL URL', async () => {
    overrides.set('/tdx/certification/v4/tcb?fmspc=B0C06F000000&update=early', routes('/tdx/certification/v4/tcb?fmspc=B0C06F000000') as Route);
    overrides.set('/IntelSGXRootCA.der', routes('/sgx/certification/v4/rootcacrl') as Route);
    const c = client({ update: 'early', rootCaCrlUrl: `${base}/IntelSGXRootCA.der` });
    await c.getTcbInfo('tdx', 'B0C06F000000');
    await c.getRootCaCrl();
    expect(requests).toEqual(['/tdx/certification/v4/tcb?fmspc=B0C06F000000&update=early', '/IntelSGXRootCA.der']);
  });

  it('refuses an FMSPC that is not 6 bytes of hex before any request', async () => {
    expect(await codeOf(client().getTcbInfo('tdx', 'B0C06F'))).toBe('ERR_COLLATERAL_MISSING');
    expect(requests.length).toBe(0);
  });
});
