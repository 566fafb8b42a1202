// An in-memory KdsCache (the production one is Postgres-backed): records calls so tests can count them.
import type { Clock } from '../../src/clock.js';
import type { KdsCache, KdsCacheEntry } from '../../src/collateral/amd-kds.js';

export class MemoryKdsCache implements KdsCache {
  readonly entries = new Map<string, KdsCacheEntry>();
  gets = 0;
  puts = 0;

  constructor(private readonly clock: Clock) {}

  async get(key: string): Promise<KdsCacheEntry | undefined> {
    this.gets++;
    return this.entries.get(key);
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    this.puts++;
    this.entries.set(key, { data: new Uint8Array(data), fetchedAt: this.clock.now() });
  }

  /** Pre-loads an entry as if it had been fetched at `fetchedAt`. */
  seed(key: string, data: Uint8Array, fetchedAt: Date): void {
    this.entries.set(key, { data, fetchedAt });
  }
}
