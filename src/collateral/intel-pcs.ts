// A client for Intel PCS or a PCCS (PCS API v4: /sgx|/tdx/certification/v4/tcb, /qe/identity, /pckcrl,
// and the PCCS /rootcacrl), with issuer chains from the response headers, an injected fetch and cache,
// single flight per resource, and no stale collateral ever returned (ERR_COLLATERAL_STALE).
import { EvidenceError } from '../errors.js';
import { systemClock, type Clock } from '../clock.js';
import { decodePemBlocks, looksLikePem } from '../evidence/pki.js';
import { parseCrl } from '../evidence/crl.js';
import { parseTcbInfo } from '../evidence/dcap/tcb-info.js';
import { parseQeIdentity } from '../evidence/dcap/qe-identity.js';
import type { DcapCollateralNeeds } from '../evidence/dcap/needs.js';
import type { Collateral } from '../evidence/types.js';
import { addToCollateral, emptyCollateral, type CollateralItem } from './recognize.js';
import type { CollateralCache, FetchLike } from './cache.js';


export interface IntelPcsOptions {
  /** e.g. `https://api.trustedservices.intel.com` or a PCCS such as `https://pccs.internal:8081`. */
  readonly baseUrl: string;
  readonly fetch?: FetchLike;
  readonly cache?: CollateralCache;
  readonly clock?: Clock;
  /** Root CA CRL location; defaults to the PCCS route `<baseUrl>/sgx/certification/v4/rootcacrl`. */
  readonly rootCaCrlUrl?: string;
  /** PCS `update` parameter for TCB Info and QE Identity. */
  readonly update?: 'early' | 'standard';
  readonly timeoutMs?: number;
  /** Cached collateral older than this is re-fetched (and kept if the fetch fails while it is still valid). */
  readonly refreshAfterMs?: number;
}

type Kind = 'tcb-info' | 'qe-identity' | 'crl';

interface Entry {
  readonly body: Uint8Array;
  readonly issuerChain: string | null;
}

interface Loaded {
  readonly items: CollateralItem[];
  readonly nextUpdate: Date;
}

const ISSUER_HEADERS: Record<string, readonly string[]> = {
  'tcb-info': ['TCB-Info-Issuer-Chain', 'SGX-TCB-Info-Issuer-Chain'],
  'qe-identity': ['SGX-Enclave-Identity-Issuer-Chain'],
  pckcrl: ['SGX-PCK-CRL-Issuer-Chain'],
};

function unavailable(message: string, cause?: unknown): EvidenceError {
  return new EvidenceError('ERR_COLLATERAL_UNAVAILABLE', message, cause === undefined ? {} : { cause });
}

function encodeEntry(entry: Entry): Uint8Array {
  return new Uint8Array(Buffer.from(JSON.stringify({ v: 1, body: Buffer.from(entry.body).toString('base64'), issuerChain: entry.issuerChain })));
}

function decodeEntry(data: Uint8Array): Entry | undefined {
  try {
    const doc = JSON.parse(Buffer.from(data).toString('utf8')) as { v?: unknown; body?: unknown; issuerChain?: unknown };
    if (doc.v !== 1 || typeof doc.body !== 'string') return undefined;
    return { body: new Uint8Array(Buffer.from(doc.body, 'base64')), issuerChain: typeof doc.issuerChain === 'string' ? doc.issuerChain : null };
  } catch {
    return undefined;
  }
}

/** A CRL body as PCS/PCCS serve it: DER, PEM, or (PCCS v3) hex text. */
function crlDer(body: Uint8Array): Uint8Array {
  if (body[0] === 0x30) return body;
  const text = Buffer.from(body).toString('latin1').trim();
  if (looksLikePem(body)) {
    const [der] = decodePemBlocks(text, 'X509 CRL');
    if (der) return der;
  }
  if (/^([0-9a-fA-F]{2})+$/.test(text)) return new Uint8Array(Buffer.from(text, 'hex'));
  throw new Error('not a CRL in DER, PEM or hex');
}

function chainItems(entry: Entry): CollateralItem[] {
  return entry.issuerChain === null ? [] : decodePemBlocks(entry.issuerChain, 'CERTIFICATE').map((data) => ({ kind: 'certificate' as const, data }));
}

/** Parses a fetched or cached entry; anything unusable is an Error (the caller decides the code). */
function load(kind: Kind, entry: Entry): Loaded {
  if (kind === 'crl') {
    const der = crlDer(entry.body);
    const next = parseCrl(der).list.tbsCertList.nextUpdate?.getTime();
    if (!next) throw new Error('the CRL has no nextUpdate');
    return { items: [{ kind: 'crl', data: der }, ...chainItems(entry)], nextUpdate: next };
  }
  const text = Buffer.from(entry.body).toString('utf8');
  const nextUpdate = kind === 'tcb-info' ? parseTcbInfo(text).info.nextUpdate : parseQeIdentity(text).identity.nextUpdate;
  return { items: [{ kind, data: text }, ...chainItems(entry)], nextUpdate };
}

export class IntelPcsClient {
  private readonly fetch: FetchLike;
  private readonly clock: Clock;
  private readonly base: string;
  private readonly inflight = new Map<string, Promise<Loaded>>();

  constructor(private readonly opts: IntelPcsOptions) {
    this.fetch = opts.fetch ?? (globalThis.fetch as unknown as FetchLike);
    this.clock = opts.clock ?? systemClock;
    this.base = opts.baseUrl.replace(/\/+$/, '');
  }

  /** TCB Info for a platform (`/sgx|tdx/certification/v4/tcb?fmspc=`) with its TCB Signing chain. */
  async getTcbInfo(tee: 'sgx' | 'tdx', fmspc: string): Promise<CollateralItem[]> {
    if (!/^[0-9a-fA-F]{12}$/.test(fmspc)) throw new EvidenceError('ERR_COLLATERAL_MISSING', 'An FMSPC is 6 bytes of hex.');
    const query = new URLSearchParams({ fmspc: fmspc.toUpperCase(), ...(this.opts.update ? { update: this.opts.update } : {}) });
    const url = `${this.base}/${tee}/certification/v4/tcb?${query}`;
    return (await this.get(`intel-pcs:v4:${tee}:tcb:${fmspc.toUpperCase()}:${this.opts.update ?? ''}`, url, 'tcb-info', 'tcb-info')).items;
  }

  /** The QE (SGX) or TD-QE (TDX) identity with its signing chain. */
  async getQeIdentity(tee: 'sgx' | 'tdx'): Promise<CollateralItem[]> {
    const query = this.opts.update ? `?${new URLSearchParams({ update: this.opts.update })}` : '';
    const url = `${this.base}/${tee}/certification/v4/qe/identity${query}`;
    return (await this.get(`intel-pcs:v4:${tee}:qe-identity:${this.opts.update ?? ''}`, url, 'qe-identity', 'qe-identity')).items;
  }

  /** The PCK CRL of the Platform or Processor CA, with its issuer chain. */
  async getPckCrl(ca: 'platform' | 'processor'): Promise<CollateralItem[]> {
    const url = `${this.base}/sgx/certification/v4/pckcrl?${new URLSearchParams({ ca, encoding: 'der' })}`;
    return (await this.get(`intel-pcs:v4:pckcrl:${ca}`, url, 'crl', 'pckcrl')).items;
  }

  /** The Intel SGX Root CA CRL. */
  async getRootCaCrl(): Promise<CollateralItem[]> {
    const url = this.opts.rootCaCrlUrl ?? `${this.base}/sgx/certification/v4/rootcacrl`;
    return (await this.get('intel-pcs:v4:rootcacrl', url, 'crl', undefined)).items;
  }

  /** Everything a quote with these needs requires (see dcapCollateralNeeds), fetched in parallel. */
  async getCollateral(needs: Pick<DcapCollateralNeeds, 'tee' | 'fmspc' | 'pckCa'>): Promise<Collateral> {
    const parts = await Promise.all([
      this.getTcbInfo(needs.tee, needs.fmspc),
      this.getQeIdentity(needs.tee),
      this.getPckCrl(needs.pckCa),
      this.getRootCaCrl(),
    ]);
    return addToCollateral(emptyCollateral(), parts.flat());
  }

  /** Single flight per key: concurrent callers share one cache lookup and at most one fetch. */
  private get(key: string, url: string, kind: Kind, headers: string | undefined): Promise<Loaded> {
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.resolve(key, url, kind, headers).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  private async resolve(key: string, url: string, kind: Kind, headers: string | undefined): Promise<Loaded> {
    const now = this.clock.now();
    const cached = await this.fromCache(key, kind, now);
    const refreshAfter = this.opts.refreshAfterMs ?? 3_600_000;
    if (cached && now.getTime() - cached.fetchedAt.getTime() < refreshAfter) return cached.loaded;
    let fetched: Entry;
    try {
      fetched = await this.fetchEntry(url, headers);
    } catch (err) {
      if (cached) return cached.loaded;
      throw err;
    }
    let loaded: Loaded;
    try {
      loaded = load(kind, fetched);
    } catch (cause) {
      if (cached) return cached.loaded;
      throw unavailable(`The ${kind} served by ${this.base} is not usable.`, cause);
    }
    if (loaded.nextUpdate.getTime() < now.getTime()) {
      // Never hand out collateral past its nextUpdate, whoever served it.
      if (cached) return cached.loaded;
      throw new EvidenceError('ERR_COLLATERAL_STALE', `The ${kind} served by ${this.base} expired at ${loaded.nextUpdate.toISOString()}.`);
    }
    await this.opts.cache?.put(key, encodeEntry(fetched)).catch(() => undefined);
    return loaded;
  }

  /** A cached entry that is still valid at `now`, or undefined (a broken cache never fails a request). */
  private async fromCache(key: string, kind: Kind, now: Date): Promise<{ loaded: Loaded; fetchedAt: Date } | undefined> {
    const hit = await this.opts.cache?.get(key).catch(() => undefined);
    const entry = hit && decodeEntry(hit.data);
    if (!hit || !entry) return undefined;
    try {
      const loaded = load(kind, entry);
      return loaded.nextUpdate.getTime() >= now.getTime() ? { loaded, fetchedAt: hit.fetchedAt } : undefined;
    } catch {
      return undefined;
    }
  }

  private async fetchEntry(url: string, headers: string | undefined): Promise<Entry> {
    let response: Awaited<ReturnType<FetchLike>>;
    let body: Uint8Array;
    try {
      response = await this.fetch(url, { signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000), headers: { accept: '*/*' } });
      body = new Uint8Array(await response.arrayBuffer());
    } catch (cause) {
      throw unavailable(`Could not reach ${this.base} for DCAP collateral.`, cause);
    }
    if (response.status !== 200) throw unavailable(`${this.base} answered ${response.status} for DCAP collateral.`, { url });
    if (headers === undefined) return { body, issuerChain: null };
    const raw = (ISSUER_HEADERS[headers] ?? []).map((h) => response.headers.get(h)).find((v) => v !== null && v !== undefined);
    if (!raw) throw unavailable(`${this.base} sent DCAP collateral without its issuer chain header.`, { url });
    try {
      return { body, issuerChain: decodeURIComponent(raw) };
    } catch (cause) {
      throw unavailable(`${this.base} sent an unreadable issuer chain header.`, cause);
    }
  }
}
