// An in-memory CollateralCache (the production one is Postgres-backed: src/collateral/postgres-cache.ts)
// with the test's clock, call counts, seeding, and a switch that makes it fail.
import type { Clock } from '../../src/clock.js';
import type { CollateralCache, CollateralCacheEntry } from '../../src/collateral/cache.js';

export class FakeCollateralCache implements CollateralCache {
  readonly entries = new Map<string, CollateralCacheEntry>();
  gets = 0;
  puts = 0;
  failing = false;

  constructor(private readonly clock: Clock) {}

  async get(key: string): Promise<CollateralCacheEntry | undefined> {
    this.gets++;
    if (this.failing) throw new Error('cache down');
    return this.entries.get(key);
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    this.puts++;
    if (this.failing) throw new Error('cache down');
    this.entries.set(key, { data: new Uint8Array(data), fetchedAt: this.clock.now() });
  }

  /** Pre-loads an entry as if it had been fetched at `fetchedAt`. */
  seed(key: string, data: Uint8Array, fetchedAt: Date): void {
    this.entries.set(key, { data, fetchedAt });
  }
}
