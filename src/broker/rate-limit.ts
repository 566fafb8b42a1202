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

  /**
   * `perMinute` requests per minute per key, with bursts up to `perMinute`; 0 disables the limit. `what`
   * completes "Too many …" in the refusal.
   */
  constructor(
    private readonly perMinute: number,
    private readonly clock: Clock,
    private readonly what: string,
    private readonly code: 'ERR_RATE_LIMITED' | 'ERR_AUTH_TOO_MANY_FAILURES' = 'ERR_RATE_LIMITED',
  ) {
    this.ratePerMs = perMinute / 60_000;
  }

  /** Takes one request from `key`'s budget or throws (ERR_RATE_LIMITED unless told) with `retryAfterSeconds`. */
  take(key: string): void {
    const bucket = this.refill(key);
    if (!bucket) return;
    this.refuseWhenEmpty(bucket);
    bucket.tokens -= 1;
  }

  /** Throws as `take` would, without spending anything: for budgets charged only after the outcome is known. */
  check(key: string): void {
    const bucket = this.refill(key);
    if (bucket) this.refuseWhenEmpty(bucket);
  }

  /** Spends one from `key`'s budget (possibly below zero, which lengthens the wait); never throws. */
  charge(key: string): void {
    const bucket = this.refill(key);
    if (bucket) bucket.tokens = Math.max(-this.perMinute, bucket.tokens - 1);
  }

  private refill(key: string): Bucket | undefined {
    if (this.perMinute === 0) return undefined;
    const now = this.clock.now().getTime();
    const bucket = this.buckets.get(key) ?? { tokens: this.perMinute, updatedAt: now };
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.updatedAt) * this.ratePerMs);
    bucket.updatedAt = now;
    this.buckets.set(key, bucket);
    if (this.buckets.size > 100_000) this.sweep(now);
    return bucket;
  }

  private refuseWhenEmpty(bucket: Bucket): void {
    if (bucket.tokens >= 1) return;
    const retryAfterSeconds = Math.max(1, Math.ceil((1 - bucket.tokens) / this.ratePerMs / 1000));
    throw new RequestError(this.code, `Too many ${this.what}; retry later.`, { extra: { retryAfterSeconds } });
  }

  private sweep(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.updatedAt) * this.ratePerMs >= this.perMinute) this.buckets.delete(key);
    }
  }
}
