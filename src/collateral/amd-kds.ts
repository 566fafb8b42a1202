// AMD Key Distribution Service client (VCEK spec #57230 "KDS interface"): VCEK by product, hwID and TCB,
// the `cert_chain` (ASK/ASVK + ARK) and the ARK's CRL. One fetch per URL at a time (single flight), a cache
// behind an injected interface, and KDS's rate limit respected: 429/503 + Retry-After stops all requests
// until then. Every failure is ERR_COLLATERAL_UNAVAILABLE (retryable). Nothing here trusts what it fetches:
// the verifier checks every signature against the pinned ARKs.
import { KeywardError } from '../errors.js';
import { systemClock, type Clock } from '../clock.js';
import { decodePemBlocks, looksLikePem, parseCertificate, splitDerSequence } from '../evidence/pki.js';
import { parseCrl } from '../evidence/crl.js';
import type { SnpProduct } from '../evidence/types.js';
import type { SnpTcb } from '../evidence/snp/claims.js';
import { parseSnpReport, reportProduct } from '../evidence/snp/report.js';
import { decodeTcb } from '../evidence/snp/tcb.js';
import type { CollateralCache, FetchLike, FetchResponse } from './cache.js';

export const AMD_KDS_BASE_URL = 'https://kdsintf.amd.com';


export type KdsResource = 'vcek' | 'cert-chain' | 'crl';

export interface AmdKdsClientOptions {
  /** Defaults to the global fetch. */
  readonly fetch?: FetchLike;
  readonly cache?: CollateralCache;
  readonly clock?: Clock;
  readonly baseUrl?: string;
  readonly timeoutMs?: number;
  readonly maxResponseBytes?: number;
  /** How long a cached object is used before it is fetched again (default: VCEK forever, chain 7 days, CRL 1 day). */
  readonly maxAgeMs?: Partial<Record<KdsResource, number>>;
  /** A Retry-After no longer than this is waited out once, inline (default 2 s); longer ones fail fast. */
  readonly maxInlineWaitMs?: number;
  /** Back-off after a 429/503 without a usable Retry-After (default 60 s); any back-off is capped at maxBackoffMs (1 h). */
  readonly defaultBackoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** A KDS failure; `httpStatus` is set when KDS answered with an unexpected status. */
export class KdsError extends KeywardError {
  constructor(
    message: string,
    readonly httpStatus?: number,
    cause?: unknown,
  ) {
    super('ERR_COLLATERAL_UNAVAILABLE', message, cause === undefined ? {} : { cause });
  }
}

const DAY_MS = 86_400_000;
const DEFAULT_MAX_AGE: Record<KdsResource, number> = { vcek: Infinity, 'cert-chain': 7 * DAY_MS, crl: DAY_MS };

function chipIdHex(product: SnpProduct, chipId: Uint8Array): string {
  // Turin VCEKs are indexed by the 8-byte hwID; the 64-byte form is a 404 there (AMDESE/AMDSEV#285).
  const length = product === 'Turin' ? 8 : 64;
  if (chipId.length !== 64 && chipId.length !== length) throw new RangeError(`a ${product} chip id is ${length} bytes`);
  if (product === 'Turin' && !chipId.subarray(8).every((b) => b === 0)) throw new RangeError('a Turin chip id has only 8 significant bytes');
  if (chipId.subarray(0, length).every((b) => b === 0)) throw new RangeError('the chip id is masked (all zero)');
  return Buffer.from(chipId.subarray(0, length)).toString('hex');
}

/** KDS path of a VCEK: /vcek/v1/{product}/{hwid}?[fmcSPL=&]blSPL=&teeSPL=&snpSPL=&ucodeSPL= (values of REPORTED_TCB). */
export function kdsVcekPath(product: SnpProduct, chipId: Uint8Array, tcb: SnpTcb): string {
  const fmc = product === 'Turin' ? `fmcSPL=${tcb.fmc ?? 0}&` : '';
  return `/vcek/v1/${product}/${chipIdHex(product, chipId)}?${fmc}blSPL=${tcb.bootloader}&teeSPL=${tcb.tee}&snpSPL=${tcb.snp}&ucodeSPL=${tcb.microcode}`;
}

export function kdsCertChainPath(product: SnpProduct, signer: 'vcek' | 'vlek' = 'vcek'): string {
  return `/${signer}/v1/${product}/cert_chain`;
}

export function kdsCrlPath(product: SnpProduct, signer: 'vcek' | 'vlek' = 'vcek'): string {
  return `/${signer}/v1/${product}/crl`;
}

/** One DER structure from a DER or single-block PEM body; throws on anything else. */
function singleDer(body: Uint8Array, label: string): Uint8Array {
  const parts = looksLikePem(body) ? decodePemBlocks(Buffer.from(body).toString('latin1'), label) : splitDerSequence(body);
  if (parts.length !== 1) throw new Error(`expected one ${label}, got ${parts.length}`);
  return parts[0] as Uint8Array;
}

const VALIDATE: Record<KdsResource, (body: Uint8Array) => Uint8Array> = {
  vcek: (body) => {
    const der = singleDer(body, 'CERTIFICATE');
    parseCertificate(der);
    return der;
  },
  'cert-chain': (body) => {
    const certs = decodePemBlocks(Buffer.from(body).toString('latin1'), 'CERTIFICATE');
    if (certs.length !== 2) throw new Error(`expected ASK/ASVK and ARK, got ${certs.length} certificates`);
    certs.forEach(parseCertificate);
    return body;
  },
  crl: (body) => {
    const der = singleDer(body, 'X509 CRL');
    parseCrl(der);
    return der;
  },
};

/** Seconds or an HTTP-date, as milliseconds from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export class AmdKdsClient {
  private readonly fetchFn: FetchLike;
  private readonly clock: Clock;
  private readonly baseUrl: string;
  private readonly inflight = new Map<string, Promise<Uint8Array>>();
  private blockedUntil = 0;

  constructor(private readonly opts: AmdKdsClientOptions = {}) {
    this.fetchFn = opts.fetch ?? (globalThis.fetch as unknown as FetchLike);
    this.clock = opts.clock ?? systemClock;
    this.baseUrl = (opts.baseUrl ?? AMD_KDS_BASE_URL).replace(/\/+$/, '');
  }

  /** The VCEK (DER) for a chip and REPORTED_TCB. */
  async getVcek(product: SnpProduct, chipId: Uint8Array, tcb: SnpTcb): Promise<Uint8Array> {
    return this.get(kdsVcekPath(product, chipId, tcb), 'vcek');
  }

  /** AMD's chain for a product, DER, intermediate (ASK or ASVK) first, then the ARK. */
  async getCertChain(product: SnpProduct, signer: 'vcek' | 'vlek' = 'vcek'): Promise<Uint8Array[]> {
    const pem = await this.get(kdsCertChainPath(product, signer), 'cert-chain');
    return decodePemBlocks(Buffer.from(pem).toString('latin1'), 'CERTIFICATE');
  }

  /** The ARK-issued CRL (DER) listing revoked ASKs (signer 'vcek') or ASVKs ('vlek'). */
  async getCrl(product: SnpProduct, signer: 'vcek' | 'vlek' = 'vcek'): Promise<Uint8Array> {
    return this.get(kdsCrlPath(product, signer), 'crl');
  }

  /** When the client will next talk to KDS after a rate-limit answer (epoch ms; 0 when not blocked). */
  get backoffUntil(): number {
    return this.blockedUntil;
  }

  private get(path: string, resource: KdsResource): Promise<Uint8Array> {
    // Single flight: the promise is registered before any await, so concurrent callers share it.
    let pending = this.inflight.get(path);
    if (!pending) {
      pending = this.load(path, resource).finally(() => this.inflight.delete(path));
      this.inflight.set(path, pending);
    }
    return pending;
  }

  private async load(path: string, resource: KdsResource): Promise<Uint8Array> {
    const key = `amd-kds:${path}`;
    const cached = await this.opts.cache?.get(key);
    const maxAge = this.opts.maxAgeMs?.[resource] ?? DEFAULT_MAX_AGE[resource];
    if (cached && this.clock.now().getTime() - cached.fetchedAt.getTime() <= maxAge) return cached.data;
    try {
      const data = await this.fetchValidated(path, resource);
      await this.opts.cache?.put(key, data);
      return data;
    } catch (err) {
      // Serving an older copy is safe: the verifier judges every object's own validity and signature.
      if (cached) return cached.data;
      throw err;
    }
  }

  private async fetchValidated(path: string, resource: KdsResource): Promise<Uint8Array> {
    for (let attempt = 0; attempt < 2; attempt++) {
      await this.waitForBackoff();
      const response = await this.request(path);
      if (response.status === 200) {
        const body = await this.readBody(response);
        try {
          return VALIDATE[resource](body);
        } catch (cause) {
          throw new KdsError(`AMD KDS returned an unreadable ${resource} for ${path}.`, 200, cause);
        }
      }
      if (response.status === 429 || response.status === 503) {
        const now = this.clock.now().getTime();
        const wait = parseRetryAfter(response.headers.get('retry-after'), now) ?? this.opts.defaultBackoffMs ?? 60_000;
        this.blockedUntil = Math.max(this.blockedUntil, now + Math.min(wait, this.opts.maxBackoffMs ?? 3_600_000));
        continue;
      }
      throw new KdsError(`AMD KDS answered HTTP ${response.status} for ${path}.`, response.status);
    }
    throw new KdsError(`AMD KDS is rate-limiting; retry after ${new Date(this.blockedUntil).toISOString()}.`, 429);
  }

  /** Never hammer: inside a back-off window either wait it out (if short) or fail without sending a request. */
  private async waitForBackoff(): Promise<void> {
    const remaining = this.blockedUntil - this.clock.now().getTime();
    if (remaining <= 0) return;
    if (remaining > (this.opts.maxInlineWaitMs ?? 2_000)) {
      throw new KdsError(`AMD KDS is rate-limiting; retry after ${new Date(this.blockedUntil).toISOString()}.`, 429);
    }
    await (this.opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))))(remaining);
  }

  private async request(path: string): Promise<FetchResponse> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.opts.timeoutMs ?? 10_000);
    try {
      return await this.fetchFn(`${this.baseUrl}${path}`, { signal: controller.signal, headers: { accept: '*/*' } });
    } catch (cause) {
      throw new KdsError(`AMD KDS could not be reached for ${path}.`, undefined, cause);
    } finally {
      clearTimeout(timer);
    }
  }

  private async readBody(response: FetchResponse): Promise<Uint8Array> {
    const limit = this.opts.maxResponseBytes ?? 1 << 20;
    const declared = Number(response.headers.get('content-length') ?? '0');
    if (declared > limit) throw new KdsError(`AMD KDS sent ${declared} bytes; at most ${limit} are accepted.`);
    const body = new Uint8Array(await response.arrayBuffer());
    if (body.length > limit) throw new KdsError(`AMD KDS sent ${body.length} bytes; at most ${limit} are accepted.`);
    return body;
  }
}

export interface SnpKdsCollateral {
  readonly certificates: Uint8Array[];
  readonly crls: Uint8Array[];
}

/** Products whose VCEK may have signed the report: its CPUID's (v3+), else by the chip id's form (v2). */
function candidateProducts(report: ReturnType<typeof parseSnpReport>): SnpProduct[] {
  const named = reportProduct(report);
  if (named) return [named];
  // v2 carries no CPUID: a Turin chip id uses 8 bytes, Milan/Genoa all 64.
  return report.chipId.subarray(8).every((b) => b === 0) ? ['Turin'] : ['Milan', 'Genoa'];
}

/**
 * Fetches what verifying `reportBytes` needs from KDS: for a VCEK-signed report the VCEK (trying each
 * candidate product until one is not a 404), its cert_chain and CRL; for a VLEK-signed report the VLEK
 * cert_chain and CRL only (VLEKs come from the host). Throws ERR_COLLATERAL_UNAVAILABLE.
 */
export async function fetchSnpCollateral(client: AmdKdsClient, reportBytes: Uint8Array, opts: { crl?: boolean } = {}): Promise<SnpKdsCollateral> {
  const report = parseSnpReport(reportBytes);
  const withCrl = opts.crl ?? true;
  if (report.signingKey === 'none') return { certificates: [], crls: [] };
  if (report.signingKey === 'vlek') {
    const product = reportProduct(report);
    if (!product) throw new KdsError('The report does not name its product; fetch the VLEK chain for a configured product.');
    return {
      certificates: await client.getCertChain(product, 'vlek'),
      crls: withCrl ? [await client.getCrl(product, 'vlek')] : [],
    };
  }
  let lastError: unknown;
  for (const product of candidateProducts(report)) {
    let vcek: Uint8Array;
    try {
      vcek = await client.getVcek(product, report.chipId, decodeTcb(report.reportedTcb, product));
    } catch (err) {
      if (err instanceof RangeError) throw new KdsError(`The report's CHIP_ID cannot name a ${product} VCEK: ${err.message}.`);
      if (err instanceof KdsError && (err.httpStatus === 404 || err.httpStatus === 400)) {
        lastError = err;
        continue;
      }
      throw err;
    }
    return {
      certificates: [vcek, ...(await client.getCertChain(product, 'vcek'))],
      crls: withCrl ? [await client.getCrl(product, 'vcek')] : [],
    };
  }
  throw lastError instanceof KdsError ? lastError : new KdsError('AMD KDS has no VCEK for this report.');
}
