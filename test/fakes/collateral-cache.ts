// An in-memory CollateralCache (src/collateral/intel-pcs.ts) with a controllable clock and call counts.
import type { Clock } from '../../src/clock.js';
import type { CollateralCache } from '../../src/collateral/intel-pcs.js';

export class FakeCollateralCache implements CollateralCache {
  readonly entries = new Map<string, { data: Uint8Array; fetchedAt: Date }>();
  gets = 0;
  puts = 0;
  failing = false;

  constructor(private readonly clock: Clock) {}

  async get(key: string): Promise<{ data: Uint8Array; fetchedAt: Date } | undefined> {
    this.gets++;
    if (this.failing) throw new Error('cache down');
    return this.entries.get(key);
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    this.puts++;
    if (this.failing) throw new Error('cache down');
    this.entries.set(key, { data: new Uint8Array(data), fetchedAt: this.clock.now() });
  }
}
