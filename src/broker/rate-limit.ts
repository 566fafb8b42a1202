// Per-client and per-key request budgets (token buckets) for the workload endpoints. In memory, per
// process: with N replicas behind a balancer the effective budget is up to N times the configured one.
import type { Clock } from '../clock.js';
import { RequestError } from '../errors.js';

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly ratePerMs: number;

  /** `perMinute` requests per minute per key, with bursts up to `perMinute`; 0 disables the limit. */
  constructor(
    private readonly perMinute: number,
    private readonly clock: Clock,
    private readonly what: string,
  ) {
    this.ratePerMs = perMinute / 60_000;
  }

  /** Takes one request from `key`'s budget or throws ERR_RATE_LIMITED with `retryAfterSeconds`. */
  take(key: string): void {
    if (this.perMinute === 0) return;
    const now = this.clock.now().getTime();
    const bucket = this.buckets.get(key) ?? { tokens: this.perMinute, updatedAt: now };
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.updatedAt) * this.ratePerMs);
    bucket.updatedAt = now;
    if (bucket.tokens < 1) {
      this.buckets.set(key, bucket);
      const retryAfterSeconds = Math.max(1, Math.ceil((1 - bucket.tokens) / this.ratePerMs / 1000));
      throw new RequestError('ERR_RATE_LIMITED', `Too many requests for this ${this.what}; retry later.`, { extra: { retryAfterSeconds } });
    }
    bucket.tokens -= 1;
    this.buckets.set(key, bucket);
    if (this.buckets.size > 100_000) this.sweep(now);
  }

  private sweep(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.updatedAt) * this.ratePerMs >= this.perMinute) this.buckets.delete(key);
    }
  }
}
