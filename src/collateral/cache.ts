// What the vendor fetch clients (AMD KDS, Intel PCS/PCCS) share: the one cache interface they keep fetched
// objects in (Postgres-backed in the service: postgres-cache.ts) and the subset of fetch they call.

export interface CollateralCacheEntry {
  readonly data: Uint8Array;
  readonly fetchedAt: Date;
}

/** Where fetched collateral is kept between requests. Keys are prefixed by source ("amd-kds:", "intel-pcs:"). */
export interface CollateralCache {
  get(key: string): Promise<CollateralCacheEntry | undefined>;
  put(key: string, data: Uint8Array): Promise<void>;
}

/** The part of the WHATWG fetch Response the clients read (global fetch satisfies it). */
export interface FetchResponse {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** The subset of WHATWG fetch the clients use. */
export type FetchLike = (url: string, init: { signal: AbortSignal; headers: Record<string, string> }) => Promise<FetchResponse>;
