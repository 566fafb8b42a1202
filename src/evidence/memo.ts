// A bounded in-memory memo for pure, time-independent verification results (signature checks).
import type { VerificationMemo } from './types.js';

/** Least-recently-used memo. Only results that are pure functions of their key may be stored. */
export class LruMemo implements VerificationMemo {
  private readonly entries = new Map<string, unknown>();
  hits = 0;
  misses = 0;

  constructor(private readonly capacity = 10_000) {}

  remember<T>(key: string, compute: () => T): T {
    if (this.entries.has(key)) {
      const value = this.entries.get(key) as T;
      // Re-insert to mark as most recently used.
      this.entries.delete(key);
      this.entries.set(key, value);
      this.hits++;
      return value;
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

  get size(): number {
    return this.entries.size;
  }
}
