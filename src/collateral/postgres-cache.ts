// The fetch clients' CollateralCache (AMD KDS and Intel PCS/PCCS alike) kept in Postgres, so
// that every keyward replica sees what any of them fetched and none refetches it.
import type { Clock } from '../clock.js';
import type { Db } from '../store/database.js';
import { readCacheEntry, writeCacheEntry } from '../store/collateral-repo.js';
import type { CollateralCache, CollateralCacheEntry } from './cache.js';

export class PostgresCollateralCache implements CollateralCache {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  async get(key: string): Promise<CollateralCacheEntry | undefined> {
    return readCacheEntry(this.db, key);
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    await writeCacheEntry(this.db, key, data, this.clock.now());
  }
}
