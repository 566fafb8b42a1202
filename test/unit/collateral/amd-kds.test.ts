import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AmdKdsClient,
  KdsError,
  fetchSnpCollateral,
  kdsCertChainPath,
  kdsCrlPath,
  kdsVcekPath,
  parseRetryAfter,
  type AmdKdsClientOptions,
} from '../../../src/collateral/amd-kds.js';
import { verifySnpEvidence } from '../../../src/evidence/snp/verify.js';
import { parseSnpReport } from '../../../src/evidence/snp/report.js';
import { decodeTcb } from '../../../src/evidence/snp/tcb.js';
import { KeywardError } from '../../../src/errors.js';
import { readVector, readVectorText } from '../../helpers/vectors.js';
import { FakeCollateralCache } from '../../fakes/collateral-cache.js';
import { ctxAt, manifest, reportOf, vector, vekOf } from '../evidence/snp/helpers.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A local stand-in for kdsintf.amd.com serving the real vectors by their manifest KDS URLs. */
const routes = new Map<string, () => { status: number; body?: Uint8Array | string; headers?: Record<string, string> }>();
const hits = new Map<string, number>();
let override: Handler | undefined;
let server: Server;
let baseUrl: string;
let t = new Date('2025-06-01T00:00:00Z').getTime();
const clock = { now: () => new Date(t) };

function serveVectors(): void {
  routes.clear();
  for (const v of manifest.vectors) {
    if (v.signer !== 'VCEK' || !v.vek) continue;
    const url = new URL((v as unknown as { kds_url: string }).kds_url);
    routes.set(url.pathname + url.search, () => ({ status: 200, body: vekOf(v) }));
  }
  for (const [product, roots] of Object.entries(manifest.amd_roots)) {
    routes.set(kdsCertChainPath(product as 'Milan', 'vcek'), () => ({ status: 200, body: readVectorText('snp', roots.cert_chain_vcek) }));
    routes.set(kdsCertChainPath(product as 'Milan', 'vlek'), () => ({ status: 200, body: readVectorText('snp', roots.cert_chain_vlek) }));
  }
  const milanCrl = readVector('snp', 'crl/milan_vcek_crl_2025-05-06.der');
  routes.set(kdsCrlPath('Milan', 'vcek'), () => ({ status: 200, body: milanCrl }));
  routes.set(kdsCrlPath('Milan', 'vlek'), () => ({ status: 200, body: milanCrl }));
  routes.set(kdsCrlPath('Genoa', 'vcek'), () => ({ status: 200, body: readVector('snp', 'crl/genoa_vcek_crl_2024-10-23.der') }));
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (override) return override(req, res);
    const route = routes.get(path);
    if (!route) {
      res.writeHead(404).end('not found');
      return;
    }
    const { status, body, headers } = route();
    res.writeHead(status, headers).end(body === undefined ? undefined : Buffer.from(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  serveVectors();
  hits.clear();
  override = undefined;
  t = new Date('2025-06-01T00:00:00Z').getTime();
});

function client(opts: AmdKdsClientOptions = {}): AmdKdsClient {
  return new AmdKdsClient({ baseUrl, clock, ...opts });
}

function totalHits(): number {
  return [...hits.values()].reduce((a, b) => a + b, 0);
}

async function kdsCode(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof KeywardError) return err.code;
    throw err;
  }
  return undefined;
}

describe('KDS URLs', () => {
  it('match the manifest kds_url of every VCEK vector (Turin: 8-byte hwID and fmcSPL)', () => {
    for (const v of manifest.vectors.filter((x) => x.signer === 'VCEK')) {
      const report = parseSnpReport(reportOf(v));
      const path = kdsVcekPath(v.product, report.chipId, decodeTcb(report.reportedTcb, v.product));
      expect(`https://kdsintf.amd.com${path}`).toBe((v as unknown as { kds_url: string }).kds_url);
    }
    expect(kdsCertChainPath('Turin', 'vlek')).toBe('/vlek/v1/Turin/cert_chain');
    expect(kdsCrlPath('Genoa')).toBe('/vcek/v1/Genoa/crl');
  });

  it('refuse a masked chip id and a 64-byte id with data past byte 8 on Turin', () => {
    const tcb = { bootloader: 1, tee: 0, snp: 2, microcode: 71, fmc: 0 };
    expect(() => kdsVcekPath('Milan', new Uint8Array(64), tcb)).toThrow(RangeError);
    expect(() => kdsVcekPath('Turin', new Uint8Array(64).fill(1), tcb)).toThrow(RangeError);
  });

  it('parse Retry-After as seconds or an HTTP date', () => {
    const now = new Date('2025-06-01T00:00:00Z').getTime();
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Sun, 01 Jun 2025 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});

describe('fetching and caching', () => {
  const v = vector('milan-v3-vcek-oak-cb');
  const report = parseSnpReport(reportOf(v));
  const tcb = decodeTcb(report.reportedTcb, 'Milan');

  it('fetches a VCEK once and then serves it from the cache', async () => {
    const cache = new FakeCollateralCache(clock);
    const kds = client({ cache });
    const first = await kds.getVcek('Milan', report.chipId, tcb);
    expect(Buffer.from(first).equals(Buffer.from(vekOf(v)))).toBe(true);
    t += 365 * 86_400_000;
    await kds.getVcek('Milan', report.chipId, tcb);
    expect(totalHits()).toBe(1);
    expect(cache.puts).toBe(1);
    expect([...cache.entries.keys()]).toEqual([`amd-kds:${kdsVcekPath('Milan', report.chipId, tcb)}`]);
  });

  it('refetches a CRL older than a day, and serves the old copy when KDS then fails', async () => {
    const cache = new FakeCollateralCache(clock);
    const kds = client({ cache });
    await kds.getCrl('Milan');
    t += 2 * 86_400_000;
    routes.set(kdsCrlPath('Milan'), () => ({ status: 500 }));
    const crl = await kds.getCrl('Milan');
    expect(Buffer.from(crl).equals(Buffer.from(readVector('snp', 'crl/milan_vcek_crl_2025-05-06.der')))).toBe(true);
    expect(hits.get(kdsCrlPath('Milan'))).toBe(2);
  });

  it('shares one fetch between concurrent requests for the same URL (single flight)', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    override = (req, res) => {
      void gate.then(() => {
        const r = routes.get(req.url ?? '')?.() ?? { status: 404 };
        res.writeHead(r.status).end(r.body === undefined ? undefined : Buffer.from(r.body));
      });
    };
    const kds = client();
    const all = Promise.all(Array.from({ length: 5 }, () => kds.getCertChain('Genoa')));
    await new Promise((resolve) => setTimeout(resolve, 50));
    release();
    const chains = await all;
    expect(hits.get(kdsCertChainPath('Genoa'))).toBe(1);
    expect(chains.every((c) => c.length === 2)).toBe(true);
    await kds.getCertChain('Genoa');
    expect(hits.get(kdsCertChainPath('Genoa'))).toBe(2);
  });

  it('fetches everything a report needs and the result verifies', async () => {
    for (const id of ['milan-v3-vcek-oak-cb', 'genoa-v5-vcek-oak', 'turin-v5-vcek-oak', 'milan-v2-vcek-trustee']) {
      const vec = vector(id);
      const collateral = await fetchSnpCollateral(client(), reportOf(vec), { crl: vec.product === 'Milan' });
      expect(collateral.certificates).toHaveLength(3);
      const at = vec.product === 'Milan' ? '2025-06-01T00:00:00Z' : (vec.verification_time as string);
      const result = await verifySnpEvidence({ type: 'snp', report: reportOf(vec), certs: [] }, ctxAt(at, { collateral }));
      expect(result.claims.product).toBe(vec.product);
    }
  });

  it('tries Milan then Genoa for a v2 report (no CPUID), moving on after a 404', async () => {
    const vec = vector('milan-v2-vcek-virteesev');
    const r = parseSnpReport(reportOf(vec));
    const milanPath = kdsVcekPath('Milan', r.chipId, decodeTcb(r.reportedTcb, 'Milan'));
    const genoaPath = kdsVcekPath('Genoa', r.chipId, decodeTcb(r.reportedTcb, 'Genoa'));
    routes.set(genoaPath, routes.get(milanPath) as () => { status: number });
    routes.delete(milanPath);
    const collateral = await fetchSnpCollateral(client(), reportOf(vec), { crl: false });
    expect(hits.get(milanPath)).toBe(1);
    expect(hits.get(genoaPath)).toBe(1);
    expect(hits.get(kdsCertChainPath('Genoa'))).toBe(1);
    expect(collateral.crls).toEqual([]);
  });

  it('fetches only the VLEK chain and CRL for a VLEK-signed report', async () => {
    const vec = vector('milan-v3-vlek-aws-trustee');
    const collateral = await fetchSnpCollateral(client(), reportOf(vec));
    expect(collateral.certificates).toHaveLength(2);
    expect(collateral.crls).toHaveLength(1);
    expect([...hits.keys()].sort()).toEqual(['/vlek/v1/Milan/cert_chain', '/vlek/v1/Milan/crl']);
  });
});

describe('failures are ERR_COLLATERAL_UNAVAILABLE', () => {
  const v = vector('turin-v5-vcek-oak');
  const report = parseSnpReport(reportOf(v));
  const tcb = decodeTcb(report.reportedTcb, 'Turin');

  it('404, 500, an unreadable body or an oversized body; nothing is cached', async () => {
    const cache = new FakeCollateralCache(clock);
    const kds = client({ cache, maxResponseBytes: 4096 });
    const code404 = await kds.getVcek('Turin', report.chipId, { ...tcb, fmc: 9 }).catch((err: unknown) => err);
    expect(code404).toBeInstanceOf(KdsError);
    expect((code404 as KdsError).httpStatus).toBe(404);
    expect((code404 as KdsError).code).toBe('ERR_COLLATERAL_UNAVAILABLE');
    routes.set(kdsCrlPath('Turin'), () => ({ status: 500 }));
    expect(await kdsCode(kds.getCrl('Turin'))).toBe('ERR_COLLATERAL_UNAVAILABLE');
    routes.set(kdsCrlPath('Genoa', 'vlek'), () => ({ status: 200, body: 'not a crl' }));
    expect(await kdsCode(kds.getCrl('Genoa', 'vlek'))).toBe('ERR_COLLATERAL_UNAVAILABLE');
    routes.set(kdsCertChainPath('Turin'), () => ({ status: 200, body: readVectorText('snp', 'amd/turin/ark.pem') }));
    expect(await kdsCode(kds.getCertChain('Turin'))).toBe('ERR_COLLATERAL_UNAVAILABLE');
    routes.set(kdsCrlPath('Milan'), () => ({ status: 200, body: new Uint8Array(5000) }));
    expect(await kdsCode(kds.getCrl('Milan'))).toBe('ERR_COLLATERAL_UNAVAILABLE');
    expect(cache.puts).toBe(0);
  });

  it('an unreachable KDS and a KDS that never answers (timeout)', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    expect(await kdsCode(new AmdKdsClient({ baseUrl: `http://127.0.0.1:${port}`, clock }).getCrl('Milan'))).toBe('ERR_COLLATERAL_UNAVAILABLE');
    override = () => undefined;
    expect(await kdsCode(client({ timeoutMs: 100 }).getCrl('Milan'))).toBe('ERR_COLLATERAL_UNAVAILABLE');
  });
});

describe('rate limiting', () => {
  it('429 with a long Retry-After: fails, and sends nothing more until the time has passed', async () => {
    routes.set(kdsCrlPath('Milan'), () => ({ status: 429, headers: { 'retry-after': '120' } }));
    const kds = client();
    expect(await kdsCode(kds.getCrl('Milan'))).toBe('ERR_COLLATERAL_UNAVAILABLE');
    expect(kds.backoffUntil).toBe(t + 120_000);
    expect(await kdsCode(kds.getCrl('Genoa'))).toBe('ERR_COLLATERAL_UNAVAILABLE');
    expect(await kdsCode(kds.getCertChain('Turin'))).toBe('ERR_COLLATERAL_UNAVAILABLE');
    expect(totalHits()).toBe(1);
    t += 121_000;
    serveVectors();
    expect((await kds.getCrl('Genoa')).length).toBeGreaterThan(100);
    expect(totalHits()).toBe(2);
  });

  it('429 with a short Retry-After: waits it out once, then retries', async () => {
    let calls = 0;
    routes.set(kdsCertChainPath('Milan'), () => {
      calls++;
      return calls === 1 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200, body: readVectorText('snp', 'amd/milan/cert_chain_vcek.pem') };
    });
    const slept: number[] = [];
    const kds = client({
      sleep: async (ms) => {
        slept.push(ms);
        t += ms;
      },
    });
    expect(await kds.getCertChain('Milan')).toHaveLength(2);
    expect(slept).toEqual([1000]);
    expect(calls).toBe(2);
  });

  it('429 without Retry-After backs off by the default, and a second 429 gives up', async () => {
    routes.set(kdsCrlPath('Milan'), () => ({ status: 429 }));
    const kds = client({ defaultBackoffMs: 500, sleep: async (ms) => void (t += ms) });
    expect(await kdsCode(kds.getCrl('Milan'))).toBe('ERR_COLLATERAL_UNAVAILABLE');
    expect(hits.get(kdsCrlPath('Milan'))).toBe(2);
  });
});
