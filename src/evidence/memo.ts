// A bounded in-memory memo for pure, time-independent verification results (signature checks).
import type { VerificationMemo } from './types.js';

/** Bounded memo (first-in-first-out eviction). Only results that are pure functions of their key may be stored. */
export class LruMemo implements VerificationMemo {
  private readonly entries = new Map<string, unknown>();
  hits = 0;
  misses = 0;

  constructor(private readonly capacity = 10_000) {}

  remember<T>(key: string, compute: () => T): T {
    const found = this.entries.get(key);
    if (found !== undefined || this.entries.has(key)) {
      // Hits are not re-ordered (a Map delete+set per hit costs more than the occasional early eviction
      // of a hot entry): eviction is first-in-first-out, which is enough for signature results.
      this.hits++;
      return found as T;
    }
    this.misses++;
    const value = compute();
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    return value;
  }

  /** The value remembered for `key`, without computing it. */
  peek<T>(key: string): T | undefined {
    return this.entries.get(key) as T | undefined;
  }

  get size(): number {
    return this.entries.size;
  }
}
